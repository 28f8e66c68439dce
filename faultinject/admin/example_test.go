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
// turns them off again, all through the admin service, which serves only
// callers holding its token.
func Example() {
	// The token would come from a secret store or a file, never from the
	// code or the command line.
	const token = "example-token-7d3f9b2e"

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
	if err := admin.Register(gs, in, admin.WithBearerToken(token)); err != nil {
		log.Fatal(err)
	}
	go gs.Serve(lis)
	defer gs.Stop()

	dial := func(opts ...grpc.DialOption) *grpc.ClientConn {
		opts = append(opts,
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()))
		conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
		if err != nil {
			log.Fatal(err)
		}
		return conn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lighthouse := &pb.Point{Latitude: 101203450, Longitude: -398765430}

	// A caller without the token, or with another one, is refused.
	anonymous := dial()
	defer anonymous.Close()
	_, err = adminpb.NewFaultAdminClient(anonymous).GetStats(ctx, &adminpb.GetStatsRequest{})
	fmt.Println("no token:", status.Code(err))
	_, err = adminpb.NewFaultAdminClient(anonymous).GetStats(ctx, &adminpb.GetStatsRequest{},
		grpc.PerRPCCredentials(admin.InsecureBearerToken("guessed-token")))
	fmt.Println("wrong token:", status.Code(err))

	// The chaos runner's connection sends the token. The connection is in
	// memory, so the token may go without TLS; it goes with the admin calls
	// only, never with the route guide's.
	conn := dial(grpc.WithPerRPCCredentials(admin.InsecureBearerToken(token)))
	defer conn.Close()
	route := pb.NewRouteGuideClient(conn)
	ctl := adminpb.NewFaultAdminClient(conn)

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
	// no token: Unauthenticated
	// wrong token: Unauthenticated
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
