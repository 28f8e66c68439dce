package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

// With maxTokens 10 and tokenRatio 0.5, retries stop exactly while the
// tokens are at or below 5.
func TestThrottling(t *testing.T) {
	cfg := mustParse(t, `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
		"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}],
		"retryThrottling": {"maxTokens": 10, "tokenRatio": 0.5}}`)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			// Each step is one call: fail makes every attempt UNAVAILABLE,
			// ok answers OK at once. attempts is what the server must see,
			// from the tokens: each failure takes 1, each success gives 0.5.
			steps := []struct {
				fail     bool
				attempts int
				tokens   string // after the call, for the reader
			}{
				{true, 2, "10→9 retry, →8 exhausted"},
				{true, 2, "→7 retry, →6 exhausted"},
				{true, 1, "→5 throttled"},
				{true, 1, "→4 throttled"},
				{false, 1, "→4.5"},
				{false, 1, "→5"},
				{false, 1, "→5.5"},
				{true, 1, "→4.5 throttled"},
				{false, 1, "→5"},
				{false, 1, "→5.5"},
				{false, 1, "→6"},
				{false, 1, "→6.5"},
				{true, 2, "→5.5 retry, →4.5 throttled"},
			}
			var answers []codes.Code
			for _, st := range steps {
				for i := 0; i < st.attempts; i++ {
					if st.fail {
						answers = append(answers, codes.Unavailable)
					} else {
						answers = append(answers, codes.OK)
					}
				}
			}
			s := newScript(answers...)
			srv := startScript(t, s)
			conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithServiceConfig(cfg))...)
			for i, st := range steps {
				before := s.Attempts()
				err := k.call(testContext(t), pbClient(conn))
				if got := s.Attempts() - before; got != st.attempts {
					t.Fatalf("call %d (%s): server saw %d attempts, want %d", i+1, st.tokens, got, st.attempts)
				}
				if st.fail != (err != nil) {
					t.Fatalf("call %d: error %v, want failure=%v", i+1, err, st.fail)
				}
				if st.fail && st.attempts == 1 && !errors.Is(err, retry.ErrThrottled) {
					t.Errorf("call %d: error %v, want ErrThrottled", i+1, err)
				}
			}
		})
	}
}

func TestPushback(t *testing.T) {
	U, OK := codes.Unavailable, codes.OK
	tests := []struct {
		answers  []codes.Code
		pushback []string
		attempts int
		reason   retry.StopReason
		waits    []time.Duration
	}{
		{[]codes.Code{U, OK}, []string{"-1"}, 1, retry.PushbackStop, nil},
		{[]codes.Code{U, OK}, []string{"xxx"}, 1, retry.PushbackStop, nil},
		{[]codes.Code{U, OK}, []string{"1000"}, 2, retry.Succeeded, []time.Duration{time.Second}},
		{[]codes.Code{U, U, OK}, []string{"0", "250"}, 3, retry.Succeeded, []time.Duration{0, 250 * time.Millisecond}},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%v", k.name, tt.pushback), func(t *testing.T) {
				s := newScript(tt.answers...)
				s.pushback = tt.pushback
				srv := startScript(t, s)
				clk := &interceptors.RecordingClock{}
				conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(4),
					interceptors.WithRetryInterval(time.Hour), interceptors.WithClock(clk))...)
				err := k.call(testContext(t), pbClient(conn))
				if got := s.Attempts(); got != tt.attempts {
					t.Errorf("server saw %d attempts, want %d", got, tt.attempts)
				}
				if tt.reason == retry.Succeeded {
					if err != nil {
						t.Errorf("call = %v, want success", err)
					}
				} else if _, reason, _ := retry.Info(err); reason != tt.reason {
					t.Errorf("call = %v, want stop reason %v", err, tt.reason)
				}
				// Zero waits do not reach the clock.
				want := slices.DeleteFunc(slices.Clone(tt.waits), func(d time.Duration) bool { return d == 0 })
				if got := clk.Waits(); !slices.Equal(got, want) {
					t.Errorf("waits = %v, want %v", got, want)
				}
			})
		}
	}
}

// Two pushback values in one trailer mean stop.
func TestPushbackRepeated(t *testing.T) {
	var calls atomic.Int32
	s := stubHandlersWithTrailer(t, &calls, []string{"10", "20"})
	conn := s.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3))...)
	_, err := pbClient(conn).GetFeature(testContext(t), &pb.Point{})
	if _, reason, _ := retry.Info(err); reason != retry.PushbackStop || calls.Load() != 1 {
		t.Errorf("GetFeature = %v after %d attempts, want PushbackStop after 1", err, calls.Load())
	}
}

// A real one-second pushback: the retry starts at least a second later.
func TestPushbackRealClock(t *testing.T) {
	arrivals := &timeLog{}
	s := newScript(codes.Unavailable, codes.OK)
	s.pushback = []string{"1000"}
	h := s.handlers()
	inner := h.GetFeature
	h.GetFeature = func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
		arrivals.add(time.Now())
		return inner(ctx, p)
	}
	srv := stubserver.Start(t, h)
	conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(1))...)
	if _, err := pbClient(conn).GetFeature(testContext(t), &pb.Point{}); err != nil {
		t.Fatalf("GetFeature = %v, want success", err)
	}
	if got := arrivals.get(); len(got) != 2 || got[1].Sub(got[0]) < time.Second {
		t.Errorf("attempts at %v, want 2 at least 1s apart", got)
	}
}

// A backoff that would end past the deadline is not started: the call
// returns the last attempt's error before its deadline.
func TestBackoffPastDeadline(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.OK)
			srv := startScript(t, s)
			conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3),
				interceptors.WithRetryInterval(time.Second))...)
			ctx, cancel := context.WithTimeout(testContext(t), 100*time.Millisecond)
			defer cancel()
			err := k.call(ctx, pbClient(conn))
			if ctx.Err() != nil {
				t.Errorf("call returned after its deadline, want before")
			}
			if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrDeadline) {
				t.Errorf("call = %v, want the last UNAVAILABLE and ErrDeadline", err)
			}
			if got := s.Attempts(); got != 1 {
				t.Errorf("server saw %d attempts, want 1", got)
			}
		})
	}
}

// Ambiguous codes are retried by default only for idempotent methods:
// GetFeature and ListFeatures are NO_SIDE_EFFECTS in the proto.
func TestIdempotencyDefaults(t *testing.T) {
	tests := []struct {
		kind     int
		opts     []interceptors.Option
		callOpts []interceptors.Option
		attempts int
	}{
		{0, nil, nil, 2}, // GetFeature: NO_SIDE_EFFECTS
		{1, nil, nil, 2}, // ListFeatures: NO_SIDE_EFFECTS
		{2, nil, nil, 1}, // RecordRoute: not declared
		{3, nil, nil, 1}, // RouteChat: not declared
		{2, nil, []interceptors.Option{interceptors.WithIdempotent(true)}, 2},
		{0, []interceptors.Option{interceptors.WithIdempotent(false)}, nil, 1},
		{3, []interceptors.Option{interceptors.WithIdempotentMethods("/routeguide.RouteGuide/RouteChat")}, nil, 2},
	}
	for i, tt := range tests {
		k := kinds[tt.kind]
		t.Run(fmt.Sprintf("%d/%s", i, k.name), func(t *testing.T) {
			s := newScript(codes.Internal, codes.OK)
			srv := startScript(t, s)
			opts := append([]interceptors.Option{interceptors.WithRetryTimes(2)}, tt.opts...)
			conn := srv.Dial(t, interceptors.DialOptions(opts...)...)
			var callOpts []grpcCallOption
			for _, o := range tt.callOpts {
				callOpts = append(callOpts, o)
			}
			_ = k.call(testContext(t), pbClient(conn), callOpts...)
			if got := s.Attempts(); got != tt.attempts {
				t.Errorf("server saw %d attempts for INTERNAL, want %d", got, tt.attempts)
			}
		})
	}
}

// A per-attempt timeout cuts an attempt short; DEADLINE_EXCEEDED from it is
// retried for an idempotent method, and never for the caller's own deadline.
func TestPerAttemptTimeout(t *testing.T) {
	blockFirst := func(attempts *atomic.Int32) func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
		return func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
			if attempts.Add(1) == 1 {
				<-ctx.Done()
				return nil, status.FromContextError(ctx.Err()).Err()
			}
			return &pb.Feature{Name: "feature", Location: p}, nil
		}
	}
	t.Run("idempotent retried", func(t *testing.T) {
		var attempts atomic.Int32
		srv := stubserver.Start(t, stubserver.Handlers{GetFeature: blockFirst(&attempts)})
		conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(2),
			interceptors.WithPerAttemptTimeout(20*time.Millisecond))...)
		if _, err := pbClient(conn).GetFeature(testContext(t), &pb.Point{}); err != nil {
			t.Errorf("GetFeature = %v, want success on the second attempt", err)
		}
		if got := attempts.Load(); got != 2 {
			t.Errorf("server saw %d attempts, want 2", got)
		}
	})
	t.Run("caller deadline never retried", func(t *testing.T) {
		var attempts atomic.Int32
		srv := stubserver.Start(t, stubserver.Handlers{GetFeature: blockFirst(&attempts)})
		conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(2),
			interceptors.WithCodes(codes.DeadlineExceeded))...)
		ctx, cancel := context.WithTimeout(testContext(t), 20*time.Millisecond)
		defer cancel()
		_, err := pbClient(conn).GetFeature(ctx, &pb.Point{})
		if status.Code(err) != codes.DeadlineExceeded || !errors.Is(err, retry.ErrDeadline) {
			t.Errorf("GetFeature = %v, want DEADLINE_EXCEEDED and ErrDeadline", err)
		}
		if got := attempts.Load(); got != 1 {
			t.Errorf("server saw %d attempts, want 1", got)
		}
	})
}

func TestCallOptions(t *testing.T) {
	tests := []struct {
		name     string
		callOpts []grpcCallOption
		attempts int
	}{
		{"interceptor default", nil, 3},
		{"Disable", []grpcCallOption{interceptors.Disable()}, 1},
		{"WithRetryTimes(1)", []grpcCallOption{interceptors.WithRetryTimes(1)}, 2},
		{"last wins", []grpcCallOption{interceptors.WithRetryTimes(0), interceptors.WithRetryTimes(1)}, 2},
		{"WithCodes(NotFound)", []grpcCallOption{interceptors.WithCodes(codes.NotFound)}, 1},
	}
	for _, k := range kinds {
		for _, tt := range tests {
			t.Run(k.name+"/"+tt.name, func(t *testing.T) {
				s := newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable)
				srv := startScript(t, s)
				conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(2))...)
				_ = k.call(testContext(t), pbClient(conn), tt.callOpts...)
				if got := s.Attempts(); got != tt.attempts {
					t.Errorf("server saw %d attempts, want %d", got, tt.attempts)
				}
			})
		}
	}
}

func TestObserver(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.OK)
			srv := startScript(t, s)
			var events []retry.Event
			conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(2),
				interceptors.WithObserver(func(_ context.Context, e retry.Event) { events = append(events, e) }))...)
			if err := k.call(testContext(t), pbClient(conn)); err != nil {
				t.Fatalf("call = %v", err)
			}
			if len(events) != 2 {
				t.Fatalf("observed %d events, want 2: %+v", len(events), events)
			}
			e1, e2 := events[0], events[1]
			if e1.Attempt != 1 || e1.Code != codes.Unavailable || !e1.Retry || e1.Err == nil || e1.Method == "" {
				t.Errorf("first event = %+v, want attempt 1 UNAVAILABLE retried", e1)
			}
			if e2.Attempt != 2 || e2.Code != codes.OK || e2.Retry || e2.Err != nil || e2.Method != e1.Method {
				t.Errorf("second event = %+v, want attempt 2 OK", e2)
			}
		})
	}
}

// The service config's timeout becomes the call's deadline when the caller
// set none.
func TestServiceConfigTimeout(t *testing.T) {
	cfg := mustParse(t, `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}], "timeout": "0.05s"}]}`)
	deadlines := make(chan bool, 1)
	srv := stubserver.Start(t, stubserver.Handlers{GetFeature: func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
		_, ok := ctx.Deadline()
		deadlines <- ok
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}})
	conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithServiceConfig(cfg))...)
	_, err := pbClient(conn).GetFeature(context.Background(), &pb.Point{})
	hadDeadline := <-deadlines
	if status.Code(err) != codes.DeadlineExceeded || !hadDeadline {
		t.Errorf("GetFeature = %v (server saw deadline: %v), want DEADLINE_EXCEEDED with a deadline", err, hadDeadline)
	}
}
