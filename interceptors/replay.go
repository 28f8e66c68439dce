package interceptors

import (
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
type replayBuffer struct {
	typ   protoreflect.MessageType // every kept message's; nil when empty
	arena []byte                   // the kept messages, length-prefixed
	n     int                      // how many messages arena holds
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
		arena := make([]byte, len(b.arena), min(max(2*cap(b.arena), need), limit))
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

// reset drops every kept message and the arena.
func (b *replayBuffer) reset() {
	*b = replayBuffer{}
}
