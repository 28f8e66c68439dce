package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// largeChat is a server whose RouteChat reads a whole stream, and on the
// first attempt of a call waits at a barrier, then fails UNAVAILABLE before
// any response (so the call is not committed). Later attempts answer one
// note: how many notes and bytes they read.
type largeChat struct {
	arrived chan struct{} // one per first attempt that read its stream
	release chan struct{} // closed to let the first attempts fail
	calls   atomic.Int32
}

func (l *largeChat) chat(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	notes, bytes := 0, 0
	for {
		n, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.OK && err.Error() != "EOF" {
				return err
			}
			break
		}
		notes++
		bytes += len(n.GetMessage())
	}
	md, _ := metadata.FromIncomingContext(stream.Context())
	if len(md.Get("grpc-previous-rpc-attempts")) == 0 {
		l.calls.Add(1)
		l.arrived <- struct{}{}
		select {
		case <-l.release:
		case <-stream.Context().Done():
			return stream.Context().Err()
		}
		return status.Error(codes.Unavailable, "read the whole stream, then failed")
	}
	return stream.Send(&pb.RouteNote{Message: fmt.Sprintf("notes=%d bytes=%d", notes, bytes)})
}

// sendLarge sends notes notes of size bytes each on a RouteChat and returns
// the answer.
func sendLarge(ctx context.Context, conn *grpc.ClientConn, notes, size int) (string, error) {
	st, err := pb.NewRouteGuideClient(conn).RouteChat(ctx)
	if err != nil {
		return "", err
	}
	n := &pb.RouteNote{Message: strings.Repeat("x", size)} // one value, resent: the library keeps encodings
	for range notes {
		if err := st.Send(n); err != nil {
			break // io.EOF: Recv has the status
		}
	}
	if err := st.CloseSend(); err != nil {
		return "", err
	}
	got, err := recvAll(st.Recv)
	if err != nil {
		return "", err
	}
	if len(got) != 1 {
		return "", fmt.Errorf("%d answers, want 1", len(got))
	}
	return got[0].GetMessage(), nil
}

// TestConnReplayLimitLargeStreams: eight 4 MiB bidi streams in flight at
// once on one connection, every one uncommitted until its first attempt
// fails. With each call's own limit at 8 MiB, only the connection's limit
// (6 MiB) keeps the replay memory from reaching 32 MiB: the share never
// passes it, the live heap while all eight are held stays near it, and
// each call either is retried with its whole stream replayed or fails as
// committed, never with lost or duplicated data. Without a connection
// limit the same load holds the whole 32 MiB, which shows that the heap
// measure sees the difference. After the load, the share is all given back
// and a lone large stream is retried again.
func TestConnReplayLimitLargeStreams(t *testing.T) {
	if os.Getenv(ownProcessEnv) == "" {
		// The heap of a process that ran other tests holds their
		// leftovers, tens of MiB that come and go: measure in a fresh one.
		runInOwnProcess(t, "TestConnReplayLimitLargeStreams")
		return
	}
	const (
		streams   = 8
		notes     = 64
		noteSize  = 64 << 10
		callLimit = 8 << 20
		connLimit = 6 << 20
		streamMiB = notes * noteSize >> 20
		// grpc-go keeps up to 256 KiB per stream itself, for transparent
		// retries; the rest is what else the test binary allocates.
		slack = streams*256<<10 + 4<<20
	)
	want := fmt.Sprintf("notes=%d bytes=%d", notes, notes*noteSize)
	for _, tc := range []struct {
		name    string
		limit   int
		bounded bool
	}{
		{"connection limit", connLimit, true},
		{"no connection limit", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &largeChat{arrived: make(chan struct{}), release: make(chan struct{})}
			s := stubserver.Start(t, stubserver.Handlers{RouteChat: srv.chat})
			dopts, share := interceptors.DialOptionsWithShare(
				interceptors.WithRetryTimes(2),
				interceptors.WithIdempotent(true),
				interceptors.WithMaxReplayBytes(callLimit),
				interceptors.WithMaxConnReplayBytes(tc.limit))
			conn := s.Dial(t, dopts...)
			ctx := testContext(t)
			if _, err := pb.NewRouteGuideClient(conn).GetFeature(ctx, &pb.Point{}); err != nil {
				t.Fatalf("GetFeature (to connect) = %v", err)
			}
			before := interceptors.LiveHeap()

			type result struct {
				answer string
				err    error
			}
			results := make(chan result, streams)
			var wg sync.WaitGroup
			for range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, err := sendLarge(ctx, conn, notes, noteSize)
					results <- result{a, err}
				}()
			}
			for range streams {
				select {
				case <-srv.arrived:
				case <-ctx.Done():
					t.Fatalf("the server read %d of %d streams before the deadline", srv.calls.Load(), streams)
				}
			}
			held := interceptors.LiveHeap() - before
			used, peak := share()
			close(srv.release)
			wg.Wait()
			close(results)

			ok, committed := 0, 0
			for r := range results {
				switch {
				case r.err == nil && r.answer == want:
					ok++
				case r.err == nil:
					t.Errorf("a call answered %q, want %q", r.answer, want)
				case status.Code(r.err) == codes.Unavailable && errors.Is(r.err, retry.ErrCommitted):
					committed++
				default:
					t.Errorf("a call failed with %v, want success or UNAVAILABLE after commit", r.err)
				}
			}
			t.Logf("%d streams of %d MiB: share %d KiB held (peak %d KiB), live heap +%d KiB; %d retried OK, %d committed",
				streams, streamMiB, used>>10, peak>>10, held>>10, ok, committed)
			if tc.bounded {
				if peak > connLimit || used > connLimit {
					t.Errorf("the connection's share held %d bytes (peak %d), want at most %d", used, peak, connLimit)
				}
				if held > connLimit+slack {
					t.Errorf("live heap grew %d KiB with every stream held, want at most %d KiB (the limit) + %d KiB",
						held>>10, connLimit>>10, slack>>10)
				}
			} else {
				if ok != streams {
					t.Errorf("%d of %d calls retried OK with no connection limit, want all", ok, streams)
				}
				if min := int64(streams * notes * noteSize * 3 / 4); held < min {
					t.Errorf("live heap grew %d KiB with every stream held and no connection limit, want over %d KiB: the measure cannot see the bound", held>>10, min>>10)
				}
			}
			if used, _ := share(); used != 0 {
				t.Errorf("%d bytes of the share still held after every call ended, want 0", used)
			}

			// Alone, a large stream fits the share and is retried.
			lone := &largeChat{arrived: make(chan struct{}, 1), release: make(chan struct{})}
			close(lone.release)
			s2 := stubserver.Start(t, stubserver.Handlers{RouteChat: lone.chat})
			conn2 := s2.Dial(t, dopts...)
			if a, err := sendLarge(ctx, conn2, notes, noteSize); err != nil || a != want {
				t.Errorf("a lone %d MiB stream = %q, %v; want %q after one retry", streamMiB, a, err, want)
			}
		})
	}
}

// ownProcessEnv marks a test binary run by runInOwnProcess.
const ownProcessEnv = "GRPC_RESILIENCE_OWN_PROCESS"

// runInOwnProcess runs the test named name alone in a new process of this
// test binary, with the same flags that matter (-test.v for its figures),
// and fails t if it fails.
func runInOwnProcess(t *testing.T, name string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), ownProcessEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s alone in process %d:\n%s", name, cmd.Process.Pid, out)
	if err != nil {
		t.Fatalf("%s alone in its own process: %v", name, err)
	}
}

// TestNoRetryNoReplayShare: a stream call that is never retried (the
// service config gives its method a timeout and no retry policy, which
// still brings it through the retry interceptor) keeps no message for
// replay and takes none of the connection's share.
func TestNoRetryNoReplayShare(t *testing.T) {
	cfg, err := rsc.Parse([]byte(`{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],"timeout":"30s"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	s := stubserver.Start(t, stubserver.Handlers{RouteChat: func(grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
		<-release
		return nil
	}})
	dopts, share := interceptors.DialOptionsWithShare(interceptors.WithServiceConfig(cfg))
	st, err := pb.NewRouteGuideClient(s.Dial(t, dopts...)).RouteChat(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)
	for range 10 {
		if err := st.Send(&pb.RouteNote{Message: strings.Repeat("x", 10<<10)}); err != nil {
			t.Fatal(err)
		}
	}
	used, _ := share()
	capacity, _, msgs, ok := interceptors.ReplayBuffer(st.(*grpc.GenericClientStream[pb.RouteNote, pb.RouteNote]).ClientStream)
	if !ok || used != 0 || capacity != 0 || msgs != 0 {
		t.Errorf("after 10 sends of 10 KiB: share %d bytes, buffer %d bytes for %d messages (retry stream %v); want nothing kept", used, capacity, msgs, ok)
	}
}
