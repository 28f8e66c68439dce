package interceptors

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

// replayMessages are streams of messages for the replay buffer tests: the
// i-th message of each.
var replayMessages = []struct {
	name string
	msg  func(i int) proto.Message
}{
	{"empty", func(int) proto.Message { return &pb.Point{} }},
	{"small", func(i int) proto.Message { return &pb.Point{Latitude: int32(i)} }},
	{"negative", func(i int) proto.Message { return &pb.Point{Latitude: 409146138, Longitude: -int32(i)} }},
	{"mixed sizes", func(i int) proto.Message { return &pb.RouteNote{Message: strings.Repeat("x", i*37%300)} }},
}

var replayLimits = []int{0, 1, 7, 100, 1000, 4096, 64 << 10, defaultMaxReplayBytes, 1 << 20}

// checkReplay fails the test unless b keeps exactly want, in order, with
// every byte it holds counted and its capacity within limit.
func checkReplay(t *testing.T, b *replayBuffer, want []proto.Message, limit int) {
	t.Helper()
	if c := cap(b.arena); c > limit {
		t.Fatalf("cap(arena) = %d after %d messages, want at most the limit %d", c, b.len(), limit)
	}
	if b.len() != len(want) {
		t.Fatalf("len() = %d, want %d", b.len(), len(want))
	}
	counted, off := 0, 0
	for i, w := range want {
		size := proto.Size(w)
		counted += protowire.SizeVarint(uint64(size)) + size
		var snap snapshot
		snap, off = b.next(off)
		got, err := snap.message()
		if err != nil || !proto.Equal(got, w) {
			t.Fatalf("message %d = %v, %v; want %v", i, got, err, w)
		}
	}
	if off != len(b.arena) || counted != len(b.arena) {
		t.Fatalf("the records end at %d, count %d bytes; the arena holds %d", off, counted, len(b.arena))
	}
}

// TestReplayBufferBound fills a buffer until it refuses a message and
// checks the bound: what the buffer holds for replay (the arena's capacity
// plus the struct itself) never exceeds the limit plus the struct's size,
// however many messages it keeps; the refusal comes only when the next
// message would not fit; and the kept messages replay as sent.
func TestReplayBufferBound(t *testing.T) {
	const structSize = int(unsafe.Sizeof(replayBuffer{}))
	for _, ms := range replayMessages {
		for _, limit := range replayLimits {
			t.Run(fmt.Sprint(ms.name, "/", limit), func(t *testing.T) {
				var b replayBuffer
				var kept []proto.Message
				for i := 0; ; i++ {
					m := ms.msg(i)
					if !b.add(m, limit) {
						size := proto.Size(m)
						if need := len(b.arena) + protowire.SizeVarint(uint64(size)) + size; need <= limit && b.len() < maxReplayMessages {
							t.Fatalf("add(message %d) refused with %d bytes of %d used, needing %d", i, len(b.arena), limit, need)
						}
						break
					}
					kept = append(kept, proto.Clone(m))
					if c := cap(b.arena); c > limit {
						t.Fatalf("cap(arena) = %d after %d messages, want at most the limit %d", c, b.len(), limit)
					}
				}
				checkReplay(t, &b, kept, limit)
				if held := cap(b.arena) + structSize; held > limit+structSize {
					t.Errorf("the buffer holds %d bytes for %d messages, want at most %d + %d", held, b.len(), limit, structSize)
				}
				t.Logf("%d messages in %d bytes, capacity %d", b.len(), len(b.arena), cap(b.arena))
			})
		}
	}
}

// TestReplayBufferMessageCap: empty messages stop at maxReplayMessages even
// when the byte limit would take more.
func TestReplayBufferMessageCap(t *testing.T) {
	var b replayBuffer
	limit := 4 * maxReplayMessages
	for i := range maxReplayMessages {
		if !b.add(&emptypb.Empty{}, limit) {
			t.Fatalf("add(message %d) = false, want true", i)
		}
	}
	if b.add(&emptypb.Empty{}, limit) {
		t.Errorf("add(message %d) = true, want false: past maxReplayMessages", maxReplayMessages)
	}
	if b.len() != maxReplayMessages || len(b.arena) != maxReplayMessages || cap(b.arena) > limit {
		t.Errorf("len() = %d in %d bytes, capacity %d; want %d in %d, capacity at most %d",
			b.len(), len(b.arena), cap(b.arena), maxReplayMessages, maxReplayMessages, limit)
	}
}

// TestReplayBufferRefuses: what the buffer does not keep leaves it as it
// was.
func TestReplayBufferRefuses(t *testing.T) {
	const limit = 10
	first := &pb.Point{Latitude: 1}
	for _, tc := range []struct {
		name string
		m    any
	}{
		{"not a proto message", "a string"},
		{"another type", &pb.RouteNote{Message: "n"}},
		{"too large", &pb.Point{Latitude: -1, Longitude: -1}}, // 23 bytes with its prefix
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b replayBuffer
			if !b.add(first, limit) {
				t.Fatal("add(first) = false, want true")
			}
			if b.add(tc.m, limit) {
				t.Errorf("add(%v) = true, want false", tc.m)
			}
			checkReplay(t, &b, []proto.Message{first}, limit)
		})
	}
}

// TestReplayBufferReuse: a caller that changes one message value between
// sends gets each send replayed as it was.
func TestReplayBufferReuse(t *testing.T) {
	var b replayBuffer
	var want []proto.Message
	p := &pb.Point{}
	for i := range 100 {
		p.Latitude, p.Longitude = int32(i), int32(-i)
		if !b.add(p, defaultMaxReplayBytes) {
			t.Fatalf("add(message %d) = false, want true", i)
		}
		want = append(want, proto.Clone(p))
	}
	p.Latitude = 12345
	checkReplay(t, &b, want, defaultMaxReplayBytes)
}

// TestReplayBufferDropReset: dropLast takes back the last message only,
// and the buffer goes on from there; reset empties it and frees the arena.
func TestReplayBufferDropReset(t *testing.T) {
	var b replayBuffer
	b.dropLast() // no-op when empty
	msg := func(i int) proto.Message { return &pb.RouteNote{Message: strings.Repeat("y", i*50)} }
	var want []proto.Message
	for i := range 5 {
		if !b.add(msg(i), 1000) {
			t.Fatalf("add(message %d) = false, want true", i)
		}
		want = append(want, msg(i))
	}
	b.dropLast()
	want = want[:4]
	checkReplay(t, &b, want, 1000)
	if !b.add(msg(9), 1000) {
		t.Fatal("add after dropLast = false, want true")
	}
	want = append(want, msg(9))
	checkReplay(t, &b, want, 1000)
	for range len(want) {
		b.dropLast()
	}
	checkReplay(t, &b, nil, 1000)
	if b.typ != nil {
		t.Errorf("typ = %v after dropping every message, want nil", b.typ)
	}
	if !b.add(&pb.Point{Latitude: 3}, 1000) {
		t.Fatal("add of another type into the emptied buffer = false, want true")
	}
	b.reset()
	if b.len() != 0 || b.arena != nil || b.typ != nil {
		t.Errorf("after reset: len() = %d, arena %v, typ %v; want 0, nil, nil", b.len(), b.arena, b.typ)
	}
}

// TestReplayBufferFirstAlloc: the first message costs one allocation, of
// its record's size, as the one encoding did before the arena.
func TestReplayBufferFirstAlloc(t *testing.T) {
	m := &pb.Point{Latitude: 409146138, Longitude: -746188906}
	var b replayBuffer
	allocs := testing.AllocsPerRun(100, func() {
		b.reset()
		b.add(m, defaultMaxReplayBytes)
	})
	if allocs > 1 {
		t.Errorf("add(first message) = %v allocations, want at most 1", allocs)
	}
	if size := proto.Size(m); cap(b.arena) != 1+size {
		t.Errorf("cap(arena) = %d after the first message, want its record's %d", cap(b.arena), 1+size)
	}
}

// liveHeap returns the bytes of live heap objects, after two collections:
// sync.Pool keeps what it holds (grpc-go pools its buffers) through one, in
// its victim cache.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestReplayBufferLiveHeap measures what TestReplayBufferBound proves: a
// buffer filled to the default limit with small messages (over 55,000
// routeguide Points) keeps the limit's worth of live heap, plus the
// allocator's rounding, not several times it. The slack only absorbs what
// else the test binary allocates meanwhile.
func TestReplayBufferLiveHeap(t *testing.T) {
	const slack = 64 << 10
	msgs := make([]proto.Message, maxReplayMessages)
	for i := range msgs {
		msgs[i] = &pb.Point{Latitude: int32(i)}
	}
	b := new(replayBuffer)
	before := liveHeap()
	for _, m := range msgs {
		if !b.add(m, defaultMaxReplayBytes) {
			break
		}
	}
	after := liveHeap()
	runtime.KeepAlive(msgs)
	if after > before && after-before > defaultMaxReplayBytes+slack {
		t.Errorf("%d messages keep %d bytes of live heap, want at most the limit %d + %d",
			b.len(), after-before, defaultMaxReplayBytes, slack)
	}
	t.Logf("%d messages, %d bytes counted, %d bytes of live heap", b.len(), len(b.arena), int64(after)-int64(before))
	runtime.KeepAlive(b)
}
