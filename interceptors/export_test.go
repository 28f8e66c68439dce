package interceptors

import (
	"sync"
	"time"

	"google.golang.org/grpc"
)

// RecordingClock is a clock whose timers fire at once and which records
// every wait, for tests that check the waits without spending them.
type RecordingClock struct {
	mu     sync.Mutex
	offset time.Duration
	waits  []time.Duration
}

// Now returns the real time plus every wait recorded so far.
func (c *RecordingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// NewTimer records d and returns a timer that has already fired.
func (c *RecordingClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.offset += d
	ch := make(chan time.Time, 1)
	ch <- time.Now().Add(c.offset)
	return ch, func() bool { return false }
}

// Waits returns the waits recorded so far.
func (c *RecordingClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// WithClock replaces the interceptors' clock.
func WithClock(c clock) Option {
	return Option{apply: func(o *options) { o.clock = c }}
}

// WithServerClock replaces a Server's clock.
func WithServerClock(c clock) ServerOption {
	return ServerOption{apply: func(o *serverOptions) { o.clock = c }}
}

// ClockAhead returns a RecordingClock that starts d ahead of the real time.
func ClockAhead(d time.Duration) *RecordingClock { return &RecordingClock{offset: d} }

// ReplayBuffer reports the replay buffer of cs, a stream the retry
// interceptor returned: the capacity of its arena, the bytes it counts
// against the limit, and the messages it keeps. ok is false for another
// stream.
func ReplayBuffer(cs grpc.ClientStream) (capacity, used, msgs int, ok bool) {
	s, ok := cs.(*retryStream)
	if !ok {
		return 0, 0, 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return cap(s.buf.arena), len(s.buf.arena), s.buf.len(), true
}

// DialOptionsWithShare is DialOptions, plus a func that reports the replay
// memory the interceptors' calls hold now, over every connection, and the
// most one connection held at once.
func DialOptionsWithShare(opts ...Option) ([]grpc.DialOption, func() (used, peak int)) {
	c := newClient(opts)
	return []grpc.DialOption{
			grpc.WithChainUnaryInterceptor(c.unary),
			grpc.WithChainStreamInterceptor(c.stream),
			grpc.WithDisableRetry(),
		}, func() (used, peak int) {
			c.replay.mu.Lock()
			defer c.replay.mu.Unlock()
			for _, n := range c.replay.used {
				used += n
			}
			return used, c.replay.peak
		}
}

// LiveHeap returns the bytes of live heap objects, after collections.
func LiveHeap() int64 { return int64(liveHeap()) }
