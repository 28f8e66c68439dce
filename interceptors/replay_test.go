package interceptors_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// TestReplayBufferBoundOnStream sends 10,000 small messages on a client
// stream, reusing one message value, to a server that reads them all and
// fails the first attempt before answering. The replay buffer's capacity
// stays within WithMaxReplayBytes after every send. When the messages fit,
// the retry replays each once, in order; when they do not, the call
// commits at the overflow and the failure is final.
func TestReplayBufferBoundOnStream(t *testing.T) {
	const (
		points = 10_000
		limit  = 64 << 10
	)
	for _, tc := range []struct {
		name  string
		fits  bool
		point func(p *pb.Point, i int)
	}{
		// 1 to 4 bytes each with its length prefix: 39,870 in all.
		{"fits", true, func(p *pb.Point, i int) { p.Latitude = int32(i) }},
		// 23 bytes each: 230,000 in all, past the limit.
		{"overflows", false, func(p *pb.Point, i int) { p.Latitude, p.Longitude = -1, -int32(i)-1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := stubserver.Start(t, stubserver.Handlers{RecordRoute: func(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
				got, err := recvAll(stream.Recv)
				if err != nil {
					return err
				}
				if attempts.Add(1) == 1 {
					return status.Error(codes.Unavailable, "read everything, then failed")
				}
				misplaced := 0
				for i, p := range got {
					if p.GetLatitude() != int32(i) {
						misplaced++
					}
				}
				return stream.SendAndClose(&pb.RouteSummary{PointCount: int32(len(got)), FeatureCount: int32(misplaced)})
			}})
			conn := srv.Dial(t, retryDialOptions(interceptors.WithMaxReplayBytes(limit))...)
			stream, err := pbClient(conn).RecordRoute(testContext(t))
			if err != nil {
				t.Fatalf("RecordRoute = %v", err)
			}
			cs := stream.(*grpc.GenericClientStream[pb.Point, pb.RouteSummary]).ClientStream
			p := &pb.Point{}
			kept := 0
			for i := range points {
				tc.point(p, i)
				if err := stream.Send(p); err != nil {
					t.Fatalf("Send %d = %v", i, err)
				}
				capacity, used, msgs, ok := interceptors.ReplayBuffer(cs)
				if !ok {
					t.Fatalf("the stream is a %T, want the retry interceptor's", cs)
				}
				if capacity > limit || used > capacity {
					t.Fatalf("after Send %d the replay buffer holds %d bytes in a capacity of %d, want at most the limit %d", i, used, capacity, limit)
				}
				kept = max(kept, msgs)
			}
			sum, err := stream.CloseAndRecv()
			if !tc.fits {
				if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrCommitted) || attempts.Load() != 1 || kept >= points {
					t.Errorf("CloseAndRecv = %v after %d attempts, %d messages kept at most; want UNAVAILABLE, ErrCommitted, 1 attempt, fewer than %d kept",
						err, attempts.Load(), kept, points)
				}
				return
			}
			if err != nil || sum.GetPointCount() != points || sum.GetFeatureCount() != 0 || attempts.Load() != 2 || kept != points {
				t.Errorf("CloseAndRecv = %v, %v after %d attempts, %d messages kept; want %d points in order, 2 attempts, all kept",
					sum, err, attempts.Load(), kept, points)
			}
			if capacity, _, msgs, _ := interceptors.ReplayBuffer(cs); capacity != 0 || msgs != 0 {
				t.Errorf("after the call the replay buffer has a capacity of %d with %d messages, want it released", capacity, msgs)
			}
		})
	}
}
