package admin_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/faultinject/admin"
	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
)

// A chaos run turns faults on in a running server, reads what they did, and
// turns them off again, all through the admin service.
func Example() {
	// The server under test: a route guide behind a fault injector that
	// starts with no rules, and the admin service beside it. Exempt keeps
	// the injector's faults off the admin calls.
	in, err := faultinject.New(nil, faultinject.WithSeed(1))
	if err != nil {
		log.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(
		grpc.ChainUnaryInterceptor(admin.Exempt(in.UnaryServerInterceptor())),
		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
	)
	server.New().Register(gs)
	admin.Register(gs, in)
	go gs.Serve(lis)
	defer gs.Stop()

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	route := pb.NewRouteGuideClient(conn)
	ctl := adminpb.NewFaultAdminClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lighthouse := &pb.Point{Latitude: 101203450, Longitude: -398765430}

	// Fail every second GetFeature call.
	rules, err := ctl.SetRules(ctx, &adminpb.SetRulesRequest{
		Rules: &adminpb.SetRulesRequest_Spec{Spec: "/routeguide.RouteGuide/GetFeature:every=2:unavailable"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rules:", rules.GetSpec())
	for range 4 {
		_, err := route.GetFeature(ctx, lighthouse)
		fmt.Println("GetFeature:", status.Code(err))
	}
	stats, err := ctl.GetStats(ctx, &adminpb.GetStatsRequest{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("calls: %d, aborts: %v\n", stats.GetCalls(), stats.GetAbortsByCode())

	// A rule that does not parse is refused, and the rules stay.
	_, err = ctl.SetRules(ctx, &adminpb.SetRulesRequest{
		Rules: &adminpb.SetRulesRequest_Spec{Spec: "unavailable=200%"},
	})
	fmt.Println("bad spec:", status.Code(err))

	// An empty spec clears the rules.
	rules, err = ctl.SetRules(ctx, &adminpb.SetRulesRequest{
		Rules: &adminpb.SetRulesRequest_Spec{Spec: ""},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("rules: %q\n", rules.GetSpec())
	_, err = route.GetFeature(ctx, lighthouse)
	fmt.Println("GetFeature:", status.Code(err))
	// Output:
	// rules: /routeguide.RouteGuide/GetFeature:every=2:unavailable
	// GetFeature: OK
	// GetFeature: Unavailable
	// GetFeature: OK
	// GetFeature: Unavailable
	// calls: 4, aborts: map[UNAVAILABLE:2]
	// bad spec: InvalidArgument
	// rules: ""
	// GetFeature: OK
}
