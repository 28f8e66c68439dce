package interceptors_test

import (
	"context"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"google.golang.org/grpc"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// outerKey marks the context an outer interceptor gives its wrapped stream.
type outerKey struct{}

// TestServerStreamKeepsOuterWrapper: an interceptor in front of the Server
// that wraps the stream the go-grpc-middleware way (as its auth, logging and
// tags interceptors do) still has its own context once the handler returned.
// middleware.WrapServerStream hands back an existing *WrappedServerStream
// as it is, so the Server must not overwrite that wrapper's WrappedContext
// with its own capped, soon cancelled, context.
func TestServerStreamKeepsOuterWrapper(t *testing.T) {
	type after struct {
		same bool  // the wrapper's context is still the outer one
		err  error // its Err once the handler returned
	}
	seen := make(chan after, 1)
	outer := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		w := middleware.WrapServerStream(ss)
		own := context.WithValue(ss.Context(), outerKey{}, "outer")
		w.WrappedContext = own
		err := handler(srv, w)
		seen <- after{same: w.Context() == own, err: w.Context().Err()}
		return err
	}
	g := newServer(t, interceptors.WithMaxDeadline(time.Hour))
	srv := stubserver.Start(t, stubserver.Handlers{
		ListFeatures: func(_ *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			if _, ok := stream.Context().Deadline(); !ok {
				t.Error("ListFeatures: the handler has no deadline, want the maximum")
			}
			if stream.Context().Value(outerKey{}) != "outer" {
				t.Error("ListFeatures: the handler lost the outer interceptor's context value")
			}
			return nil
		},
	}, stubserver.WithServerOptions(grpc.ChainStreamInterceptor(outer, g.StreamServerInterceptor())))

	stream, err := pbClient(srv.Dial(t)).ListFeatures(testContext(t), &pb.Rectangle{})
	if err != nil {
		t.Fatalf("ListFeatures = %v", err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("Recv = %v, want io.EOF", err)
	}
	got := <-seen // sent before the status, so before Recv returned
	if !got.same || got.err != nil {
		t.Errorf("after the handler, the outer interceptor's stream context is its own: %v, done with %v; want its own, not done",
			got.same, got.err)
	}
}

// TestNewServerHugeShedPushback: a pushback whose milliseconds overflow
// when rounded up is refused like any other one too large for an int32,
// not turned into a negative trailer that tells every client never to
// retry.
func TestNewServerHugeShedPushback(t *testing.T) {
	for _, d := range []time.Duration{math.MaxInt64, math.MaxInt64 - time.Millisecond + 2} {
		if _, err := interceptors.NewServer(interceptors.WithShedPushback(d)); err == nil || !strings.Contains(err.Error(), "WithShedPushback(") {
			t.Errorf("NewServer(WithShedPushback(%d)) = %v, want an error naming it", int64(d), err)
		}
	}
}

// TestServerInterceptorAllocs: admitting and ending a call allocates
// nothing of its own when no feature that needs a new context is on.
func TestServerInterceptorAllocs(t *testing.T) {
	info := &grpc.UnaryServerInfo{FullMethod: "/routeguide.RouteGuide/GetFeature"}
	handler := func(context.Context, any) (any, error) { return nil, nil }
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opts []interceptors.ServerOption
	}{
		{"no options", nil},
		{"limits and budget", []interceptors.ServerOption{
			interceptors.WithConcurrencyLimit(8), interceptors.WithMinBudget(time.Millisecond),
			interceptors.WithMethodConcurrencyLimit(info.FullMethod, 4)}},
	} {
		in := newServer(t, c.opts...).UnaryServerInterceptor()
		if n := testing.AllocsPerRun(100, func() { _, _ = in(ctx, nil, info, handler) }); n != 0 {
			t.Errorf("%s: a unary call through the interceptor allocates %v times, want 0", c.name, n)
		}
	}
}
