package interceptors_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// reviewThrottleServer serves GetFeature from a script and ListFeatures with
// UNAVAILABLE (trailers-only) while listFail is set, OK otherwise.
func reviewThrottleServer(t *testing.T, s *script, listFail *atomic.Bool) *stubserver.Server {
	h := s.handlers()
	h.ListFeatures = func(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
		if listFail.Load() {
			return status.Error(codes.Unavailable, "list down")
		}
		return nil
	}
	return stubserver.Start(t, h)
}

func drainList(ctx context.Context, c pb.RouteGuideClient) error {
	st, err := c.ListFeatures(ctx, &pb.Rectangle{})
	if err != nil {
		return err
	}
	for {
		if _, err := st.Recv(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// A method without a retryPolicy must not take throttle tokens (gRFC A6 and
// grpc-go's shouldRetry: rp == nil returns before throttle()). Here
// ListFeatures has only a timeout, which routes it through retryStream with a
// MaxAttempts 1 policy whose default codes include UNAVAILABLE, so each of
// its failures takes a token and GetFeature's retries end up throttled.
// The grpc-go subtest runs the same scenario on grpc-go's built-in retry as
// the reference.
func TestThrottleNoPolicyMethodTakesTokens(t *testing.T) {
	cfg := mustParse(t, `{"methodConfig": [
		{"name": [{"service": "routeguide.RouteGuide", "method": "GetFeature"}],
		 "retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
		   "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}},
		{"name": [{"service": "routeguide.RouteGuide", "method": "ListFeatures"}], "timeout": "30s"}],
		"retryThrottling": {"maxTokens": 10, "tokenRatio": 0.5}}`)
	for _, tc := range []struct {
		name string
		dial []grpc.DialOption
	}{
		{"grpc-go", []grpc.DialOption{cfg.DialOption()}},
		{"interceptors", interceptors.DialOptions(interceptors.WithServiceConfig(cfg))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.OK)
			var listFail atomic.Bool
			listFail.Store(true)
			srv := reviewThrottleServer(t, s, &listFail)
			conn := srv.Dial(t, tc.dial...)
			c := pbClient(conn)
			for i := 0; i < 6; i++ {
				if err := drainList(testContext(t), c); status.Code(err) != codes.Unavailable {
					t.Fatalf("ListFeatures = %v, want UNAVAILABLE", err)
				}
			}
			_, err := c.GetFeature(testContext(t), &pb.Point{})
			if err != nil || s.Attempts() != 2 {
				t.Errorf("GetFeature after 6 failures of a method without retryPolicy = %v after %d attempts, want success after 2 (no tokens taken)", err, s.Attempts())
			}
		})
	}
}

// Every successful RPC on the channel gives back tokenRatio (gRFC A6:
// "regardless of service or method invoked"; grpc-go calls successfulRPC in
// clientStream.finish for every call). The interceptors count successes only
// for calls that go through a retry policy: calls of methods passed straight
// through never refill the bucket.
func TestThrottleSuccessOfUnretriedMethodRefills(t *testing.T) {
	cfg := mustParse(t, `{"methodConfig": [
		{"name": [{"service": "routeguide.RouteGuide", "method": "GetFeature"}],
		 "retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
		   "backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}],
		"retryThrottling": {"maxTokens": 10, "tokenRatio": 0.5}}`)
	for _, tc := range []struct {
		name string
		dial []grpc.DialOption
	}{
		{"grpc-go", []grpc.DialOption{cfg.DialOption()}},
		{"interceptors", interceptors.DialOptions(interceptors.WithServiceConfig(cfg))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 10 →9 retry →8 exhausted; →7 retry →6 exhausted; →5 throttled.
			// Then 6 successful ListFeatures: →8. Then GetFeature fails
			// once (→7, retry) and succeeds.
			s := newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.OK)
			var listFail atomic.Bool
			srv := reviewThrottleServer(t, s, &listFail)
			conn := srv.Dial(t, tc.dial...)
			c := pbClient(conn)
			for i := 0; i < 3; i++ {
				if _, err := c.GetFeature(testContext(t), &pb.Point{}); status.Code(err) != codes.Unavailable {
					t.Fatalf("GetFeature %d = %v, want UNAVAILABLE", i+1, err)
				}
			}
			if got := s.Attempts(); got != 5 {
				t.Fatalf("setup: server saw %d GetFeature attempts, want 5", got)
			}
			for i := 0; i < 6; i++ {
				if err := drainList(testContext(t), c); err != nil {
					t.Fatalf("ListFeatures = %v", err)
				}
			}
			_, err := c.GetFeature(testContext(t), &pb.Point{})
			if err != nil || s.Attempts() != 7 {
				t.Errorf("GetFeature after 6 successful calls of another method = %v, server saw %d attempts in all, want success after 7 (tokens refilled to 8)", err, s.Attempts())
			}
		})
	}
}
