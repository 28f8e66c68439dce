package interceptors

import (
	"testing"
	"time"
)

// TestLatenciesQuantile: the fallback applies until 16 latencies are known;
// then the nearest-rank quantile of the last 128, recomputed every 16.
func TestLatenciesQuantile(t *testing.T) {
	l := &latencies{q: 0.95}
	for i := 1; i <= 15; i++ {
		l.record(time.Duration(i) * time.Millisecond)
	}
	if got := l.delay(time.Hour); got != time.Hour {
		t.Fatalf("delay after 15 latencies = %v, want the fallback 1h", got)
	}
	l.record(16 * time.Millisecond)
	// 1..16 ms: rank round(0.95*16) = 15.
	if got := l.delay(time.Hour); got != 15*time.Millisecond {
		t.Errorf("p95 of 1..16 ms = %v, want 15ms", got)
	}
	l.record(time.Hour) // latency 17: counted at the next refresh only
	if got := l.delay(time.Hour); got != 15*time.Millisecond {
		t.Errorf("p95 between refreshes = %v, want 15ms", got)
	}
	// Latencies 18..208 are 2..192 µs. At 208 the window holds the last
	// 128, latencies 81..208 = 65..192 µs; rank round(0.95*128) = 122 is
	// 186 µs, and the hour has left the window.
	for i := 2; i <= 192; i++ {
		l.record(time.Duration(i) * time.Microsecond)
	}
	if got, want := l.delay(time.Hour), 186*time.Microsecond; got != want {
		t.Errorf("p95 of the last 128 = %v, want %v", got, want)
	}
}
