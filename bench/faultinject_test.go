package bench

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
)

// The server-side benchmarks: the cost of faultinject's interceptors on a
// server where no rule matches, against the same server without them. Named
// BenchmarkServer<Kind>/server=<flavour> for `benchstat -col /server`.

// noMatchSpec holds rules for another service only: every call is checked
// against them and none is faulted. Header control stays off (the default).
const noMatchSpec = "/other.Service/*:unavailable=50%,/other.Service/*:delay=1s@50%,/other.Service/Get:every=2:internal"

// serverFlavour is one way to build the server.
type serverFlavour struct {
	name string
	opts func(tb testing.TB) []grpc.ServerOption
}

var serverFlavours = []serverFlavour{
	{"plain", func(testing.TB) []grpc.ServerOption { return nil }},
	// passthrough separates what grpc-go charges for having any
	// interceptor at all (it builds the call's info and handler chain)
	// from what faultinject's own code costs.
	{"passthrough", func(testing.TB) []grpc.ServerOption {
		return []grpc.ServerOption{
			grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				return h(ctx, req)
			}),
			grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				return h(srv, ss)
			}),
		}
	}},
	{"faultinject", func(tb testing.TB) []grpc.ServerOption {
		rules, err := faultinject.ParseSpec(noMatchSpec)
		if err != nil {
			tb.Fatalf("ParseSpec(%q) = %v", noMatchSpec, err)
		}
		in, err := faultinject.New(rules, faultinject.WithSeed(1))
		if err != nil {
			tb.Fatalf("faultinject.New = %v", err)
		}
		return []grpc.ServerOption{
			grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
			grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
		}
	}},
}

func BenchmarkServerUnary(b *testing.B)        { benchServer(b, unary) }
func BenchmarkServerServerStream(b *testing.B) { benchServer(b, serverStream) }
func BenchmarkServerClientStream(b *testing.B) { benchServer(b, clientStream) }
func BenchmarkServerBidi(b *testing.B)         { benchServer(b, bidi) }

func benchServer(b *testing.B, k kind) {
	for _, f := range serverFlavours {
		b.Run("server="+f.name, func(b *testing.B) {
			measure(b, k, dialServer(b, f), f.name+" server", 1)
		})
	}
}

// dialServer starts a server of flavour f and returns a plain client of it.
func dialServer(tb testing.TB, f serverFlavour) pb.RouteGuideClient {
	tb.Helper()
	addr := startServer(tb, f.opts(tb)...)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatalf("grpc.NewClient(%q) = %v", addr, err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return pb.NewRouteGuideClient(conn)
}

// TestServerCalls runs each server benchmark's call a few times, so that
// `go test` proves every server flavour answers every kind.
func TestServerCalls(t *testing.T) {
	for _, k := range kinds {
		for _, f := range serverFlavours {
			t.Run(k.name+"/server="+f.name, func(t *testing.T) {
				c := dialServer(t, f)
				for i := range 3 {
					if err := k.call(t.Context(), c); err != nil {
						t.Fatalf("%s call %d to %s server = %v, want nil", k.name, i, f.name, err)
					}
				}
			})
		}
	}
}
