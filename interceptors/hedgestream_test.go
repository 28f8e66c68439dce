package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// streamHedgeServer serves the three streaming methods by attempt number,
// as hedgeServer serves GetFeature. Client-streaming and bidi handlers read
// the whole request stream first (in echo mode, RouteChat answers each note
// as it arrives instead); then an attempt marked hang waits until it is
// cancelled and records that, an attempt with a code fails with it before
// any response, and any other answers with responses that name it: header
// and trailer "attempt", features "a<n>-f<i>", a summary whose
// FeatureCount is n, notes "a<n>:<note>".
type streamHedgeServer struct {
	codes map[int]codes.Code
	hang  map[int]bool
	after map[int][]int // attempt n answers only once these reached the server
	echo  bool

	arrivals
	mu        sync.Mutex
	received  map[int][]string // what each attempt read, in order
	cancelled chan int
}

func (s *streamHedgeServer) start(t *testing.T, opts ...stubserver.Option) *stubserver.Server {
	t.Helper()
	if s.cancelled == nil {
		s.cancelled = make(chan int, 8)
	}
	s.received = map[int][]string{}
	s.init()
	return stubserver.Start(t, stubserver.Handlers{
		ListFeatures: func(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			n, err := s.begin(stream.Context())
			if err != nil {
				return err
			}
			stream.SetTrailer(metadata.Pairs("attempt", strconv.Itoa(n)))
			if err := stream.SetHeader(metadata.Pairs("attempt", strconv.Itoa(n))); err != nil {
				return err
			}
			for i := range featuresPerList {
				if err := stream.Send(&pb.Feature{Name: fmt.Sprintf("a%d-f%d", n, i)}); err != nil {
					return err
				}
			}
			return nil
		},
		RecordRoute: func(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
			n := s.arriveCall(stream.Context())
			points, err := recvAll(stream.Recv)
			for _, p := range points {
				s.record(n, fmt.Sprint(p.GetLatitude()))
			}
			if err != nil {
				return s.ended(stream.Context(), n, err)
			}
			if err := s.answer(stream.Context(), n); err != nil {
				return err
			}
			return stream.SendAndClose(&pb.RouteSummary{PointCount: int32(len(points)), FeatureCount: int32(n)})
		},
		RouteChat: func(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
			n := s.arriveCall(stream.Context())
			if s.echo {
				for {
					note, err := stream.Recv()
					if err == io.EOF {
						break
					}
					if err != nil {
						return s.ended(stream.Context(), n, err)
					}
					s.record(n, note.GetMessage())
					if s.hang[n] {
						continue // reads, never answers
					}
					if err := stream.Send(&pb.RouteNote{Message: fmt.Sprintf("a%d:%s", n, note.GetMessage())}); err != nil {
						return err
					}
				}
				return s.answer(stream.Context(), n)
			}
			notes, err := recvAll(stream.Recv)
			for _, note := range notes {
				s.record(n, note.GetMessage())
			}
			if err != nil {
				return s.ended(stream.Context(), n, err)
			}
			if err := s.answer(stream.Context(), n); err != nil {
				return err
			}
			for _, note := range notes {
				if err := stream.Send(&pb.RouteNote{Message: fmt.Sprintf("a%d:%s", n, note.GetMessage())}); err != nil {
					return err
				}
			}
			return nil
		},
	}, opts...)
}

// arriveCall records that attempt n of the first call reached the server.
func (s *streamHedgeServer) arriveCall(ctx context.Context) int {
	n := attemptOf(ctx)
	s.arrive(n)
	return n
}

// begin is arrive and answer, for handlers that read nothing first.
func (s *streamHedgeServer) begin(ctx context.Context) (int, error) {
	n := s.arriveCall(ctx)
	return n, s.answer(ctx, n)
}

// answer gates attempt n on the attempts it waits for, hangs it until it is
// cancelled if marked so, and returns its scripted error.
func (s *streamHedgeServer) answer(ctx context.Context, n int) error {
	s.waitFor(s.after[n])
	if s.hang[n] {
		<-ctx.Done()
		return s.ended(ctx, n, ctx.Err())
	}
	if c, ok := s.codes[n]; ok {
		return status.Errorf(c, "attempt %d", n)
	}
	return nil
}

// ended records an attempt whose call was cancelled, and returns err.
func (s *streamHedgeServer) ended(ctx context.Context, n int, err error) error {
	if ctx.Err() != nil {
		s.cancelled <- n
	}
	return err
}

func (s *streamHedgeServer) record(n int, m string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received[n] = append(s.received[n], m)
}

func (s *streamHedgeServer) receivedBy(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received[n])
}

func (s *streamHedgeServer) waitCancelled(t *testing.T, attempts ...int) {
	t.Helper()
	var got []int
	for range attempts {
		select {
		case n := <-s.cancelled:
			got = append(got, n)
		case <-time.After(stubserver.DefaultTimeout):
			t.Fatalf("the server saw attempts %v cancelled, want %v", got, attempts)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, attempts) {
		t.Errorf("the server saw attempts %v cancelled, want %v", got, attempts)
	}
}

// streamCall runs one call of a streaming kind against streamHedgeServer
// and returns the responses the caller saw, as the server named them.
type streamCall struct {
	name string
	sent []string // what the caller sends, as the server records it
	call func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) ([]string, error)
}

var streamCalls = []streamCall{
	{"server-streaming", nil, func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) ([]string, error) {
		stream, err := c.ListFeatures(ctx, &pb.Rectangle{}, opts...)
		if err != nil {
			return nil, err
		}
		features, err := recvAll(stream.Recv)
		var got []string
		for _, f := range features {
			got = append(got, f.GetName())
		}
		return got, err
	}},
	{"client-streaming", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) ([]string, error) {
		stream, err := c.RecordRoute(ctx, opts...)
		if err != nil {
			return nil, err
		}
		for i := range pointsPerRoute {
			if err := stream.Send(&pb.Point{Latitude: int32(i)}); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
		}
		sum, err := stream.CloseAndRecv()
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("a%d:%d points", sum.GetFeatureCount(), sum.GetPointCount())}, nil
	}},
	{"bidi", []string{"n0", "n1", "n2", "n3", "n4"}, func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) ([]string, error) {
		stream, err := c.RouteChat(ctx, opts...)
		if err != nil {
			return nil, err
		}
		for i := range notesPerChat {
			if err := stream.Send(&pb.RouteNote{Message: fmt.Sprint("n", i)}); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
		}
		if err := stream.CloseSend(); err != nil {
			return nil, err
		}
		notes, err := recvAll(stream.Recv)
		return noteMessages(notes), err
	}},
}

// wantFrom is what the caller of sc must see when attempt n wins.
func (sc streamCall) wantFrom(n int) []string {
	switch sc.name {
	case "server-streaming":
		var want []string
		for i := range featuresPerList {
			want = append(want, fmt.Sprintf("a%d-f%d", n, i))
		}
		return want
	case "client-streaming":
		return []string{fmt.Sprintf("a%d:%d points", n, pointsPerRoute)}
	}
	var want []string
	for _, m := range sc.sent {
		want = append(want, fmt.Sprintf("a%d:%s", n, m))
	}
	return want
}

// eventWaiter records the observer's events and lets a test wait for the
// hedging events of a call, which a stream's coordinator may report after
// the caller saw the end.
type eventWaiter struct {
	hedgeEvents
	cancelled chan int
}

func newEventWaiter() *eventWaiter { return &eventWaiter{cancelled: make(chan int, 8)} }

func (w *eventWaiter) observe(ctx context.Context, e retry.Event) {
	w.hedgeEvents.observe(ctx, e)
	if e.Kind == retry.HedgeCancelled && w.cancelled != nil {
		w.cancelled <- e.Attempt
	}
}

func (w *eventWaiter) waitCancelled(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-w.cancelled:
		case <-time.After(stubserver.DefaultTimeout):
			t.Fatalf("the observer saw no hedge cancelled; events %v", w.hedgeKinds())
		}
	}
}

// TestHedgeStreamSlowFirstAttempt: the first attempt hangs before any
// response; after the delay a hedge goes out, is sent every message the
// caller sent (replayed from the buffer if they came first), and wins. The
// caller sees the winner's responses exactly once, and the header and
// trailer are the winner's; the server sees the loser cancelled.
func TestHedgeStreamSlowFirstAttempt(t *testing.T) {
	for _, sc := range streamCalls {
		t.Run(sc.name, func(t *testing.T) {
			s := &streamHedgeServer{hang: map[int]bool{1: true}, after: map[int][]int{2: {1}}}
			srv := s.start(t)
			ev := newEventWaiter()
			client := pbClient(srv.Dial(t, interceptors.DialOptions(
				interceptors.WithHedging(2, time.Millisecond, codes.Unavailable),
				interceptors.WithObserver(ev.observe))...))
			var header, trailer metadata.MD
			got, err := sc.call(testContext(t), client, grpc.Header(&header), grpc.Trailer(&trailer))
			if err != nil || !slices.Equal(got, sc.wantFrom(2)) {
				t.Fatalf("call = %q, %v; want %q", got, err, sc.wantFrom(2))
			}
			if sc.name == "server-streaming" {
				if h, tr := header.Get("attempt"), trailer.Get("attempt"); !slices.Equal(h, []string{"2"}) || !slices.Equal(tr, []string{"2"}) {
					t.Errorf("header, trailer attempt = %q, %q; want the winner's [2], [2]", h, tr)
				}
			}
			s.waitCancelled(t, 1)
			if got := s.receivedBy(2); !slices.Equal(got, sc.sent) {
				t.Errorf("the winning hedge read %q, want every message once: %q", got, sc.sent)
			}
			ev.waitCancelled(t, 1)
			want := map[string]int{"hedge-started:1": 1, "hedge-started:2": 1, "hedge-won:2": 1, "hedge-cancelled:1": 1}
			if got := ev.hedgeKinds(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("hedge events = %v, want %v", got, want)
			}
		})
	}
}

// triggerClock is a clock with the real time whose timers fire only when
// the test says.
type triggerClock struct{ timers chan chan time.Time }

func newTriggerClock() *triggerClock { return &triggerClock{timers: make(chan chan time.Time, 16)} }

func (c *triggerClock) Now() time.Time { return time.Now() }

func (c *triggerClock) NewTimer(time.Duration) (<-chan time.Time, func() bool) {
	ch := make(chan time.Time, 1)
	c.timers <- ch
	return ch, func() bool { return false }
}

// fire fires the next timer asked for, waiting for it if need be.
func (c *triggerClock) fire(t *testing.T) {
	t.Helper()
	select {
	case ch := <-c.timers:
		ch <- time.Now()
	case <-time.After(stubserver.DefaultTimeout):
		t.Fatal("no hedging timer was started")
	}
}

// TestHedgeStreamLateHedgeReplays: the caller sends every message and
// half-closes while only the first attempt runs; the hedge sent afterwards
// gets them all, in order, and the half-close, from the replay buffer.
func TestHedgeStreamLateHedgeReplays(t *testing.T) {
	for _, bidi := range []bool{false, true} {
		t.Run(fmt.Sprintf("bidi=%v", bidi), func(t *testing.T) {
			s := &streamHedgeServer{hang: map[int]bool{1: true}, after: map[int][]int{2: {1}}}
			srv := s.start(t)
			clk := newTriggerClock()
			client := pbClient(srv.Dial(t, interceptors.DialOptions(
				interceptors.WithHedging(2, time.Second, codes.Unavailable), interceptors.WithClock(clk))...))
			ctx := testContext(t)
			var stream grpc.ClientStream
			var want []string
			if bidi {
				rc, err := client.RouteChat(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i := range notesPerChat {
					if err := rc.Send(&pb.RouteNote{Message: fmt.Sprint("n", i)}); err != nil {
						t.Fatalf("Send = %v", err)
					}
					want = append(want, fmt.Sprint("n", i))
				}
				stream = rc
			} else {
				rr, err := client.RecordRoute(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for i := range pointsPerRoute {
					if err := rr.Send(&pb.Point{Latitude: int32(i)}); err != nil {
						t.Fatalf("Send = %v", err)
					}
					want = append(want, fmt.Sprint(i))
				}
				stream = rr
			}
			if err := stream.CloseSend(); err != nil {
				t.Fatalf("CloseSend = %v", err)
			}
			clk.fire(t) // the hedge goes out only now
			var got []string
			if bidi {
				notes, err := recvAll(stream.(pb.RouteGuide_RouteChatClient).Recv)
				if err != nil {
					t.Fatalf("Recv = %v", err)
				}
				got = noteMessages(notes)
			} else {
				sum := new(pb.RouteSummary)
				if err := stream.RecvMsg(sum); err != nil {
					t.Fatalf("RecvMsg = %v", err)
				}
				got = []string{fmt.Sprintf("a%d:%d", sum.GetFeatureCount(), sum.GetPointCount())}
			}
			if got := s.receivedBy(2); !slices.Equal(got, want) {
				t.Errorf("the late hedge read %q, want %q", got, want)
			}
			wantGot := []string{fmt.Sprintf("a2:%d", pointsPerRoute)}
			if bidi {
				wantGot = nil
				for _, m := range want {
					wantGot = append(wantGot, "a2:"+m)
				}
			}
			if !slices.Equal(got, wantGot) {
				t.Errorf("the caller received %q, want %q", got, wantGot)
			}
			s.waitCancelled(t, 1)
		})
	}
}

// TestHedgeStreamPingPong: a bidi call that waits for each answer before
// sending the next note. The first attempt reads but never answers; the
// hedge answers the first note, which commits the call to it; the rest go
// to the winner alone. Every answer arrives once, in order.
func TestHedgeStreamPingPong(t *testing.T) {
	s := &streamHedgeServer{echo: true, hang: map[int]bool{1: true}}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(2, time.Millisecond, codes.Unavailable))...))
	stream, err := client.RouteChat(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for i := range notesPerChat {
		m := fmt.Sprint("n", i)
		if err := stream.Send(&pb.RouteNote{Message: m}); err != nil {
			t.Fatalf("Send(%s) = %v", m, err)
		}
		sent = append(sent, m)
		got, err := stream.Recv()
		if err != nil || got.GetMessage() != "a2:"+m {
			t.Fatalf("Recv after %s = %v, %v; want a2:%s", m, got, err, m)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Fatalf("Recv at the end = %v, want io.EOF", err)
	}
	if got := s.receivedBy(2); !slices.Equal(got, sent) {
		t.Errorf("the winner read %q, want %q", got, sent)
	}
	s.waitCancelled(t, 1)
	if got := s.receivedBy(1); len(got) > 1 || (len(got) == 1 && got[0] != "n0") {
		t.Errorf("the loser read %q, want at most the note sent before commit", got)
	}
}

// TestHedgeStreamFatalReturnsAtOnce: all three attempts go out at once; the
// first fails with a fatal code, which ends the call though the others are
// still pending; they are cancelled.
func TestHedgeStreamFatalReturnsAtOnce(t *testing.T) {
	for _, sc := range streamCalls {
		t.Run(sc.name, func(t *testing.T) {
			s := &streamHedgeServer{codes: map[int]codes.Code{1: codes.FailedPrecondition},
				hang: map[int]bool{2: true, 3: true}, after: map[int][]int{1: {2, 3}}}
			srv := s.start(t)
			client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, 0, codes.Unavailable))...))
			got, err := sc.call(testContext(t), client)
			if status.Code(err) != codes.FailedPrecondition || len(got) != 0 {
				t.Fatalf("call = %q, %v; want no response, FailedPrecondition", got, err)
			}
			if attempts, reason, ok := retry.Info(err); !ok || attempts != 3 || reason != retry.NonRetryable {
				t.Errorf("retry.Info = %d, %v, %v; want 3 attempts, non-retryable", attempts, reason, ok)
			}
			s.waitCancelled(t, 2, 3)
		})
	}
}

// TestHedgeStreamNonFatalSendsNextAtOnce: the delay is an hour, but a
// non-fatal code from the first attempt sends the hedge at once.
func TestHedgeStreamNonFatalSendsNextAtOnce(t *testing.T) {
	for _, sc := range streamCalls {
		t.Run(sc.name, func(t *testing.T) {
			s := &streamHedgeServer{codes: map[int]codes.Code{1: codes.Unavailable}}
			srv := s.start(t)
			client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, time.Hour, codes.Unavailable))...))
			got, err := sc.call(testContext(t), client)
			if err != nil || !slices.Equal(got, sc.wantFrom(2)) {
				t.Fatalf("call = %q, %v; want %q", got, err, sc.wantFrom(2))
			}
			if got := s.receivedBy(2); !slices.Equal(got, sc.sent) {
				t.Errorf("the hedge read %q, want %q", got, sc.sent)
			}
		})
	}
}

// TestHedgeStreamCallerCancels: cancelling the call before any attempt
// answered cancels every attempt.
func TestHedgeStreamCallerCancels(t *testing.T) {
	s := &streamHedgeServer{hang: map[int]bool{1: true, 2: true}}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(2, 0, codes.Unavailable))...))
	ctx, cancel := context.WithCancel(testContext(t))
	stream, err := client.ListFeatures(ctx, &pb.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	<-s.arrived[1]
	<-s.arrived[2]
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled || !errors.Is(err, retry.ErrCanceled) {
		t.Errorf("Recv = %v, want Canceled", err)
	}
	s.waitCancelled(t, 1, 2)
}

// TestHedgeStreamBufferOverflow: two attempts run at once; a message that
// would overflow the replay buffer commits the call to one of them, which
// gets every message exactly once; the other is cancelled.
func TestHedgeStreamBufferOverflow(t *testing.T) {
	s := &streamHedgeServer{}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(
		interceptors.WithHedging(2, 0, codes.Unavailable), interceptors.WithMaxReplayBytes(8))...))
	stream, err := client.RecordRoute(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	<-s.arrived[1]
	<-s.arrived[2]
	const points = 20
	var want []string
	for i := range points {
		if err := stream.Send(&pb.Point{Latitude: int32(i + 1)}); err != nil {
			t.Fatalf("Send %d = %v", i, err)
		}
		want = append(want, fmt.Sprint(i+1))
	}
	sum, err := stream.CloseAndRecv()
	if err != nil || sum.GetPointCount() != points {
		t.Fatalf("CloseAndRecv = %v, %v; want %d points", sum, err, points)
	}
	winner := int(sum.GetFeatureCount())
	loser := 3 - winner
	if got := s.receivedBy(winner); !slices.Equal(got, want) {
		t.Errorf("the winner, attempt %d, read %q, want %q", winner, got, want)
	}
	s.waitCancelled(t, loser)
	if got := s.receivedBy(loser); !slices.Equal(got, want[:len(got)]) || len(got) == points {
		t.Errorf("the loser, attempt %d, read %q, want a strict prefix of %q", loser, got, want)
	}
}

// TestHedgeStreamLargeMessageFirst: a first message larger than the replay
// buffer commits the call to the first attempt before any hedge; it is sent
// on it, once.
func TestHedgeStreamLargeMessageFirst(t *testing.T) {
	s := &streamHedgeServer{}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(
		interceptors.WithHedging(2, time.Hour, codes.Unavailable), interceptors.WithMaxReplayBytes(100))...))
	stream, err := client.RouteChat(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 500)
	if err := stream.Send(&pb.RouteNote{Message: big}); err != nil {
		t.Fatalf("Send = %v", err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	notes, err := recvAll(stream.Recv)
	if err != nil || len(notes) != 1 || notes[0].GetMessage() != "a1:"+big {
		t.Fatalf("RouteChat = %d notes, %v; want the one note echoed by attempt 1", len(notes), err)
	}
}

// TestHedgeStreamRaces: many concurrent calls of every streaming kind
// against a server that delays half of the attempts by 1-3 ms, with a
// hedging delay of 1 ms, so that attempts race to win. Every call sees the
// responses of exactly one attempt, each once, in order.
func TestHedgeStreamRaces(t *testing.T) {
	const (
		callers = 8
		calls   = 25
	)
	rules, err := faultinject.ParseSpec("delay=2ms~1ms@50%")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range streamCalls {
		t.Run(sc.name, func(t *testing.T) {
			in, err := faultinject.New(rules, faultinject.WithSeed(7))
			if err != nil {
				t.Fatal(err)
			}
			s := &streamHedgeServer{cancelled: make(chan int, callers*calls*3)}
			srv := s.start(t, stubserver.WithServerOptions(grpc.ChainStreamInterceptor(in.StreamServerInterceptor())))
			ev := newEventWaiter()
			ev.cancelled = nil // counted, not waited for
			client := pbClient(srv.Dial(t, interceptors.DialOptions(
				interceptors.WithHedging(3, time.Millisecond, codes.Unavailable), interceptors.WithObserver(ev.observe))...))
			ctx := testContext(t)
			errs := make(chan error, callers)
			for range callers {
				go func() {
					for range calls {
						got, err := sc.call(ctx, client)
						if err != nil {
							errs <- err
							return
						}
						if !slices.Equal(got, sc.wantFrom(1)) && !slices.Equal(got, sc.wantFrom(2)) && !slices.Equal(got, sc.wantFrom(3)) {
							errs <- fmt.Errorf("%w: got %q, want the responses of one attempt", errContent, got)
							return
						}
					}
					errs <- nil
				}()
			}
			for range callers {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			k := ev.hedgeKinds()
			t.Logf("%d calls: %d attempts at the server; won by attempt 1, 2, 3: %d, %d, %d; %d cancelled at the server",
				callers*calls, in.Stats().Calls, k["hedge-won:1"], k["hedge-won:2"], k["hedge-won:3"], len(s.cancelled))
		})
	}
}

// TestHedgeStreamContextCommits: asking for the stream's context commits
// the call to the running attempt, as for retried streams: its failure is
// returned, with no hedge.
func TestHedgeStreamContextCommits(t *testing.T) {
	s := newScript(codes.Unavailable, codes.OK)
	// The first attempt fails only once Context was called: a failure
	// before it would send the next hedge at once, as it should.
	called := make(chan struct{})
	h := s.handlers()
	list := h.ListFeatures
	h.ListFeatures = func(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
		select {
		case <-called:
		case <-stream.Context().Done():
		}
		return list(r, stream)
	}
	srv := stubserver.Start(t, h)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, time.Hour, codes.Unavailable))...))
	stream, err := client.ListFeatures(testContext(t), &pb.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	if stream.Context() == nil {
		t.Fatal("Context() = nil")
	}
	close(called)
	_, err = stream.Recv()
	if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrCommitted) || s.Attempts() != 1 {
		t.Errorf("Recv = %v after %d attempts, want UNAVAILABLE, ErrCommitted, 1 attempt", err, s.Attempts())
	}
}
