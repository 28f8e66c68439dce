package interceptors

import (
	"slices"
	"sync"
	"time"
)

const (
	// latencyWindow is how many recent latencies of a method the adaptive
	// hedging delay is drawn from.
	latencyWindow = 128
	// latencyRefresh: the quantile is recomputed after this many new
	// latencies (and first once this many are known), so a call reads it
	// without sorting.
	latencyRefresh = 16
)

// latencies keeps the recent successful attempt latencies of one method and
// the quantile q of them. It is safe for concurrent use.
type latencies struct {
	q float64

	mu     sync.Mutex
	ring   [latencyWindow]time.Duration
	n      int // latencies recorded in all
	cached time.Duration
	ready  bool
}

// record adds a latency, and recomputes the quantile every latencyRefresh
// latencies.
func (l *latencies) record(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.n%latencyWindow] = d
	l.n++
	if l.n%latencyRefresh == 0 {
		window := slices.Clone(l.ring[:min(l.n, latencyWindow)])
		slices.Sort(window)
		i := int(l.q*float64(len(window))+0.5) - 1 // nearest rank
		l.cached, l.ready = window[min(max(i, 0), len(window)-1)], true
	}
}

// delay returns the quantile, or fallback until enough latencies are known.
func (l *latencies) delay(fallback time.Duration) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ready {
		return fallback
	}
	return l.cached
}

// latenciesOf returns the latency window of method for quantile q.
func (c *client) latenciesOf(method string, q float64) *latencies {
	if l, ok := c.latency.load(method); ok {
		return l
	}
	return c.latency.store(method, &latencies{q: q})
}
