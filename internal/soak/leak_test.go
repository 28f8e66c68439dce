package soak

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// Leak runs end after a number of calls rather than a time, so that the
// leak grows the same whatever the machine's speed: between the medians of
// the first and last thirds after the warm-up run about 0.55 of the calls
// (2/3 of the 5/6 after the warm-up), so 2,400 calls keeping 4 KiB each
// grow the heap about 5 MiB, well over the 2 MiB limit, and leave over a
// thousand goroutines for a goroutine each.
const (
	leakCalls    = 2400
	leakTimeCap  = 30 * time.Second       // reached only on a very slow machine
	leakInterval = 100 * time.Millisecond // about 40 samples at 600 calls/s
)

// TestLeakIsCaught proves that the flatness check is not vacuous: a soak
// through a client interceptor that leaks on every call must fail it, and
// say what leaked. The 1 KiB case, the size the soak's thresholds are
// chosen to catch, needs more calls than a smoke run makes: it runs when a
// longer soak is asked for (GRPC_RESILIENCE_SOAK or -soak).
func TestLeakIsCaught(t *testing.T) {
	long := *soakFlag != "" || os.Getenv(envBudget) != ""
	tests := []struct {
		name                  string
		leak                  leak
		calls                 int64
		long                  bool
		heapFlagged, gFlagged bool
	}{
		{name: "a goroutine per call", leak: leak{goroutines: 1}, calls: leakCalls, gFlagged: true},
		{name: "4 KiB per call", leak: leak{bytes: 4 << 10}, calls: leakCalls, heapFlagged: true},
		// 10,000 calls × 0.55 × 1 KiB ≈ 5.4 MiB between the thirds.
		{name: "1 KiB per call", leak: leak{bytes: 1 << 10}, calls: 10000, long: true, heapFlagged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.long && !long {
				t.Skipf("runs with a longer soak: set %s or -soak", envBudget)
			}
			cfg := newConfig(leakTimeCap, fmt.Sprintf("leak test: ends after %d calls", tt.calls), 1)
			cfg.leak = tt.leak
			cfg.maxCalls = tt.calls
			cfg.interval = leakInterval
			cfg.idleTimeout = time.Second // the leak keeps the count up
			r := runSoak(t, cfg)
			t.Log("\n" + r.String())
			if r.flat.heapFlagged != tt.heapFlagged || r.flat.goroutinesFlagged != tt.gFlagged {
				t.Errorf("soak with a leak of %d goroutines and %d bytes per call: heap flagged, goroutines flagged = %v, %v, want %v, %v",
					tt.leak.goroutines, tt.leak.bytes, r.flat.heapFlagged, r.flat.goroutinesFlagged, tt.heapFlagged, tt.gFlagged)
			}
			if r.idleOK == tt.gFlagged {
				t.Errorf("soak with a leak of %d goroutines per call: idle goroutines %d before, %d after: flagged = %v, want %v",
					tt.leak.goroutines, r.idle[0], r.idle[1], !r.idleOK, tt.gFlagged)
			}
			for _, f := range r.tally.failures {
				t.Error(f)
			}
		})
	}
}
