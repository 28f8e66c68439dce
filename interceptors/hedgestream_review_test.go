package interceptors_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// TestHedgePushbackStopCancelsPendingHedge: a pushback that says stop must
// stop hedging even when the next hedge's timer was already armed. Attempt
// 1 hangs; after the delay attempt 2 goes out, arming the timer of attempt
// 3; attempt 2 fails with a non-fatal code and pushback -1. The armed timer
// then fires: no attempt 3 may be sent (A6: no further hedges after a
// pushback says stop).
func TestHedgePushbackStopCancelsPendingHedge(t *testing.T) {
	s := &hedgeServer{hang: map[int]bool{1: true}, codes: map[int]codes.Code{2: codes.Unavailable},
		pushback: map[int]string{2: "-1"}}
	srv := s.start(t)
	clk := newTriggerClock()
	var ev hedgeEvents
	started3 := make(chan struct{}, 1)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(
		interceptors.WithHedging(3, time.Second, codes.Unavailable), interceptors.WithClock(clk),
		interceptors.WithObserver(func(ctx context.Context, e retry.Event) {
			ev.observe(ctx, e)
			switch {
			case e.Kind == retry.AttemptDone && e.Attempt == 2:
				// The schedule has just read attempt 2's pushback stop; the
				// timer of the third hedge, armed when attempt 2 went out,
				// fires now.
				select {
				case ch := <-clk.timers:
					ch <- time.Now()
				default:
				}
			case e.Kind == retry.HedgeStarted && e.Attempt == 3:
				started3 <- struct{}{}
			}
		}))...))
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := client.GetFeature(ctx, &pb.Point{})
		done <- err
	}()
	<-s.arrived[1]
	clk.fire(t) // attempt 2
	select {
	case <-started3:
		t.Errorf("a third hedge was sent after attempt 2's pushback said stop")
	case <-time.After(stubserver.ShortTimeout):
	}
	cancel() // attempt 1 would hang until then
	err := <-done
	if got := ev.hedgeKinds()["hedge-started:3"]; got != 0 {
		t.Errorf("hedge events = %v, want no attempt 3 after the pushback stop", ev.hedgeKinds())
	}
	if status.Code(err) != codes.Canceled {
		t.Errorf("GetFeature = %v, want Canceled (attempt 1 alone was left, and the caller cancelled)", err)
	}
}

// TestHedgeStreamOnFinishOnce: grpc calls an OnFinish callback once. The
// caller reads a committed stream to its end (its RecvMsg ends the call and
// calls OnFinish) before the coordinator goroutine, held up here by the
// observer, sees the commit; the coordinator must not call OnFinish again.
// The last RecvMsg waits for the coordinator, so the observer is released
// once OnFinish has run, and the winner is reported before the call returns.
func TestHedgeStreamOnFinishOnce(t *testing.T) {
	s := &streamHedgeServer{}
	srv := s.start(t)
	release := make(chan struct{})
	won := make(chan struct{}, 1)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(
		interceptors.WithHedging(2, time.Hour, codes.Unavailable),
		interceptors.WithObserver(func(_ context.Context, e retry.Event) {
			switch {
			case e.Kind == retry.HedgeStarted && e.Attempt == 1:
				<-release // a slow observer holds up the coordinator
			case e.Kind == retry.HedgeWon:
				won <- struct{}{}
			}
		}))...))
	var (
		mu       sync.Mutex
		finishes []error
	)
	finished := make(chan struct{}, 2)
	onFinish := grpc.OnFinish(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		finishes = append(finishes, err)
		finished <- struct{}{}
	})
	go func() {
		<-finished
		close(release)
	}()
	stream, err := client.ListFeatures(testContext(t), &pb.Rectangle{}, onFinish)
	if err != nil {
		t.Fatal(err)
	}
	features, err := recvAll(stream.Recv)
	if err != nil || len(features) != featuresPerList {
		t.Fatalf("ListFeatures = %d features, %v; want %d, nil", len(features), err, featuresPerList)
	}
	select {
	case <-won:
	default:
		t.Fatal("the call returned before the coordinator reported the winner")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(finishes) != 1 {
		t.Errorf("OnFinish called %d times (with %v), want once", len(finishes), finishes)
	}
}

// TestHedgeStreamOnFinishSuccessIsNil: grpc hands OnFinish the call's
// status, nil for success; a hedged stream that ended well must not hand it
// io.EOF, whether the winner's stream ended it or an attempt's trailers-only
// OK did.
func TestHedgeStreamOnFinishSuccessIsNil(t *testing.T) {
	for _, trailersOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("trailersOnly=%v", trailersOnly), func(t *testing.T) {
			srv := stubserver.Start(t, stubserver.Handlers{
				ListFeatures: func(_ *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
					if trailersOnly {
						return nil // OK with no header and no message
					}
					return stream.Send(&pb.Feature{Name: "f"})
				},
			})
			client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(2, time.Hour, codes.Unavailable))...))
			finished := make(chan error, 2)
			stream, err := client.ListFeatures(testContext(t), &pb.Rectangle{}, grpc.OnFinish(func(err error) { finished <- err }))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := recvAll(stream.Recv); err != nil {
				t.Fatalf("ListFeatures = %v, want success", err)
			}
			select {
			case err := <-finished:
				if err != nil {
					t.Errorf("OnFinish(%v), want OnFinish(nil) for a call that succeeded", err)
				}
			case <-time.After(stubserver.DefaultTimeout):
				t.Fatal("OnFinish was not called")
			}
		})
	}
}

// TestHedgeStreamOnFinishOnCancel: cancelling the context is one of the
// ways grpc.ClientStream documents to end a stream, and grpc then calls
// OnFinish with the cancellation. A hedged stream committed to an attempt
// (its headers arrived) and then cancelled by the caller, who never reads
// the status, must call OnFinish too.
func TestHedgeStreamOnFinishOnCancel(t *testing.T) {
	srv := stubserver.Start(t, stubserver.Handlers{
		ListFeatures: func(_ *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			if err := stream.SendHeader(metadata.Pairs("attempt", "1")); err != nil {
				return err
			}
			<-stream.Context().Done()
			return stream.Context().Err()
		},
	})
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(2, time.Hour, codes.Unavailable))...))
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	finished := make(chan error, 2)
	stream, err := client.ListFeatures(ctx, &pb.Rectangle{}, grpc.OnFinish(func(err error) { finished <- err }))
	if err != nil {
		t.Fatal(err)
	}
	if md, err := stream.Header(); err != nil || len(md.Get("attempt")) != 1 {
		t.Fatalf("Header = %v, %v; want the committed attempt's", md, err)
	}
	cancel()
	select {
	case err := <-finished:
		if status.Code(err) != codes.Canceled {
			t.Errorf("OnFinish(%v), want Canceled", err)
		}
	case <-time.After(stubserver.DefaultTimeout):
		t.Fatal("OnFinish was never called for the cancelled stream")
	}
}

// TestHedgeStreamEndedBeforeSendKeepsStatus: grpc's SendMsg returns nil,
// not io.EOF, on a stream that ended when the call is not client-streaming,
// because the generated code of a server-streaming method returns SendMsg's
// error as the call's (grpc-go's csAttempt.sendMsg says so). A hedged
// server-streaming call that ended (here with a fatal code, before the
// request was sent) must leave the status to RecvMsg, not hand the caller
// io.EOF from ListFeatures.
func TestHedgeStreamEndedBeforeSendKeepsStatus(t *testing.T) {
	srv := stubserver.Start(t, stubserver.Handlers{}, stubserver.WithServerOptions(grpc.StreamInterceptor(
		func(any, grpc.ServerStream, *grpc.StreamServerInfo, grpc.StreamHandler) error {
			return status.Error(codes.FailedPrecondition, "rejected before reading the request")
		})))
	// The outer interceptor lets the call end before the generated code
	// sends the request: Header returns once the hedged call committed or
	// ended.
	waitEnd := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err == nil {
			cs.Header()
		}
		return cs, err
	}
	dial := append([]grpc.DialOption{grpc.WithChainStreamInterceptor(waitEnd)},
		interceptors.DialOptions(interceptors.WithHedging(2, time.Hour, codes.Unavailable))...)
	client := pbClient(srv.Dial(t, dial...))
	stream, err := client.ListFeatures(testContext(t), &pb.Rectangle{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("ListFeatures, Recv = %v; want the call's status, FailedPrecondition", err)
	}
}
