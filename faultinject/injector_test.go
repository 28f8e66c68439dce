package faultinject_test

import (
	"context"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

// events records what an Injector's or a Listener's observer sees.
type events struct {
	mu   sync.Mutex
	list []faultinject.Event
}

func (e *events) observe(ev faultinject.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) all() []faultinject.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]faultinject.Event(nil), e.list...)
}

// TestShares checks that percentages land within statistical bounds on every
// RPC kind: 30% aborts and 20% delays of 10,000 calls, drawn independently
// (so about 6% of calls get both). The binomial standard deviation of 30% of
// 10,000 is 0.46 points; the ±1.5 point bound is over 3 of them, and the
// seed makes the run repeat exactly.
func TestShares(t *testing.T) {
	const calls = 10000
	// sharesTimeout bounds each kind's 10,000 calls together: about a
	// second alone, but the four kinds run in parallel with other
	// packages' tests under -race on 2 cores.
	const sharesTimeout = 2 * time.Minute
	for i, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			var ev events
			// A seed per kind: decisions depend on the seed and the call's
			// number only, so one seed would draw the same for every kind.
			f := startFaulty(t, mustSpec(t, "unavailable=30%,delay=1ns@20%"),
				[]faultinject.Option{faultinject.WithSeed(uint64(42 + i)), faultinject.WithObserver(ev.observe)})
			ctx, cancel := context.WithTimeout(context.Background(), sharesTimeout)
			defer cancel()
			failed := 0
			for range calls {
				o := k.call(ctx, f.srv.Client())
				switch o.Code {
				case codes.OK:
				case codes.Unavailable:
					failed++
				default:
					t.Fatalf("%s call = %v, want OK or Unavailable", k.name, o.Code)
				}
			}
			delayed, aborted := map[uint64]bool{}, map[uint64]bool{}
			for _, e := range ev.all() {
				switch e.Kind {
				case faultinject.KindDelay:
					delayed[e.Seq] = true
				case faultinject.KindAbort:
					aborted[e.Seq] = true
				}
			}
			both := 0
			for seq := range aborted {
				if delayed[seq] {
					both++
				}
			}
			st := f.in.Stats()
			if st.Calls != calls || st.Aborts != uint64(failed) || st.AbortsByCode[codes.Unavailable] != uint64(failed) ||
				st.Delays != uint64(len(delayed)) || len(aborted) != failed || st.Active != 0 {
				t.Errorf("Stats() = %+v; client saw %d failures, events %d aborts and %d delays", st, failed, len(aborted), len(delayed))
			}
			for _, c := range []struct {
				what      string
				got, want float64
				bound     float64
			}{
				{"aborted", share(failed, calls), 30, 1.5},
				{"delayed", share(len(delayed), calls), 20, 1.5},
				{"delayed and aborted", share(both, calls), 6, 1},
			} {
				t.Logf("%s: %.2f%% of %d calls (want %v%% ± %v)", c.what, c.got, calls, c.want, c.bound)
				if math.Abs(c.got-c.want) > c.bound {
					t.Errorf("%s: %.2f%% of %d calls, want %v%% ± %v", c.what, c.got, calls, c.want, c.bound)
				}
			}
		})
	}
}

func share(n, of int) float64 { return 100 * float64(n) / float64(of) }

// TestSeedRepeats runs the same sequence of calls against two servers with
// the same seed and gets identical per-call outcomes, on every RPC kind; a
// different seed gives different ones.
func TestSeedRepeats(t *testing.T) {
	const calls = 300
	spec := "unavailable=20%,internal=10%,delay=1ns@30%"
	run := func(t *testing.T, k rpcKind, seed uint64) ([]outcome, []faultinject.Event) {
		var ev events
		f := startFaulty(t, mustSpec(t, spec),
			[]faultinject.Option{faultinject.WithSeed(seed), faultinject.WithObserver(ev.observe)})
		ctx := testContext(t)
		out := make([]outcome, calls)
		for i := range out {
			out[i] = k.call(ctx, f.srv.Client())
		}
		return out, ev.all()
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			first, firstEvents := run(t, k, 7)
			second, secondEvents := run(t, k, 7)
			other, _ := run(t, k, 8)
			failed := 0
			for i := range first {
				if first[i] != second[i] {
					t.Errorf("call %d: seed 7 gave %v, then %v", i+1, first[i], second[i])
				}
				if first[i].Code != codes.OK {
					failed++
				}
			}
			if failed == 0 || failed == calls {
				t.Errorf("seed 7: %d of %d calls failed, want some but not all", failed, calls)
			}
			if len(firstEvents) != len(secondEvents) {
				t.Fatalf("seed 7: %d events, then %d", len(firstEvents), len(secondEvents))
			}
			for i := range firstEvents {
				if firstEvents[i] != secondEvents[i] {
					t.Errorf("event %d: seed 7 gave %v, then %v", i, firstEvents[i], secondEvents[i])
				}
			}
			same := 0
			for i := range first {
				if first[i] == other[i] {
					same++
				}
			}
			if same == calls {
				t.Errorf("seeds 7 and 8 gave the same %d outcomes", calls)
			}
		})
	}
}

// TestFirstAttempts: first=2 fails attempts 1 and 2 of every call, exactly.
// A client without retries always fails; grpc-go's built-in A6 retry with 3
// attempts always succeeds, on every RPC kind.
func TestFirstAttempts(t *testing.T) {
	const calls = 20
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := startFaulty(t, mustSpec(t, "first=2:unavailable"), nil)
			ctx := testContext(t)
			plain := pb.NewRouteGuideClient(f.srv.Dial(t, grpc.WithDisableRetry()))
			retrying := pb.NewRouteGuideClient(f.srv.Dial(t, a6Retry(3)))
			for i := range calls {
				if o := k.call(ctx, plain); o.Code != codes.Unavailable {
					t.Fatalf("call %d without retries = %v, want Unavailable", i+1, o.Code)
				}
			}
			for i := range calls {
				if o := k.call(ctx, retrying); o.Code != codes.OK {
					t.Fatalf("call %d with 3 attempts = %v, want OK", i+1, o.Code)
				}
			}
			st := f.in.Stats()
			// calls without retries: 1 attempt each, aborted; with: 3
			// attempts, the first two aborted.
			if want := uint64(calls + 3*calls); st.Calls != want {
				t.Errorf("Stats().Calls = %d, want %d", st.Calls, want)
			}
			if want := uint64(calls + 2*calls); st.Aborts != want {
				t.Errorf("Stats().Aborts = %d, want %d", st.Aborts, want)
			}
			if got := f.handled.n.Load(); got != calls {
				t.Errorf("handlers ran %d times, want %d", got, calls)
			}
		})
	}
}

// TestEvery: every=5 fails calls 5, 10, 15, ... and no others.
func TestEvery(t *testing.T) {
	const calls = 50
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			f := startFaulty(t, mustSpec(t, "every=5:internal"), nil)
			ctx := testContext(t)
			for i := 1; i <= calls; i++ {
				want := codes.OK
				if i%5 == 0 {
					want = codes.Internal
				}
				if o := k.call(ctx, f.srv.Client()); o.Code != want {
					t.Errorf("call %d = %v, want %v", i, o.Code, want)
				}
			}
			if st := f.in.Stats(); st.AbortsByCode[codes.Internal] != calls/5 {
				t.Errorf("Stats().AbortsByCode = %v, want %d INTERNAL", st.AbortsByCode, calls/5)
			}
		})
	}
}

// TestAfterMessages: a stream that fails after K messages has committed the
// call, so grpc-go's built-in retry (5 attempts on UNAVAILABLE) does not
// retry it: the server sees one call, the client the messages that passed
// and then UNAVAILABLE. For a unary call, the handler runs and its
// response is replaced by the error.
func TestAfterMessages(t *testing.T) {
	for _, c := range []struct {
		kind  string
		after int
		want  outcome
	}{
		// The request, then two of the three features.
		{"server-stream", 3, outcome{codes.Unavailable, 2}},
		// Two of the three points; the third receive fails.
		{"client-stream", 2, outcome{codes.Unavailable, 0}},
		// Note 0 in and out, note 1 in; its echo fails.
		{"bidi", 3, outcome{codes.Unavailable, 1}},
		{"unary", 1, outcome{codes.Unavailable, 0}},
	} {
		t.Run(c.kind, func(t *testing.T) {
			k := kindNamed(t, c.kind)
			f := startFaulty(t, mustSpec(t, k.method+":unavailable+after="+strconv.Itoa(c.after)), nil)
			client := pb.NewRouteGuideClient(f.srv.Dial(t, a6Retry(5)))
			if got := k.call(testContext(t), client); got != c.want {
				t.Errorf("%s call with after=%d = %+v, want %+v", c.kind, c.after, got, c.want)
			}
			st := f.in.Stats()
			if st.Calls != 1 || st.StreamAborts != 1 || st.Aborts != 1 {
				t.Errorf("Stats() = %+v, want 1 call, 1 stream abort: the client must not retry", st)
			}
			if got := f.handled.n.Load(); got != 1 {
				t.Errorf("handlers ran %d times, want 1", got)
			}
		})
	}
}

// TestAfterRequests: a client stream cut off after K requests, before the
// server answered anything, is not committed: grpc-go's built-in retry
// sends it again, every point included, and it succeeds. A bidi handler
// that answered before the cut has committed the call, so that one is not
// retried. A server-streaming call has its one request only: it is cut off
// before its handler, on every attempt.
func TestAfterRequests(t *testing.T) {
	for _, c := range []struct {
		kind, spec          string
		want                outcome
		calls, streamAborts uint64
		handled             int64
	}{
		// Attempt 1 takes two of the three points and fails; attempt 2
		// gets all three.
		{"client-stream", "first=1:unavailable+recv=2", outcome{codes.OK, 1}, 2, 1, 2},
		// Note 0 in and echoed (the call is committed), then the cut.
		{"bidi", "unavailable+recv=1", outcome{codes.Unavailable, 1}, 1, 1, 1},
		// One request: the cut comes before the handler, uncommitted, on
		// every attempt (grpc-go's 5).
		{"server-stream", "unavailable+recv=1", outcome{codes.Unavailable, 0}, 5, 0, 0},
	} {
		t.Run(c.kind, func(t *testing.T) {
			k := kindNamed(t, c.kind)
			f := startFaulty(t, mustSpec(t, k.method+":"+c.spec), nil)
			client := pb.NewRouteGuideClient(f.srv.Dial(t, a6Retry(5)))
			if got := k.call(testContext(t), client); got != c.want {
				t.Errorf("%s call with %s = %+v, want %+v", c.kind, c.spec, got, c.want)
			}
			st := f.in.Stats()
			if st.Calls != c.calls || st.StreamAborts != c.streamAborts || st.Aborts != c.calls-uint64(c.handled)+c.streamAborts {
				t.Errorf("Stats() = %+v, want %d calls, %d stream aborts", st, c.calls, c.streamAborts)
			}
			if got := f.handled.n.Load(); got != c.handled {
				t.Errorf("handlers ran %d times, want %d", got, c.handled)
			}
		})
	}
}

// TestAfterMessagesNotReached: a stream that ends before K messages ends
// normally and counts no abort.
func TestAfterMessagesNotReached(t *testing.T) {
	k := kindNamed(t, "server-stream")
	f := startFaulty(t, mustSpec(t, k.method+":unavailable+after=10"), nil)
	if got, want := k.call(testContext(t), f.srv.Client()), (outcome{codes.OK, featuresPerList}); got != want {
		t.Errorf("ListFeatures with after=10 = %+v, want %+v", got, want)
	}
	if st := f.in.Stats(); st.Aborts != 0 || st.Active != 0 {
		t.Errorf("Stats() = %+v, want no aborts, none active", st)
	}
}

func kindNamed(t *testing.T, name string) rpcKind {
	t.Helper()
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	t.Fatalf("no RPC kind %q", name)
	return rpcKind{}
}

// TestPushback: an abort with pushback carries grpc-retry-pushback-ms in its
// trailer, on unary and streaming calls.
func TestPushback(t *testing.T) {
	f := startFaulty(t, mustSpec(t, "unavailable+pushback=250ms,*:resource_exhausted+pushback=-1ms"), nil)
	ctx := testContext(t)
	var trailer metadata.MD
	_, err := f.srv.Client().GetFeature(ctx, &pb.Point{}, grpc.Trailer(&trailer))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("GetFeature = %v, want Unavailable", err)
	}
	if got := trailer.Get("grpc-retry-pushback-ms"); len(got) != 1 || got[0] != "250" {
		t.Errorf("GetFeature trailer grpc-retry-pushback-ms = %q, want [250]", got)
	}
	stream, err := f.srv.Client().ListFeatures(ctx, &pb.Rectangle{})
	if err != nil {
		t.Fatalf("ListFeatures = %v", err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("ListFeatures Recv = %v, want Unavailable", err)
	}
	if got := stream.Trailer().Get("grpc-retry-pushback-ms"); len(got) != 1 || got[0] != "250" {
		t.Errorf("ListFeatures trailer grpc-retry-pushback-ms = %q, want [250]", got)
	}
}

// TestMethodScope: rules apply only to the methods they match.
func TestMethodScope(t *testing.T) {
	f := startFaulty(t, mustSpec(t, "/routeguide.RouteGuide/GetFeature:not_found,/routeguide.RouteGuide/*:delay=1ns,/other.Service/*:internal"), nil)
	ctx := testContext(t)
	for _, k := range kinds {
		want := codes.OK
		if k.name == "unary" {
			want = codes.NotFound
		}
		if o := k.call(ctx, f.srv.Client()); o.Code != want {
			t.Errorf("%s call = %v, want %v", k.name, o.Code, want)
		}
	}
	if st := f.in.Stats(); st.Delays != uint64(len(kinds)) || st.Aborts != 1 {
		t.Errorf("Stats() = %+v, want %d delays, 1 abort", st, len(kinds))
	}
}

// released wraps the next interceptors and reports on done when a call
// leaves them, so a test can see a handler freed without sleeping.
type released struct{ done chan error }

func (r released) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	r.done <- err
	return resp, err
}

func (r released) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	err := h(srv, ss)
	r.done <- err
	return err
}

// TestDelayHonoursCancellation: a call held by an hour-long delay is freed
// at once when the client cancels it: the interceptor returns CANCELLED
// (the wait on the handler side ends), and goleak in TestMain proves no
// goroutine stays behind.
func TestDelayHonoursCancellation(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			started := make(chan struct{}, 1)
			r := released{done: make(chan error, 1)}
			f := startFaulty(t, mustSpec(t, "delay=1h"), []faultinject.Option{faultinject.WithObserver(func(e faultinject.Event) {
				if e.Kind == faultinject.KindDelay {
					started <- struct{}{}
				}
			})}, stubserver.WithServerOptions(grpc.ChainUnaryInterceptor(r.unary), grpc.ChainStreamInterceptor(r.stream)))
			ctx, cancel := context.WithCancel(testContext(t))
			got := make(chan outcome, 1)
			go func() { got <- k.call(ctx, f.srv.Client()) }()
			select {
			case <-started:
			case <-time.After(stubserver.DefaultTimeout):
				t.Fatal("the delay did not start")
			}
			cancel()
			select {
			case err := <-r.done:
				if status.Code(err) != codes.Canceled {
					t.Errorf("server side of the cancelled call = %v, want Canceled", err)
				}
			case <-time.After(stubserver.DefaultTimeout):
				t.Fatal("the delayed call was not freed after the client cancelled it")
			}
			if o := <-got; o.Code != codes.Canceled {
				t.Errorf("cancelled %s call = %v, want Canceled", k.name, o.Code)
			}
			if n := f.handled.n.Load(); n != 0 {
				t.Errorf("handler ran %d times, want 0", n)
			}
			if st := f.in.Stats(); st.Active != 0 || st.Delays != 1 {
				t.Errorf("Stats() = %+v, want 1 delay, none active", st)
			}
		})
	}
}

// TestMaxActiveFaults: with a cap of 1, a second fault while the first is
// in progress is skipped and counted, and its call runs normally.
func TestMaxActiveFaults(t *testing.T) {
	started := make(chan struct{}, 1)
	var ev events
	r := released{done: make(chan error, 1)}
	f := startFaulty(t, mustSpec(t, "/routeguide.RouteGuide/ListFeatures:delay=1h,unavailable"), []faultinject.Option{
		faultinject.WithMaxActiveFaults(1),
		faultinject.WithObserver(func(e faultinject.Event) {
			ev.observe(e)
			if e.Kind == faultinject.KindDelay {
				started <- struct{}{}
			}
		}),
	}, stubserver.WithServerOptions(grpc.ChainStreamInterceptor(r.stream)))
	ctx, cancel := context.WithCancel(testContext(t))
	held := make(chan outcome, 1)
	go func() { held <- kindNamed(t, "server-stream").call(ctx, f.srv.Client()) }()
	select {
	case <-started:
	case <-time.After(stubserver.DefaultTimeout):
		t.Fatal("the delay did not start")
	}
	if o := kindNamed(t, "unary").call(testContext(t), f.srv.Client()); o.Code != codes.OK {
		t.Errorf("GetFeature over the cap = %v, want OK (fault skipped)", o.Code)
	}
	if st := f.in.Stats(); st.Skipped != 1 || st.Active != 1 || st.Aborts != 0 {
		t.Errorf("Stats() while one fault is held = %+v, want 1 skipped, 1 active, 0 aborts", st)
	}
	cancel()
	<-held
	select {
	case <-r.done: // the held call left the injector and freed its slot
	case <-time.After(stubserver.DefaultTimeout):
		t.Fatal("the held call was not freed after the client cancelled it")
	}
	if o := kindNamed(t, "unary").call(testContext(t), f.srv.Client()); o.Code != codes.Unavailable {
		t.Errorf("GetFeature after the held call ended = %v, want Unavailable", o.Code)
	}
	if got := ev.all(); len(got) != 3 || got[1].Kind != faultinject.KindSkipped || got[1].Rule != 1 {
		t.Errorf("events = %v, want delay, skipped (rule 1), abort", got)
	}
}

// TestSetRulesWhileServing replaces rules and reads stats while calls run,
// for the race detector; afterwards the new rules are in force.
func TestSetRulesWhileServing(t *testing.T) {
	f := startFaulty(t, mustSpec(t, "unavailable=50%"), []faultinject.Option{faultinject.WithSeed(1)})
	ctx := testContext(t)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for range 100 {
				kinds[w].call(ctx, f.srv.Client())
			}
		})
	}
	wg.Go(func() {
		for i := range 100 {
			spec := "unavailable=50%"
			if i%2 == 1 {
				spec = "every=2:internal,delay=1ns@10%"
			}
			if err := f.in.SetRules(mustSpec(t, spec)); err != nil {
				t.Errorf("SetRules(%q) = %v", spec, err)
			}
			_ = f.in.Stats()
		}
	})
	wg.Wait()
	if err := f.in.SetRules(mustSpec(t, "not_found")); err != nil {
		t.Fatal(err)
	}
	if o := kinds[0].call(ctx, f.srv.Client()); o.Code != codes.NotFound {
		t.Errorf("call after SetRules(not_found) = %v, want NotFound", o.Code)
	}
	if st := f.in.Stats(); st.Calls != 201 || st.Active != 0 {
		t.Errorf("Stats() = %+v, want 201 calls, none active", st)
	}
	if err := f.in.SetRules([]faultinject.Rule{{Abort: &faultinject.Abort{Code: codes.OK, Percent: 1}}}); err == nil {
		t.Error("SetRules(abort with OK) = nil, want an error")
	}
	if got := f.in.Rules(); len(got) != 1 || got[0].Abort.Code != codes.NotFound {
		t.Errorf("Rules() after a rejected SetRules = %+v, want the not_found rule", got)
	}
}
