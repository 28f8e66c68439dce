package bench

import (
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// a6Config is the gRFC A6 policy shared by grpcbuiltin and a6: three
// attempts on UNAVAILABLE with a tiny backoff. On the success path only its
// presence matters.
const a6Config = `{
  "methodConfig": [{
    "name": [{"service": "routeguide.RouteGuide"}],
    "retryPolicy": {
      "maxAttempts": 3,
      "initialBackoff": "0.001s",
      "maxBackoff": "0.01s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// flavour is one way to build a retrying (or not) client.
type flavour struct {
	// name is the value of the sub-benchmark key "client".
	name string
	// dialOptions returns the flavour's options, added to the transport
	// credentials.
	dialOptions func(tb testing.TB) []grpc.DialOption
	// refusesClientStreams reports that the flavour fails every
	// client-streaming and bidi call by design.
	refusesClientStreams bool
}

// flavours are in benchstat's column order: plain first, as the baseline.
var flavours = []flavour{
	{
		name: "plain",
		dialOptions: func(testing.TB) []grpc.DialOption {
			return []grpc.DialOption{grpc.WithDisableRetry()}
		},
	},
	{
		name: "grpcbuiltin",
		dialOptions: func(tb testing.TB) []grpc.DialOption {
			return []grpc.DialOption{parseA6(tb).DialOption()}
		},
	},
	{
		// grpc-go's own retry stays on, as a user of the middleware gets it;
		// with no service config it has no policy and never retries.
		name: "middleware",
		dialOptions: func(testing.TB) []grpc.DialOption {
			return []grpc.DialOption{
				grpc.WithChainUnaryInterceptor(retry.UnaryClientInterceptor(retry.WithMax(3))),
				grpc.WithChainStreamInterceptor(retry.StreamClientInterceptor(retry.WithMax(3))),
			}
		},
		refusesClientStreams: true,
	},
	{
		name: "manual",
		dialOptions: func(testing.TB) []grpc.DialOption {
			return interceptors.DialOptions(
				interceptors.WithRetryTimes(2),
				interceptors.WithRetryInterval(time.Millisecond),
			)
		},
	},
	{
		name: "a6",
		dialOptions: func(tb testing.TB) []grpc.DialOption {
			return interceptors.DialOptions(interceptors.WithServiceConfig(parseA6(tb)))
		},
	},
}

func parseA6(tb testing.TB) *rsc.Config {
	tb.Helper()
	cfg, err := rsc.Parse([]byte(a6Config))
	if err != nil {
		tb.Fatalf("rsc.Parse(a6Config) = %v", err)
	}
	return cfg
}

// dial starts a fixed server and returns a client of it built by f. The
// connection closes, then the server stops, at cleanup.
func dial(tb testing.TB, f flavour) pb.RouteGuideClient {
	tb.Helper()
	addr := startServer(tb)
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, f.dialOptions(tb)...)
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		tb.Fatalf("grpc.NewClient(%q) for %s = %v", addr, f.name, err)
	}
	tb.Cleanup(func() {
		if err := conn.Close(); err != nil {
			tb.Errorf("Close() for %s = %v", f.name, err)
		}
	})
	return pb.NewRouteGuideClient(conn)
}
