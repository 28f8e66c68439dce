package deployment

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/proctest"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	// routeGuideServerPkg is the routeguide-server package, relative to
	// this directory.
	routeGuideServerPkg = "../routeguide/cmd/routeguide-server"
	// callTimeout bounds one call of a test, all its attempts included.
	callTimeout = 10 * time.Second
	// adminTimeout bounds one GetStats call.
	adminTimeout = 2 * time.Second
)

// retryConfig is the A6 policy the tests' library clients use: what a
// user would put in a service config for the route guide.
const retryConfig = `{
  "methodConfig": [{
    "name": [{"service": "routeguide.RouteGuide"}],
    "retryPolicy": {
      "maxAttempts": 5,
      "initialBackoff": "0.01s",
      "maxBackoff": "0.1s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// adminToken is the admin service's token in every server the tests start;
// adminCalls sends it.
var adminToken = rand.Text()

// startServers builds routeguide-server and starts one process per entry
// of faults (a --faults spec each, "" for none), with the admin service on
// for adminToken and seeds 1, 2, 3, ...
func startServers(t *testing.T, faults ...string) []*proctest.Server {
	t.Helper()
	bin := proctest.Build(t, routeGuideServerPkg)
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatalf("os.WriteFile(%s) = %v, want nil", tokenFile, err)
	}
	servers := make([]*proctest.Server, len(faults))
	for i, f := range faults {
		servers[i] = proctest.StartServer(t, bin, "--faults", f, "--seed", fmt.Sprint(i+1), "--admin", "--admin-token-file", tokenFile)
	}
	return servers
}

// addrs returns the servers' addresses.
func addrs(servers []*proctest.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.Addr
	}
	return out
}

// dial connects to target with insecure credentials and opts; the
// connection is closed in t.Cleanup.
func dial(t *testing.T, target string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(target, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v, want nil", target, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// plainClient is grpc-go without the library and with its own retries off:
// every call is one attempt.
func plainClient(t *testing.T, target string) pb.RouteGuideClient {
	t.Helper()
	return pb.NewRouteGuideClient(dial(t, target, grpc.WithDisableRetry()))
}

// libraryClient is grpc-go with the library's interceptors and
// retryConfig, or cfg if given, as a user sets them up. It counts the
// attempts it makes.
func libraryClient(t *testing.T, target string, cfg string, extra ...grpc.DialOption) (pb.RouteGuideClient, *atomic.Int64) {
	t.Helper()
	if cfg == "" {
		cfg = retryConfig
	}
	sc, err := rsc.Parse([]byte(cfg))
	if err != nil {
		t.Fatalf("rsc.Parse(service config) = %v, want nil", err)
	}
	attempts := new(atomic.Int64)
	count := interceptors.WithObserver(func(_ context.Context, e retry.Event) {
		if e.Kind == retry.AttemptDone {
			attempts.Add(1)
		}
	})
	// sc.DialOption hands the config to grpc-go too, for its load
	// balancing config; DialOptions turns grpc-go's own retries off.
	opts := append(interceptors.DialOptions(interceptors.WithServiceConfig(sc), count), sc.DialOption())
	opts = append(opts, extra...)
	return pb.NewRouteGuideClient(dial(t, target, opts...)), attempts
}

// adminCalls returns the route guide calls the server's fault injector has
// seen, read through its admin service (directly, not through a proxy, over
// loopback: the token may go in plaintext).
func adminCalls(t *testing.T, s *proctest.Server) uint64 {
	t.Helper()
	conn := dial(t, s.Addr, grpc.WithPerRPCCredentials(admin.InsecureBearerToken(adminToken)))
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	st, err := adminpb.NewFaultAdminClient(conn).GetStats(ctx, &adminpb.GetStatsRequest{})
	if err != nil {
		t.Fatalf("%s GetStats() = %v, want nil", s.Addr, err)
	}
	return st.GetCalls()
}

// harbour is a point with a feature in the route guide's database.
var harbour = &pb.Point{Latitude: 101203450, Longitude: -398765430}

// tour makes one call of each kind and returns what came back, for
// comparing the route guide's answers by one path with another's. chat is
// a point no other call of the test uses: RouteChat answers a note with
// the earlier notes at its point, so two notes there give one answer.
func tour(ctx context.Context, c pb.RouteGuideClient, chat *pb.Point) ([]proto.Message, error) {
	var got []proto.Message
	f, err := c.GetFeature(ctx, harbour)
	if err != nil {
		return nil, fmt.Errorf("GetFeature: %w", err)
	}
	got = append(got, f)

	list, err := c.ListFeatures(ctx, &pb.Rectangle{
		Lo: &pb.Point{Latitude: 101000000, Longitude: -398700000},
		Hi: &pb.Point{Latitude: 101200000, Longitude: -398500000},
	})
	if err != nil {
		return nil, fmt.Errorf("ListFeatures: %w", err)
	}
	for {
		f, err := list.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ListFeatures: %w", err)
		}
		got = append(got, f)
	}

	rec, err := c.RecordRoute(ctx)
	if err != nil {
		return nil, fmt.Errorf("RecordRoute: %w", err)
	}
	for i := range int32(6) {
		if err := rec.Send(&pb.Point{Latitude: harbour.Latitude + i*1000, Longitude: harbour.Longitude}); err != nil {
			return nil, fmt.Errorf("RecordRoute send %d: %w", i, err)
		}
	}
	sum, err := rec.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("RecordRoute: %w", err)
	}
	sum.ElapsedTime = 0 // the only field that depends on the clock
	got = append(got, sum)

	bidi, err := c.RouteChat(ctx)
	if err != nil {
		return nil, fmt.Errorf("RouteChat: %w", err)
	}
	for _, text := range []string{"first", "second"} {
		if err := bidi.Send(&pb.RouteNote{Location: chat, Message: text}); err != nil {
			return nil, fmt.Errorf("RouteChat send %q: %w", text, err)
		}
	}
	if err := bidi.CloseSend(); err != nil {
		return nil, fmt.Errorf("RouteChat close: %w", err)
	}
	for {
		n, err := bidi.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("RouteChat: %w", err)
		}
		got = append(got, n)
	}
	return got, nil
}
