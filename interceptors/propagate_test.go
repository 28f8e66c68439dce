package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// timeoutSlack allows for the rounding of the grpc-timeout header. The
// header carries the time left when the client sent it, so the deadline the
// server computes on arrival is also later by the header's transit: tests
// allow that too, measured as the time from the start of the call to the
// server's first sight of it (under the race detector it can pass 1ms).
const timeoutSlack = time.Millisecond

func TestDownstream(t *testing.T) {
	const margin = 20 * time.Millisecond
	tests := []struct {
		name     string
		timeout  time.Duration // of the parent; 0 for no deadline
		margin   time.Duration
		wantSame bool // the parent itself comes back
		wantDone bool // already done with DeadlineExceeded
	}{
		{name: "no deadline", margin: margin, wantSame: true},
		{name: "margin 0", timeout: stubserver.DefaultTimeout, wantSame: true},
		{name: "negative margin", timeout: stubserver.DefaultTimeout, margin: -margin, wantSame: true},
		{name: "margin", timeout: stubserver.DefaultTimeout, margin: margin},
		{name: "margin equal to the time set", timeout: margin, margin: margin, wantDone: true},
		{name: "margin larger than the time left", timeout: margin, margin: 2 * margin, wantDone: true},
		{name: "deadline passed", timeout: -margin, margin: margin, wantDone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := context.Background()
			if tt.timeout != 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, tt.timeout)
				defer cancel()
			}
			parentDL, parentHas := parent.Deadline()

			ctx, cancel := interceptors.Downstream(parent, tt.margin)
			defer cancel()
			if got := ctx == parent; got != tt.wantSame {
				t.Errorf("Downstream(ctx, %v) returned ctx itself: %v, want %v", tt.margin, got, tt.wantSame)
			}
			if got := ctx.Err(); tt.wantDone != (got != nil) || (got != nil && !errors.Is(got, context.DeadlineExceeded)) {
				t.Errorf("Downstream(ctx, %v).Err() = %v, want done: %v, with DeadlineExceeded", tt.margin, got, tt.wantDone)
			}
			dl, has := ctx.Deadline()
			if has != parentHas {
				t.Fatalf("Downstream(ctx, %v) has a deadline: %v, want %v", tt.margin, has, parentHas)
			}
			want := parentDL
			if has && tt.margin > 0 {
				want = parentDL.Add(-tt.margin)
			}
			if !dl.Equal(want) {
				t.Errorf("Downstream(ctx, %v).Deadline() = %v, want %v (the parent's %v)", tt.margin, dl, want, parentDL)
			}
		})
	}
}

// deadlineLog records the deadline of every call a server saw, and when it
// saw it, from a server interceptor, for the four kinds alike.
type deadlineLog struct {
	mu    sync.Mutex
	calls []seenCall
}

type seenCall struct {
	deadline time.Time // the zero time for a call without one
	at       time.Time
}

func (l *deadlineLog) add(ctx context.Context) {
	dl, _ := ctx.Deadline()
	at := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, seenCall{deadline: dl, at: at})
}

func (l *deadlineLog) get() []seenCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]seenCall(nil), l.calls...)
}

func (l *deadlineLog) serverOptions() stubserver.Option {
	return stubserver.WithServerOptions(
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			l.add(ctx)
			return handler(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			l.add(ss.Context())
			return handler(srv, ss)
		}))
}

// TestDeadlineMargin: every attempt of a call of each kind reaches the
// server with the caller's deadline minus the margin, with or without a
// policy, and a call with no more than the margin left never reaches it.
func TestDeadlineMargin(t *testing.T) {
	const margin = time.Second // far above any timing noise
	policies := []struct {
		name     string
		dial     []interceptors.Option
		call     []grpc.CallOption
		codes    []codes.Code // the script of the server's answers
		attempts int          // per successful call
	}{
		{name: "no policy", dial: []interceptors.Option{interceptors.WithDeadlineMargin(margin)}, attempts: 1},
		{name: "call option", call: []grpc.CallOption{interceptors.WithDeadlineMargin(margin)}, attempts: 1},
		{
			name:  "retry",
			dial:  []interceptors.Option{interceptors.WithDeadlineMargin(margin), interceptors.WithRetryTimes(2)},
			codes: []codes.Code{codes.Unavailable}, attempts: 2,
		},
		{
			name:  "hedging",
			dial:  []interceptors.Option{interceptors.WithDeadlineMargin(margin), interceptors.WithHedging(2, stubserver.DefaultTimeout, codes.Unavailable)},
			codes: []codes.Code{codes.Unavailable}, attempts: 2,
		},
	}
	for _, pol := range policies {
		for _, kind := range kinds {
			t.Run(pol.name+"/"+kind.name, func(t *testing.T) {
				var seen deadlineLog
				s := newScript(pol.codes...)
				srv := stubserver.Start(t, s.handlers(), seen.serverOptions(),
					stubserver.WithDialOptions(interceptors.DialOptions(pol.dial...)...))
				client := srv.Client()

				ctx := testContext(t)
				callerDL, _ := ctx.Deadline()
				start := time.Now()
				if err := kind.call(ctx, client, pol.call...); err != nil {
					t.Fatalf("%s call with %v left = %v, want nil", kind.name, time.Until(callerDL), err)
				}
				got := seen.get()
				if len(got) != pol.attempts {
					t.Fatalf("server saw %d attempts, want %d", len(got), pol.attempts)
				}
				want := callerDL.Add(-margin)
				for i, c := range got {
					transit := c.at.Sub(start)
					if d := c.deadline.Sub(want); d < -timeoutSlack || d > timeoutSlack+transit {
						t.Errorf("attempt %d: server's deadline = caller's -%v, want caller's -%v (-%v, +%v+%v)",
							i+1, callerDL.Sub(c.deadline), margin, timeoutSlack, timeoutSlack, transit)
					}
				}

				// Less than the margin left: not sent, never retried.
				short, cancel := context.WithTimeout(context.Background(), margin/2)
				defer cancel()
				finished := make(chan error, pol.attempts+1)
				onFinish := grpc.OnFinish(func(err error) { finished <- err })
				err := kind.call(short, client, append(pol.call[:len(pol.call):len(pol.call)], onFinish)...)
				if status.Code(err) != codes.DeadlineExceeded {
					t.Errorf("%s call with %v left, margin %v = %v, want DeadlineExceeded", kind.name, margin/2, margin, err)
				}
				if short.Err() != nil {
					t.Errorf("%s call with %v left returned once its context ended, want at once", kind.name, margin/2)
				}
				if n := len(seen.get()); n != pol.attempts {
					t.Errorf("server saw %d attempts in all, want %d: the short call reached it", n, pol.attempts)
				}
				// The call failed before grpc-go saw it: the interceptor calls
				// OnFinish itself, before it returns.
				if n := len(finished); n != 1 {
					t.Errorf("OnFinish called %d times, want once", n)
				} else if err := <-finished; status.Code(err) != codes.DeadlineExceeded {
					t.Errorf("OnFinish(%v), want DeadlineExceeded", err)
				}
			})
		}
	}
}

// TestDeadlineMarginOff: without the option, or without a deadline, the
// server gets the caller's deadline as it is.
func TestDeadlineMarginOff(t *testing.T) {
	tests := []struct {
		name string
		opts []interceptors.Option
		noDL bool
	}{
		{name: "not set"},
		{name: "zero", opts: []interceptors.Option{interceptors.WithDeadlineMargin(0)}},
		{name: "no deadline", opts: []interceptors.Option{interceptors.WithDeadlineMargin(time.Second)}, noDL: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen deadlineLog
			srv := stubserver.Start(t, newScript().handlers(), seen.serverOptions(),
				stubserver.WithDialOptions(interceptors.DialOptions(tt.opts...)...))
			ctx := testContext(t)
			if tt.noDL {
				ctx = context.Background()
			}
			callerDL, _ := ctx.Deadline()
			start := time.Now()
			if _, err := srv.Client().GetFeature(ctx, &pb.Point{}); err != nil {
				t.Fatalf("GetFeature = %v, want nil", err)
			}
			got := seen.get()
			if len(got) != 1 {
				t.Fatalf("server saw %d calls, want 1", len(got))
			}
			if tt.noDL {
				if !got[0].deadline.IsZero() {
					t.Errorf("server's deadline = %v, want none", got[0].deadline)
				}
				return
			}
			transit := got[0].at.Sub(start)
			if d := got[0].deadline.Sub(callerDL); d < -timeoutSlack || d > timeoutSlack+transit {
				t.Errorf("server's deadline = caller's %+v, want the caller's (-%v, +%v+%v)", d, timeoutSlack, timeoutSlack, transit)
			}
		})
	}
}

// The chain of the issue: client → A → B over TCP. The client gives the call
// chainDeadline; A works chainWork, then calls B with its incoming context
// through a connection with a margin; B works until its context ends.
const (
	chainDeadline = 200 * time.Millisecond
	chainWork     = 50 * time.Millisecond
	chainMargin   = 20 * time.Millisecond
)

// hopEnd is what B's handler saw: its deadline, when it started and when
// it stopped.
type hopEnd struct {
	deadline         time.Time
	hasDL            bool
	started, stopped time.Time
}

// workUntilDone stands for B's work: it runs until ctx ends, and reports.
func workUntilDone(ctx context.Context, ends chan<- hopEnd) error {
	started := time.Now()
	dl, ok := ctx.Deadline()
	<-ctx.Done()
	ends <- hopEnd{deadline: dl, hasDL: ok, started: started, stopped: time.Now()}
	return status.FromContextError(ctx.Err()).Err()
}

// TestDeadlineMarginChain: with a 200 ms deadline through A, B's deadline
// is the client's less the margin, and B stops working before the client's
// deadline, for a unary, a server-streaming and a bidi hop.
func TestDeadlineMarginChain(t *testing.T) {
	hops := []struct {
		name string
		call func(ctx context.Context, b pb.RouteGuideClient) error
	}{
		{"unary", func(ctx context.Context, b pb.RouteGuideClient) error {
			_, err := b.GetFeature(ctx, &pb.Point{})
			return err
		}},
		{"server-streaming", func(ctx context.Context, b pb.RouteGuideClient) error {
			stream, err := b.ListFeatures(ctx, &pb.Rectangle{})
			if err != nil {
				return err
			}
			_, err = recvAll(stream.Recv)
			return err
		}},
		{"bidi", func(ctx context.Context, b pb.RouteGuideClient) error {
			stream, err := b.RouteChat(ctx)
			if err != nil {
				return err
			}
			_, err = recvAll(stream.Recv)
			return err
		}},
	}
	for _, hop := range hops {
		t.Run(hop.name, func(t *testing.T) {
			ends := make(chan hopEnd, 1)
			var worked atomic.Int64 // A's time from its call's start to its call to B
			b := stubserver.StartTCP(t, stubserver.Handlers{
				GetFeature: func(ctx context.Context, _ *pb.Point) (*pb.Feature, error) {
					return nil, workUntilDone(ctx, ends)
				},
				ListFeatures: func(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
					return workUntilDone(s.Context(), ends)
				},
				RouteChat: func(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
					return workUntilDone(s.Context(), ends)
				},
			})
			toB := pb.NewRouteGuideClient(b.Dial(t, interceptors.DialOptions(interceptors.WithDeadlineMargin(chainMargin))...))
			a := stubserver.StartTCP(t, stubserver.Handlers{
				GetFeature: func(ctx context.Context, _ *pb.Point) (*pb.Feature, error) {
					start := time.Now()
					work := time.NewTimer(chainWork)
					defer work.Stop()
					select {
					case <-work.C:
					case <-ctx.Done():
						return nil, status.FromContextError(ctx.Err()).Err()
					}
					worked.Store(int64(time.Since(start)))
					return nil, hop.call(ctx, toB)
				},
			})

			ctx, cancel := context.WithTimeout(context.Background(), chainDeadline)
			defer cancel()
			clientDL, _ := ctx.Deadline()
			start := time.Now()
			_, err := a.Client().GetFeature(ctx, &pb.Point{})
			if status.Code(err) != codes.DeadlineExceeded {
				t.Errorf("GetFeature through A = %v, want DeadlineExceeded", err)
			}

			var end hopEnd
			select {
			case end = <-ends:
			case <-time.After(stubserver.DefaultTimeout):
				t.Fatal("B's handler never stopped")
			}
			if !end.hasDL {
				t.Fatal("B's handler had no deadline")
			}
			// Both hops' headers were on their way for at most the time
			// from the client's call to B's handler, less A's work.
			transit := end.started.Sub(start) - time.Duration(worked.Load())
			if latest := clientDL.Add(-chainMargin + timeoutSlack + transit); end.deadline.After(latest) {
				t.Errorf("B's deadline = client's %+v, want no later than client's -%v (+%v+%v)",
					end.deadline.Sub(clientDL), chainMargin, timeoutSlack, transit)
			}
			if end.stopped.After(clientDL) {
				t.Errorf("B stopped working %v after the client's deadline, want before it", end.stopped.Sub(clientDL))
			}
		})
	}
}

// Every call keeps a margin of its deadline back: the server gets the rest,
// and a call with no more than the margin left is not sent at all.
func ExampleWithDeadlineMargin() {
	srv := &budgetServer{}
	conn, stop := serve(srv, interceptors.DialOptions(interceptors.WithDeadlineMargin(2*time.Second))...)
	defer stop()
	client := pb.NewRouteGuideClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := client.GetFeature(ctx, &pb.Point{})
	fmt.Println(f.GetName(), err)

	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	_, err = client.GetFeature(short, &pb.Point{})
	fmt.Println(status.Code(err), srv.calls.Load())
	// Output:
	// 8s left <nil>
	// DeadlineExceeded 1
}

// budgetServer names, in its answer, the time its handler has left.
type budgetServer struct {
	pb.UnimplementedRouteGuideServer
	calls atomic.Int32
}

func (s *budgetServer) GetFeature(ctx context.Context, _ *pb.Point) (*pb.Feature, error) {
	s.calls.Add(1)
	dl, _ := ctx.Deadline()
	return &pb.Feature{Name: fmt.Sprint(time.Until(dl).Round(time.Second), " left")}, nil
}

// A handler's own downstream work, outside the interceptors, keeps the
// margin back the same way.
func ExampleDownstream() {
	incoming, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ctx, cancelDown := interceptors.Downstream(incoming, 2*time.Second)
	defer cancelDown()
	dl, _ := incoming.Deadline()
	down, _ := ctx.Deadline()
	fmt.Println(dl.Sub(down), ctx.Err())

	late, cancelLate := interceptors.Downstream(incoming, time.Minute)
	defer cancelLate()
	fmt.Println(late.Err())
	// Output:
	// 2s <nil>
	// context deadline exceeded
}
