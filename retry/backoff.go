package retry

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// A6Backoff is the exponential backoff of gRFC A6: the n-th retry since the
// start or the last Reset waits
//
//	min(Initial * Multiplier^(n-1), Max) * U, with U uniform in [0.8, 1.2].
//
// A server pushback restarts the sequence: callers call Reset after honouring
// one. It implements backoff.BackOff and, like every BackOff, is not safe for
// concurrent use: make one per call with [NewA6Backoff] or an [A6] factory.
type A6Backoff struct {
	initial, max time.Duration
	multiplier   float64
	n            int
	rand         func() float64 // uniform in [0, 1); nil means math/rand/v2
}

// NewA6Backoff returns an A6 backoff that starts at initial, grows by
// multiplier and is capped at max, before jitter. Arguments are used as given;
// validate them first (the service config parser does).
func NewA6Backoff(initial, max time.Duration, multiplier float64) *A6Backoff {
	return &A6Backoff{initial: initial, max: max, multiplier: multiplier}
}

// NextBackOff returns the wait before the next retry and advances the
// sequence. It never returns backoff.Stop: attempts are counted by the Policy.
func (b *A6Backoff) NextBackOff() time.Duration {
	base := float64(b.initial) * math.Pow(b.multiplier, float64(b.n))
	base = math.Min(base, float64(b.max))
	b.n++
	r := b.rand
	if r == nil {
		r = rand.Float64
	}
	return durationOf(base * (0.8 + 0.4*r()))
}

// Reset restarts the sequence at the initial backoff.
func (b *A6Backoff) Reset() { b.n = 0 }

// FixedBackoff waits the same interval before every retry: the manual mode's
// retry interval. With a Jitter fraction j in (0, 1], each wait is drawn
// uniformly from [interval*(1-j), interval*(1+j)]. Not safe for concurrent use.
type FixedBackoff struct {
	interval time.Duration
	jitter   float64
	rand     func() float64
}

// NewFixedBackoff returns a backoff that always waits interval, spread by the
// jitter fraction (0 for none, at most 1).
func NewFixedBackoff(interval time.Duration, jitter float64) *FixedBackoff {
	return &FixedBackoff{interval: interval, jitter: math.Max(0, math.Min(jitter, 1))}
}

// NextBackOff returns the interval, jittered if asked.
func (b *FixedBackoff) NextBackOff() time.Duration {
	if b.jitter == 0 {
		return b.interval
	}
	r := b.rand
	if r == nil {
		r = rand.Float64
	}
	return durationOf(float64(b.interval) * (1 - b.jitter + 2*b.jitter*r()))
}

// Reset does nothing: every wait is the same.
func (b *FixedBackoff) Reset() {}

// A6 returns a factory of A6 backoffs, for [Policy.Backoff].
func A6(initial, max time.Duration, multiplier float64) func() backoff.BackOff {
	return func() backoff.BackOff { return NewA6Backoff(initial, max, multiplier) }
}

// Fixed returns a factory of fixed-interval backoffs, for [Policy.Backoff].
func Fixed(interval time.Duration, jitter float64) func() backoff.BackOff {
	return func() backoff.BackOff { return NewFixedBackoff(interval, jitter) }
}

// durationOf converts nanoseconds held in a float to a Duration, saturating
// instead of overflowing.
func durationOf(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	if ns <= 0 {
		return 0
	}
	return time.Duration(ns)
}
