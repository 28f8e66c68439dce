package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// routeGuideCall makes one call of a route guide method and reads it to its
// end.
type routeGuideCall struct {
	method string // without the service
	call   func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error
}

// world is a rectangle around every feature of the embedded database.
var world = &pb.Rectangle{
	Lo: &pb.Point{Latitude: -900000000, Longitude: -1800000000},
	Hi: &pb.Point{Latitude: 900000000, Longitude: 1800000000},
}

// allCalls holds a call of each kind: unary, server streaming, client
// streaming and bidi. Each returns the call's error, nil when it succeeded.
var allCalls = []routeGuideCall{
	{"GetFeature", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		_, err := c.GetFeature(ctx, lighthouse, opts...)
		return err
	}},
	{"ListFeatures", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		stream, err := c.ListFeatures(ctx, world, opts...)
		if err != nil {
			return err
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}},
	{"RecordRoute", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		stream, err := c.RecordRoute(ctx, opts...)
		if err != nil {
			return err
		}
		for range 2 {
			// A failed Send ended the stream: CloseAndRecv has its status.
			if err := stream.Send(lighthouse); err != nil {
				break
			}
		}
		_, err = stream.CloseAndRecv()
		return err
	}},
	{"RouteChat", func(ctx context.Context, c pb.RouteGuideClient, opts ...grpc.CallOption) error {
		stream, err := c.RouteChat(ctx, opts...)
		if err != nil {
			return err
		}
		// A failed Send or CloseSend ended the stream: Recv has its status.
		if err := stream.Send(&pb.RouteNote{Location: lighthouse, Message: "hello"}); err == nil {
			_ = stream.CloseSend()
		}
		for {
			if _, err := stream.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}},
}

// callNamed returns the call of allCalls for method.
func callNamed(method string) routeGuideCall {
	i := slices.IndexFunc(allCalls, func(c routeGuideCall) bool { return c.method == method })
	return allCalls[i]
}

// noDeadline returns a context without a deadline that is cancelled after
// stubserver.DefaultTimeout all the same, so that a call that hangs ends.
func noDeadline() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(stubserver.DefaultTimeout, cancel)
	return ctx, func() {
		timer.Stop()
		cancel()
	}
}

// statsField returns the value of key in a stats line.
func statsField(t *testing.T, line, key string) uint64 {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("stats line %q: %s=%q is not a count", line, key, v)
			}
			return n
		}
	}
	t.Fatalf("stats line %q has no %s", line, key)
	return 0
}

func TestParseGuardFlags(t *testing.T) {
	tests := []struct {
		args      []string
		want      guardConfig
		wantPrint string // the guard fields of the startup line
	}{
		{
			args:      nil,
			want:      guardConfig{shedCode: codes.Unavailable, shedPushback: 50 * time.Millisecond},
			wantPrint: `min-budget=0s max-deadline=0s max-concurrency=0 method-concurrency="" shed-code=UNAVAILABLE shed-pushback=50ms`,
		},
		{
			args: []string{"--min-budget", "20ms", "--max-deadline", "2s", "--max-concurrency", "8",
				"--method-concurrency", "ListFeatures=2", "--method-concurrency", "/routeguide.RouteGuide/GetFeature=3",
				"--method-concurrency", "ListFeatures=4", "--shed-code", "RESOURCE_EXHAUSTED", "--shed-pushback", "-1ms"},
			want: guardConfig{minBudget: 20 * time.Millisecond, maxDeadline: 2 * time.Second, maxConcurrency: 8,
				methodLimits: methodLimits{getFeature: 3, "/routeguide.RouteGuide/ListFeatures": 4},
				shedCode:     codes.ResourceExhausted, shedPushback: -time.Millisecond},
			wantPrint: `min-budget=20ms max-deadline=2s max-concurrency=8 method-concurrency="GetFeature=3,ListFeatures=4" shed-code=RESOURCE_EXHAUSTED shed-pushback=-1ms`,
		},
		{
			args: []string{"--shed-code", "14", "--shed-pushback", "0s"},
			want: guardConfig{shedCode: codes.Unavailable},
		},
		{
			args: []string{"--shed-code", "resource_exhausted"},
			want: guardConfig{shedCode: codes.ResourceExhausted, shedPushback: 50 * time.Millisecond},
		},
	}
	for _, tc := range tests {
		cfg, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Errorf("parseFlags(%q) = %v, want nil", tc.args, err)
			continue
		}
		if diff := cmp.Diff(tc.want, cfg.guard, cmp.AllowUnexported(guardConfig{})); diff != "" {
			t.Errorf("parseFlags(%q).guard mismatch (-want +got):\n%s", tc.args, diff)
		}
		if got := cfg.guard.String(); tc.wantPrint != "" && got != tc.wantPrint {
			t.Errorf("parseFlags(%q).guard.String() = %q, want %q", tc.args, got, tc.wantPrint)
		}
	}
}

// TestBadGuardFlagExit runs the real binary with bad guard flags: it exits
// 2 with one line on stderr naming the flag and its value.
func TestBadGuardFlagExit(t *testing.T) {
	bin := buildServer(t)
	for _, args := range [][]string{
		{"--min-budget", "-1s"},
		{"--max-deadline", "soon"},
		{"--max-concurrency", "-3"},
		{"--method-concurrency", "NoSuch=1"},
		{"--shed-code", "internal"},
		{"--shed-pushback", "1000h"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%s %q = %v, want exit status 2", name, args, err)
		}
		msg := stderr.String()
		flagName, value := strings.TrimLeft(args[0], "-"), args[1]
		if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, flagName) || !strings.Contains(msg, value) {
			t.Errorf("%s %q printed %q on stderr, want one line naming %s and %s", name, args, msg, flagName, value)
		}
		if stdout.Len() > 0 {
			t.Errorf("%s %q printed %q on stdout, want nothing", name, args, stdout.String())
		}
	}
}

// TestGuardMinBudget makes calls of every kind with too little time left
// for --min-budget: they fail DEADLINE_EXCEEDED and never reach the fault
// injector, which sits right before the handlers. Calls with time enough
// go through, as do health checks, which are not guarded.
func TestGuardMinBudget(t *testing.T) {
	// Calls with budget/2 left are rejected at once; calls with twice the
	// budget left pass unless the machine stalls for a whole budget.
	const budget = stubserver.DefaultTimeout / 2
	srv := startServe(t, "--min-budget", budget.String(), "--seed", "1")
	conn := dial(t, srv.addr, grpc.WithDisableRetry())
	client := pb.NewRouteGuideClient(conn)
	short, cancel := context.WithTimeout(context.Background(), budget/2)
	_, err := healthpb.NewHealthClient(conn).Check(short, &healthpb.HealthCheckRequest{Service: routeGuide})
	cancel()
	if err != nil {
		t.Errorf("Health.Check(%q) with %v left and --min-budget %v = %v, want success", routeGuide, budget/2, budget, err)
	}
	for _, rc := range allCalls {
		short, cancel := context.WithTimeout(context.Background(), budget/2)
		err := rc.call(short, client)
		cancel()
		if got := status.Code(err); got != codes.DeadlineExceeded {
			t.Errorf("%s with %v left and --min-budget %v = %v, want code %v", rc.method, budget/2, budget, err, codes.DeadlineExceeded)
		}
		long, cancel := context.WithTimeout(context.Background(), 2*budget)
		err = rc.call(long, client)
		cancel()
		if err != nil {
			t.Errorf("%s with %v left and --min-budget %v = %v, want success", rc.method, 2*budget, budget, err)
		}
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
	n := uint64(len(allCalls))
	want := name + ": stats: " + formatStats(faultinject.Stats{Calls: n}, faultinject.ConnStats{Accepted: 1},
		interceptors.ServerStats{Calls: 2 * n, Expired: n})
	if got := srv.lastLine(); got != want {
		t.Errorf("serve(--min-budget %v) last line = %q, want %q", budget, got, want)
	}
}

// TestGuardShed holds one call in a one-hour fault delay, taking the only
// slot of a concurrency limit: calls over the limit fail at once with the
// shed code and the pushback trailer, calls the limit does not cover go
// through.
func TestGuardShed(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		held         string   // the method of the held call
		shed         []string // methods shed while it is held
		free         []string // methods that still go through
		wantCode     codes.Code
		wantPushback string
	}{
		{
			name:     "server",
			args:     []string{"--max-concurrency", "1", "--shed-pushback", "7ms", "--faults", "delay=1h"},
			held:     "GetFeature",
			shed:     []string{"GetFeature", "ListFeatures", "RecordRoute", "RouteChat"},
			wantCode: codes.Unavailable, wantPushback: "7",
		},
		{
			name: "method",
			args: []string{"--method-concurrency", "ListFeatures=1", "--shed-code", "resource_exhausted",
				"--faults", "/routeguide.RouteGuide/ListFeatures:delay=1h"},
			held:     "ListFeatures",
			shed:     []string{"ListFeatures"},
			free:     []string{"GetFeature", "RouteChat"},
			wantCode: codes.ResourceExhausted, wantPushback: "50",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServe(t, append(tc.args, "--seed", "1")...)
			client := pb.NewRouteGuideClient(dial(t, srv.addr, grpc.WithDisableRetry()))
			ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
			defer cancel()

			heldCtx, release := context.WithCancel(ctx)
			defer release()
			held := make(chan error, 1)
			go func() { held <- callNamed(tc.held).call(heldCtx, client) }()
			delayed := faultinject.Event{Kind: faultinject.KindDelay, Method: "/" + routeGuide + "/" + tc.held, Seq: 1, Attempt: 1, Delay: time.Hour}
			if !srv.stderr.waitFor(ctx, delayed.String()+"\n") {
				t.Fatalf("serve(%q) logged %q, want %q within %v", tc.args, srv.stderr.String(), delayed, stubserver.DefaultTimeout)
			}

			for _, m := range tc.shed {
				var trailer metadata.MD
				err := callNamed(m).call(ctx, client, grpc.Trailer(&trailer))
				if got := status.Code(err); got != tc.wantCode {
					t.Errorf("%s over the limit = %v, want code %v", m, err, tc.wantCode)
				}
				if got := trailer.Get("grpc-retry-pushback-ms"); !slices.Equal(got, []string{tc.wantPushback}) {
					t.Errorf("%s over the limit: trailer grpc-retry-pushback-ms = %q, want [%q]", m, got, tc.wantPushback)
				}
			}
			for _, m := range tc.free {
				if err := callNamed(m).call(ctx, client); err != nil {
					t.Errorf("%s, which the limit does not cover = %v, want success", m, err)
				}
			}

			release()
			if err := <-held; status.Code(err) != codes.Canceled {
				t.Errorf("%s held in a 1h delay, cancelled = %v, want code %v", tc.held, err, codes.Canceled)
			}
			if err := srv.stop(t); err != nil {
				t.Errorf("serve(%q) = %v, want nil", tc.args, err)
			}
			if got, want := statsField(t, srv.lastLine(), "shed"), uint64(len(tc.shed)); got != want {
				t.Errorf("serve(%q) stats %q: shed=%d, want %d", tc.args, srv.lastLine(), got, want)
			}
		})
	}
}

// TestGuardShedRetry sends a burst of ten times the concurrency limit, of
// every kind of call, through a client that retries: every call is shed at
// least once, then completes, within its deadline and its attempts.
//
// Open RouteChat streams take every slot until each call of the burst was
// shed once; then they close, and the burst drains through the limit while
// shed calls wait out the pushback. Each attempt the server admits holds
// its slot for a 1ms fault delay. The pushback of 10ms and 50 retries give
// a call half a second of retries, many times what draining 20 short calls
// through 2 slots takes even under -race.
func TestGuardShedRetry(t *testing.T) {
	const (
		limit       = 2
		burst       = 10 * limit
		retries     = 50
		pushback    = 10 * time.Millisecond
		callTimeout = stubserver.DefaultTimeout
	)
	srv := startServe(t, "--max-concurrency", strconv.Itoa(limit), "--shed-pushback", pushback.String(),
		"--faults", "delay=1ms", "--seed", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*stubserver.DefaultTimeout)
	defer cancel()

	plain := pb.NewRouteGuideClient(dial(t, srv.addr, grpc.WithDisableRetry()))
	var blockers []grpc.BidiStreamingClient[pb.RouteNote, pb.RouteNote]
	for i := range limit {
		b, err := plain.RouteChat(ctx)
		if err != nil {
			t.Fatalf("RouteChat() = %v", err)
		}
		blockers = append(blockers, b)
		admitted := faultinject.Event{Kind: faultinject.KindDelay, Method: "/" + routeGuide + "/RouteChat",
			Seq: uint64(i + 1), Attempt: 1, Delay: time.Millisecond}
		if !srv.stderr.waitFor(ctx, admitted.String()+"\n") {
			t.Fatalf("serve() logged %q, want %q within %v", srv.stderr.String(), admitted, stubserver.DefaultTimeout)
		}
	}

	retrying := pb.NewRouteGuideClient(dial(t, srv.addr, interceptors.DialOptions(interceptors.WithRetryTimes(retries))...))
	type result struct {
		method   string
		err      error
		attempts int
		took     time.Duration
	}
	results := make(chan result, burst)
	firstShed := make(chan struct{}, burst) // one per call, at its first shed
	for i := range burst {
		rc := allCalls[i%len(allCalls)]
		go func() {
			var attempts atomic.Int64
			var once sync.Once
			observe := interceptors.WithObserver(func(_ context.Context, e retry.Event) {
				if e.Kind != retry.AttemptDone {
					return
				}
				attempts.Add(1)
				if e.Code == codes.Unavailable {
					once.Do(func() { firstShed <- struct{}{} })
				}
			})
			callCtx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			start := time.Now()
			err := rc.call(callCtx, retrying, observe)
			results <- result{rc.method, err, int(attempts.Load()), time.Since(start)}
		}()
	}
	for i := range burst {
		select {
		case <-firstShed:
		case <-ctx.Done():
			t.Fatalf("%d of %d calls were shed within %v, want all while the slots are taken", i, burst, 2*stubserver.DefaultTimeout)
		}
	}
	for _, b := range blockers {
		if err := b.CloseSend(); err != nil {
			t.Fatalf("RouteChat CloseSend() = %v", err)
		}
		if _, err := b.Recv(); err != io.EOF {
			t.Fatalf("RouteChat Recv() after CloseSend = %v, want io.EOF", err)
		}
	}

	var (
		retried uint64 // attempts shed
		most    int    // attempts of the call that made most
	)
	for range burst {
		var r result
		select {
		case r = <-results:
		case <-ctx.Done():
			t.Fatalf("the burst did not end within %v", 2*stubserver.DefaultTimeout)
		}
		if r.err != nil {
			t.Errorf("%s in a burst of %d over --max-concurrency %d with %d retries = %v after %d attempts, want success",
				r.method, burst, limit, retries, r.err, r.attempts)
		}
		if r.attempts < 2 || r.attempts > retries+1 {
			t.Errorf("%s in the burst made %d attempts, want 2 to %d", r.method, r.attempts, retries+1)
		}
		if r.took > callTimeout {
			t.Errorf("%s in the burst took %v, longer than its deadline of %v", r.method, r.took, callTimeout)
		}
		retried += uint64(r.attempts - 1)
		most = max(most, r.attempts)
	}
	t.Logf("the burst of %d calls was shed %d times; the most attempts of a call: %d", burst, retried, most)
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
	// Every attempt but the last of each call was shed; every call, and
	// each blocker, reached the handler once.
	line := srv.lastLine()
	if got, want := statsField(t, line, "shed"), retried; got != want {
		t.Errorf("serve() stats %q: shed=%d, want %d, the attempts retried", line, got, want)
	}
	if got, want := statsField(t, line, "calls"), uint64(limit+burst); got != want {
		t.Errorf("serve() stats %q: calls=%d, want %d", line, got, want)
	}
}

// TestGuardMaxDeadline holds calls without a deadline in a one-hour fault
// delay: --max-deadline gives them one, so they fail DEADLINE_EXCEEDED
// soon after it.
func TestGuardMaxDeadline(t *testing.T) {
	const maxDeadline = 50 * time.Millisecond
	srv := startServe(t, "--max-deadline", maxDeadline.String(), "--faults", "delay=1h", "--seed", "1")
	client := pb.NewRouteGuideClient(dial(t, srv.addr, grpc.WithDisableRetry()))
	for _, rc := range allCalls {
		ctx, cancel := noDeadline()
		start := time.Now()
		err := rc.call(ctx, client)
		took := time.Since(start)
		cancel()
		if got := status.Code(err); got != codes.DeadlineExceeded {
			t.Errorf("%s without a deadline, in a 1h delay, with --max-deadline %v = %v after %v, want code %v",
				rc.method, maxDeadline, err, took, codes.DeadlineExceeded)
		}
		if took < maxDeadline {
			t.Errorf("%s with --max-deadline %v ended after %v, want at least %v", rc.method, maxDeadline, took, maxDeadline)
		}
	}
	if err := srv.stop(t); err != nil {
		t.Errorf("serve() = %v, want nil", err)
	}
	if got, want := statsField(t, srv.lastLine(), "delays"), uint64(len(allCalls)); got != want {
		t.Errorf("serve() stats %q: delays=%d, want %d", srv.lastLine(), got, want)
	}
}

// probePanic is the request header that makes a probe handler panic.
const probePanic = "probe-panic"

// probe wraps the route guide: every handler reports the time left of its
// deadline, and panics when the call has the header probePanic.
type probe struct {
	*server.Server
	left chan time.Duration // the time left when a handler started; -1 for no deadline
}

func (p *probe) enter(ctx context.Context) {
	left := time.Duration(-1)
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	p.left <- left
	if len(metadata.ValueFromIncomingContext(ctx, probePanic)) > 0 {
		panic("probe")
	}
}

func (p *probe) GetFeature(ctx context.Context, pt *pb.Point) (*pb.Feature, error) {
	p.enter(ctx)
	return p.Server.GetFeature(ctx, pt)
}

func (p *probe) ListFeatures(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
	p.enter(stream.Context())
	return p.Server.ListFeatures(r, stream)
}

func (p *probe) RecordRoute(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
	p.enter(stream.Context())
	return p.Server.RecordRoute(stream)
}

func (p *probe) RouteChat(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	p.enter(stream.Context())
	return p.Server.RouteChat(stream)
}

// TestGuardHandler wraps the route guide's handlers, behind the command's
// interceptor chain: a handler of a call without a deadline sees the
// --max-deadline, and a handler's panic becomes INTERNAL while the server
// keeps serving.
func TestGuardHandler(t *testing.T) {
	const maxDeadline = time.Hour
	args := []string{"--max-deadline", maxDeadline.String()}
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q) = %v", args, err)
	}
	panics := make(chan any, len(allCalls))
	onPanic := interceptors.WithPanicHandler(func(_ context.Context, p any, _ []byte) { panics <- p })
	guard, err := interceptors.NewServer(append(cfg.guard.options(), onPanic)...)
	if err != nil {
		t.Fatalf("interceptors.NewServer(%q) = %v", args, err)
	}
	in, err := faultinject.New(nil)
	if err != nil {
		t.Fatalf("faultinject.New(nil) = %v", err)
	}
	gs := newGRPCServer(guard, in)
	p := &probe{Server: server.New(), left: make(chan time.Duration, 1)}
	pb.RegisterRouteGuideServer(gs, p)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	defer func() {
		gs.Stop()
		<-served
	}()
	client := pb.NewRouteGuideClient(dial(t, lis.Addr().String(), grpc.WithDisableRetry()))

	// handlerLeft returns what the handler of the last call reported.
	handlerLeft := func(method string) time.Duration {
		select {
		case left := <-p.left:
			return left
		default:
			t.Fatalf("%s: the handler did not run", method)
			return 0
		}
	}
	for _, rc := range allCalls {
		ctx, cancel := noDeadline()
		err := rc.call(ctx, client)
		if err != nil {
			t.Errorf("%s without a deadline = %v, want success", rc.method, err)
		}
		if left := handlerLeft(rc.method); left <= 0 || left > maxDeadline {
			t.Errorf("%s without a deadline: the handler had %v left, want a deadline within --max-deadline %v", rc.method, left, maxDeadline)
		}

		err = rc.call(metadata.AppendToOutgoingContext(ctx, probePanic, "1"), client)
		cancel()
		if got := status.Code(err); got != codes.Internal {
			t.Errorf("%s whose handler panics = %v, want code %v", rc.method, err, codes.Internal)
		}
		handlerLeft(rc.method)
		select {
		case v := <-panics:
			if v != "probe" {
				t.Errorf("%s: the panic handler saw %v, want %q", rc.method, v, "probe")
			}
		default:
			t.Errorf("%s: the panic handler was not called", rc.method)
		}
	}
	want := interceptors.ServerStats{Calls: 2 * uint64(len(allCalls)), Panics: uint64(len(allCalls))}
	if got := guard.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}
