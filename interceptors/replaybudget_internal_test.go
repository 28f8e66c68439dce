package interceptors

import (
	"context"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// boundBuffer is a replay buffer bound to a connection's share, with its
// owner's lock and the call's context.
type boundBuffer struct {
	mu     sync.Mutex
	buf    replayBuffer
	cancel context.CancelFunc
}

func newBound(rb *replayBudgets, cc *grpc.ClientConn, limit int) *boundBuffer {
	ctx, cancel := context.WithCancel(context.Background())
	b := &boundBuffer{cancel: cancel}
	b.buf.bind(rb, cc, limit, ctx, &b.mu)
	return b
}

// note is a RouteNote whose record (length prefix included) takes exactly
// n bytes, for n from 3 to 129.
func note(n int) *pb.RouteNote {
	return &pb.RouteNote{Message: strings.Repeat("x", n-3)}
}

// held returns what the budget counts for cc, and checks it against the
// buffers' capacities.
func held(t *testing.T, rb *replayBudgets, cc *grpc.ClientConn, bufs ...*boundBuffer) int {
	t.Helper()
	rb.mu.Lock()
	defer rb.mu.Unlock()
	sum := 0
	for _, b := range bufs {
		sum += cap(b.buf.arena)
	}
	if got := rb.used[cc]; got != sum {
		t.Fatalf("the connection's share counts %d bytes, its buffers' capacities add up to %d", got, sum)
	}
	if _, ok := rb.used[cc]; !ok && sum == 0 {
		return 0
	}
	if sum == 0 {
		t.Fatalf("a connection holding nothing still has an entry")
	}
	return sum
}

// TestConnShareLimits: two calls on one connection share its limit; the
// second's buffer grows only as far as what the first left; a refused
// growth refuses the message (the call commits); a reset gives all back.
func TestConnShareLimits(t *testing.T) {
	const (
		callLimit = 1000
		connLimit = 1500
	)
	var rb replayBudgets
	cc := new(grpc.ClientConn)
	a, b := newBound(&rb, cc, connLimit), newBound(&rb, cc, connLimit)
	defer a.cancel()
	defer b.cancel()

	// a doubles up to its own limit: 100, 200, 400, 800, 1000.
	for i := range 10 {
		if !a.buf.add(note(100), callLimit) {
			t.Fatalf("a: add %d refused, want kept", i)
		}
	}
	if got := held(t, &rb, cc, a, b); got != callLimit {
		t.Fatalf("a holds %d bytes, want its limit %d", got, callLimit)
	}
	if a.buf.add(note(100), callLimit) {
		t.Fatalf("a: add past its own limit kept, want refused")
	}
	// b gets the 500 left: 100, 200, 400, then exactly 500 rather than 800.
	kept := 0
	for b.buf.add(note(100), callLimit) {
		kept++
	}
	if kept != 5 || cap(b.buf.arena) != 500 {
		t.Fatalf("b kept %d messages in a capacity of %d, want 5 in 500 (what the connection had left)", kept, cap(b.buf.arena))
	}
	if got := held(t, &rb, cc, a, b); got != connLimit {
		t.Fatalf("the connection holds %d bytes, want its limit %d", got, connLimit)
	}
	// Another connection has its own share.
	other := new(grpc.ClientConn)
	c := newBound(&rb, other, connLimit)
	defer c.cancel()
	if !c.buf.add(note(100), callLimit) {
		t.Fatalf("a call on another connection was refused")
	}
	a.buf.reset()
	if got := held(t, &rb, cc, a, b); got != 500 {
		t.Fatalf("after a's reset the connection holds %d bytes, want b's 500", got)
	}
	b.buf.reset()
	c.buf.reset()
	held(t, &rb, cc)
	held(t, &rb, other)
	if rb.peak != connLimit {
		t.Errorf("peak = %d, want %d", rb.peak, connLimit)
	}
	if len(rb.holders) != 0 {
		t.Errorf("%d holders after every reset, want 0", len(rb.holders))
	}
}

// TestConnShareZero: with a limit of 0 no stream call keeps anything.
func TestConnShareZero(t *testing.T) {
	var rb replayBudgets
	b := newBound(&rb, new(grpc.ClientConn), 0)
	defer b.cancel()
	if b.buf.add(note(10), defaultMaxReplayBytes) {
		t.Errorf("add with a connection limit of 0 kept the message, want refused")
	}
}

// TestConnShareUnbound: a negative limit binds nothing; the call's own
// limit still holds.
func TestConnShareUnbound(t *testing.T) {
	var rb replayBudgets
	b := newBound(&rb, new(grpc.ClientConn), -1)
	defer b.cancel()
	for range 100 {
		b.buf.add(note(100), 1000)
	}
	if cap(b.buf.arena) != 1000 || rb.used != nil || b.buf.budget != nil {
		t.Errorf("cap = %d, used = %v, bound = %v; want 1000, nil, false", cap(b.buf.arena), rb.used, b.buf.budget != nil)
	}
}

// TestConnShareReclaim: a call abandoned by its caller (context cancelled,
// stream never touched again) holds its share until the connection needs
// it: then a new call gets it, and the abandoned buffer is empty. An owner
// busy under its lock is skipped, not waited for.
func TestConnShareReclaim(t *testing.T) {
	var rb replayBudgets
	cc := new(grpc.ClientConn)
	abandoned, busy, live := newBound(&rb, cc, 1000), newBound(&rb, cc, 1000), newBound(&rb, cc, 1000)
	defer live.cancel()
	for range 8 { // capacities 100, 200, 400, 800
		abandoned.buf.add(note(100), 800)
	}
	for range 2 {
		busy.buf.add(note(100), 200)
	}
	if got := held(t, &rb, cc, abandoned, busy, live); got != 1000 {
		t.Fatalf("the connection holds %d bytes, want its limit 1000", got)
	}
	abandoned.cancel()
	busy.cancel()
	busy.mu.Lock() // its owner is in the middle of something
	ok := live.buf.add(note(100), 1000)
	busy.mu.Unlock()
	if !ok {
		t.Fatalf("add refused while an abandoned call held 800 of the 1000 bytes, want it reclaimed")
	}
	if abandoned.buf.len() != 0 || cap(abandoned.buf.arena) != 0 {
		t.Errorf("the abandoned buffer keeps %d messages in %d bytes, want none", abandoned.buf.len(), cap(abandoned.buf.arena))
	}
	if busy.buf.len() != 2 {
		t.Errorf("the busy owner's buffer keeps %d messages, want its 2: it was locked", busy.buf.len())
	}
	if got := held(t, &rb, cc, abandoned, busy, live); got != 300 {
		t.Errorf("the connection holds %d bytes, want 300 (busy's 200, live's 100)", got)
	}
	// A reset after the reclaim gives nothing back twice.
	abandoned.buf.reset()
	busy.buf.reset()
	live.buf.reset()
	held(t, &rb, cc)
}

// TestConnShareSweep: abandoned calls that never run the connection short
// are still swept once the holders double, so the registry pins about
// twice the live calls at most, not every call ever abandoned.
func TestConnShareSweep(t *testing.T) {
	const calls = 10_000
	var rb replayBudgets
	cc := new(grpc.ClientConn)
	live := newBound(&rb, cc, 1<<30)
	defer live.cancel()
	live.buf.add(note(10), 100)
	maxHolders := 0
	for range calls {
		b := newBound(&rb, cc, 1<<30)
		b.buf.add(note(10), 100)
		b.cancel() // abandoned
		maxHolders = max(maxHolders, len(rb.holders))
	}
	if maxHolders > 2*minSweepAt {
		t.Errorf("%d abandoned calls left up to %d holders registered, want at most %d", calls, maxHolders, 2*minSweepAt)
	}
	if _, ok := rb.holders[&live.buf]; !ok || live.buf.len() != 1 {
		t.Errorf("the live call lost its registration or its message to a sweep")
	}
	t.Logf("%d abandoned calls, at most %d holders at once", calls, maxHolders)
}

// TestConnShareConcurrent: calls on one connection adding, resetting and
// being abandoned at once never take the connection past its limit, and
// give it all back (run under -race).
func TestConnShareConcurrent(t *testing.T) {
	const (
		workers   = 8
		calls     = 200
		connLimit = 4096
	)
	var rb replayBudgets
	cc := new(grpc.ClientConn)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				b := newBound(&rb, cc, connLimit)
				for j := range 20 {
					b.mu.Lock()
					b.buf.add(note(3+(w*31+i+j)%120), 2048)
					b.mu.Unlock()
				}
				if i%3 == 0 {
					b.cancel() // abandoned: never reset by its owner
					continue
				}
				b.mu.Lock()
				b.buf.reset()
				b.mu.Unlock()
				b.cancel()
			}
		}()
	}
	wg.Wait()
	if rb.peak > connLimit {
		t.Errorf("peak = %d bytes, want at most the limit %d", rb.peak, connLimit)
	}
	// What is left is held by abandoned calls only: reclaim it all.
	rb.mu.Lock()
	rb.reclaimLocked(cc)
	left, holders := rb.used[cc], len(rb.holders)
	rb.mu.Unlock()
	if left != 0 || holders != 0 {
		t.Errorf("after reclaiming the abandoned calls %d bytes and %d holders remain, want 0", left, holders)
	}
	t.Logf("peak %d of %d bytes", rb.peak, connLimit)
}
