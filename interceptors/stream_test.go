package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

func retryDialOptions(opts ...interceptors.Option) []grpc.DialOption {
	return interceptors.DialOptions(append([]interceptors.Option{interceptors.WithRetryTimes(3)}, opts...)...)
}

// A response header or message before the failure commits the call: no
// retry, and the caller sees what arrived exactly once.
func TestCommitOnResponse(t *testing.T) {
	t.Run("unary header", func(t *testing.T) {
		var attempts atomic.Int32
		srv := stubserver.Start(t, stubserver.Handlers{GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			attempts.Add(1)
			if err := grpc.SendHeader(ctx, metadata.Pairs("k", "v")); err != nil {
				return nil, err
			}
			return nil, status.Error(codes.Unavailable, "after header")
		}})
		conn := srv.Dial(t, retryDialOptions()...)
		_, err := pbClient(conn).GetFeature(testContext(t), &pb.Point{})
		if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrCommitted) || attempts.Load() != 1 {
			t.Errorf("GetFeature = %v after %d attempts, want UNAVAILABLE, ErrCommitted, 1 attempt", err, attempts.Load())
		}
	})
	for _, sendMessage := range []bool{false, true} {
		t.Run(fmt.Sprintf("server-streaming message=%v", sendMessage), func(t *testing.T) {
			var attempts atomic.Int32
			srv := stubserver.Start(t, stubserver.Handlers{ListFeatures: func(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
				attempts.Add(1)
				if sendMessage {
					if err := stream.Send(&pb.Feature{Name: "only"}); err != nil {
						return err
					}
				} else if err := stream.SendHeader(metadata.Pairs("k", "v")); err != nil {
					return err
				}
				return status.Error(codes.Unavailable, "mid-stream")
			}})
			conn := srv.Dial(t, retryDialOptions()...)
			stream, err := pbClient(conn).ListFeatures(testContext(t), &pb.Rectangle{})
			if err != nil {
				t.Fatalf("ListFeatures = %v", err)
			}
			var got []string
			for {
				f, err := stream.Recv()
				if err != nil {
					if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrCommitted) {
						t.Errorf("Recv = %v, want UNAVAILABLE and ErrCommitted", err)
					}
					break
				}
				got = append(got, f.GetName())
			}
			want := []string(nil)
			if sendMessage {
				want = []string{"only"}
			}
			if !slices.Equal(got, want) || attempts.Load() != 1 {
				t.Errorf("received %v over %d attempts, want %v over 1", got, attempts.Load(), want)
			}
		})
	}
	t.Run("Context() commits", func(t *testing.T) {
		s := newScript(codes.Unavailable, codes.OK)
		srv := startScript(t, s)
		conn := srv.Dial(t, retryDialOptions()...)
		stream, err := pbClient(conn).ListFeatures(testContext(t), &pb.Rectangle{})
		if err != nil {
			t.Fatalf("ListFeatures = %v", err)
		}
		_ = stream.Context()
		_, err = stream.Recv()
		if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrCommitted) || s.Attempts() != 1 {
			t.Errorf("Recv = %v after %d attempts, want UNAVAILABLE, ErrCommitted, 1 attempt", err, s.Attempts())
		}
	})
	t.Run("Header() before failure", func(t *testing.T) {
		s := newScript(codes.Unavailable, codes.OK)
		srv := startScript(t, s)
		conn := srv.Dial(t, retryDialOptions()...)
		stream, err := pbClient(conn).ListFeatures(testContext(t), &pb.Rectangle{})
		if err != nil {
			t.Fatalf("ListFeatures = %v", err)
		}
		// The first attempt fails trailers-only: Header retries it and
		// returns the second attempt's header.
		md, err := stream.Header()
		if err != nil || md == nil {
			t.Fatalf("Header() = %v, %v, want the second attempt's header", md, err)
		}
		features, err := recvAll(stream.Recv)
		if err != nil {
			t.Fatalf("Recv = %v", err)
		}
		if n := len(features); n != featuresPerList || s.Attempts() != 2 {
			t.Errorf("received %d features over %d attempts, want %d over 2", n, s.Attempts(), featuresPerList)
		}
	})
}

// A message larger than the replay buffer commits the call: no retry.
func TestReplayBufferOverflow(t *testing.T) {
	for _, size := range []int{100, 500} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.OK)
			srv := startScript(t, s)
			conn := srv.Dial(t, retryDialOptions(interceptors.WithMaxReplayBytes(200))...)
			stream, err := pbClient(conn).RouteChat(testContext(t))
			if err != nil {
				t.Fatalf("RouteChat = %v", err)
			}
			if err := stream.Send(&pb.RouteNote{Message: strings.Repeat("x", size)}); err != nil && err != io.EOF {
				t.Fatalf("Send = %v", err)
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatalf("CloseSend = %v", err)
			}
			var recvErr error
			echoed := 0
			for {
				if _, recvErr = stream.Recv(); recvErr != nil {
					break
				}
				echoed++
			}
			if size > 200 {
				if status.Code(recvErr) != codes.Unavailable || !errors.Is(recvErr, retry.ErrCommitted) || s.Attempts() != 1 {
					t.Errorf("Recv = %v after %d attempts, want UNAVAILABLE, ErrCommitted, 1 attempt", recvErr, s.Attempts())
				}
				return
			}
			if recvErr != io.EOF || echoed != 1 || s.Attempts() != 2 {
				t.Errorf("Recv = %v, %d echoed over %d attempts; want io.EOF, 1 echoed over 2 attempts", recvErr, echoed, s.Attempts())
			}
		})
	}
}

// The half-close is replayed: the retried attempt's server reads to the end
// of the request stream, which it could not do without it.
func TestHalfCloseReplayed(t *testing.T) {
	var mu sync.Mutex
	var counts []int
	var attempts atomic.Int32
	srv := stubserver.Start(t, stubserver.Handlers{RecordRoute: func(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
		points, err := recvAll(stream.Recv)
		if err != nil {
			return err
		}
		n := len(points)
		mu.Lock()
		counts = append(counts, n)
		mu.Unlock()
		if attempts.Add(1) == 1 {
			return status.Error(codes.Unavailable, "read everything, then failed")
		}
		return stream.SendAndClose(&pb.RouteSummary{PointCount: int32(n)})
	}})
	conn := srv.Dial(t, retryDialOptions()...)
	if err := kinds[2].call(testContext(t), pbClient(conn)); err != nil {
		t.Fatalf("RecordRoute = %v, want success", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(counts, []int{pointsPerRoute, pointsPerRoute}) {
		t.Errorf("points read to the end of stream per attempt = %v, want [%d %d]", counts, pointsPerRoute, pointsPerRoute)
	}
}

// A bidi call whose server echoes each note as it arrives, and whose first
// attempt fails after reading some notes but before answering: the caller,
// sending and receiving on two goroutines, sees every note once, in order.
func TestBidiConcurrentRetry(t *testing.T) {
	const notes = 50
	for _, failAfter := range []int{0, 1, 7, notes} {
		t.Run(fmt.Sprint(failAfter), func(t *testing.T) {
			var attempts atomic.Int32
			srv := stubserver.StartTCP(t, stubserver.Handlers{RouteChat: func(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
				first := attempts.Add(1) == 1
				for i := 0; ; i++ {
					if first && i == failAfter {
						return status.Error(codes.Unavailable, "failed before answering")
					}
					n, err := stream.Recv()
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return err
					}
					if !first {
						if err := stream.Send(n); err != nil {
							return err
						}
					}
				}
			}})
			conn := srv.Dial(t, retryDialOptions()...)
			stream, err := pbClient(conn).RouteChat(testContext(t))
			if err != nil {
				t.Fatalf("RouteChat = %v", err)
			}
			sendErr := make(chan error, 1)
			go func() {
				for i := 0; i < notes; i++ {
					if err := stream.Send(&pb.RouteNote{Message: fmt.Sprint(i)}); err != nil {
						sendErr <- err
						return
					}
				}
				sendErr <- stream.CloseSend()
			}()
			echoed, err := recvAll(stream.Recv)
			if err != nil {
				t.Fatalf("Recv = %v", err)
			}
			got := noteMessages(echoed)
			if err := <-sendErr; err != nil {
				t.Errorf("Send/CloseSend = %v", err)
			}
			var want []string
			for i := 0; i < notes; i++ {
				want = append(want, fmt.Sprint(i))
			}
			if !slices.Equal(got, want) {
				t.Errorf("received %v, want every note once in order", got)
			}
			if attempts.Load() != 2 {
				t.Errorf("server saw %d attempts, want 2", attempts.Load())
			}
		})
	}
}

// Cancelling a call mid-backoff ends it at once with CANCELLED; goleak in
// TestMain checks that nothing is left running.
func TestCancelMidBackoff(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			// No deadline: a backoff past it would not even start.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			failed := make(chan struct{}, 1)
			s := newScript(codes.Unavailable, codes.OK)
			srv := startScript(t, s)
			conn := srv.Dial(t, retryDialOptions(
				interceptors.WithRetryInterval(stubserver.DefaultTimeout*10),
				interceptors.WithObserver(func(context.Context, retry.Event) { failed <- struct{}{} }),
			)...)
			go func() {
				<-failed // the first attempt failed; the backoff starts
				cancel()
			}()
			err := k.call(ctx, pbClient(conn))
			if status.Code(err) != codes.Canceled || !errors.Is(err, retry.ErrCanceled) {
				t.Errorf("call = %v, want CANCELLED and ErrCanceled", err)
			}
			if s.Attempts() != 1 {
				t.Errorf("server saw %d attempts, want 1", s.Attempts())
			}
		})
	}
}

// Cancelling a committed stream mid-way frees the server's handler.
func TestCancelMidStream(t *testing.T) {
	handlerDone := make(chan error, 1)
	srv := stubserver.Start(t, stubserver.Handlers{RouteChat: func(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
		for {
			n, err := stream.Recv()
			if err != nil {
				handlerDone <- err
				return err
			}
			if err := stream.Send(n); err != nil {
				handlerDone <- err
				return err
			}
		}
	}})
	conn := srv.Dial(t, retryDialOptions()...)
	ctx, cancel := context.WithCancel(testContext(t))
	stream, err := pbClient(conn).RouteChat(ctx)
	if err != nil {
		t.Fatalf("RouteChat = %v", err)
	}
	if err := stream.Send(&pb.RouteNote{Message: "hi"}); err != nil {
		t.Fatalf("Send = %v", err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("Recv = %v", err)
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("Recv after cancel = %v, want CANCELLED", err)
	}
	if err := <-handlerDone; status.Code(err) != codes.Canceled {
		t.Errorf("server handler ended with %v, want CANCELLED", err)
	}
}

// A stream whose creation fails (no server) is retried like any attempt.
func TestStreamCreationRetried(t *testing.T) {
	srv := stubserver.Start(t, stubserver.Handlers{})
	srv.Stop()
	var events atomic.Int32
	conn := srv.Dial(t, retryDialOptions(interceptors.WithObserver(func(context.Context, retry.Event) { events.Add(1) }))...)
	_, err := pbClient(conn).RouteChat(testContext(t))
	if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrExhausted) {
		t.Errorf("RouteChat with no server = %v, want UNAVAILABLE and ErrExhausted", err)
	}
	if got := events.Load(); got != 4 {
		t.Errorf("observed %d attempts, want 4", got)
	}
}
