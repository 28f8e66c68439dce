package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

func mustParse(t *testing.T, js string) *rsc.Config {
	t.Helper()
	cfg, err := rsc.Parse([]byte(js))
	if err != nil {
		t.Fatalf("rsc.Parse(%s) = %v", js, err)
	}
	return cfg
}

// a6Config retries every route guide method: maxAttempts 4, ALREADY_EXISTS
// retryable (INTERNAL not), tiny backoffs.
const a6Config = `{"methodConfig": [{
	"name": [{"service": "routeguide.RouteGuide"}],
	"retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
		"backoffMultiplier": 1, "retryableStatusCodes": ["already_exists"]}}]}`

// The scenarios of grpc-go's retry tests, for each RPC kind, in memory and
// over TCP.
func TestA6Scenarios(t *testing.T) {
	AE, IN, OK := codes.AlreadyExists, codes.Internal, codes.OK
	scenarios := []struct {
		answers  []codes.Code
		attempts int
		code     codes.Code
		reason   retry.StopReason
	}{
		{[]codes.Code{OK}, 1, OK, retry.Succeeded},
		{[]codes.Code{AE, OK}, 2, OK, retry.Succeeded},
		{[]codes.Code{AE, AE, OK}, 3, OK, retry.Succeeded},
		{[]codes.Code{IN}, 1, IN, retry.NonRetryable},
		{[]codes.Code{AE, IN}, 2, IN, retry.NonRetryable},
		{[]codes.Code{AE, AE, AE, AE}, 4, AE, retry.Exhausted},
	}
	cfg := mustParse(t, a6Config)
	for _, tr := range transports {
		for _, k := range kinds {
			for _, sc := range scenarios {
				t.Run(fmt.Sprintf("%s/%s/%v", tr.name, k.name, sc.answers), func(t *testing.T) {
					s := newScript(sc.answers...)
					srv := tr.start(t, s.handlers())
					conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithServiceConfig(cfg))...)
					err := k.call(testContext(t), pbClient(conn))
					if errors.Is(err, errContent) {
						t.Fatal(err)
					}
					if got := status.Code(err); got != sc.code {
						t.Errorf("call error = %v, want code %v", err, sc.code)
					}
					if got := s.Attempts(); got != sc.attempts {
						t.Errorf("server saw %d attempts, want %d", got, sc.attempts)
					}
					if sc.code != OK {
						attempts, reason, ok := retry.Info(err)
						if !ok || attempts != sc.attempts || reason != sc.reason {
							t.Errorf("retry.Info(err) = %d, %v, %v, want %d, %v, true", attempts, reason, ok, sc.attempts, sc.reason)
						}
						if msg := status.Convert(err).Message(); msg != fmt.Sprintf("scripted attempt %d", sc.attempts) {
							t.Errorf("status message = %q, want the last attempt's", msg)
						}
					}
					wantPrev := []string{""}
					for i := 1; i < sc.attempts; i++ {
						wantPrev = append(wantPrev, fmt.Sprint(i))
					}
					if got := s.Prev(); !slices.Equal(got, wantPrev) {
						t.Errorf("grpc-previous-rpc-attempts per attempt = %q, want %q", got, wantPrev)
					}
				})
			}
		}
	}
}

func TestManualMode(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.OK)
			srv := startScript(t, s)
			clk := &interceptors.RecordingClock{}
			conn := srv.Dial(t, interceptors.DialOptions(
				interceptors.WithRetryTimes(3),
				interceptors.WithRetryInterval(20*time.Millisecond),
				interceptors.WithClock(clk),
			)...)
			if err := k.call(testContext(t), pbClient(conn)); err != nil {
				t.Fatalf("call = %v, want success", err)
			}
			if got := s.Attempts(); got != 4 {
				t.Errorf("server saw %d attempts, want 4", got)
			}
			want := []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}
			if got := clk.Waits(); !slices.Equal(got, want) {
				t.Errorf("waits = %v, want %v", got, want)
			}
		})
	}
}

// The manual mode's waits, on the real clock: every retry starts at least
// the interval after the attempt before it failed.
func TestManualModeRealClock(t *testing.T) {
	const interval = 20 * time.Millisecond
	arrivals := &timeLog{}
	s := newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.OK)
	h := s.handlers()
	getFeature := h.GetFeature
	h.GetFeature = func(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
		arrivals.add(time.Now())
		return getFeature(ctx, p)
	}
	srv := stubserver.Start(t, h)
	conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(3), interceptors.WithRetryInterval(interval))...)
	if err := kinds[0].call(testContext(t), pbClient(conn)); err != nil {
		t.Fatalf("GetFeature = %v, want success", err)
	}
	got := arrivals.get()
	if len(got) != 4 {
		t.Fatalf("server saw %d attempts, want 4", len(got))
	}
	for i := 1; i < len(got); i++ {
		if gap := got[i].Sub(got[i-1]); gap < interval {
			t.Errorf("attempt %d started %v after attempt %d, want at least %v", i+1, gap, i, interval)
		}
	}
}

func TestManualModeExhausted(t *testing.T) {
	s := newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable)
	srv := startScript(t, s)
	conn := srv.Dial(t, interceptors.DialOptions(interceptors.WithRetryTimes(2))...)
	err := kinds[0].call(testContext(t), pbClient(conn))
	if status.Code(err) != codes.Unavailable || !errors.Is(err, retry.ErrExhausted) {
		t.Errorf("GetFeature = %v, want UNAVAILABLE and ErrExhausted", err)
	}
	if got := s.Attempts(); got != 3 {
		t.Errorf("server saw %d attempts, want 3 (retry times 2 + 1)", got)
	}
}

// DialOptions turns off grpc-go's own retries: with the same policy handed to
// grpc-go too, attempts do not multiply.
func TestAttemptsDoNotMultiply(t *testing.T) {
	cfg := mustParse(t, `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}],
		"retryPolicy": {"maxAttempts": 3, "initialBackoff": "0.001s", "maxBackoff": "0.001s",
		"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			s := newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable,
				codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable)
			srv := startScript(t, s)
			opts := append(interceptors.DialOptions(interceptors.WithServiceConfig(cfg)), cfg.DialOption())
			conn := srv.Dial(t, opts...)
			err := k.call(testContext(t), pbClient(conn))
			if status.Code(err) != codes.Unavailable {
				t.Errorf("call = %v, want UNAVAILABLE", err)
			}
			if got := s.Attempts(); got != 3 {
				t.Errorf("server saw %d attempts, want exactly 3", got)
			}
		})
	}
}

// TestOnFinishOnce: grpc calls an OnFinish callback once per call, with the
// call's status; a retried or hedged call of any kind makes several
// attempts and must still call it once.
func TestOnFinishOnce(t *testing.T) {
	modes := []struct {
		name string
		opt  interceptors.Option
	}{
		{"retry", interceptors.WithRetryTimes(2)},
		{"hedging", interceptors.WithHedging(3, time.Second, codes.Unavailable)},
	}
	for _, m := range modes {
		for _, k := range kinds {
			for _, fail := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/fail=%v", m.name, k.name, fail), func(t *testing.T) {
					s := newScript(codes.Unavailable, codes.Unavailable)
					if fail {
						s = newScript(codes.Unavailable, codes.Unavailable, codes.Unavailable)
					}
					srv := startScript(t, s)
					client := pbClient(srv.Dial(t, interceptors.DialOptions(m.opt)...))
					var mu sync.Mutex
					var got []error
					err := k.call(testContext(t), client, grpc.OnFinish(func(err error) {
						mu.Lock()
						defer mu.Unlock()
						got = append(got, err)
					}))
					mu.Lock()
					defer mu.Unlock()
					if len(got) != 1 || status.Code(got[0]) != status.Code(err) || (err == nil) != (got[0] == nil) {
						t.Errorf("call = %v; OnFinish called with %v, want once with the call's status", err, got)
					}
				})
			}
		}
	}
}
