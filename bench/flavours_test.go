package bench

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// dial starts a fixed server and returns a client of it built by pr with
// the default policy. The connection closes, then the server stops, at
// cleanup.
func dial(tb testing.TB, pr peer) pb.RouteGuideClient {
	tb.Helper()
	return dialPeer(tb, startServer(tb), pr, defaultPolicy)
}

// dialPeer returns a client of addr built by pr for pol; the connection
// closes at cleanup. pr must be able to express pol.
func dialPeer(tb testing.TB, addr string, pr peer, pol policy) pb.RouteGuideClient {
	tb.Helper()
	popts, reason := pr.options(tb, pol)
	if reason != "" {
		tb.Fatalf("%s cannot run this policy: %s", pr.name, reason)
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, popts...)
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		tb.Fatalf("grpc.NewClient(%q) for %s = %v", addr, pr.name, err)
	}
	tb.Cleanup(func() {
		if err := conn.Close(); err != nil {
			tb.Errorf("Close() for %s = %v", pr.name, err)
		}
	})
	return pb.NewRouteGuideClient(conn)
}
