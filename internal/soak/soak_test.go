package soak

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
)

var (
	soakFlag = flag.String("soak", "", "run the soak for this `duration`, a Go duration such as 2m (overrides $"+envBudget+")")
	seedFlag = flag.Uint64("soak-seed", 1, "`seed` of the soak's faults and requests")
)

const (
	// envBudget names the environment variable that sets the soak's
	// duration, as the -soak flag does.
	envBudget = "GRPC_RESILIENCE_SOAK"
	// smokeBudget is the soak's duration when neither sets one, so that
	// plain go test ./... runs all of it, briefly.
	smokeBudget = 3 * time.Second
	// minBudget is the shortest soak, the smoke budget: it gives the
	// flatness check 12 samples (at sampleInterval's floor of 250ms), 10
	// after the warm-up.
	minBudget = smokeBudget
	// maxBudget caps a soak: longer runs belong to the chaos runner.
	maxBudget = 30 * time.Minute

	// workers make calls at once, each in a loop over the four kinds.
	workers = 8
	// callTimeout is every call's deadline.
	callTimeout = time.Second
	// callsPerSecondCap bounds the calls of a soak at this many per second
	// of its duration, far above what 2 cores reach: a soak that hits it
	// ends early and says so.
	callsPerSecondCap = 20000
	// connectTimeout bounds the wait for each connection before the soak.
	connectTimeout = 10 * time.Second
	// stopTimeout bounds the wait for the workers after the soak's end:
	// each finishes its call, which its deadline bounds.
	stopTimeout = callTimeout + finishSlack + 10*time.Second
	// idleTimeout bounds the wait for the goroutine count to come back
	// down once the workers stopped; it is only reached by a leak.
	idleTimeout = 5 * time.Second
	// teardownMargin is the time a soak needs beyond its budget: set-up,
	// the workers' last calls, teardown and goleak's checks.
	teardownMargin = 30 * time.Second
)

// budget returns the soak's duration, from the flag, else the environment
// variable, else smokeBudget, and says which. A value that is not a Go
// duration, or lies outside [minBudget, maxBudget], is an error naming
// where it came from.
func budget(flagValue, envValue string) (time.Duration, string, error) {
	name, v := "", ""
	switch {
	case flagValue != "":
		name, v = "-soak", flagValue
	case envValue != "":
		name, v = envBudget, envValue
	default:
		return smokeBudget, "smoke budget; set " + envBudget + " or -soak for a longer soak", nil
	}
	source := fmt.Sprintf("%s=%s", name, v)
	d, err := time.ParseDuration(strings.TrimSpace(v))
	switch {
	case err != nil:
		return 0, "", fmt.Errorf("%s=%q: not a Go duration such as 2m", name, v)
	case d < minBudget:
		return 0, "", fmt.Errorf("%s=%q: below the minimum of %v, too short for the flatness check", name, v, minBudget)
	case d > maxBudget:
		return 0, "", fmt.Errorf("%s=%q: above the cap of %v", name, v, maxBudget)
	}
	return d, source, nil
}

func TestBudget(t *testing.T) {
	tests := []struct {
		flag, env string
		want      time.Duration
		wantErr   string // a part of the error; "" for none
	}{
		{"", "", smokeBudget, ""},
		{"", "2m", 2 * time.Minute, ""},
		{"", " 20s ", 20 * time.Second, ""},
		{"90s", "2m", 90 * time.Second, ""},
		{"", "abc", 0, `GRPC_RESILIENCE_SOAK="abc": not a Go duration`},
		{"", "120", 0, `GRPC_RESILIENCE_SOAK="120": not a Go duration`},
		{"-1s", "", 0, `-soak="-1s": below the minimum`},
		{"", "0", 0, `GRPC_RESILIENCE_SOAK="0": below the minimum`},
		{"", "2s", 0, `GRPC_RESILIENCE_SOAK="2s": below the minimum of 3s`},
		{"", "3s", 3 * time.Second, ""},
		{"", "31m", 0, `GRPC_RESILIENCE_SOAK="31m": above the cap of 30m0s`},
		{"2h", "1m", 0, `-soak="2h": above the cap`},
	}
	for _, tt := range tests {
		got, _, err := budget(tt.flag, tt.env)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("budget(%q, %q) = %v, %v, want %v, nil", tt.flag, tt.env, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("budget(%q, %q) = %v, %v, want an error containing %q", tt.flag, tt.env, got, err, tt.wantErr)
		}
	}
}

// config is one soak run.
type config struct {
	duration    time.Duration
	source      string // where the duration came from
	seed        uint64
	workers     int
	callTimeout time.Duration
	interval    time.Duration // between samples
	maxCalls    int64
	idleTimeout time.Duration
	leak        leak  // a deliberate leak, for TestLeakIsCaught
	lie         *liar // deliberate wrong answers, for TestChecksCatchLies
	limits      limits
}

// newConfig is the soak's configuration for duration d.
func newConfig(d time.Duration, source string, seed uint64) config {
	return config{
		duration:    d,
		source:      source,
		seed:        seed,
		workers:     workers,
		callTimeout: callTimeout,
		interval:    sampleInterval(d),
		maxCalls:    max(1000, int64(d.Seconds()*callsPerSecondCap)),
		idleTimeout: idleTimeout,
		limits:      soakLimits,
	}
}

// TestSoak runs the soak: see the package doc.
func TestSoak(t *testing.T) {
	d, source, err := budget(*soakFlag, os.Getenv(envBudget))
	if err != nil {
		t.Fatal(err)
	}
	if dl, ok := t.Deadline(); ok && time.Until(dl) < d+teardownMargin {
		t.Fatalf("a soak of %v (%s) and %v to set up and tear down do not fit in the %v that go test's -timeout leaves: raise -timeout",
			d, source, teardownMargin, time.Until(dl).Round(time.Second))
	}
	r := runSoak(t, newConfig(d, source, *seedFlag))
	text := r.String()
	t.Log("\n" + text)
	if testing.Verbose() {
		fmt.Print(text)
	}
	for _, p := range r.problems() {
		t.Error(p)
	}
	for _, f := range r.tally.failures {
		t.Error(f)
	}
	if r.tally.nFailures > int64(len(r.tally.failures)) {
		t.Errorf("... and %d more failed calls", r.tally.nFailures-int64(len(r.tally.failures)))
	}
	calls, ok := r.tally.total()
	if calls == 0 || ok == 0 {
		t.Errorf("soak made %d calls, %d OK; want some of each", calls, ok)
	}
}

// report is what a soak did and found.
type report struct {
	cfg     config
	elapsed time.Duration
	capped  bool // stopped by cfg.maxCalls
	tally   tally
	byMode  []tally  // by modes' index
	events  [4]int64 // library observer events, by retry.EventKind
	retries int64
	server  faultinject.Stats
	conns   faultinject.ConnStats
	guard   interceptors.ServerStats
	peak    int64    // most server connections open at once
	late    []string // the first late calls, described
	// stalls counts the process's stalls (see stallMonitor); stalled is
	// their total.
	stalls         int
	stalled        time.Duration
	longestStall   stall
	longestStallAt time.Duration
	samples        []sample
	flat           flatness
	idle           [2]int // goroutines before the workers started and after they stopped
	idleOK         bool
}

// problems are the verdict's reasons to fail, besides failed calls.
func (r *report) problems() []string {
	p := append([]string(nil), r.flat.problems...)
	if !r.idleOK {
		p = append(p, fmt.Sprintf("goroutines once the workers stopped = %d, want at most %d (%d before they started + %d)",
			r.idle[1], r.idle[0]+r.cfg.limits.idleSlack, r.idle[0], r.cfg.limits.idleSlack))
	}
	return p
}

// runSoak runs one soak and tears everything down. It fails t for what
// stops the soak itself (set-up, workers that do not stop, teardown); the
// verdict and the calls' failures are in the report.
func runSoak(t *testing.T, cfg config) *report {
	t.Helper()
	before := goleak.IgnoreCurrent()
	r := &report{cfg: cfg}

	p, err := buildPools(cfg.seed)
	if err != nil {
		t.Fatal(err)
	}
	rg, err := startRig(cfg.seed)
	if err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	var (
		lk    *leaker
		outer []grpc.DialOption
	)
	if cfg.leak != (leak{}) {
		lk = newLeaker(cfg.leak)
		outer = append(outer, grpc.WithChainUnaryInterceptor(lk.unary), grpc.WithChainStreamInterceptor(lk.stream))
	}
	if cfg.lie != nil {
		outer = append(outer, grpc.WithChainUnaryInterceptor(cfg.lie.unary), grpc.WithChainStreamInterceptor(cfg.lie.stream))
	}
	obs := &observer{}
	var ccs []*grpc.ClientConn
	var teardownOnce sync.Once
	// teardown frees the deliberate leak, closes the clients, then stops
	// the server; what goes wrong fails t, whatever the soak tested.
	teardown := func() {
		teardownOnce.Do(func() {
			if lk != nil {
				lk.free()
			}
			for i, cc := range ccs {
				if err := cc.Close(); err != nil {
					t.Errorf("ClientConn.Close() of connection %d (%s) = %v, want nil", i, modes[i].name, err)
				}
			}
			if err := rg.stop(); err != nil {
				t.Errorf("stopping the server: %v", err)
			}
		})
	}
	t.Cleanup(teardown) // after a t.Fatal; a no-op after the normal teardown

	for _, m := range modes {
		cc, err := dial(rg.addr, m, obs.observe, outer...)
		if err != nil {
			t.Fatalf("dial(%s) = %v", m.name, err)
		}
		ccs = append(ccs, cc)
	}
	for i, cc := range ccs {
		if err := awaitReady(cc); err != nil {
			t.Fatalf("connection %d (%s): %v", i, modes[i].name, err)
		}
	}
	r.idle[0] = runtime.NumGoroutine()

	var started, finished atomic.Int64
	ws := make([]*worker, cfg.workers)
	for i := range ws {
		m := &modes[i%len(modes)]
		ws[i] = &worker{
			id: i, mode: m, client: pb.NewRouteGuideClient(ccs[i%len(ccs)]), pools: p,
			rng: rand.New(rand.NewPCG(cfg.seed, uint64(i)+1)), callTimeout: cfg.callTimeout, t: newTally(),
		}
	}
	start := time.Now()
	stopAt := start.Add(cfg.duration)
	stalls := startStallMonitor(start)
	defer stalls.stop() // after a t.Fatal
	for _, w := range ws {
		w.stalls = stalls
	}
	smp := startSampler(start, stopAt, cfg.interval, &finished)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(stopAt, &started, &finished, cfg.maxCalls)
		}()
	}
	stopped := make(chan struct{})
	go func() {
		wg.Wait()
		close(stopped)
	}()
	timer := time.NewTimer(cfg.duration + stopTimeout)
	select {
	case <-stopped:
		timer.Stop()
	case <-timer.C:
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Logf("goroutines:\n%s", buf.String())
		smp.finish()
		teardown()
		select { // closing the connections ends the calls, unless one hangs
		case <-stopped:
		case <-time.After(stopTimeout):
		}
		t.Fatalf("workers still calling %v after the soak's end, which each call's %v deadline should bound", stopTimeout, cfg.callTimeout)
	}
	r.samples = smp.finish()
	r.elapsed = time.Since(start)
	stalls.stop()
	r.stalls, r.stalled, r.longestStall = stalls.summary()
	r.longestStallAt = r.longestStall.end.Sub(start)
	r.capped = started.Load() > cfg.maxCalls

	// Every call has returned; what is left of them (server handlers
	// seeing the cancellation, cancelled hedges) ends at once.
	r.idle[1], r.idleOK = awaitGoroutines(r.idle[0]+cfg.limits.idleSlack, cfg.idleTimeout)
	r.flat = checkFlat(r.samples, cfg.limits)

	r.tally = newTally()
	r.byMode = make([]tally, len(modes))
	for i := range r.byMode {
		r.byMode[i] = newTally()
	}
	for i, w := range ws {
		r.tally.merge(&w.t)
		r.byMode[i%len(modes)].merge(&w.t)
	}
	r.late = r.tally.judgeLate(cfg.callTimeout, stalls)
	for k := range r.events {
		r.events[k] = obs.byKind[k].Load()
	}
	r.retries = obs.retries.Load()

	teardown()
	r.server, r.conns, r.guard, r.peak = rg.in.Stats(), rg.flis.Stats(), rg.guard.Stats(), rg.conns.peak.Load()
	goleak.VerifyNone(t, before)
	return r
}

// awaitReady connects cc and waits until it is ready. The fault listener
// resets some connections, so it may take a few tries, which grpc-go makes.
func awaitReady(cc *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	cc.Connect()
	for {
		s := cc.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if s == connectivity.Idle {
			cc.Connect()
		}
		if !cc.WaitForStateChange(ctx, s) {
			return fmt.Errorf("not ready within %v; state %v", connectTimeout, cc.GetState())
		}
	}
}

// awaitGoroutines waits until at most want goroutines run, for up to
// timeout, and returns the last count and whether it got there.
func awaitGoroutines(want int, timeout time.Duration) (int, bool) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return n, true
		}
		if !time.Now().Before(deadline) {
			return n, false
		}
		<-tick.C
	}
}
