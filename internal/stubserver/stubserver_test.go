package stubserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	t.Cleanup(cancel)
	return ctx
}

// transports runs each test over both listeners.
var transports = []struct {
	name  string
	start func(testing.TB, Handlers, ...Option) *Server
}{
	{"bufconn", Start},
	{"tcp", StartTCP},
}

// A known feature in the fallback server's embedded database.
var (
	lighthouse       = &pb.Point{Latitude: 101203450, Longitude: -398765430}
	lighthouseName   = "Harbour Lighthouse"
	aroundLighthouse = &pb.Rectangle{
		Lo: &pb.Point{Latitude: 101203450, Longitude: -398765430},
		Hi: &pb.Point{Latitude: 101203450, Longitude: -398765430},
	}
)

// overrides answers every method with something the real server never
// would.
var overrides = Handlers{
	GetFeature: func(_ context.Context, p *pb.Point) (*pb.Feature, error) {
		return &pb.Feature{Name: "stub", Location: p}, nil
	},
	ListFeatures: func(_ *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error {
		return s.Send(&pb.Feature{Name: "stub"})
	},
	RecordRoute: func(s grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
		var n int32
		for {
			if _, err := s.Recv(); errors.Is(err, io.EOF) {
				return s.SendAndClose(&pb.RouteSummary{PointCount: n})
			} else if err != nil {
				return err
			}
			n++
		}
	},
	RouteChat: func(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
		for {
			n, err := s.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			n.Message = "echo: " + n.Message
			if err := s.Send(n); err != nil {
				return err
			}
		}
	},
}

// answers calls each method once and returns what came back, one string per
// method, so that override and fallback results compare as a whole.
func answers(ctx context.Context, client pb.RouteGuideClient) (map[string]string, error) {
	got := make(map[string]string)

	f, err := client.GetFeature(ctx, lighthouse)
	if err != nil {
		return got, err
	}
	got["GetFeature"] = f.GetName()

	list, err := client.ListFeatures(ctx, aroundLighthouse)
	if err != nil {
		return got, err
	}
	var names []string
	for {
		f, err := list.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return got, err
		}
		names = append(names, f.GetName())
	}
	got["ListFeatures"] = strings.Join(names, ",")

	rec, err := client.RecordRoute(ctx)
	if err != nil {
		return got, err
	}
	for range 2 {
		if err := rec.Send(lighthouse); err != nil {
			break // CloseAndRecv reports why
		}
	}
	sum, err := rec.CloseAndRecv()
	if err != nil {
		return got, err
	}
	got["RecordRoute"] = summaryText(sum)

	chat, err := client.RouteChat(ctx)
	if err != nil {
		return got, err
	}
	var replies []string
	// The real server answers the second note with the first; the echo
	// answers each note at once. Either way three replies, then EOF.
	for _, msg := range []string{"one", "two"} {
		if err := chat.Send(&pb.RouteNote{Location: lighthouse, Message: msg}); err != nil {
			break
		}
		if msg == "two" {
			if err := chat.CloseSend(); err != nil {
				return got, err
			}
		}
	}
	for {
		n, err := chat.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return got, err
		}
		replies = append(replies, n.GetMessage())
	}
	got["RouteChat"] = strings.Join(replies, ",")
	return got, nil
}

func summaryText(s *pb.RouteSummary) string {
	return fmt.Sprintf("points=%d features=%d distance=%d", s.GetPointCount(), s.GetFeatureCount(), s.GetDistance())
}

func TestHandlers(t *testing.T) {
	fallback := map[string]string{
		"GetFeature":   lighthouseName,
		"ListFeatures": lighthouseName,
		"RecordRoute":  "points=2 features=2 distance=0",
		"RouteChat":    "one",
	}
	stub := map[string]string{
		"GetFeature":   "stub",
		"ListFeatures": "stub",
		"RecordRoute":  "points=2 features=0 distance=0",
		"RouteChat":    "echo: one,echo: two",
	}
	tests := []struct {
		name string
		h    Handlers
		want map[string]string
	}{
		{"all fallback", Handlers{}, fallback},
		{"all overridden", overrides, stub},
		{"unary overridden", Handlers{GetFeature: overrides.GetFeature}, merge(fallback, "GetFeature", stub)},
		{"server stream overridden", Handlers{ListFeatures: overrides.ListFeatures}, merge(fallback, "ListFeatures", stub)},
		{"client stream overridden", Handlers{RecordRoute: overrides.RecordRoute}, merge(fallback, "RecordRoute", stub)},
		{"bidi stream overridden", Handlers{RouteChat: overrides.RouteChat}, merge(fallback, "RouteChat", stub)},
	}
	for _, tr := range transports {
		for _, tc := range tests {
			t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
				srv := tr.start(t, tc.h)
				got, err := answers(testContext(t), srv.Client())
				if err != nil {
					t.Fatalf("calling every method = %v (answers so far %v)", err, got)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("answers mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// merge returns base with key taken from over.
func merge(base map[string]string, key string, over map[string]string) map[string]string {
	out := make(map[string]string, len(base))
	for k, v := range base {
		out[k] = v
	}
	out[key] = over[key]
	return out
}

// TestFallbackIsFresh checks that stub servers do not share RouteChat notes.
func TestFallbackIsFresh(t *testing.T) {
	for range 2 {
		srv := Start(t, Handlers{})
		got, err := answers(testContext(t), srv.Client())
		if err != nil {
			t.Fatalf("calling every method = %v", err)
		}
		if got["RouteChat"] != "one" {
			t.Errorf("RouteChat replies on a new stub server = %q, want %q", got["RouteChat"], "one")
		}
	}
}

func TestHandlerError(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv := tr.start(t, Handlers{
				GetFeature: func(context.Context, *pb.Point) (*pb.Feature, error) {
					return nil, status.Error(codes.Unavailable, "stub says no")
				},
			})
			_, err := srv.Client().GetFeature(testContext(t), lighthouse)
			if got := status.Code(err); got != codes.Unavailable {
				t.Errorf("GetFeature() error = %v, want code %v", err, codes.Unavailable)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			var serverCalls, defaultConnCalls atomic.Int32
			srv := tr.start(t, Handlers{},
				WithServerOptions(grpc.ChainUnaryInterceptor(
					func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
						serverCalls.Add(1)
						if err := grpc.SetHeader(ctx, metadata.Pairs("x-stub", "seen")); err != nil {
							return nil, err
						}
						return h(ctx, req)
					})),
				WithDialOptions(grpc.WithChainUnaryInterceptor(
					func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
						defaultConnCalls.Add(1)
						return invoker(ctx, method, req, reply, cc, opts...)
					})),
			)
			ctx := testContext(t)

			var md metadata.MD
			if _, err := srv.Client().GetFeature(ctx, lighthouse, grpc.Header(&md)); err != nil {
				t.Fatalf("GetFeature() over the default connection = %v", err)
			}
			if got := md.Get("x-stub"); !cmp.Equal(got, []string{"seen"}) {
				t.Errorf("GetFeature() header x-stub = %q, want [seen] from the server interceptor", got)
			}

			other := pb.NewRouteGuideClient(srv.Dial(t))
			if _, err := other.GetFeature(ctx, lighthouse); err != nil {
				t.Fatalf("GetFeature() over a Dial connection = %v", err)
			}
			if got, want := serverCalls.Load(), int32(2); got != want {
				t.Errorf("server interceptor saw %d calls, want %d", got, want)
			}
			if got, want := defaultConnCalls.Load(), int32(1); got != want {
				t.Errorf("WithDialOptions interceptor saw %d calls, want %d (Dial connections must not get it)", got, want)
			}
			if srv.Conn() == nil {
				t.Errorf("Conn() = nil, want the default connection")
			}
		})
	}
}

func TestDialOptionsAddUp(t *testing.T) {
	var order []string
	record := func(name string) grpc.DialOption {
		return grpc.WithChainUnaryInterceptor(
			func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				order = append(order, name)
				return invoker(ctx, method, req, reply, cc, opts...)
			})
	}
	srv := Start(t, Handlers{}, WithDialOptions(record("first")), WithDialOptions(record("second")))
	if _, err := srv.Client().GetFeature(testContext(t), lighthouse); err != nil {
		t.Fatalf("GetFeature() = %v", err)
	}
	if want := []string{"first", "second"}; !cmp.Equal(order, want) {
		t.Errorf("interceptors ran as %q, want %q", order, want)
	}
}

func TestAddressing(t *testing.T) {
	t.Run("bufconn", func(t *testing.T) {
		srv := Start(t, Handlers{})
		if got, want := srv.Addr(), "bufconn"; got != want {
			t.Errorf("Addr() = %q, want %q", got, want)
		}
		if got, want := srv.Target(), "passthrough:///bufconn"; got != want {
			t.Errorf("Target() = %q, want %q", got, want)
		}
	})
	t.Run("tcp", func(t *testing.T) {
		srv := StartTCP(t, Handlers{})
		if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
			t.Errorf("Addr() = %q, want 127.0.0.1:port", srv.Addr())
		}
		if srv.Target() != srv.Addr() {
			t.Errorf("Target() = %q, want Addr() = %q", srv.Target(), srv.Addr())
		}
		// Any client can reach a TCP stub by its target.
		conn, err := grpc.NewClient(srv.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatalf("grpc.NewClient(%q) = %v", srv.Target(), err)
		}
		defer conn.Close()
		f, err := pb.NewRouteGuideClient(conn).GetFeature(testContext(t), lighthouse)
		if err != nil || f.GetName() != lighthouseName {
			t.Errorf("GetFeature(%v) via %q = %v, %v; want %q, nil", lighthouse, srv.Target(), f, err, lighthouseName)
		}
	})
}

func TestStop(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			started := make(chan struct{})
			srv := tr.start(t, Handlers{
				RouteChat: func(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
					close(started)
					<-s.Context().Done()
					return s.Context().Err()
				},
			})
			ctx := testContext(t)
			chat, err := srv.Client().RouteChat(ctx)
			if err != nil {
				t.Fatalf("RouteChat() = %v", err)
			}
			select {
			case <-started:
			case <-ctx.Done():
				t.Fatalf("RouteChat handler did not start: %v", ctx.Err())
			}

			srv.Stop()
			srv.Stop() // a second Stop, and the one in Cleanup, do nothing

			if _, err := chat.Recv(); status.Code(err) != codes.Unavailable {
				t.Errorf("RouteChat Recv() during Stop = %v, want code %v", err, codes.Unavailable)
			}
			_, err = srv.Client().GetFeature(ctx, lighthouse)
			if got := status.Code(err); got != codes.Unavailable {
				t.Errorf("GetFeature() after Stop = %v, want code %v", err, codes.Unavailable)
			}
		})
	}
}

// TestCleanup checks that a finished test leaves its connections closed and
// its server gone.
func TestCleanup(t *testing.T) {
	var srv *Server
	var dialed *grpc.ClientConn
	t.Run("user", func(t *testing.T) {
		srv = StartTCP(t, Handlers{})
		dialed = srv.Dial(t)
		if _, err := srv.Client().GetFeature(testContext(t), lighthouse); err != nil {
			t.Fatalf("GetFeature() = %v", err)
		}
	})
	for name, conn := range map[string]*grpc.ClientConn{"Conn()": srv.Conn(), "Dial()": dialed} {
		if got := conn.GetState(); got != connectivity.Shutdown {
			t.Errorf("%s state after the test = %v, want %v", name, got, connectivity.Shutdown)
		}
	}
	conn, err := grpc.NewClient(srv.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v", srv.Target(), err)
	}
	defer conn.Close()
	if _, err := pb.NewRouteGuideClient(conn).GetFeature(testContext(t), lighthouse); status.Code(err) != codes.Unavailable {
		t.Errorf("GetFeature() to %s after the test = %v, want code %v", srv.Target(), err, codes.Unavailable)
	}
}

// countingListener counts the connections its Accept hands out.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

func TestWithListener(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			var inner, outer *countingListener
			var got []string // order in which the wraps ran
			srv := tr.start(t, Handlers{},
				WithListener(func(l net.Listener) net.Listener {
					got = append(got, "inner")
					inner = &countingListener{Listener: l}
					return inner
				}),
				WithListener(nil), // ignored
				WithListener(func(l net.Listener) net.Listener {
					got = append(got, "outer")
					if l != inner {
						t.Errorf("second WithListener got %T, want the first wrap's listener", l)
					}
					outer = &countingListener{Listener: l}
					return outer
				}),
			)
			if want := []string{"inner", "outer"}; !cmp.Equal(got, want) {
				t.Fatalf("wraps ran as %q, want %q", got, want)
			}
			if _, err := srv.Client().GetFeature(testContext(t), lighthouse); err != nil {
				t.Fatalf("GetFeature() through wrapped listeners = %v", err)
			}
			if got := inner.accepted.Load(); got != 1 {
				t.Errorf("first wrap accepted %d connections, want 1", got)
			}
			if got := outer.accepted.Load(); got != 1 {
				t.Errorf("second wrap accepted %d connections, want 1", got)
			}
		})
	}
}

// fatalTB records the first Fatalf and ends the goroutine, as testing.T
// does.
type fatalTB struct {
	testing.TB // nil: start uses only the methods below before failing
	msg        string
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Cleanup(fn func()) { fn() }
func (f *fatalTB) Fatalf(format string, a ...any) {
	f.msg = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

func TestWithListenerNil(t *testing.T) {
	tb := &fatalTB{}
	lis := &closeListener{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		start(tb, Handlers{}, lis, "passthrough:///none", nil,
			[]Option{WithListener(func(net.Listener) net.Listener { return nil })})
	}()
	<-done
	if want := "WithListener wrap 1 returned a nil listener"; !strings.Contains(tb.msg, want) {
		t.Errorf("start() with a wrap returning nil failed with %q, want it to say %q", tb.msg, want)
	}
	if !lis.closed {
		t.Errorf("start() with a wrap returning nil left the listener open")
	}
}

// closeListener is a listener that never accepts and records its Close.
type closeListener struct {
	net.Listener // nil: only Close and Addr are called
	closed       bool
}

func (l *closeListener) Close() error   { l.closed = true; return nil }
func (l *closeListener) Addr() net.Addr { return &net.TCPAddr{} }
