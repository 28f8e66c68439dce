package interceptors_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// flakyServer fails the first two calls with UNAVAILABLE.
type flakyServer struct {
	pb.UnimplementedRouteGuideServer
	calls atomic.Int32
}

func (s *flakyServer) GetFeature(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
	if s.calls.Add(1) <= 2 {
		return nil, status.Error(codes.Unavailable, "warming up")
	}
	return &pb.Feature{Name: "Mount Example", Location: p}, nil
}

// serve starts srv over an in-memory connection and returns a client
// connection made with opts, and a function that stops both.
func serve(srv pb.RouteGuideServer, opts ...grpc.DialOption) (*grpc.ClientConn, func()) {
	return serveWith(srv, nil, opts...)
}

// serveWith is serve with server options.
func serveWith(srv pb.RouteGuideServer, sopts []grpc.ServerOption, opts ...grpc.DialOption) (*grpc.ClientConn, func()) {
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer(sopts...)
	pb.RegisterRouteGuideServer(s, srv)
	go s.Serve(lis)
	opts = append(opts,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
	if err != nil {
		panic(err)
	}
	return conn, func() { conn.Close(); s.Stop() }
}

// The manual mode: retry up to 3 times, 10 ms apart.
func ExampleDialOptions() {
	srv := &flakyServer{}
	conn, stop := serve(srv, interceptors.DialOptions(
		interceptors.WithRetryTimes(3),
		interceptors.WithRetryInterval(10*time.Millisecond),
	)...)
	defer stop()

	f, err := pb.NewRouteGuideClient(conn).GetFeature(context.Background(), &pb.Point{Latitude: 1, Longitude: 2})
	fmt.Println(f.GetName(), err, srv.calls.Load())
	// Output: Mount Example <nil> 3
}

// An A6 service config policy, and a call that runs out of attempts.
func ExampleWithServiceConfig() {
	cfg, err := rsc.Parse([]byte(`{"methodConfig": [{
		"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.01s", "maxBackoff": "0.1s",
			"backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &flakyServer{}
	conn, stop := serve(srv, interceptors.DialOptions(interceptors.WithServiceConfig(cfg))...)
	defer stop()

	_, err = pb.NewRouteGuideClient(conn).GetFeature(context.Background(), &pb.Point{})
	attempts, reason, _ := retry.Info(err)
	fmt.Println(status.Code(err), status.Convert(err).Message(), attempts, reason)
	// Output: Unavailable warming up 2 exhausted
}

// A call option overrides the interceptor for one call.
func ExampleDisable() {
	srv := &flakyServer{}
	conn, stop := serve(srv, interceptors.DialOptions(interceptors.WithRetryTimes(3))...)
	defer stop()

	_, err := pb.NewRouteGuideClient(conn).GetFeature(context.Background(), &pb.Point{}, interceptors.Disable())
	fmt.Println(status.Code(err), srv.calls.Load())
	// Output: Unavailable 1
}

// slowFirstServer never answers the first attempt of a call (it waits until
// the call is cancelled); hedges answer at once.
type slowFirstServer struct {
	pb.UnimplementedRouteGuideServer
}

func (slowFirstServer) GetFeature(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
	if attemptOf(ctx) == 1 {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &pb.Feature{Name: "Hedge Hill", Location: p}, nil
}

// RouteChat reads every note; the first attempt then waits until it is
// cancelled, a hedge echoes the notes, naming its attempt.
func (slowFirstServer) RouteChat(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	n := attemptOf(stream.Context())
	var notes []*pb.RouteNote
	for {
		note, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		notes = append(notes, note)
	}
	if n == 1 {
		<-stream.Context().Done()
		return status.FromContextError(stream.Context().Err()).Err()
	}
	for _, note := range notes {
		if err := stream.Send(&pb.RouteNote{Message: fmt.Sprintf("%s (attempt %d)", note.GetMessage(), n)}); err != nil {
			return err
		}
	}
	return nil
}

// Hedging: a second attempt goes out 5 ms after the first; the first to
// answer wins, and the other is cancelled.
func ExampleWithHedging() {
	var events []string
	conn, stop := serve(slowFirstServer{}, interceptors.DialOptions(
		interceptors.WithHedging(2, 5*time.Millisecond, codes.Unavailable),
		interceptors.WithObserver(func(_ context.Context, e retry.Event) {
			if e.Kind != retry.AttemptDone {
				events = append(events, fmt.Sprintf("%v:%d", e.Kind, e.Attempt))
			}
		}),
	)...)
	defer stop()

	f, err := pb.NewRouteGuideClient(conn).GetFeature(context.Background(), &pb.Point{})
	fmt.Println(f.GetName(), err)
	fmt.Println(events)
	// Output:
	// Hedge Hill <nil>
	// [hedge-started:1 hedge-started:2 hedge-won:2 hedge-cancelled:1]
}

// Hedging a bidi stream: the notes sent before any answer go to every
// attempt; the hedge that answers first wins, and the caller reads its
// stream alone, every note once.
func ExampleWithHedging_stream() {
	conn, stop := serve(slowFirstServer{}, interceptors.DialOptions(
		interceptors.WithHedging(2, 5*time.Millisecond, codes.Unavailable))...)
	defer stop()

	stream, err := pb.NewRouteGuideClient(conn).RouteChat(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range []string{"north", "east"} {
		if err := stream.Send(&pb.RouteNote{Message: m}); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := stream.CloseSend(); err != nil {
		fmt.Println(err)
		return
	}
	for {
		note, err := stream.Recv()
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(note.GetMessage())
	}
	// Output:
	// north (attempt 2)
	// east (attempt 2)
	// EOF
}

// panickyServer panics on GetFeature for latitude 1.
type panickyServer struct {
	pb.UnimplementedRouteGuideServer
}

func (panickyServer) GetFeature(_ context.Context, p *pb.Point) (*pb.Feature, error) {
	if p.GetLatitude() == 1 {
		panic("bad latitude")
	}
	return &pb.Feature{Name: "Steady Point"}, nil
}

// The server side: a call without enough time left is rejected before the
// handler runs; a panic becomes INTERNAL, and the server keeps serving.
func ExampleNewServer() {
	guard, err := interceptors.NewServer(
		interceptors.WithMinBudget(time.Second),
		interceptors.WithConcurrencyLimit(100),
		interceptors.WithPanicHandler(func(context.Context, any, []byte) {}), // log it here
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, stop := serveWith(panickyServer{}, []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(guard.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(guard.StreamServerInterceptor()),
	})
	defer stop()
	client := pb.NewRouteGuideClient(conn)

	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = client.GetFeature(short, &pb.Point{})
	fmt.Println("500ms left:", status.Code(err))
	_, err = client.GetFeature(context.Background(), &pb.Point{Latitude: 1})
	fmt.Println("panic:", status.Code(err))
	f, err := client.GetFeature(context.Background(), &pb.Point{})
	fmt.Println("then:", f.GetName(), err)
	st := guard.Stats()
	fmt.Println(st.Calls, "calls,", st.Expired, "expired,", st.Panics, "panic")
	// Output:
	// 500ms left: DeadlineExceeded
	// panic: Internal
	// then: Steady Point <nil>
	// 3 calls, 1 expired, 1 panic
}
