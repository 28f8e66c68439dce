package soak

import (
	"sync"
	"time"
)

// A call that returns long after its deadline is either stuck in the
// library or was not given a CPU: on a shared 2-core machine, under -race,
// the whole process sometimes waits for seconds (the sampler's forced GC
// then takes as long). The stall monitor tells the two apart: a heartbeat
// goroutine notes every gap between its ticks, and a call may overrun its
// deadline by finishSlack plus the time the process stalled meanwhile.
// The monitor sees the process stop (the OS not running it, a
// stop-the-world pause); a run queue long enough to delay the workers but
// not the heartbeat, which its timer readies ahead of the queue, goes
// unseen, and finishSlack has to cover it.

const (
	// heartbeat is the stall monitor's tick.
	heartbeat = 10 * time.Millisecond
	// minStall is the shortest gap (beyond the tick) the monitor keeps.
	minStall = 50 * time.Millisecond
)

// stall is a gap in the heartbeat: from end−d to end.
type stall struct {
	end time.Time
	d   time.Duration
}

// stallMonitor records the process's stalls until stop.
type stallMonitor struct {
	start       time.Time
	stopc, done chan struct{}
	stopOnce    sync.Once

	mu     sync.Mutex
	stalls []stall
}

func startStallMonitor(start time.Time) *stallMonitor {
	m := &stallMonitor{start: start, stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-m.stopc:
				return
			case <-tick.C:
				now := time.Now()
				if gap := now.Sub(last) - heartbeat; gap >= minStall {
					m.mu.Lock()
					m.stalls = append(m.stalls, stall{end: now, d: gap})
					m.mu.Unlock()
				}
				last = now
			}
		}
	}()
	return m
}

// stop ends the monitor; it may be called more than once.
func (m *stallMonitor) stop() {
	m.stopOnce.Do(func() { close(m.stopc) })
	<-m.done
}

// during returns how long the process stalled between from and to.
func (m *stallMonitor) during(from, to time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum time.Duration
	for _, s := range m.stalls {
		b, e := s.end.Add(-s.d), s.end
		if b.Before(from) {
			b = from
		}
		if e.After(to) {
			e = to
		}
		if e.After(b) {
			sum += e.Sub(b)
		}
	}
	return sum
}

// summary returns the number of stalls, their total, and the longest with
// when it ended, from the start.
func (m *stallMonitor) summary() (n int, total time.Duration, longest stall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.stalls {
		total += s.d
		if s.d > longest.d {
			longest = s
		}
	}
	return len(m.stalls), total, longest
}
