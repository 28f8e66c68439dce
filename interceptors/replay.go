package interceptors

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxReplayMessages bounds the number of messages kept for replay. Every
// kept message already counts at least its 1-byte length prefix against the
// byte limit; this keeps a large limit from meaning a huge replay of empty
// messages.
const maxReplayMessages = 1 << 16

// replayBuffer keeps the messages a stream call sent before it committed,
// encoded as they were when sent, so that a caller reusing a message value
// between sends cannot change what a retry replays.
//
// Memory. The encodings sit in one arena, each after its length as a varint
// (protobuf's length-delimited framing), in send order; the message type is
// kept once. The limit counts everything the arena holds: a message costs
// its encoded size plus its length prefix (1 byte below 128 bytes, 2 below
// 16 KiB, 3 below 2 MiB). The arena grows by doubling, never past the limit,
// so cap(arena) <= limit at all times: what a call retains for replay is the
// arena plus this struct, whatever the number of messages.
//
// Every kept message has the first one's type: a gRPC stream sends one
// type, and a message of another type is refused like one that would
// overflow (the call commits).
//
// Readers may decode a snapshot without the owner's lock (hedgeStream's
// senders): add only appends past the kept bytes, growing copies them to a
// new arena, and reset drops the arena rather than reusing it, so the bytes
// of a snapshot never change. dropLast truncates, and is only for a stream
// whose reads hold the lock (retryStream).
//
// Connection share. A buffer bound to a connection's replayBudgets takes
// every growth of its arena's capacity from the connection's share first,
// and gives the whole capacity back in reset; a growth the share refuses is
// refused like one past limit.
type replayBuffer struct {
	typ   protoreflect.MessageType // every kept message's; nil when empty
	arena []byte                   // the kept messages, length-prefixed
	n     int                      // how many messages arena holds

	// Set by bind, for the connection's share:
	budget    *replayBudgets // nil: no connection share
	cc        *grpc.ClientConn
	connLimit int             // the connection's share
	ctx       context.Context // the call's: once it ends, the share may be reclaimed
	mu        *sync.Mutex     // the owner's lock, which guards the buffer; nil: never reclaimed
}

// replayBudgets is the replay memory that the stream calls through one set
// of interceptors hold, per connection. A connection holding nothing has no
// entry, so the map stays as small as the connections in use.
//
// A caller may abandon a call by cancelling its context, and then never
// touch the stream again: nothing would give its share back. So every
// buffer that holds a share is registered in holders, and the shares of
// registered buffers whose call's context has ended are reclaimed when a
// connection's share runs short, and whenever the holders have doubled
// since the last sweep (so abandoned calls pinned by the map stay within
// about twice the live ones). The calls pay no goroutine, no context watch
// and no allocation for it.
type replayBudgets struct {
	mu      sync.Mutex
	used    map[*grpc.ClientConn]int
	holders map[*replayBuffer]struct{}
	sweepAt int // sweep every connection when holders reach it
	peak    int // the most one connection held at once; for tests
}

// minSweepAt is the fewest holders that start a sweep.
const minSweepAt = 64

// take reserves n bytes of b's connection's share for b, and reports
// whether it could. b's owner holds b.mu.
func (rb *replayBudgets) take(b *replayBuffer, n int) bool {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if rb.used[b.cc]+n > b.connLimit {
		rb.reclaimLocked(b.cc)
		if rb.used[b.cc]+n > b.connLimit {
			return false
		}
	}
	if rb.used == nil {
		rb.used = make(map[*grpc.ClientConn]int)
		rb.holders = make(map[*replayBuffer]struct{})
	}
	used := rb.used[b.cc] + n
	rb.used[b.cc] = used
	rb.peak = max(rb.peak, used)
	if _, ok := rb.holders[b]; !ok {
		rb.holders[b] = struct{}{}
		if len(rb.holders) >= rb.sweepAt {
			rb.reclaimLocked(nil)
			rb.sweepAt = max(minSweepAt, 2*len(rb.holders))
		}
	}
	return true
}

// reclaimLocked drops the buffers on cc (on every connection for a nil
// cc) whose call's context has ended. It only tries their owners' locks:
// an owner busy under its lock is skipped (it cannot wait, as the caller of
// take holds its own lock), and its share comes back when it finishes.
func (rb *replayBudgets) reclaimLocked(cc *grpc.ClientConn) {
	for h := range rb.holders {
		if h.mu == nil || (cc != nil && h.cc != cc) || h.ctx.Err() == nil || !h.mu.TryLock() {
			continue
		}
		// An ended context ends the call at its next step, before any
		// replay (retry.Call.Decide checks it first), so the messages are
		// no longer needed.
		rb.giveLocked(h)
		h.typ, h.arena, h.n = nil, nil, 0
		h.mu.Unlock()
	}
}

// giveLocked returns all of b's share and unregisters b.
func (rb *replayBudgets) giveLocked(b *replayBuffer) {
	if used := rb.used[b.cc] - cap(b.arena); used > 0 {
		rb.used[b.cc] = used
	} else {
		delete(rb.used, b.cc)
	}
	delete(rb.holders, b)
}

// bind makes b draw on the share of limit bytes that rb keeps for cc; ctx
// is the call's context and mu the lock its owner holds whenever it uses b;
// a nil mu keeps b from being reclaimed, for an owner that resets b itself
// when ctx ends.
// A negative limit leaves b unbound: with no limit there is nothing to
// count, and no reason to keep a registry. Call it before the first add.
func (b *replayBuffer) bind(rb *replayBudgets, cc *grpc.ClientConn, limit int, ctx context.Context, mu *sync.Mutex) {
	if limit < 0 {
		return
	}
	b.budget, b.cc, b.connLimit, b.ctx, b.mu = rb, cc, limit, ctx, mu
}

// snapshot is a kept message: its type and its encoding.
type snapshot struct {
	typ  protoreflect.MessageType
	wire []byte
}

// message decodes the snapshot into a new message of its type.
func (sn snapshot) message() (proto.Message, error) {
	m := sn.typ.New().Interface()
	if err := proto.Unmarshal(sn.wire, m); err != nil {
		return nil, status.Errorf(codes.Internal, "grpc-resilience: replaying a %s: %v", sn.typ.Descriptor().FullName(), err)
	}
	return m, nil
}

// len returns how many messages the buffer keeps.
func (b *replayBuffer) len() int { return b.n }

// next returns the kept message whose record starts at off (0 for the
// first) and where the following record starts.
func (b *replayBuffer) next(off int) (snapshot, int) {
	wire, k := protowire.ConsumeBytes(b.arena[off:])
	// wire's capacity ends with it, so that no append through it can reach
	// the next record.
	return snapshot{typ: b.typ, wire: wire[:len(wire):len(wire)]}, off + k
}

// add keeps an encoding of m. It reports false, keeping nothing, when m is
// not a proto message, is of another type than the kept messages, or cannot
// be encoded, or when keeping it would take the buffer past limit bytes
// (encodings and length prefixes) or maxReplayMessages messages.
func (b *replayBuffer) add(m any, limit int) bool {
	pm, ok := m.(proto.Message)
	if !ok || b.n >= maxReplayMessages {
		return false
	}
	typ := pm.ProtoReflect().Type()
	if b.typ != nil && typ != b.typ {
		return false
	}
	size := proto.Size(pm)
	need := len(b.arena) + protowire.SizeVarint(uint64(size)) + size
	if need > limit {
		return false
	}
	if need > cap(b.arena) {
		// Doubling keeps appends cheap; the limit caps it. The first
		// message gets exactly its size: one allocation, as most streams
		// send one message before they commit.
		size := min(max(2*cap(b.arena), need), limit)
		if b.budget != nil && !b.budget.take(b, size-cap(b.arena)) {
			// The connection's share cannot double it: take just enough.
			if size == need || !b.budget.take(b, need-cap(b.arena)) {
				return false
			}
			size = need
		}
		arena := make([]byte, len(b.arena), size)
		copy(arena, b.arena)
		b.arena = arena
	}
	arena := protowire.AppendVarint(b.arena, uint64(size))
	arena, err := proto.MarshalOptions{}.MarshalAppend(arena, pm)
	if err != nil || len(arena) != need {
		// grpc's own encoding of m will fail the same way and end the
		// call. A size that changed means the caller changed m while
		// sending it; the bytes written past the kept ones are ignored.
		return false
	}
	b.arena, b.typ = arena, typ
	b.n++
	return true
}

// dropLast drops the last kept message, of a message that failed to send.
func (b *replayBuffer) dropLast() {
	if b.n == 0 {
		return
	}
	off := 0
	for range b.n - 1 {
		_, off = b.next(off)
	}
	b.arena = b.arena[:off]
	b.n--
	if b.n == 0 {
		b.typ = nil
	}
}

// reset drops every kept message and the arena, and gives the arena's
// capacity back to the connection's share.
func (b *replayBuffer) reset() {
	if b.budget != nil && cap(b.arena) > 0 {
		b.budget.mu.Lock()
		b.budget.giveLocked(b)
		b.budget.mu.Unlock()
	}
	b.typ, b.arena, b.n = nil, nil, 0
}
