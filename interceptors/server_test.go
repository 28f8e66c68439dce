package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
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

// newServer returns a Server made from opts, failing the test on an error.
func newServer(t *testing.T, opts ...interceptors.ServerOption) *interceptors.Server {
	t.Helper()
	s, err := interceptors.NewServer(opts...)
	if err != nil {
		t.Fatalf("NewServer = %v", err)
	}
	return s
}

// startGuarded serves h behind s's interceptors.
func startGuarded(t *testing.T, s *interceptors.Server, h stubserver.Handlers) *stubserver.Server {
	t.Helper()
	return stubserver.Start(t, h, stubserver.WithServerOptions(
		grpc.ChainUnaryInterceptor(s.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(s.StreamServerInterceptor())))
}

// skewedClock is the real time shifted by skew.
type skewedClock struct{ skew time.Duration }

func (c skewedClock) Now() time.Time { return time.Now().Add(c.skew) }

func (c skewedClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// TestServerGuard: a call whose deadline has passed by the time it arrives,
// or leaves less than the minimum budget, is answered DEADLINE_EXCEEDED
// trailers-only, of every kind, and never reaches the handler; a call with
// enough time, or no deadline, runs.
func TestServerGuard(t *testing.T) {
	cases := []struct {
		name     string
		opts     []interceptors.ServerOption
		deadline bool
		rejected bool
	}{
		// The server's clock runs an hour ahead: every deadline has passed.
		{"expired", []interceptors.ServerOption{interceptors.WithServerClock(skewedClock{time.Hour})}, true, true},
		{"below the minimum budget", []interceptors.ServerOption{interceptors.WithMinBudget(time.Hour)}, true, true},
		{"enough budget", []interceptors.ServerOption{interceptors.WithMinBudget(time.Millisecond)}, true, false},
		{"no deadline", []interceptors.ServerOption{interceptors.WithMinBudget(time.Hour)}, false, false},
	}
	for _, c := range cases {
		for _, k := range kinds {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				g := newServer(t, c.opts...)
				sc := newScript()
				srv := startGuarded(t, g, sc.handlers())
				client := pbClient(srv.Dial(t))
				ctx := context.Background()
				if c.deadline {
					ctx = testContext(t)
				}
				var header metadata.MD
				err := k.call(ctx, client, grpc.Header(&header))
				if !c.rejected {
					if err != nil || sc.Attempts() != 1 {
						t.Fatalf("call = %v, handler ran %d times; want success, once", err, sc.Attempts())
					}
					return
				}
				if status.Code(err) != codes.DeadlineExceeded || sc.Attempts() != 0 {
					t.Errorf("call = %v, handler ran %d times; want DEADLINE_EXCEEDED, never", err, sc.Attempts())
				}
				if len(header) != 0 {
					t.Errorf("header = %v, want none (trailers-only)", header)
				}
				// A client of this package that would retry the code
				// (an idempotent method) is told not to.
				idem := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3), interceptors.WithIdempotent(true))...))
				if err := k.call(ctx, idem); status.Code(err) != codes.DeadlineExceeded || !errors.Is(err, retry.ErrPushback) {
					t.Errorf("retrying call = %v, want DEADLINE_EXCEEDED, stopped by the pushback", err)
				}
				if st := g.Stats(); st.Calls != 2 || st.Expired != 2 || st.InFlight != 0 {
					t.Errorf("Stats() = %+v, want 2 calls, 2 expired, none in flight", st)
				}
			})
		}
	}
}

// TestServerMaxDeadline: a call with no deadline, or a later one, runs with
// the server's maximum; an earlier one keeps its own. Streams too.
func TestServerMaxDeadline(t *testing.T) {
	const maxDeadline = time.Minute
	deadlines := make(chan time.Duration, 2)
	left := func(ctx context.Context) {
		dl, ok := ctx.Deadline()
		if !ok {
			deadlines <- -1
			return
		}
		deadlines <- time.Until(dl)
	}
	g := newServer(t, interceptors.WithMaxDeadline(maxDeadline))
	srv := startGuarded(t, g, stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			left(ctx)
			return &pb.Feature{}, nil
		},
		ListFeatures: func(_ *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			left(stream.Context())
			return nil
		},
	})
	client := pbClient(srv.Dial(t))
	for _, c := range []struct {
		name     string
		timeout  time.Duration // 0 for none
		min, max time.Duration
	}{
		{"none", 0, maxDeadline - stubserver.DefaultTimeout, maxDeadline},
		{"later", time.Hour, maxDeadline - stubserver.DefaultTimeout, maxDeadline},
		{"earlier", stubserver.DefaultTimeout, 0, stubserver.DefaultTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			if _, err := client.GetFeature(ctx, &pb.Point{}); err != nil {
				t.Fatal(err)
			}
			stream, err := client.ListFeatures(ctx, &pb.Rectangle{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Recv(); err != io.EOF {
				t.Fatalf("Recv = %v, want io.EOF", err)
			}
			for _, kind := range []string{"unary", "stream"} {
				if d := <-deadlines; d <= c.min || d > c.max {
					t.Errorf("%s handler's deadline in %v, want in (%v, %v]", kind, d, c.min, c.max)
				}
			}
		})
	}
}

// TestServerNormalizes: handler errors get honest codes; messages are kept.
func TestServerNormalizes(t *testing.T) {
	cases := []struct {
		err  error
		code codes.Code
		msg  string
	}{
		{fmt.Errorf("fetching: %w", context.DeadlineExceeded), codes.DeadlineExceeded, ""},
		{context.Canceled, codes.Canceled, ""},
		{errors.New("disk on fire"), codes.Unknown, "disk on fire"},
		{status.Error(codes.NotFound, "no such feature"), codes.NotFound, "no such feature"},
	}
	for _, c := range cases {
		t.Run(c.code.String(), func(t *testing.T) {
			g := newServer(t)
			// The interceptors outside the Server see the honest status too.
			outer := make(chan error, 2)
			seen := func(err error) {
				if _, ok := status.FromError(err); !ok || status.Code(err) != c.code {
					outer <- fmt.Errorf("an outer interceptor saw %v, want a %v status error", err, c.code)
					return
				}
				outer <- nil
			}
			srv := stubserver.Start(t, stubserver.Handlers{
				GetFeature: func(context.Context, *pb.Point) (*pb.Feature, error) { return nil, c.err },
				ListFeatures: func(*pb.Rectangle, grpc.ServerStreamingServer[pb.Feature]) error {
					return c.err
				},
			}, stubserver.WithServerOptions(
				grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
					resp, err := h(ctx, req)
					seen(err)
					return resp, err
				}, g.UnaryServerInterceptor()),
				grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
					err := h(srv, ss)
					seen(err)
					return err
				}, g.StreamServerInterceptor())))
			client := pbClient(srv.Dial(t))
			_, uerr := client.GetFeature(testContext(t), &pb.Point{})
			stream, err := client.ListFeatures(testContext(t), &pb.Rectangle{})
			if err != nil {
				t.Fatal(err)
			}
			_, serr := stream.Recv()
			for _, err := range []error{uerr, serr} {
				st := status.Convert(err)
				if st.Code() != c.code || !strings.Contains(st.Message(), c.msg) {
					t.Errorf("handler error %v: client got %v, want %v with %q", c.err, err, c.code, c.msg)
				}
				if err := <-outer; err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestServerPanic: a panicking handler, unary or streaming, is answered
// INTERNAL without its panic value, the panic handler sees it, and the
// server keeps serving.
func TestServerPanic(t *testing.T) {
	var seen []any
	var mu sync.Mutex
	g := newServer(t, interceptors.WithPanicHandler(func(_ context.Context, p any, stack []byte) {
		mu.Lock()
		defer mu.Unlock()
		if len(stack) == 0 {
			p = fmt.Sprintf("%v without a stack", p)
		}
		seen = append(seen, p)
	}))
	var calls atomic.Int32
	srv := startGuarded(t, g, stubserver.Handlers{
		GetFeature: func(context.Context, *pb.Point) (*pb.Feature, error) {
			if calls.Add(1) == 1 {
				panic("secret state")
			}
			return &pb.Feature{Name: "after the panic"}, nil
		},
		RouteChat: func(grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
			panic("bidi secret")
		},
	})
	client := pbClient(srv.Dial(t))
	ctx := testContext(t)
	_, err := client.GetFeature(ctx, &pb.Point{})
	if status.Code(err) != codes.Internal || strings.Contains(err.Error(), "secret") {
		t.Errorf("panicking GetFeature = %v, want INTERNAL without the panic value", err)
	}
	chat, err := client.RouteChat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chat.Recv(); status.Code(err) != codes.Internal || strings.Contains(err.Error(), "secret") {
		t.Errorf("panicking RouteChat = %v, want INTERNAL without the panic value", err)
	}
	if f, err := client.GetFeature(ctx, &pb.Point{}); err != nil || f.GetName() != "after the panic" {
		t.Errorf("GetFeature after the panics = %v, %v; want served", f, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[secret state bidi secret]" {
		t.Errorf("the panic handler saw %v, want [secret state bidi secret]", seen)
	}
	if st := g.Stats(); st.Panics != 2 || st.Calls != 3 {
		t.Errorf("Stats() = %+v, want 3 calls, 2 panics", st)
	}
}

// holdServer holds every handler until released, telling the test when
// each one started.
type holdServer struct {
	entered chan struct{}
	release chan struct{}
	ran     atomic.Int32
}

func newHoldServer(capacity int) *holdServer {
	return &holdServer{entered: make(chan struct{}, capacity), release: make(chan struct{})}
}

func (h *holdServer) hold(ctx context.Context) error {
	h.ran.Add(1)
	h.entered <- struct{}{}
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *holdServer) handlers() stubserver.Handlers {
	return stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			return &pb.Feature{Name: "held"}, h.hold(ctx)
		},
		ListFeatures: func(_ *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
			if err := h.hold(stream.Context()); err != nil {
				return err
			}
			return stream.Send(&pb.Feature{Name: "held"})
		},
	}
}

// TestServerShedsOverLimit: with the limit's handlers all held, a burst of
// 10x the limit is answered at once (no call waits) with the shed code and
// the pushback trailer, of both kinds and for a per-method limit; released,
// the held calls complete.
func TestServerShedsOverLimit(t *testing.T) {
	const limit = 2
	cases := []struct {
		name string
		opts []interceptors.ServerOption
		code codes.Code
	}{
		{"server", []interceptors.ServerOption{interceptors.WithConcurrencyLimit(limit)}, codes.Unavailable},
		{"method", []interceptors.ServerOption{
			interceptors.WithMethodConcurrencyLimit("/routeguide.RouteGuide/GetFeature", limit),
			interceptors.WithMethodConcurrencyLimit("/routeguide.RouteGuide/ListFeatures", limit),
			interceptors.WithShedCode(codes.ResourceExhausted), interceptors.WithShedPushback(7 * time.Millisecond)}, codes.ResourceExhausted},
	}
	for _, c := range cases {
		for _, streaming := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streaming=%v", c.name, streaming), func(t *testing.T) {
				h := newHoldServer(limit)
				g := newServer(t, c.opts...)
				srv := startGuarded(t, g, h.handlers())
				client := pbClient(srv.Dial(t))
				ctx := testContext(t)
				call := func() (metadata.MD, error) {
					var trailer metadata.MD
					if !streaming {
						_, err := client.GetFeature(ctx, &pb.Point{}, grpc.Trailer(&trailer))
						return trailer, err
					}
					stream, err := client.ListFeatures(ctx, &pb.Rectangle{})
					if err != nil {
						return nil, err
					}
					_, err = recvAll(stream.Recv)
					return stream.Trailer(), err
				}
				held := make(chan error, limit)
				for range limit {
					go func() {
						_, err := call()
						held <- err
					}()
				}
				for range limit {
					<-h.entered
				}
				wantPushback := "50"
				if c.name == "method" {
					wantPushback = "7"
				}
				for i := range 10*limit - limit {
					trailer, err := call()
					if status.Code(err) != c.code || fmt.Sprint(trailer.Get("grpc-retry-pushback-ms")) != "["+wantPushback+"]" {
						t.Fatalf("call %d over the limit = %v, trailer %v; want %v with pushback %s", i+1, err, trailer, c.code, wantPushback)
					}
				}
				close(h.release)
				for range limit {
					if err := <-held; err != nil {
						t.Errorf("held call = %v, want success", err)
					}
				}
				if st := g.Stats(); st.Shed != 10*limit-limit || st.InFlight != 0 || h.ran.Load() != limit {
					t.Errorf("Stats() = %+v, handlers ran %d; want %d shed, none in flight, %d ran", st, h.ran.Load(), 10*limit-limit, limit)
				}
			})
		}
	}
}

// TestServerShedWithRetryingClient: while the limit's handlers are held,
// a burst of 10x the limit from a client of this library that retries is
// shed (every first attempt); once they are released, every call completes
// within its attempts, and every retry waited exactly the server's pushback.
func TestServerShedWithRetryingClient(t *testing.T) {
	const (
		limit    = 4
		burst    = 10 * limit
		retries  = 50
		pushback = 2 * time.Millisecond
		work     = 2 * time.Millisecond
	)
	g := newServer(t, interceptors.WithConcurrencyLimit(limit), interceptors.WithShedPushback(pushback))
	held := newHoldServer(limit)
	srv := startGuarded(t, g, stubserver.Handlers{
		GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			if p.GetLatitude() == 1 {
				return &pb.Feature{}, held.hold(ctx)
			}
			select {
			case <-time.After(work):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return &pb.Feature{Name: "done"}, nil
		},
	})
	ctx := testContext(t)
	plain := pbClient(srv.Dial(t))
	heldDone := make(chan error, limit)
	for range limit {
		go func() {
			_, err := plain.GetFeature(ctx, &pb.Point{Latitude: 1})
			heldDone <- err
		}()
	}
	for range limit {
		<-held.entered
	}

	var mu sync.Mutex
	var delays []time.Duration
	maxAttempt, firstShed := 0, 0
	allShed := make(chan struct{})
	client := pbClient(srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(retries),
		interceptors.WithObserver(func(_ context.Context, e retry.Event) {
			mu.Lock()
			defer mu.Unlock()
			maxAttempt = max(maxAttempt, e.Attempt)
			if e.Retry {
				delays = append(delays, e.Delay)
			}
			if e.Attempt == 1 && status.Code(e.Err) == codes.Unavailable {
				if firstShed++; firstShed == burst {
					close(allShed)
				}
			}
		}))...))
	errs := make(chan error, burst)
	for range burst {
		go func() {
			_, err := client.GetFeature(ctx, &pb.Point{})
			errs <- err
		}()
	}
	<-allShed // every call of the burst was shed once
	close(held.release)
	for range limit {
		if err := <-heldDone; err != nil {
			t.Errorf("held GetFeature = %v, want success", err)
		}
	}
	for range burst {
		if err := <-errs; err != nil {
			t.Errorf("GetFeature = %v, want success", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range delays {
		if d != pushback {
			t.Fatalf("a retry waited %v, want the pushback %v", d, pushback)
		}
	}
	st := g.Stats()
	t.Logf("%d calls: %d attempts, %d shed, most attempts for one call %d", burst, st.Calls-limit, st.Shed, maxAttempt)
	if st.Shed < burst || maxAttempt > retries+1 || st.Calls != st.Shed+burst+limit || len(delays) != int(st.Shed) {
		t.Errorf("most attempts %d (want <= %d), %d retries; Stats() = %+v, want >= %d shed, calls = shed + %d, a retry per shed call",
			maxAttempt, retries+1, len(delays), st, burst, burst+limit)
	}
}

// TestNewServerErrors: each invalid option is named with its value, and
// the package-level interceptors answer INTERNAL with that error.
func TestNewServerErrors(t *testing.T) {
	for _, c := range []struct {
		opt  interceptors.ServerOption
		want string
	}{
		{interceptors.WithMinBudget(-time.Second), "WithMinBudget(-1s)"},
		{interceptors.WithMaxDeadline(-time.Second), "WithMaxDeadline(-1s)"},
		{interceptors.WithConcurrencyLimit(-1), "WithConcurrencyLimit(-1)"},
		{interceptors.WithMethodConcurrencyLimit("/a.B/C", 0), `WithMethodConcurrencyLimit("/a.B/C", 0)`},
		{interceptors.WithMethodConcurrencyLimit("GetFeature", 1), `WithMethodConcurrencyLimit("GetFeature", 1)`},
		{interceptors.WithMethodConcurrencyLimit("/a.B/", 1), `WithMethodConcurrencyLimit("/a.B/", 1)`},
		{interceptors.WithShedCode(codes.Internal), "WithShedCode(Internal)"},
		{interceptors.WithShedPushback(1 << 62), "WithShedPushback("},
	} {
		if _, err := interceptors.NewServer(c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewServer(%s) = %v, want an error naming it", c.want, err)
		}
	}
	srv := stubserver.Start(t, newScript().handlers(), stubserver.WithServerOptions(
		grpc.UnaryInterceptor(interceptors.UnaryServerInterceptor(interceptors.WithConcurrencyLimit(-1)))))
	_, err := pbClient(srv.Dial(t)).GetFeature(testContext(t), &pb.Point{})
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "WithConcurrencyLimit(-1)") {
		t.Errorf("GetFeature through a misconfigured interceptor = %v, want INTERNAL naming the option", err)
	}
}
