package faultinject_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

func connContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// startConnFaults serves h over TCP through a Listener injecting f; the
// default connection does not retry.
func startConnFaults(t *testing.T, h stubserver.Handlers, f faultinject.ConnFaults, opts ...faultinject.Option) (*stubserver.Server, *faultinject.Listener) {
	t.Helper()
	var fl *faultinject.Listener
	srv := stubserver.StartTCP(t, h,
		stubserver.WithDialOptions(grpc.WithDisableRetry()),
		stubserver.WithListener(func(l net.Listener) net.Listener {
			var err error
			if fl, err = faultinject.NewListener(l, f, opts...); err != nil {
				_ = l.Close()
				t.Fatalf("NewListener(%v) = %v", f, err)
			}
			return fl
		}))
	return srv, fl
}

// within receives from ch, failing the test if nothing comes within
// stubserver.DefaultTimeout.
func within[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(stubserver.DefaultTimeout):
		t.Fatalf("nothing received after %v", stubserver.DefaultTimeout)
		var zero T
		return zero // not reached: Fatalf ends the goroutine
	}
}

var somewhere = &pb.Point{Latitude: 409146138, Longitude: -746188906}

// TestListenerEndsConnection checks that refused and reset connections fail
// calls with UNAVAILABLE and are counted and reported once each.
func TestListenerEndsConnection(t *testing.T) {
	tests := []struct {
		name  string
		f     faultinject.ConnFaults
		kind  faultinject.Kind
		count func(faultinject.ConnStats) uint64
	}{
		{"refuse", faultinject.ConnFaults{Refuse: 100}, faultinject.KindConnRefuse, func(s faultinject.ConnStats) uint64 { return s.Refused }},
		{"reset", faultinject.ConnFaults{Reset: 100}, faultinject.KindConnReset, func(s faultinject.ConnStats) uint64 { return s.Reset }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var handled atomic.Int32
			var rec events
			srv, fl := startConnFaults(t, stubserver.Handlers{
				GetFeature: func(_ context.Context, p *pb.Point) (*pb.Feature, error) {
					handled.Add(1)
					return &pb.Feature{Location: p}, nil
				},
			}, tc.f, faultinject.WithSeed(1), faultinject.WithObserver(rec.observe))

			_, err := srv.Client().GetFeature(connContext(t, stubserver.DefaultTimeout), somewhere)
			if got := status.Code(err); got != codes.Unavailable {
				t.Errorf("GetFeature() through %q = %v, want code %v", tc.f, err, codes.Unavailable)
			}

			// Once Stop returns, Accept has returned for good: the counters
			// and events are final.
			srv.Stop()
			if got := handled.Load(); got != 0 {
				t.Errorf("handler ran %d times, want 0", got)
			}
			stats := fl.Stats()
			n := tc.count(stats)
			if n < 1 {
				t.Errorf("Stats() = %+v, want at least 1 connection %s", stats, tc.name)
			}
			if stats.Accepted != n {
				t.Errorf("Stats() = %+v, want Accepted = %d, every connection %s", stats, n, tc.name)
			}
			events := rec.all()
			if uint64(len(events)) != n {
				t.Errorf("observer saw %d events, want %d as counted: %v", len(events), n, events)
			}
			for i, e := range events {
				if e.Kind != tc.kind || e.Seq != uint64(i+1) || e.Rule != -1 || !strings.HasPrefix(e.Detail, "127.0.0.1:") {
					t.Errorf("event %d = %+v, want kind %v, seq %d, rule -1, detail 127.0.0.1:port", i, e, tc.kind, i+1)
				}
			}
		})
	}
}

// TestListenerPeerSees checks what a plain TCP peer gets from a refused
// connection (a FIN: EOF) and from a reset one (a RST: ECONNRESET), and that
// Accept hands neither to the server.
func TestListenerPeerSees(t *testing.T) {
	tests := []struct {
		name string
		f    faultinject.ConnFaults
		want error
	}{
		{"refuse", faultinject.ConnFaults{Refuse: 100}, io.EOF},
		{"reset", faultinject.ConnFaults{Reset: 100}, syscall.ECONNRESET},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatalf("net.Listen() = %v", err)
			}
			fl, err := faultinject.NewListener(inner, tc.f)
			if err != nil {
				t.Fatalf("NewListener(%v) = %v", tc.f, err)
			}
			accepted := make(chan error, 1)
			go func() {
				c, err := fl.Accept()
				if err == nil {
					c.Close()
				}
				accepted <- err
			}()

			// A RST can beat the end of connect on loopback, and then it is
			// Dial that reports it.
			c, err := net.Dial("tcp", fl.Addr().String())
			if err == nil {
				defer c.Close()
				if err := c.SetDeadline(time.Now().Add(stubserver.DefaultTimeout)); err != nil {
					t.Fatalf("SetDeadline() = %v", err)
				}
				_, err = c.Read(make([]byte, 1))
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("peer Dial() then Read() = %v, want %v", err, tc.want)
			}

			if err := fl.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
			if err := within(t, accepted); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Accept() = %v, want net.ErrClosed once closed, and no connection before", err)
			}
		})
	}
}

// TestListenerCutStream cuts a server stream part way: the client sees
// UNAVAILABLE and one connection is counted as cut.
func TestListenerCutStream(t *testing.T) {
	const cutAfter = 32 << 10
	var rec events
	srv, fl := startConnFaults(t, stubserver.Handlers{
		ListFeatures: func(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
			// Four times cutAfter in all, so the cut comes first.
			name := strings.Repeat("x", 1<<10)
			for range (4 * cutAfter) >> 10 {
				if err := s.Send(&pb.Feature{Name: name}); err != nil {
					return err
				}
			}
			return nil
		},
	}, faultinject.ConnFaults{CutAfter: cutAfter, CutPercent: 100}, faultinject.WithObserver(rec.observe))

	stream, err := srv.Client().ListFeatures(connContext(t, stubserver.DefaultTimeout), &pb.Rectangle{})
	if err != nil {
		t.Fatalf("ListFeatures() = %v", err)
	}
	var received int
	for {
		_, err = stream.Recv()
		if err != nil {
			break
		}
		received++
	}
	if got := status.Code(err); got != codes.Unavailable {
		t.Errorf("ListFeatures Recv() after %d messages = %v, want code %v", received, err, codes.Unavailable)
	}
	if got := fl.Stats(); got.Cut != 1 {
		t.Errorf("Stats() = %+v, want Cut = 1", got)
	}
	want := []faultinject.Event{{Kind: faultinject.KindConnCut, Seq: 1, Rule: -1, Bytes: cutAfter}}
	if diff := cmp.Diff(want, rec.all(), ignoreDetail); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

var ignoreDetail = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())

// pipeListener hands out the server ends of net.Pipe connections made by
// dial, so tests can watch both ends of one connection.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn, 16), done: make(chan struct{})}
}

// dial queues a connection for Accept and returns both its ends.
func (l *pipeListener) dial(t *testing.T) (server, client net.Conn) {
	t.Helper()
	server, client = net.Pipe()
	t.Cleanup(func() { server.Close(); client.Close() })
	l.conns <- server
	return server, client
}

// Accept returns queued connections first, then net.ErrClosed once closed.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	default:
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// acceptOne accepts one connection from fl, which must yield it.
func acceptOne(t *testing.T, fl *faultinject.Listener) net.Conn {
	t.Helper()
	c, err := fl.Accept()
	if err != nil {
		t.Fatalf("Accept() = %v", err)
	}
	return c
}

func newPipeFaults(t *testing.T, f faultinject.ConnFaults, opts ...faultinject.Option) (*pipeListener, *faultinject.Listener) {
	t.Helper()
	pl := newPipeListener()
	fl, err := faultinject.NewListener(pl, f, opts...)
	if err != nil {
		t.Fatalf("NewListener(%v) = %v", f, err)
	}
	t.Cleanup(func() { fl.Close() })
	return pl, fl
}

// TestListenerCutBytes checks the exact byte budget of a cut connection, in
// writes, reads and both together.
func TestListenerCutBytes(t *testing.T) {
	tests := []struct {
		name      string
		writes    []string // written by the server, in order, before reading
		peerSends string   // written by the peer for the server to read
		read      int      // size of the server's one Read, if any
		wantN     []int    // Write results, then the Read's
		wantPeer  string   // what the peer reads before EOF
	}{
		{"write crosses", []string{"abcdef", "ghijkl"}, "", 0, []int{6, 4}, "abcdefghij"},
		{"write meets", []string{"abcdefghij"}, "", 0, []int{10}, "abcdefghij"},
		{"read crosses", nil, "0123456789abcdefghij", 64, []int{10}, ""},
		{"write then read", []string{"abcdef"}, "01234567", 8, []int{6, 4}, "abcdef"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec events
			pl, fl := newPipeFaults(t, faultinject.ConnFaults{CutAfter: 10, CutPercent: 100}, faultinject.WithObserver(rec.observe))
			_, peer := pl.dial(t)
			c := acceptOne(t, fl)

			peerGot := make(chan string, 1)
			go func() {
				b, _ := io.ReadAll(peer)
				peerGot <- string(b)
			}()
			if tc.peerSends != "" {
				go func() { _, _ = peer.Write([]byte(tc.peerSends)) }() // ends when the cut closes the pipe
			}

			var gotN []int
			var lastErr error
			for _, w := range tc.writes {
				n, err := c.Write([]byte(w))
				gotN = append(gotN, n)
				if n < len(w) && !errors.Is(err, net.ErrClosed) {
					t.Errorf("Write(%q) = %d, %v; want a net.ErrClosed error for a short write", w, n, err)
				}
				lastErr = err
			}
			if tc.read > 0 {
				n, err := c.Read(make([]byte, tc.read))
				gotN = append(gotN, n)
				lastErr = err
			}
			if !cmp.Equal(gotN, tc.wantN) {
				t.Errorf("byte counts = %v (last error %v), want %v", gotN, lastErr, tc.wantN)
			}
			if got := within(t, peerGot); got != tc.wantPeer {
				t.Errorf("peer read %q, want %q", got, tc.wantPeer)
			}
			// Every later Read and Write fails.
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read() after the cut = %v, want net.ErrClosed", err)
			}
			if _, err := c.Write([]byte("z")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write() after the cut = %v, want net.ErrClosed", err)
			}
			if got := fl.Stats(); got != (faultinject.ConnStats{Accepted: 1, Cut: 1}) {
				t.Errorf("Stats() = %+v, want Accepted 1, Cut 1", got)
			}
			want := []faultinject.Event{{Kind: faultinject.KindConnCut, Seq: 1, Rule: -1, Bytes: 10, Detail: "pipe"}}
			if diff := cmp.Diff(want, rec.all()); diff != "" {
				t.Errorf("events mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListenerDelayHoldsCall holds a connection far longer than the call's
// deadline: the call fails without reaching the handler, and stopping the
// server does not wait for the delay.
func TestListenerDelayHoldsCall(t *testing.T) {
	var handled atomic.Int32
	var rec events
	delayed := make(chan struct{})
	var once sync.Once
	srv, fl := startConnFaults(t, stubserver.Handlers{
		GetFeature: func(_ context.Context, p *pb.Point) (*pb.Feature, error) {
			handled.Add(1)
			return &pb.Feature{Location: p}, nil
		},
	}, faultinject.ConnFaults{Delay: time.Hour, DelayPercent: 100}, faultinject.WithObserver(func(e faultinject.Event) {
		rec.observe(e)
		once.Do(func() { close(delayed) })
	}))

	_, err := srv.Client().GetFeature(connContext(t, stubserver.ShortTimeout), somewhere)
	if got := status.Code(err); got != codes.DeadlineExceeded {
		t.Errorf("GetFeature() through a delayed connection = %v, want code %v", err, codes.DeadlineExceeded)
	}
	// The client goes on connecting after the call gave up.
	within(t, delayed)
	srv.Stop() // returns at once: closing the Listener ends the delay
	if got := handled.Load(); got != 0 {
		t.Errorf("handler ran %d times, want 0", got)
	}
	stats := fl.Stats()
	if stats.Delayed < 1 || stats.Delayed != stats.Accepted {
		t.Errorf("Stats() = %+v, want every accepted connection delayed", stats)
	}
	for i, e := range rec.all() {
		if e.Kind != faultinject.KindConnDelay || e.Delay != time.Hour || e.Seq != uint64(i+1) {
			t.Errorf("event %d = %+v, want kind %v, delay 1h, seq %d", i, e, faultinject.KindConnDelay, i+1)
		}
	}
}

// TestListenerShortDelay checks that calls over a briefly delayed
// connection still succeed.
func TestListenerShortDelay(t *testing.T) {
	srv, fl := startConnFaults(t, stubserver.Handlers{}, faultinject.ConnFaults{Delay: time.Millisecond, DelayPercent: 100})
	ctx := connContext(t, stubserver.DefaultTimeout)
	for range 2 {
		if _, err := srv.Client().GetFeature(ctx, somewhere); err != nil {
			t.Fatalf("GetFeature() through a connection delayed 1ms = %v, want success", err)
		}
	}
	if got := fl.Stats(); got != (faultinject.ConnStats{Accepted: 1, Delayed: 1}) {
		t.Errorf("Stats() = %+v, want Accepted 1, Delayed 1", got)
	}
}

// TestListenerDelayEnds checks every way a wait for a delayed connection's
// first bytes ends early, for Read and Write.
func TestListenerDelayEnds(t *testing.T) {
	past := time.Unix(1, 0)
	tests := []struct {
		name string
		// before runs before the call starts, end once it may have.
		before func(c net.Conn)
		end    func(c net.Conn, fl *faultinject.Listener)
		// wantErr is the error the waiting call returns; nil means it goes
		// on to the connection and moves the peer's bytes.
		wantErr error
	}{
		{"conn closed", nil, func(c net.Conn, _ *faultinject.Listener) { c.Close() }, net.ErrClosed},
		{"listener closed", nil, func(_ net.Conn, fl *faultinject.Listener) { fl.Close() }, nil},
		{"deadline passed", nil, func(c net.Conn, _ *faultinject.Listener) { c.SetDeadline(past) }, os.ErrDeadlineExceeded},
		{"read deadline passed", nil, func(c net.Conn, _ *faultinject.Listener) {
			c.SetReadDeadline(past)
			c.SetWriteDeadline(past)
		}, os.ErrDeadlineExceeded},
		{"deadline moved earlier", nil, func(c net.Conn, _ *faultinject.Listener) {
			c.SetDeadline(time.Now().Add(time.Hour))
			c.SetDeadline(past)
		}, os.ErrDeadlineExceeded},
		{"deadline cleared", func(c net.Conn) {
			c.SetDeadline(past)
			c.SetDeadline(time.Time{})
		}, func(c net.Conn, _ *faultinject.Listener) { c.Close() }, net.ErrClosed},
	}
	ops := []struct {
		name string
		// do runs the server's call; peer does the matching call on the
		// peer's end, if the server's call gets through.
		do   func(c net.Conn) error
		peer func(c net.Conn)
	}{
		{"Read", func(c net.Conn) error {
			b := make([]byte, 2)
			n, err := io.ReadFull(c, b)
			if err == nil && string(b[:n]) != "hi" {
				return errors.New("read " + string(b[:n]) + ", want hi")
			}
			return err
		}, func(c net.Conn) { _, _ = c.Write([]byte("hi")) }},
		{"Write", func(c net.Conn) error {
			_, err := c.Write([]byte("hi"))
			return err
		}, func(c net.Conn) { _, _ = io.ReadFull(c, make([]byte, 2)) }},
	}
	for _, op := range ops {
		for _, tc := range tests {
			t.Run(op.name+"/"+tc.name, func(t *testing.T) {
				pl, fl := newPipeFaults(t, faultinject.ConnFaults{Delay: time.Hour, DelayPercent: 100})
				_, peer := pl.dial(t)
				c := acceptOne(t, fl)
				if tc.before != nil {
					tc.before(c)
				}

				done := make(chan error, 1)
				go func() { done <- op.do(c) }()
				if tc.wantErr == nil {
					go op.peer(peer)
				}
				tc.end(c, fl)

				err := within(t, done)
				if tc.wantErr == nil && err != nil {
					t.Errorf("%s() = %v, want success", op.name, err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("%s() = %v, want %v", op.name, err, tc.wantErr)
				}
			})
		}
	}
}

// TestListenerPassThrough checks that a connection without faults leaves
// Accept exactly as the wrapped listener returned it.
func TestListenerPassThrough(t *testing.T) {
	// Faults set up, but for no connection.
	pl, fl := newPipeFaults(t, faultinject.ConnFaults{Delay: time.Hour, CutAfter: 1})
	server, _ := pl.dial(t)
	if c := acceptOne(t, fl); c != server {
		t.Errorf("Accept() = %T %p, want the wrapped listener's connection %p", c, c, server)
	}
	if got := fl.Addr(); got != (pipeAddr{}) {
		t.Errorf("Addr() = %v, want the wrapped listener's", got)
	}
	if got := fl.Stats(); got != (faultinject.ConnStats{Accepted: 1}) {
		t.Errorf("Stats() = %+v, want Accepted 1 only", got)
	}
}

// countListener hands out n connections, each already closed at the
// client's end, then fails with net.ErrClosed.
type countListener struct{ left int }

func (l *countListener) Accept() (net.Conn, error) {
	if l.left == 0 {
		return nil, net.ErrClosed
	}
	l.left--
	server, client := net.Pipe()
	client.Close()
	return server, nil
}

func (l *countListener) Close() error   { return nil }
func (l *countListener) Addr() net.Addr { return pipeAddr{} }

// picked accepts n connections through a Listener with f and seed, and
// returns the sequence numbers of the connections each kind of fault hit.
func picked(t *testing.T, n int, f faultinject.ConnFaults, seed uint64) map[faultinject.Kind][]uint64 {
	t.Helper()
	got := make(map[faultinject.Kind][]uint64)
	fl, err := faultinject.NewListener(&countListener{left: n}, f, faultinject.WithSeed(seed),
		faultinject.WithObserver(func(e faultinject.Event) { got[e.Kind] = append(got[e.Kind], e.Seq) }))
	if err != nil {
		t.Fatalf("NewListener(%v) = %v", f, err)
	}
	for {
		c, err := fl.Accept()
		if err != nil {
			break
		}
		c.Close()
	}
	if s := fl.Stats(); s.Accepted != uint64(n) {
		t.Fatalf("Stats().Accepted = %d, want %d", s.Accepted, n)
	}
	return got
}

// TestListenerSeeded checks that a seed fixes which connections are hit,
// that each share hits close to its share of them, and that shares are
// drawn independently.
func TestListenerSeeded(t *testing.T) {
	const n = 10000
	f := faultinject.ConnFaults{Refuse: 30, Reset: 20, Delay: time.Millisecond, DelayPercent: 50}
	for _, seed := range []uint64{1, 2, 3} {
		first, second := picked(t, n, f, seed), picked(t, n, f, seed)
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("seed %d: connections hit differ between two Listeners (-first +second):\n%s", seed, diff)
		}

		refused := len(first[faultinject.KindConnRefuse])
		share := 100 * float64(refused) / n
		if math.Abs(share-f.Refuse) > 1.5 {
			t.Errorf("seed %d: refused %.2f%% of %d connections, want %v%% ± 1.5", seed, share, n, f.Refuse)
		}
		// Reset and delay draw from the connections left.
		left := n - refused
		share = 100 * float64(len(first[faultinject.KindConnReset])) / float64(left)
		if math.Abs(share-f.Reset) > 1.5 {
			t.Errorf("seed %d: reset %.2f%% of %d connections not refused, want %v%% ± 1.5", seed, share, left, f.Reset)
		}

		// Turning refusal off changes no other decision: the connections
		// reset before are reset again.
		alone := picked(t, n, faultinject.ConnFaults{Reset: f.Reset}, seed)
		if diff := cmp.Diff(first[faultinject.KindConnReset], without(alone[faultinject.KindConnReset], first[faultinject.KindConnRefuse])); diff != "" {
			t.Errorf("seed %d: resets with and without refusals differ beyond the refused connections (-with +without):\n%s", seed, diff)
		}
	}
	if cmp.Equal(picked(t, n, f, 1), picked(t, n, f, 2)) {
		t.Errorf("seeds 1 and 2 hit the same connections, want different ones")
	}
}

// without returns the members of seqs that are not in drop.
func without(seqs, drop []uint64) []uint64 {
	skip := make(map[uint64]bool, len(drop))
	for _, s := range drop {
		skip[s] = true
	}
	var out []uint64
	for _, s := range seqs {
		if !skip[s] {
			out = append(out, s)
		}
	}
	return out
}

// TestListenerSetFaults checks that new faults apply to the next connection
// and that bad ones are refused and change nothing.
func TestListenerSetFaults(t *testing.T) {
	pl, fl := newPipeFaults(t, faultinject.ConnFaults{})
	pl.dial(t)
	acceptOne(t, fl)

	if err := fl.SetFaults(faultinject.ConnFaults{Refuse: 101}); err == nil {
		t.Errorf("SetFaults(Refuse 101) = nil, want an error")
	}
	if got := fl.Faults(); got != (faultinject.ConnFaults{}) {
		t.Errorf("Faults() after a bad SetFaults = %v, want no faults", got)
	}
	refuse := faultinject.ConnFaults{Refuse: 100}
	if err := fl.SetFaults(refuse); err != nil {
		t.Fatalf("SetFaults(%v) = %v", refuse, err)
	}
	if got := fl.Faults(); got != refuse {
		t.Errorf("Faults() = %v, want %v", got, refuse)
	}
	pl.dial(t)
	pl.dial(t)
	pl.Close()
	if c, err := fl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept() = %v, %v; want both new connections refused, then net.ErrClosed", c, err)
	}
	if got, want := fl.Stats(), (faultinject.ConnStats{Accepted: 3, Refused: 2}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestNewListenerErrors(t *testing.T) {
	if _, err := faultinject.NewListener(nil, faultinject.ConnFaults{}); err == nil {
		t.Errorf("NewListener(nil, {}) = nil error, want one")
	}
	bad := faultinject.ConnFaults{CutPercent: 5}
	if _, err := faultinject.NewListener(newPipeListener(), bad); err == nil || !strings.Contains(err.Error(), "CutPercent") {
		t.Errorf("NewListener(_, %+v) = %v, want an error naming CutPercent", bad, err)
	}
}

func TestConnFaultsValidate(t *testing.T) {
	tests := []struct {
		f    faultinject.ConnFaults
		want string // "" for valid; else the start of the error
	}{
		{faultinject.ConnFaults{}, ""},
		{faultinject.ConnFaults{Refuse: 100, Reset: 0.5, Delay: time.Second, DelayPercent: 100, CutAfter: 1, CutPercent: 0}, ""},
		{faultinject.ConnFaults{Delay: time.Second}, ""}, // a delay that never hits
		{faultinject.ConnFaults{Refuse: 120}, "faultinject: ConnFaults.Refuse: 120 is not in [0, 100]"},
		{faultinject.ConnFaults{Reset: -1}, "faultinject: ConnFaults.Reset: -1 is not in [0, 100]"},
		{faultinject.ConnFaults{Reset: math.NaN()}, "faultinject: ConnFaults.Reset: NaN is not in [0, 100]"},
		{faultinject.ConnFaults{Refuse: math.Inf(1)}, "faultinject: ConnFaults.Refuse: +Inf is not in [0, 100]"},
		{faultinject.ConnFaults{Delay: time.Second, DelayPercent: 100.5}, "faultinject: ConnFaults.DelayPercent: 100.5 is not in [0, 100]"},
		{faultinject.ConnFaults{CutAfter: 1, CutPercent: math.NaN()}, "faultinject: ConnFaults.CutPercent: NaN is not in [0, 100]"},
		{faultinject.ConnFaults{Delay: -time.Second}, "faultinject: ConnFaults.Delay: -1s is negative"},
		{faultinject.ConnFaults{CutAfter: -5}, "faultinject: ConnFaults.CutAfter: -5 is negative"},
		{faultinject.ConnFaults{DelayPercent: 20}, "faultinject: ConnFaults.DelayPercent: 20 needs a positive Delay"},
		{faultinject.ConnFaults{CutPercent: 10}, "faultinject: ConnFaults.CutPercent: 10 needs a positive CutAfter"},
	}
	for _, tc := range tests {
		err := tc.f.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v.Validate() = %v, want nil", tc.f, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%+v.Validate() = %v, want %q", tc.f, err, tc.want)
		}
	}
}

func TestParseConnSpec(t *testing.T) {
	tests := []struct {
		in   string
		want faultinject.ConnFaults
		str  string // what String gives back
	}{
		{"", faultinject.ConnFaults{}, ""},
		{"  ", faultinject.ConnFaults{}, ""},
		{"refuse=10%", faultinject.ConnFaults{Refuse: 10}, "refuse=10%"},
		{"reset=0.5%", faultinject.ConnFaults{Reset: 0.5}, "reset=0.5%"},
		{"refuse=0%", faultinject.ConnFaults{}, ""},
		{"delay=100ms@20%", faultinject.ConnFaults{Delay: 100 * time.Millisecond, DelayPercent: 20}, "delay=100ms@20%"},
		{"delay=1h", faultinject.ConnFaults{Delay: time.Hour, DelayPercent: 100}, "delay=1h0m0s"},
		{"delay=2s@0%", faultinject.ConnFaults{Delay: 2 * time.Second}, "delay=2s@0%"},
		{"cut=4096@10%", faultinject.ConnFaults{CutAfter: 4096, CutPercent: 10}, "cut=4096@10%"},
		{"cut=1", faultinject.ConnFaults{CutAfter: 1, CutPercent: 100}, "cut=1"},
		{
			" cut=4096@5% , delay=1m30s@1.25%,reset=100%,refuse=33.3% ",
			faultinject.ConnFaults{Refuse: 33.3, Reset: 100, Delay: 90 * time.Second, DelayPercent: 1.25, CutAfter: 4096, CutPercent: 5},
			"refuse=33.3%,reset=100%,delay=1m30s@1.25%,cut=4096@5%",
		},
	}
	for _, tc := range tests {
		got, err := faultinject.ParseConnSpec(tc.in)
		if err != nil {
			t.Errorf("ParseConnSpec(%q) = %v, want %v", tc.in, err, tc.want)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseConnSpec(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("ParseConnSpec(%q).Validate() = %v, want nil", tc.in, err)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("ParseConnSpec(%q).String() = %q, want %q", tc.in, s, tc.str)
		}
	}
}

// TestConnFaultsRoundTrip checks that String gives back what ParseConnSpec
// reads as the same value, for valid values ParseConnSpec never returns
// (such as a delay hitting no connection) too.
func TestConnFaultsRoundTrip(t *testing.T) {
	tests := []faultinject.ConnFaults{
		{},
		{Refuse: 1e-9},
		{Refuse: 100, Reset: 100},
		{Reset: 1.0 / 3},
		{Delay: time.Nanosecond, DelayPercent: 99.999},
		{Delay: 1234567 * time.Microsecond, DelayPercent: 100},
		{Delay: time.Second},
		{CutAfter: math.MaxInt64, CutPercent: 0.1},
		{CutAfter: 7},
		{Refuse: 12.5, Reset: 2.5, Delay: 3 * time.Millisecond, DelayPercent: 4, CutAfter: 5, CutPercent: 6},
	}
	for _, f := range tests {
		if err := f.Validate(); err != nil {
			t.Fatalf("%+v.Validate() = %v; the test wants valid values", f, err)
		}
		s := f.String()
		got, err := faultinject.ParseConnSpec(s)
		if err != nil || got != f {
			t.Errorf("ParseConnSpec(%q) = %+v, %v; want %+v, nil", s, got, err, f)
		}
	}
}

func TestParseConnSpecErrors(t *testing.T) {
	tests := []struct {
		in  string
		tok string // the token the error must quote, with its number
		why string // what the error must say about it
	}{
		{"refuse=120%", `token 1 "refuse=120%"`, `percent "120%" is not in [0, 100]`},
		{"refuse=-1%", `token 1 "refuse=-1%"`, `not in [0, 100]`},
		{"refuse=NaN%", `token 1 "refuse=NaN%"`, `not in [0, 100]`},
		{"refuse=10", `token 1 "refuse=10"`, `bad percent "10"`},
		{"refuse=ten%", `token 1 "refuse=ten%"`, `"ten" is not a number`},
		{"reset=5%,reset=6%", `token 2 "reset=6%"`, `reset already given in token 1`},
		{"refuse=1%,delay=abc@5%", `token 2 "delay=abc@5%"`, `bad duration "abc"`},
		{"delay=-1s", `token 1 "delay=-1s"`, `duration "-1s" is not positive`},
		{"delay=0s@5%", `token 1 "delay=0s@5%"`, `duration "0s" is not positive`},
		{"delay=1s@", `token 1 "delay=1s@"`, `bad percent ""`},
		{"delay=1s@5%@6%", `token 1 "delay=1s@5%@6%"`, `bad percent "5%@6%"`},
		{"cut=4k", `token 1 "cut=4k"`, `bad byte count "4k"`},
		{"cut=0", `token 1 "cut=0"`, `byte count "0" is not positive`},
		{"cut=-4@5%", `token 1 "cut=-4@5%"`, `not positive`},
		{"cut=10@200%", `token 1 "cut=10@200%"`, `not in [0, 100]`},
		{"drop=5%", `token 1 "drop=5%"`, `unknown key "drop"`},
		{"drop=5%,drop=6%", `token 1 "drop=5%"`, `unknown key "drop"`},
		{"delay=1s,cut=5,delay=2s", `token 3 "delay=2s"`, `delay already given in token 1`},
		{"Refuse=5%", `token 1 "Refuse=5%"`, `unknown key "Refuse"`},
		{"refuse", `token 1 "refuse"`, `want key=value`},
		{"refuse=5%,", `token 2 ""`, `empty token`},
		{"refuse=5%,,reset=1%", `token 2 ""`, `empty token`},
	}
	for _, tc := range tests {
		got, err := faultinject.ParseConnSpec(tc.in)
		if err == nil {
			t.Errorf("ParseConnSpec(%q) = %+v, nil; want an error", tc.in, got)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "faultinject: conn spec "+tc.tok+": ") || !strings.Contains(msg, tc.why) {
			t.Errorf("ParseConnSpec(%q) = %v, want an error quoting %s and saying %s", tc.in, err, tc.tok, tc.why)
		}
		if got != (faultinject.ConnFaults{}) {
			t.Errorf("ParseConnSpec(%q) = %+v with an error, want the zero value", tc.in, got)
		}
	}
}
