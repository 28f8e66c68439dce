package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// hedgeServer answers GetFeature by attempt number (1 plus
// grpc-previous-rpc-attempts): an attempt with a code fails with it (and
// the pushback, if any), an attempt marked hang waits until its call is
// cancelled and records that, any other succeeds with a feature named after
// the attempt.
type hedgeServer struct {
	codes    map[int]codes.Code
	pushback map[int]string
	hang     map[int]bool
	// after[n]: attempt n answers only once these attempts reached the
	// server, so that the losers are known to be running when cancelled.
	after map[int][]int

	arrivals
	mu        sync.Mutex
	seen      []int
	cancelled chan int // attempts whose hang ended by cancellation
}

// arrivals tells when each attempt number of a call first reached the
// server: arrived[n] is closed then.
type arrivals struct {
	amu     sync.Mutex
	arrived [8]chan struct{}
	closed  [8]bool
}

func (a *arrivals) init() {
	for i := range a.arrived {
		a.arrived[i] = make(chan struct{})
	}
}

// arrive records attempt n; only the first call's counts.
func (a *arrivals) arrive(n int) {
	a.amu.Lock()
	defer a.amu.Unlock()
	if !a.closed[n] {
		close(a.arrived[n])
		a.closed[n] = true
	}
}

// waitFor waits until attempts ns reached the server.
func (a *arrivals) waitFor(ns []int) {
	for _, m := range ns {
		<-a.arrived[m]
	}
}

func attemptOf(ctx context.Context) int {
	n := 1
	if v := metadata.ValueFromIncomingContext(ctx, "grpc-previous-rpc-attempts"); len(v) == 1 {
		prev, _ := strconv.Atoi(v[0])
		n += prev
	}
	return n
}

func (s *hedgeServer) start(t *testing.T) *stubserver.Server {
	t.Helper()
	s.cancelled = make(chan int, 8)
	s.init()
	return stubserver.Start(t, stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			n := attemptOf(ctx)
			s.mu.Lock()
			s.seen = append(s.seen, n)
			s.mu.Unlock()
			s.arrive(n)
			s.waitFor(s.after[n])
			if s.hang[n] {
				<-ctx.Done()
				s.cancelled <- n
				return nil, status.FromContextError(ctx.Err()).Err()
			}
			if v := s.pushback[n]; v != "" {
				grpc.SetTrailer(ctx, metadata.Pairs("grpc-retry-pushback-ms", v))
			}
			if c, ok := s.codes[n]; ok {
				return nil, status.Errorf(c, "attempt %d", n)
			}
			grpc.SetHeader(ctx, metadata.Pairs("attempt", strconv.Itoa(n)))
			return &pb.Feature{Name: fmt.Sprint("attempt ", n), Location: p}, nil
		},
	})
}

func (s *hedgeServer) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// waitCancelled waits until the server saw the given attempts cancelled.
func (s *hedgeServer) waitCancelled(t *testing.T, attempts ...int) {
	t.Helper()
	for range attempts {
		select {
		case <-s.cancelled:
		case <-time.After(stubserver.DefaultTimeout):
			t.Fatalf("the server did not see the losing attempts %v cancelled", attempts)
		}
	}
}

// hedgeEvents records the observer's events.
type hedgeEvents struct {
	mu     sync.Mutex
	events []retry.Event
}

func (h *hedgeEvents) observe(_ context.Context, e retry.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

// kinds returns "kind:attempt" for every event that is not AttemptDone.
func (h *hedgeEvents) hedgeKinds() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, e := range h.events {
		if e.Kind != retry.AttemptDone {
			out[fmt.Sprintf("%v:%d", e.Kind, e.Attempt)]++
		}
	}
	return out
}

// TestHedgeSlowFirstAttempt: the first attempt hangs; after the delay a
// hedge goes out and wins; the first is cancelled, and the server sees it.
// The caller gets the winner's reply and header.
func TestHedgeSlowFirstAttempt(t *testing.T) {
	s := &hedgeServer{hang: map[int]bool{1: true}, after: map[int][]int{2: {1}}}
	srv := s.start(t)
	var ev hedgeEvents
	client := pbClient(srv.Dial(t, interceptors.DialOptions(
		interceptors.WithHedging(2, time.Millisecond, codes.Unavailable),
		interceptors.WithObserver(ev.observe))...))
	var header metadata.MD
	f, err := client.GetFeature(testContext(t), &pb.Point{Latitude: 1}, grpc.Header(&header))
	if err != nil || f.GetName() != "attempt 2" || f.GetLocation().GetLatitude() != 1 {
		t.Fatalf("GetFeature = %v, %v; want the feature of attempt 2", f, err)
	}
	if got := header.Get("attempt"); len(got) != 1 || got[0] != "2" {
		t.Errorf("header attempt = %q, want [2] (the winner's)", got)
	}
	s.waitCancelled(t, 1)
	want := map[string]int{"hedge-started:1": 1, "hedge-started:2": 1, "hedge-won:2": 1, "hedge-cancelled:1": 1}
	if got := ev.hedgeKinds(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hedge events = %v, want %v", got, want)
	}
}

// TestHedgeFatalReturnsAtOnce: with no delay all three attempts go out at
// once; the first answers with a fatal code, which ends the call at once
// though the other two are still pending; they are cancelled.
func TestHedgeFatalReturnsAtOnce(t *testing.T) {
	s := &hedgeServer{codes: map[int]codes.Code{1: codes.FailedPrecondition}, hang: map[int]bool{2: true, 3: true},
		after: map[int][]int{1: {2, 3}}}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, 0, codes.Unavailable))...))
	_, err := client.GetFeature(testContext(t), &pb.Point{})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("GetFeature = %v, want FailedPrecondition", err)
	}
	if attempts, reason, ok := retry.Info(err); !ok || attempts != 3 || reason != retry.NonRetryable {
		t.Errorf("retry.Info = %d, %v, %v; want 3 attempts, non-retryable", attempts, reason, ok)
	}
	s.waitCancelled(t, 2, 3)
}

// TestHedgeDeadlineSeenFirst: an attempt that fails DEADLINE_EXCEEDED at
// or past the caller's deadline ends the call for the deadline, even when
// the call's context has not fired yet (the server's timer or the
// transport saw it first); before the deadline the code is just fatal.
func TestHedgeDeadlineSeenFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ahead  time.Duration // how far the interceptor's clock runs ahead
		reason retry.StopReason
	}{
		{"before the deadline", 0, retry.NonRetryable},
		{"past the deadline", time.Hour, retry.Deadline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &hedgeServer{codes: map[int]codes.Code{1: codes.DeadlineExceeded}, hang: map[int]bool{2: true}, after: map[int][]int{1: {2}}}
			srv := s.start(t)
			client := pbClient(srv.Dial(t, interceptors.DialOptions(
				interceptors.WithHedging(2, 0, codes.Unavailable),
				interceptors.WithClock(interceptors.ClockAhead(tc.ahead)))...))
			_, err := client.GetFeature(testContext(t), &pb.Point{})
			if status.Code(err) != codes.DeadlineExceeded {
				t.Fatalf("GetFeature = %v, want DeadlineExceeded", err)
			}
			if _, reason, ok := retry.Info(err); !ok || reason != tc.reason {
				t.Errorf("retry.Info(%v) reason = %v, %v; want %v", err, reason, ok, tc.reason)
			}
			s.waitCancelled(t, 2)
		})
	}
}

// TestHedgeNonFatalSendsNextAtOnce: the hedging delay is an hour, but a
// non-fatal code sends the next hedge at once.
func TestHedgeNonFatalSendsNextAtOnce(t *testing.T) {
	s := &hedgeServer{codes: map[int]codes.Code{1: codes.Unavailable}}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, time.Hour, codes.Unavailable))...))
	f, err := client.GetFeature(testContext(t), &pb.Point{})
	if err != nil || f.GetName() != "attempt 2" {
		t.Fatalf("GetFeature = %v, %v; want the feature of attempt 2", f, err)
	}
	if n := s.attempts(); n != 2 {
		t.Errorf("server saw %d attempts, want 2", n)
	}
}

// TestHedgeStops: every attempt fails with a non-fatal code; the call ends
// when attempts run out, or when a pushback says stop.
func TestHedgeStops(t *testing.T) {
	for _, c := range []struct {
		name     string
		pushback map[int]string
		attempts int
		reason   retry.StopReason
	}{
		{"exhausted", nil, 3, retry.Exhausted},
		{"pushback stop", map[int]string{1: "-1"}, 1, retry.PushbackStop},
		{"pushback delay", map[int]string{1: "1", 2: "1"}, 3, retry.Exhausted},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &hedgeServer{codes: map[int]codes.Code{1: codes.Unavailable, 2: codes.Unavailable, 3: codes.Unavailable}, pushback: c.pushback}
			srv := s.start(t)
			client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, time.Hour, codes.Unavailable))...))
			_, err := client.GetFeature(testContext(t), &pb.Point{})
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("GetFeature = %v, want Unavailable", err)
			}
			if attempts, reason, _ := retry.Info(err); attempts != c.attempts || reason != c.reason {
				t.Errorf("retry.Info = %d attempts, %v; want %d, %v", attempts, reason, c.attempts, c.reason)
			}
			if n := s.attempts(); n != c.attempts {
				t.Errorf("server saw %d attempts, want %d", n, c.attempts)
			}
		})
	}
}

// TestHedgeCallerCancels: cancelling the call cancels every attempt.
func TestHedgeCallerCancels(t *testing.T) {
	s := &hedgeServer{hang: map[int]bool{1: true, 2: true}}
	srv := s.start(t)
	var ev hedgeEvents
	started := make(chan struct{}, 2)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(2, 0, codes.Unavailable),
		interceptors.WithObserver(func(ctx context.Context, e retry.Event) {
			ev.observe(ctx, e)
			if e.Kind == retry.HedgeStarted {
				started <- struct{}{}
			}
		}))...))
	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	go func() {
		_, err := client.GetFeature(ctx, &pb.Point{})
		done <- err
	}()
	<-started
	<-started
	cancel()
	if err := <-done; status.Code(err) != codes.Canceled || !errors.Is(err, retry.ErrCanceled) {
		t.Errorf("cancelled GetFeature = %v, want Canceled", err)
	}
	if got := ev.hedgeKinds(); got["hedge-cancelled:1"] != 1 || got["hedge-cancelled:2"] != 1 {
		t.Errorf("hedge events = %v, want both attempts cancelled", got)
	}
}

// TestHedgeThrottled: with retry throttling on and every attempt failing
// with a non-fatal code, hedges stop once the tokens fall to half: over 100
// calls of each kind the server sees at most 1.2 attempts per call.
func TestHedgeThrottled(t *testing.T) {
	cfg, err := rsc.Parse([]byte(`{
		"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}],
			"hedgingPolicy": {"maxAttempts": 5, "hedgingDelay": "0s", "nonFatalStatusCodes": ["UNAVAILABLE"]}}],
		"retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			in, srv := startInjected(t, stubserver.Start, "unavailable")
			client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithServiceConfig(cfg))...))
			const calls = 100
			ctx := testContext(t)
			for i := range calls {
				if err := k.call(ctx, client); status.Code(err) != codes.Unavailable {
					t.Fatalf("call %d = %v, want Unavailable", i+1, err)
				}
			}
			perCall := float64(in.Stats().Calls) / calls
			t.Logf("server attempts per call: %.2f", perCall)
			if perCall > 1.2 {
				t.Errorf("server attempts per call = %.2f, want <= 1.2", perCall)
			}
		})
	}
}

// TestHedgeServiceConfig: a service config's hedgingPolicy hedges calls of
// every kind; non-fatal codes send the next hedge at once, and the caller
// sees every message once.
func TestHedgeServiceConfig(t *testing.T) {
	cfg, err := rsc.Parse([]byte(`{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}],
		"hedgingPolicy": {"maxAttempts": 3, "hedgingDelay": "0.001s", "nonFatalStatusCodes": ["UNAVAILABLE"]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.Unavailable)
			srv := startScript(t, s)
			client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithServiceConfig(cfg))...))
			if err := k.call(testContext(t), client); err != nil {
				t.Fatalf("call = %v, want nil", err)
			}
			if n := s.Attempts(); n != 3 {
				t.Errorf("server saw %d attempts, want 3", n)
			}
		})
	}
}

// TestHedgeDelayQuantile: with an adaptive delay, once 16 calls are known
// the hedge goes out after the p95 of their latencies, not after the
// configured second.
func TestHedgeDelayQuantile(t *testing.T) {
	s := &hedgeServer{}
	srv := s.start(t)
	clk := &instantTimers{}
	client := pbClient(srv.Dial(t, interceptors.DialOptions(
		interceptors.WithHedging(2, time.Second, codes.Unavailable),
		interceptors.WithHedgeDelayQuantile(0.95),
		interceptors.WithClock(clk))...))
	ctx := testContext(t)
	// The clock's timers fire at once: each of these calls sends its hedge
	// at once too, and records the delay it would have waited.
	for range 17 {
		if _, err := client.GetFeature(ctx, &pb.Point{}); err != nil {
			t.Fatal(err)
		}
	}
	waits := clk.Waits()
	if len(waits) != 17 {
		t.Fatalf("recorded %d hedge delays, want 17: %v", len(waits), waits)
	}
	for i, w := range waits[:16] {
		if w != time.Second {
			t.Errorf("delay of call %d = %v, want the configured 1s (too few latencies known)", i+1, w)
		}
	}
	if w := waits[16]; w <= 0 || w >= time.Second {
		t.Errorf("delay of call 17 = %v, want the p95 of the first 16 calls' latencies", w)
	}
}

// instantTimers is a clock with the real time whose timers fire at once
// and record the duration asked for.
type instantTimers struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *instantTimers) Now() time.Time { return time.Now() }

func (c *instantTimers) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch, func() bool { return false }
}

func (c *instantTimers) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// TestHedgePushbackPastDeadline: a pushback that would send the next hedge
// after the call's deadline ends the call at once, with the last error,
// when no other attempt is pending.
func TestHedgePushbackPastDeadline(t *testing.T) {
	s := &hedgeServer{codes: map[int]codes.Code{1: codes.Unavailable}, pushback: map[int]string{1: "60000"}}
	srv := s.start(t)
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithHedging(3, time.Second, codes.Unavailable))...))
	// The deadline is far enough for the call, and much nearer than the
	// pushback.
	ctx, cancel := context.WithTimeout(testContext(t), stubserver.DefaultTimeout/2)
	defer cancel()
	_, err := client.GetFeature(ctx, &pb.Point{})
	if status.Code(err) != codes.Unavailable || ctx.Err() != nil {
		t.Fatalf("GetFeature = %v (context: %v), want Unavailable before the deadline", err, ctx.Err())
	}
	if attempts, reason, _ := retry.Info(err); attempts != 1 || reason != retry.Deadline {
		t.Errorf("retry.Info = %d attempts, %v; want 1, deadline", attempts, reason)
	}
}
