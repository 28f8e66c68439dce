package faultinject

import (
	"context"
	"testing"
	"time"
)

// TestJitter: delays with jitter spread uniformly over [d-j, d+j] and never
// go below zero.
func TestJitter(t *testing.T) {
	for _, c := range []struct {
		d, j     time.Duration
		min, max time.Duration
	}{
		{100 * time.Millisecond, 20 * time.Millisecond, 80 * time.Millisecond, 120 * time.Millisecond},
		{10 * time.Millisecond, 50 * time.Millisecond, 0, 60 * time.Millisecond},
	} {
		in, err := New([]Rule{{Delay: &Delay{Duration: c.d, Jitter: c.j, Percent: 100}}}, WithSeed(3))
		if err != nil {
			t.Fatal(err)
		}
		const n = 10000
		lo, hi := time.Duration(1<<62), time.Duration(0)
		below := 0 // delays under the midpoint of [min, max]
		for range n {
			p, ok := in.decide(context.Background(), "/a.B/C")
			if !ok || !p.delayed {
				t.Fatalf("decide() = %+v, %v; want a delay", p, ok)
			}
			in.release()
			lo, hi = min(lo, p.delay), max(hi, p.delay)
			if p.delay < c.d {
				below++
			}
		}
		if lo < c.min || hi > c.max {
			t.Errorf("delay %v~%v: drew [%v, %v], want within [%v, %v]", c.d, c.j, lo, hi, c.min, c.max)
		}
		// Half the draws fall below d (the zero clamp keeps them there).
		if got := share(below, n); got < 48.5 || got > 51.5 {
			t.Errorf("delay %v~%v: %.1f%% of draws below %v, want 50%% ± 1.5", c.d, c.j, got, c.d)
		}
	}
}

func share(n, of int) float64 { return 100 * float64(n) / float64(of) }

// TestDrawsIndependent: the numbers of different decisions of one call, and
// of one decision in consecutive calls, are uncorrelated.
func TestDrawsIndependent(t *testing.T) {
	src := source{seed: 11}
	const n = 20000
	both, a, b, next := 0, 0, 0, 0
	for i := uint64(1); i <= n; i++ {
		ua, ub := src.float(i, 0, drawAbort), src.float(i, 0, drawDelay)
		if ua < 0 || ua >= 1 {
			t.Fatalf("float(%d) = %v, want in [0, 1)", i, ua)
		}
		if hits(ua, 50) {
			a++
			if hits(ub, 50) {
				both++
			}
			if hits(src.float(i+1, 0, drawAbort), 50) {
				next++
			}
		}
		if hits(ub, 50) {
			b++
		}
	}
	for _, c := range []struct {
		what string
		got  float64
		want float64
	}{
		{"abort", share(a, n), 50},
		{"delay", share(b, n), 50},
		{"abort and delay", share(both, n), 25},
		{"abort in calls i and i+1", share(next, n), 25},
	} {
		if c.got < c.want-1.5 || c.got > c.want+1.5 {
			t.Errorf("%s: %.2f%%, want %v%% ± 1.5", c.what, c.got, c.want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, method string
		want            bool
	}{
		{"", "/a.B/C", true},
		{"*", "/a.B/C", true},
		{"/a.B/*", "/a.B/C", true},
		{"/a.B/*", "/a.Bc/C", false},
		{"/a.B/*", "/a.B/", false},
		{"/a.B/C", "/a.B/C", true},
		{"/a.B/C", "/a.B/Cd", false},
	} {
		if got := matches(c.pattern, c.method); got != c.want {
			t.Errorf("matches(%q, %q) = %v, want %v", c.pattern, c.method, got, c.want)
		}
	}
}
