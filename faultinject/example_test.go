package faultinject_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
)

func ExampleParseSpec() {
	rules, err := faultinject.ParseSpec("unavailable=30%,delay=50ms@10%,first=2:unavailable+pushback=10ms,/routeguide.RouteGuide/ListFeatures:internal+after=3")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rules {
		switch {
		case r.Delay != nil:
			fmt.Printf("delay %v for %v%% of calls\n", r.Delay.Duration, r.Delay.Percent)
		case r.Abort.First > 0:
			fmt.Printf("%v for attempts 1-%d, pushback %v\n", r.Abort.Code, r.Abort.First, *r.Abort.Pushback)
		case r.Abort.AfterMessages > 0:
			fmt.Printf("%v after %d messages of %s\n", r.Abort.Code, r.Abort.AfterMessages, r.Method)
		default:
			fmt.Printf("%v for %v%% of calls\n", r.Abort.Code, r.Abort.Percent)
		}
	}

	_, err = faultinject.ParseSpec("unavailable=30%,delay=abc@10%")
	fmt.Println(err)
	// Output:
	// Unavailable for 30% of calls
	// delay 50ms for 10% of calls
	// Unavailable for attempts 1-2, pushback 10ms
	// Internal after 3 messages of /routeguide.RouteGuide/ListFeatures
	// faultinject: spec rule 2 "delay=abc@10%": bad duration "abc"
}

// A server that fails the first attempt of every call: a client without
// retries fails, one with grpc-go's A6 retry policy succeeds.
func ExampleNew() {
	rules, err := faultinject.ParseSpec("first=1:unavailable")
	if err != nil {
		log.Fatal(err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		log.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(
		grpc.ChainUnaryInterceptor(in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(in.StreamServerInterceptor()),
	)
	server.New().Register(s)
	go func() { _ = s.Serve(lis) }()
	defer s.Stop()

	var conns []*grpc.ClientConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func(opts ...grpc.DialOption) pb.RouteGuideClient {
		conn, err := grpc.NewClient("passthrough:///bufconn", append(opts,
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
			grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err != nil {
			log.Fatal(err)
		}
		conns = append(conns, conn)
		return pb.NewRouteGuideClient(conn)
	}
	point := &pb.Point{Latitude: 101203450, Longitude: -398765430}

	_, err = dial(grpc.WithDisableRetry()).GetFeature(context.Background(), point)
	fmt.Println("no retries:", status.Code(err))

	retrying := dial(grpc.WithDefaultServiceConfig(`{"methodConfig": [{
		"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.01s", "maxBackoff": "0.01s",
			"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`))
	f, err := retrying.GetFeature(context.Background(), point)
	fmt.Println("A6 retry:", status.Code(err), f.GetName())

	st := in.Stats()
	fmt.Println("calls:", st.Calls, "aborts:", st.AbortsByCode[codes.Unavailable])
	// Output:
	// no retries: Unavailable
	// A6 retry: OK Harbour Lighthouse
	// calls: 3 aborts: 2
}
