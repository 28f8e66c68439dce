package interceptors_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// enormousPushbacks are a server's requests to wait far longer than any
// call lives: in the pushback trailer, or as a google.rpc.RetryInfo.
var enormousPushbacks = []struct {
	name    string
	trailer string               // grpc-retry-pushback-ms, when not ""
	info    *durationpb.Duration // RetryInfo's delay, when not nil
	want    time.Duration        // the wait asked for
}{
	{"2^31-1 ms", "2147483647", nil, math.MaxInt32 * time.Millisecond},
	{"2^63-1 ms", "9223372036854775807", nil, math.MaxInt64},
	{"past uint64", "99999999999999999999999", nil, math.MaxInt64},
	{"RetryInfo 10^10 s", "", &durationpb.Duration{Seconds: 1e10}, math.MaxInt64},
	{"RetryInfo 2^31-1 ms", "", durationpb.New(math.MaxInt32 * time.Millisecond), math.MaxInt32 * time.Millisecond},
}

// pushbackServer fails the first attempt of every call UNAVAILABLE with the
// pushback given (trailer, RetryInfo or both), and answers later attempts OK.
func pushbackServer(t *testing.T, trailer string, info *durationpb.Duration, attempts *atomic.Int32) *stubserver.Server {
	t.Helper()
	return stubserver.Start(t, stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			if attempts.Add(1) > 1 {
				return &pb.Feature{Name: "ok", Location: p}, nil
			}
			if trailer != "" {
				grpc.SetTrailer(ctx, metadata.Pairs(retry.PushbackKey, trailer))
			}
			st := status.New(codes.Unavailable, "come back much later")
			if info != nil {
				var err error
				if st, err = st.WithDetails(&errdetails.RetryInfo{RetryDelay: info}); err != nil {
					return nil, err
				}
			}
			return nil, st.Err()
		},
	})
}

// TestEnormousPushbackCappedByDeadline: a server that asks for a wait of
// up to 2^63-1 ns (2^31-1 ms and more, in the trailer or a RetryInfo)
// cannot hold a call past its deadline: the wait is not started, and the
// call returns the server's error at once, stopped by the deadline, after
// one attempt. Without a deadline the wait is exactly what was asked, and
// the caller's cancellation ends it.
func TestEnormousPushbackCappedByDeadline(t *testing.T) {
	for _, tc := range enormousPushbacks {
		t.Run(tc.name+"/deadline", func(t *testing.T) {
			var attempts atomic.Int32
			srv := pushbackServer(t, tc.trailer, tc.info, &attempts)
			clk := &interceptors.RecordingClock{}
			conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3), interceptors.WithClock(clk))...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			_, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, &pb.Point{})
			n, reason, _ := retry.Info(err)
			if status.Code(err) != codes.Unavailable || reason != retry.Deadline || n != 1 || attempts.Load() != 1 {
				t.Errorf("GetFeature = %v (%d attempts, reason %v, server saw %d); want UNAVAILABLE stopped by the deadline after 1", err, n, reason, attempts.Load())
			}
			if w := clk.Waits(); len(w) != 0 {
				t.Errorf("waits %v, want none: a wait past the deadline is not started", w)
			}
		})
		t.Run(tc.name+"/no deadline", func(t *testing.T) {
			var attempts atomic.Int32
			srv := pushbackServer(t, tc.trailer, tc.info, &attempts)
			clk := &interceptors.RecordingClock{}
			conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3), interceptors.WithClock(clk))...)
			if _, err := pb.NewRouteGuideClient(conn).GetFeature(context.Background(), &pb.Point{}); err != nil {
				t.Fatalf("GetFeature = %v, want OK on the second attempt", err)
			}
			if w := clk.Waits(); len(w) != 1 || w[0] != tc.want {
				t.Errorf("waits %v, want [%v]: the pushback exactly", w, tc.want)
			}
		})
	}
	t.Run("no deadline, cancelled", func(t *testing.T) {
		var attempts atomic.Int32
		srv := pushbackServer(t, "2147483647", nil, &attempts)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The real clock: the wait would be 24.8 days; the observer
		// cancels the call as the wait begins.
		conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3),
			interceptors.WithObserver(func(_ context.Context, e retry.Event) {
				if e.Retry {
					cancel()
				}
			}))...)
		_, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, &pb.Point{})
		if _, reason, _ := retry.Info(err); status.Code(err) != codes.Canceled || reason != retry.Canceled || !errors.Is(err, retry.ErrCanceled) {
			t.Errorf("GetFeature = %v (reason %v), want CANCELLED, stopped by the cancellation", err, reason)
		}
	})
}
