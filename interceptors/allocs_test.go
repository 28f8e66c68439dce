package interceptors_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// allocRuns is the number of calls testing.AllocsPerRun averages over: enough
// that grpc's occasional allocations (flow-control window updates, BDP
// pings) cannot move the average by a whole allocation.
const allocRuns = 2000

// The fixed messages of the allocation test, never modified, so that both
// sides of the comparison marshal and answer exactly the same bytes.
var (
	allocPoint   = &pb.Point{Latitude: 409146138, Longitude: -746188906}
	allocRect    = &pb.Rectangle{Lo: allocPoint, Hi: allocPoint}
	allocNote    = &pb.RouteNote{Location: allocPoint, Message: "allocs"}
	allocFeature = &pb.Feature{Name: "allocs", Location: allocPoint}
	allocSummary = &pb.RouteSummary{PointCount: 1}
)

// allocHandlers answer every call at once with a fixed reply: a server
// that itself allocates as little as grpc lets it.
func allocHandlers() stubserver.Handlers {
	return stubserver.Handlers{
		GetFeature: func(context.Context, *pb.Point) (*pb.Feature, error) { return allocFeature, nil },
		ListFeatures: func(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
			return s.Send(allocFeature)
		},
		RecordRoute: func(s grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
			if _, err := recvAll(s.Recv); err != nil {
				return err
			}
			return s.SendAndClose(allocSummary)
		},
		RouteChat: func(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
			for {
				if _, err := s.Recv(); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
				if err := s.Send(allocNote); err != nil {
					return err
				}
			}
		},
	}
}

// allocCall makes one complete call of one kind, as a caller must for the
// call to end: streams are read to io.EOF.
type allocCall func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error

func allocUnary(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
	_, err := c.GetFeature(ctx, allocPoint, opts...)
	return err
}

func allocServerStream(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
	s, err := c.ListFeatures(ctx, allocRect, opts...)
	if err != nil {
		return err
	}
	_, err = recvAll(s.Recv)
	return err
}

func allocClientStream(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
	s, err := c.RecordRoute(ctx, opts...)
	if err != nil {
		return err
	}
	if err := s.Send(allocPoint); err != nil {
		return err
	}
	_, err = s.CloseAndRecv()
	return err
}

func allocBidi(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
	s, err := c.RouteChat(ctx, opts...)
	if err != nil {
		return err
	}
	if err := s.Send(allocNote); err != nil {
		return err
	}
	if _, err := s.Recv(); err != nil {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	_, err = recvAll(s.Recv)
	return err
}

// allocsPerCall returns the allocations of one call of call on c, averaged
// over allocRuns calls, and fails the test if a call fails.
func allocsPerCall(t *testing.T, ctx context.Context, c pb.RouteGuideClient, call allocCall, opts ...grpc.CallOption) float64 {
	t.Helper()
	var err error
	n := testing.AllocsPerRun(allocRuns, func() {
		if e := call(ctx, c, opts...); e != nil && err == nil {
			err = e
		}
	})
	if err != nil {
		t.Fatalf("a call failed: %v", err)
	}
	return n
}

// TestSuccessPathAllocs pins what the client interceptors cost on a call that
// succeeds at its first attempt: the allocations of one call through them,
// over those of the same call through plain grpc-go to the same server (the
// in-process server's own allocations are the same on both sides).
//
// A unary attempt must learn whether the response headers arrived (a call
// that failed after them is committed) and the trailer (the server's
// pushback). grpc-go offers them only through grpc.Header and grpc.Trailer,
// whose copies of the header and the trailer it makes for every attempt,
// successful or not: 4 allocations with this server's one-key header. The
// "unary, plain with Header and Trailer" row pins the interceptor's own share
// of the unary path at zero; its interceptor side passes grpc.EmptyCallOption
// because the generated client code allocates once more when its caller
// passes options. Streams read them from the stream, and only when an
// attempt fails: their 2 are the retryStream itself and the replay buffer
// of the message sent before the call committed.
func TestSuccessPathAllocs(t *testing.T) {
	if raceEnabled {
		// sync.Pool drops a share of what it is given under the race
		// detector, so allocation counts are not meaningful there.
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	cfg, err := rsc.Parse([]byte(`{"methodConfig": [{
		"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.001s", "maxBackoff": "0.01s",
			"backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`))
	if err != nil {
		t.Fatalf("rsc.Parse = %v", err)
	}
	srv := stubserver.Start(t, allocHandlers(), stubserver.WithDialOptions(grpc.WithDisableRetry()))
	plain := pb.NewRouteGuideClient(srv.Conn())
	flavours := []struct {
		name string
		opts []interceptors.Option
	}{
		{"manual", []interceptors.Option{interceptors.WithRetryTimes(2), interceptors.WithRetryInterval(time.Millisecond)}},
		{"a6", []interceptors.Option{interceptors.WithServiceConfig(cfg)}},
	}
	var header, trailer metadata.MD
	kinds := []struct {
		name      string
		call      allocCall
		plainOpts []grpc.CallOption // the plain call's options
		opts      []grpc.CallOption // the options of the call through the interceptors
		budget    float64
	}{
		{"unary", allocUnary, nil, nil, 4},
		{"unary, plain with Header and Trailer", allocUnary,
			[]grpc.CallOption{grpc.Header(&header), grpc.Trailer(&trailer)}, []grpc.CallOption{grpc.EmptyCallOption{}}, 0},
		{"server-streaming", allocServerStream, nil, nil, 2},
		{"client-streaming", allocClientStream, nil, nil, 2},
		{"bidi", allocBidi, nil, nil, 2},
	}
	ctx := testContext(t)
	for _, f := range flavours {
		c := pb.NewRouteGuideClient(srv.Dial(t, interceptors.DialOptions(f.opts...)...))
		for _, k := range kinds {
			t.Run(f.name+"/"+k.name, func(t *testing.T) {
				base := allocsPerCall(t, ctx, plain, k.call, k.plainOpts...)
				got := allocsPerCall(t, ctx, c, k.call, k.opts...)
				if got-base > k.budget {
					t.Errorf("%s call through the interceptors = %v allocs, plain grpc-go = %v: %v more, want at most %v",
						k.name, got, base, got-base, k.budget)
				}
				t.Logf("%v allocs per call, plain %v", got, base)
			})
		}
	}
}
