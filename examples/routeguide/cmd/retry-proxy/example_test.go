package main

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// Example puts the proxy between a plain client, with no retries of its
// own, and a route guide server that fails the first two attempts of every
// call. Everything runs in memory, over bufconn.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	dial := func(lis *bufconn.Listener) grpc.DialOption {
		return grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })
	}

	// The server, behind a fault injector.
	rules, err := faultinject.ParseSpec("first=2:unavailable")
	if err != nil {
		panic(err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		panic(err)
	}
	upLis := bufconn.Listen(1 << 20)
	up := grpc.NewServer(
		grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()))
	server.New().Register(up)
	go up.Serve(upLis)
	defer up.Stop()

	// The proxy: up to two retries per call, as --retry-times 2 gives.
	stats := &counters{}
	upstream, err := grpc.NewClient("passthrough:///upstream", append(
		upstreamDialOptions(interceptors.WithRetryTimes(2), interceptors.WithObserver(stats.observe)),
		dial(upLis))...)
	if err != nil {
		panic(err)
	}
	defer upstream.Close()
	proxyLis := bufconn.Listen(1 << 20)
	ps := newProxyServer(&proxy{conn: upstream, stats: stats})
	go ps.Serve(proxyLis)

	// The plain client, calling the proxy.
	conn, err := grpc.NewClient("passthrough:///proxy",
		grpc.WithTransportCredentials(insecure.NewCredentials()), dial(proxyLis))
	if err != nil {
		panic(err)
	}
	f, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, &pb.Point{Latitude: 101203450, Longitude: -398765430})
	fmt.Println(f.GetName(), err)
	conn.Close()
	ps.GracefulStop() // every handler has counted its call

	fmt.Println("attempts the server saw:", in.Stats().Calls)
	fmt.Println(stats)
	// Output:
	// Harbour Lighthouse <nil>
	// attempts the server saw: 3
	// calls=1 ok=1 failed=0 retries=2 hedges=0
}
