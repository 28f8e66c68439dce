package retry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func constRand(v float64) func() float64 { return func() float64 { return v } }

func TestA6BackoffSequence(t *testing.T) {
	b := NewA6Backoff(100*time.Millisecond, time.Second, 2)
	b.rand = constRand(0.5) // factor 1.0
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.NextBackOff(); got != w*time.Millisecond {
			t.Errorf("NextBackOff() #%d = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.NextBackOff(); got != 100*time.Millisecond {
		t.Errorf("after Reset, NextBackOff() = %v, want 100ms", got)
	}
}

func TestA6BackoffJitterBounds(t *testing.T) {
	tests := []struct {
		r    float64
		want time.Duration
	}{
		{0, 80 * time.Millisecond},
		{0.25, 90 * time.Millisecond},
		{0.999999, 119999960 * time.Nanosecond},
	}
	for _, tt := range tests {
		b := NewA6Backoff(100*time.Millisecond, time.Second, 2)
		b.rand = constRand(tt.r)
		if got := b.NextBackOff(); got != tt.want {
			t.Errorf("NextBackOff() with rand %v = %v, want %v", tt.r, got, tt.want)
		}
	}
	// The real source stays within [0.8, 1.2] of the base.
	b := NewA6Backoff(time.Second, time.Second, 1)
	for i := 0; i < 1000; i++ {
		if got := b.NextBackOff(); got < 800*time.Millisecond || got > 1200*time.Millisecond {
			t.Fatalf("NextBackOff() = %v, want within [0.8s, 1.2s]", got)
		}
	}
}

func TestA6BackoffHugeValuesSaturate(t *testing.T) {
	b := NewA6Backoff(time.Hour, 1<<62, 1e300)
	b.rand = constRand(0.999)
	for i := 0; i < 5; i++ {
		if got := b.NextBackOff(); got < 0 {
			t.Fatalf("NextBackOff() #%d = %v, want non-negative", i, got)
		}
	}
}

func TestFixedBackoff(t *testing.T) {
	b := NewFixedBackoff(20*time.Millisecond, 0)
	for i := 0; i < 3; i++ {
		if got := b.NextBackOff(); got != 20*time.Millisecond {
			t.Errorf("NextBackOff() = %v, want 20ms", got)
		}
	}
	j := NewFixedBackoff(100*time.Millisecond, 0.1)
	j.rand = constRand(0)
	if got := j.NextBackOff(); got != 90*time.Millisecond {
		t.Errorf("jittered NextBackOff() with rand 0 = %v, want 90ms", got)
	}
	j.rand = nil
	for i := 0; i < 1000; i++ {
		if got := j.NextBackOff(); got < 90*time.Millisecond || got > 110*time.Millisecond {
			t.Fatalf("jittered NextBackOff() = %v, want within [90ms, 110ms]", got)
		}
	}
	if got := NewFixedBackoff(time.Second, 5).jitter; got != 1 {
		t.Errorf("NewFixedBackoff(1s, 5).jitter = %v, want 1 (capped)", got)
	}
}

func TestThrottleA6(t *testing.T) {
	// maxTokens 10, tokenRatio 0.5: retries are blocked exactly when tokens <= 5.
	th, err := NewThrottle(10, 0.5)
	if err != nil {
		t.Fatalf("NewThrottle(10, 0.5) = %v", err)
	}
	steps := []struct {
		op        string // "fail" or "ok"
		throttled bool
		tokens    float64
	}{
		{"fail", false, 9},
		{"fail", false, 8},
		{"fail", false, 7},
		{"fail", false, 6},
		{"fail", true, 5},
		{"ok", false, 5.5},
		{"fail", true, 4.5},
		{"ok", false, 5},
		{"ok", false, 5.5},
		{"ok", false, 6},
		{"fail", true, 5},
		{"ok", false, 5.5},
		{"ok", false, 6},
		{"ok", false, 6.5},
		{"fail", false, 5.5},
	}
	for i, s := range steps {
		switch s.op {
		case "fail":
			if got := th.Failure(); got != s.throttled {
				t.Errorf("step %d: Failure() = %v, want %v", i, got, s.throttled)
			}
		case "ok":
			th.Success()
			if got := th.Allowed(); got != (s.tokens > 5) {
				t.Errorf("step %d: Allowed() = %v, want %v", i, got, s.tokens > 5)
			}
		}
		if got := th.Tokens(); got != s.tokens {
			t.Errorf("step %d: Tokens() = %v, want %v", i, got, s.tokens)
		}
	}
	for i := 0; i < 100; i++ {
		th.Success()
	}
	if got := th.Tokens(); got != 10 {
		t.Errorf("Tokens() after many successes = %v, want 10 (capped)", got)
	}
	for i := 0; i < 100; i++ {
		th.Failure()
	}
	if got := th.Tokens(); got != 0 {
		t.Errorf("Tokens() after many failures = %v, want 0 (floor)", got)
	}
}

func TestThrottleNil(t *testing.T) {
	var th *Throttle
	if th.Failure() || !th.Allowed() {
		t.Errorf("nil throttle throttles, want never")
	}
	th.Success()
}

func TestNewThrottleErrors(t *testing.T) {
	tests := []struct {
		max, ratio float64
		wantInErr  string
	}{
		{0, 0.1, "maxTokens 0"},
		{1001, 0.1, "maxTokens 1001"},
		{-1, 0.1, "maxTokens -1"},
		{10, 0, "tokenRatio 0"},
		{10, -1, "tokenRatio -1"},
	}
	for _, tt := range tests {
		_, err := NewThrottle(tt.max, tt.ratio)
		if err == nil || !strings.Contains(err.Error(), tt.wantInErr) {
			t.Errorf("NewThrottle(%v, %v) = %v, want an error naming %q", tt.max, tt.ratio, err, tt.wantInErr)
		}
	}
	// The ratio is used as given: truncating it again would turn the
	// service config's already truncated 1.005 into 1.004.
	for _, ratio := range []float64{1.005, 0.1239, 0.0009} {
		th, err := NewThrottle(10, ratio)
		if err != nil || th.ratio != ratio {
			t.Errorf("NewThrottle(10, %v).ratio = %v, %v, want %v, nil", ratio, th.ratio, err, ratio)
		}
	}
}

func retryInfoStatus(t *testing.T, d *durationpb.Duration) *status.Status {
	t.Helper()
	st, err := status.New(codes.Unavailable, "busy").WithDetails(&errdetails.RetryInfo{RetryDelay: d})
	if err != nil {
		t.Fatalf("WithDetails: %v", err)
	}
	return st
}

func TestParsePushback(t *testing.T) {
	md := func(vals ...string) metadata.MD {
		m := metadata.MD{}
		for _, v := range vals {
			m.Append(PushbackKey, v)
		}
		return m
	}
	tests := []struct {
		name    string
		trailer metadata.MD
		st      *status.Status
		want    Pushback
	}{
		{"absent", nil, nil, Pushback{}},
		{"absent with status", md(), status.New(codes.Unavailable, "x"), Pushback{}},
		{"1000", md("1000"), nil, Pushback{Present: true, Delay: time.Second, Value: "1000"}},
		{"0", md("0"), nil, Pushback{Present: true, Delay: 0, Value: "0"}},
		{"-1", md("-1"), nil, Pushback{Present: true, Stop: true, Value: "-1"}},
		{"xxx", md("xxx"), nil, Pushback{Present: true, Stop: true, Value: "xxx"}},
		{"+5", md("+5"), nil, Pushback{Present: true, Stop: true, Value: "+5"}},
		{"space", md(" 5"), nil, Pushback{Present: true, Stop: true, Value: " 5"}},
		{"empty", md(""), nil, Pushback{Present: true, Stop: true, Value: ""}},
		{"two values", md("10", "20"), nil, Pushback{Present: true, Stop: true, Value: `"10","20"`}},
		{"2^31-1", md("2147483647"), nil, Pushback{Present: true, Delay: 2147483647 * time.Millisecond, Value: "2147483647"}},
		{"huge saturates", md("99999999999999999999999"), nil, Pushback{Present: true, Delay: 1<<63 - 1, Value: "99999999999999999999999"}},
		{"retryinfo", nil, retryInfoStatus(t, durationpb.New(250*time.Millisecond)), Pushback{Present: true, Delay: 250 * time.Millisecond, Value: "RetryInfo{" + durationpb.New(250*time.Millisecond).String() + "}"}},
		{"header beats retryinfo", md("5"), retryInfoStatus(t, durationpb.New(time.Second)), Pushback{Present: true, Delay: 5 * time.Millisecond, Value: "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParsePushback(tt.trailer, tt.st); got != tt.want {
				t.Errorf("ParsePushback() = %+v, want %+v", got, tt.want)
			}
		})
	}
	neg := ParsePushback(nil, retryInfoStatus(t, &durationpb.Duration{Seconds: -1}))
	if !neg.Present || !neg.Stop {
		t.Errorf("ParsePushback(negative RetryInfo) = %+v, want Present and Stop", neg)
	}
	bad := ParsePushback(nil, retryInfoStatus(t, &durationpb.Duration{Seconds: 1, Nanos: -5}))
	if !bad.Present || !bad.Stop {
		t.Errorf("ParsePushback(invalid RetryInfo) = %+v, want Present and Stop", bad)
	}
}

// simulate runs a call under p whose attempts answer the given codes in
// order (OK ends it), and returns the attempts made, the final code and the
// stop reason.
func simulate(t *testing.T, p *Policy, answers []codes.Code) (int, codes.Code, StopReason) {
	t.Helper()
	c := NewCall(p)
	now := time.Unix(0, 0)
	for {
		n := c.BeginAttempt()
		if n > len(answers) {
			t.Fatalf("attempt %d made, only %d answers", n, len(answers))
		}
		code := answers[n-1]
		if code == codes.OK {
			c.Succeeded()
			return n, codes.OK, Succeeded
		}
		err := status.Error(code, "attempt failed")
		d := c.Decide(context.Background(), now, Outcome{Err: err})
		if !d.Retry {
			final := c.Err(err, d.Reason)
			return c.Attempts(), status.Code(final), d.Reason
		}
		now = now.Add(d.Delay)
	}
}

func TestDecideA6Scenarios(t *testing.T) {
	// The scenarios of grpc-go's retry tests: maxAttempts 4, ALREADY_EXISTS
	// retryable, INTERNAL not.
	p := &Policy{MaxAttempts: 4, Backoff: A6(time.Millisecond, time.Millisecond, 1), Codes: []codes.Code{codes.AlreadyExists}}
	AE, IN, OK := codes.AlreadyExists, codes.Internal, codes.OK
	tests := []struct {
		answers  []codes.Code
		attempts int
		code     codes.Code
		reason   StopReason
	}{
		{[]codes.Code{OK}, 1, OK, Succeeded},
		{[]codes.Code{AE, OK}, 2, OK, Succeeded},
		{[]codes.Code{AE, AE, OK}, 3, OK, Succeeded},
		{[]codes.Code{IN}, 1, IN, NonRetryable},
		{[]codes.Code{AE, IN}, 2, IN, NonRetryable},
		{[]codes.Code{AE, AE, AE, AE}, 4, AE, Exhausted},
	}
	for _, tt := range tests {
		attempts, code, reason := simulate(t, p, tt.answers)
		if attempts != tt.attempts || code != tt.code || reason != tt.reason {
			t.Errorf("answers %v: (attempts, code, reason) = (%d, %v, %v), want (%d, %v, %v)",
				tt.answers, attempts, code, reason, tt.attempts, tt.code, tt.reason)
		}
	}
}

func TestDecideDefaultCodes(t *testing.T) {
	for _, tt := range []struct {
		idempotent bool
		code       codes.Code
		retry      bool
	}{
		{false, codes.Unavailable, true},
		{false, codes.Internal, false},
		{true, codes.Internal, true},
		{true, codes.DeadlineExceeded, true},
		{true, codes.InvalidArgument, false},
		{true, codes.Canceled, false},
	} {
		p := &Policy{MaxAttempts: 2, Idempotent: tt.idempotent}
		c := NewCall(p)
		c.BeginAttempt()
		d := c.Decide(context.Background(), time.Now(), Outcome{Err: status.Error(tt.code, "x")})
		if d.Retry != tt.retry {
			t.Errorf("idempotent=%v code=%v: Decide().Retry = %v, want %v", tt.idempotent, tt.code, d.Retry, tt.retry)
		}
	}
	p := &Policy{MaxAttempts: 3, RetryIf: func(c codes.Code) bool { return c == codes.NotFound }}
	if !p.Retryable(codes.NotFound) || p.Retryable(codes.Unavailable) || p.Retryable(codes.OK) {
		t.Errorf("RetryIf policy: Retryable(NotFound, Unavailable, OK) = %v, %v, %v, want true, false, false",
			p.Retryable(codes.NotFound), p.Retryable(codes.Unavailable), p.Retryable(codes.OK))
	}
}

func TestDecideStops(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "down")
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelExpired()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	now := time.Now()
	soon, cancelSoon := context.WithDeadline(context.Background(), now.Add(100*time.Millisecond))
	defer cancelSoon()
	pushback := func(v ...string) metadata.MD {
		md := metadata.MD{}
		for _, s := range v {
			md.Append(PushbackKey, s)
		}
		return md
	}
	tests := []struct {
		name   string
		ctx    context.Context
		policy Policy
		out    Outcome
		retry  bool
		delay  time.Duration
		reason StopReason
	}{
		{"caller deadline", expired, Policy{MaxAttempts: 5}, Outcome{Err: status.Error(codes.DeadlineExceeded, "x")}, false, 0, Deadline},
		{"caller cancel", cancelled, Policy{MaxAttempts: 5}, Outcome{Err: status.Error(codes.Canceled, "x")}, false, 0, Canceled},
		{"committed", context.Background(), Policy{MaxAttempts: 5}, Outcome{Err: unavailable, Committed: true}, false, 0, Committed},
		{"pushback -1", context.Background(), Policy{MaxAttempts: 5}, Outcome{Err: unavailable, Trailer: pushback("-1")}, false, 0, PushbackStop},
		{"pushback xxx", context.Background(), Policy{MaxAttempts: 5}, Outcome{Err: unavailable, Trailer: pushback("xxx")}, false, 0, PushbackStop},
		{"pushback twice", context.Background(), Policy{MaxAttempts: 5}, Outcome{Err: unavailable, Trailer: pushback("1", "2")}, false, 0, PushbackStop},
		{"pushback 1000", context.Background(), Policy{MaxAttempts: 5, Backoff: Fixed(time.Millisecond, 0)}, Outcome{Err: unavailable, Trailer: pushback("1000")}, true, time.Second, Succeeded},
		{"backoff past deadline", soon, Policy{MaxAttempts: 5, Backoff: Fixed(time.Second, 0)}, Outcome{Err: unavailable}, false, time.Second, Deadline},
		{"pushback past deadline", soon, Policy{MaxAttempts: 5}, Outcome{Err: unavailable, Trailer: pushback("2147483647")}, false, 2147483647 * time.Millisecond, Deadline},
		{"backoff within deadline", soon, Policy{MaxAttempts: 5, Backoff: Fixed(50*time.Millisecond, 0)}, Outcome{Err: unavailable}, true, 50 * time.Millisecond, Succeeded},
		{"no retries", context.Background(), Policy{MaxAttempts: 1}, Outcome{Err: unavailable}, false, 0, Exhausted},
		{"unanswered, not idempotent", context.Background(), Policy{MaxAttempts: 5}, Outcome{Err: unavailable, Unanswered: true}, false, 0, Unanswered},
		{"unanswered, idempotent", context.Background(), Policy{MaxAttempts: 5, Idempotent: true}, Outcome{Err: unavailable, Unanswered: true}, true, 0, Succeeded},
		{"unanswered, listed code", context.Background(), Policy{MaxAttempts: 5, Codes: []codes.Code{codes.Unavailable}}, Outcome{Err: unavailable, Unanswered: true}, true, 0, Succeeded},
		{"unanswered, RetryIf", context.Background(), Policy{MaxAttempts: 5, RetryIf: func(codes.Code) bool { return true }}, Outcome{Err: unavailable, Unanswered: true}, true, 0, Succeeded},
		{"unanswered, code not retryable", context.Background(), Policy{MaxAttempts: 5}, Outcome{Err: status.Error(codes.Internal, "x"), Unanswered: true}, false, 0, NonRetryable},
		{"unanswered, no attempts left", context.Background(), Policy{MaxAttempts: 1, Idempotent: true}, Outcome{Err: unavailable, Unanswered: true}, false, 0, Exhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCall(&tt.policy)
			c.BeginAttempt()
			d := c.Decide(tt.ctx, now, tt.out)
			if d.Retry != tt.retry || d.Delay != tt.delay || d.Reason != tt.reason {
				t.Errorf("Decide() = {Retry:%v Delay:%v Reason:%v}, want {Retry:%v Delay:%v Reason:%v}",
					d.Retry, d.Delay, d.Reason, tt.retry, tt.delay, tt.reason)
			}
		})
	}
}

// TestDecideDeadlineSeenFirst: a DEADLINE_EXCEEDED at or past the caller's
// deadline is the caller's deadline, even when the server or the transport
// saw it before the context's timer fired; before the deadline it is a
// per-attempt timeout, retried when the policy lists the code.
func TestDecideDeadlineSeenFirst(t *testing.T) {
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	policy := Policy{MaxAttempts: 5, Codes: []codes.Code{codes.DeadlineExceeded, codes.Unavailable}}
	for _, tt := range []struct {
		name   string
		now    time.Time
		code   codes.Code
		retry  bool
		reason StopReason
	}{
		{"at the deadline", deadline, codes.DeadlineExceeded, false, Deadline},
		{"past the deadline", deadline.Add(time.Millisecond), codes.DeadlineExceeded, false, Deadline},
		{"per-attempt timeout", deadline.Add(-time.Second), codes.DeadlineExceeded, true, Succeeded},
		{"other code at the deadline", deadline, codes.Unavailable, false, Deadline}, // no wait fits
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCall(&policy)
			c.BeginAttempt()
			d := c.Decide(ctx, tt.now, Outcome{Err: status.Error(tt.code, "x")})
			if d.Retry != tt.retry || d.Reason != tt.reason {
				t.Errorf("Decide(%v at deadline%+v) = {Retry:%v Reason:%v}, want {Retry:%v Reason:%v}",
					tt.code, tt.now.Sub(deadline), d.Retry, d.Reason, tt.retry, tt.reason)
			}
		})
	}
}

type countingBackoff struct{ next, resets int }

func (b *countingBackoff) NextBackOff() time.Duration {
	b.next++
	return time.Duration(b.next) * time.Millisecond
}
func (b *countingBackoff) Reset() { b.resets++; b.next = 0 }

func TestDecidePushbackRestartsBackoff(t *testing.T) {
	bo := &countingBackoff{}
	p := &Policy{MaxAttempts: 5, Backoff: func() backoff.BackOff { return bo }}
	c := NewCall(p)
	unavailable := status.Error(codes.Unavailable, "x")
	pb := metadata.Pairs(PushbackKey, "7")
	var delays []time.Duration
	for _, tr := range []metadata.MD{nil, nil, pb, nil} {
		c.BeginAttempt()
		d := c.Decide(context.Background(), time.Now(), Outcome{Err: unavailable, Trailer: tr})
		if !d.Retry {
			t.Fatalf("Decide() stopped with %v, want a retry", d.Reason)
		}
		delays = append(delays, d.Delay)
	}
	want := []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 7 * time.Millisecond, 1 * time.Millisecond}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("delays = %v, want %v", delays, want)
			break
		}
	}
	if bo.resets != 1 {
		t.Errorf("backoff resets = %d, want 1", bo.resets)
	}
}

func TestDecideThrottle(t *testing.T) {
	th, _ := NewThrottle(10, 0.5)
	p := &Policy{MaxAttempts: 2, Throttle: th}
	unavailable := status.Error(codes.Unavailable, "x")
	var reasons []StopReason
	for i := 0; i < 6; i++ {
		c := NewCall(p)
		c.BeginAttempt()
		d := c.Decide(context.Background(), time.Now(), Outcome{Err: unavailable})
		if d.Retry {
			reasons = append(reasons, Succeeded)
		} else {
			reasons = append(reasons, d.Reason)
		}
	}
	want := []StopReason{Succeeded, Succeeded, Succeeded, Succeeded, Throttled, Throttled}
	for i := range want {
		if reasons[i] != want[i] {
			t.Fatalf("decisions = %v, want %v (tokens %v)", reasons, want, th.Tokens())
		}
	}
	// A non-retryable code costs no token.
	before := th.Tokens()
	c := NewCall(p)
	c.BeginAttempt()
	c.Decide(context.Background(), time.Now(), Outcome{Err: status.Error(codes.InvalidArgument, "x")})
	if th.Tokens() != before {
		t.Errorf("tokens after a non-retryable failure = %v, want %v", th.Tokens(), before)
	}
}

func TestError(t *testing.T) {
	last := status.Error(codes.Unavailable, "backend down")
	c := NewCall(&Policy{MaxAttempts: 3})
	c.BeginAttempt()
	c.BeginAttempt()
	c.BeginAttempt()
	err := c.Err(last, Exhausted)
	if got := status.Code(err); got != codes.Unavailable {
		t.Errorf("status.Code(err) = %v, want Unavailable", got)
	}
	st, ok := status.FromError(err)
	if !ok || st.Message() != "backend down" {
		t.Errorf("status.FromError(err) = %v, %v, want message %q", st, ok, "backend down")
	}
	if !errors.Is(err, ErrExhausted) || errors.Is(err, ErrThrottled) {
		t.Errorf("errors.Is(err, ErrExhausted/ErrThrottled) = %v/%v, want true/false", errors.Is(err, ErrExhausted), errors.Is(err, ErrThrottled))
	}
	if !errors.Is(err, last) {
		t.Errorf("errors.Is(err, last) = false, want true")
	}
	attempts, reason, ok := Info(err)
	if attempts != 3 || reason != Exhausted || !ok {
		t.Errorf("Info(err) = %d, %v, %v, want 3, exhausted, true", attempts, reason, ok)
	}
	if _, _, ok := Info(last); ok {
		t.Errorf("Info(plain status error) ok = true, want false")
	}
	if !strings.Contains(err.Error(), "backend down") || !strings.Contains(err.Error(), "attempts: 3") {
		t.Errorf("err.Error() = %q, want the last message and the attempts", err.Error())
	}
	if got := StopReason(42).String(); got != "StopReason(42)" {
		t.Errorf("StopReason(42).String() = %q", got)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{Policy{MaxAttempts: 0}, "MaxAttempts 0"},
		{Policy{MaxAttempts: 2, PerAttemptTimeout: -1}, "PerAttemptTimeout -1ns"},
		{Policy{MaxAttempts: 2, Codes: []codes.Code{codes.Unavailable, 42}}, "Codes[1] 42"},
		{Policy{MaxAttempts: 2, Codes: []codes.Code{codes.OK}}, "Codes[0] 0"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %q", tt.p, err, tt.want)
		}
	}
	ok := Policy{MaxAttempts: 3, Codes: []codes.Code{codes.Unavailable}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v, want nil", ok, err)
	}
}

func TestSlogObserver(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	obs := SlogObserver(slog.New(h))
	ctx := context.Background()
	obs(ctx, Event{Method: "/s/M", Attempt: 1, Code: codes.Unavailable, Err: errors.New("down"), Retry: true, Delay: 20 * time.Millisecond})
	obs(ctx, Event{Method: "/s/M", Attempt: 2, Code: codes.Internal, Err: errors.New("bad"), Reason: NonRetryable, Hedge: true})
	obs(ctx, Event{Method: "/s/M", Attempt: 3, Code: codes.OK})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=INFO msg="grpc attempt" method=/s/M attempt=1 code=Unavailable duration=0s retry_after=20ms error=down`,
		`level=WARN msg="grpc attempt" method=/s/M attempt=2 code=Internal duration=0s hedge=true stop=non-retryable error=bad`,
		`level=DEBUG msg="grpc attempt" method=/s/M attempt=3 code=OK duration=0s`,
	}
	if len(lines) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %s\nwant     %s", i, lines[i], want[i])
		}
	}
	// A disabled level logs nothing.
	buf.Reset()
	quiet := SlogObserver(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	quiet(ctx, Event{Method: "/s/M", Attempt: 1, Code: codes.OK})
	if buf.Len() != 0 {
		t.Errorf("debug event at warn level logged %q, want nothing", buf.String())
	}
}
