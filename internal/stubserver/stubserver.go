package stubserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
)

// bufSize is the bufconn buffer: large enough that streaming tests never
// block on it.
const bufSize = 1 << 20

// Handlers replaces methods of the route guide service. Each field has the
// signature of the matching pb.RouteGuideServer method; a nil field falls
// back to the real examples/routeguide/server implementation. Handlers run
// on server goroutines: report failures through the returned error or a
// channel, never with t.Fatal.
type Handlers struct {
	// GetFeature replaces the unary method.
	GetFeature func(ctx context.Context, p *pb.Point) (*pb.Feature, error)
	// ListFeatures replaces the server-streaming method.
	ListFeatures func(r *pb.Rectangle, s grpc.ServerStreamingServer[pb.Feature]) error
	// RecordRoute replaces the client-streaming method.
	RecordRoute func(s grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error
	// RouteChat replaces the bidirectional-streaming method.
	RouteChat func(s grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error
}

// service dispatches each method to its handler or to the fallback.
type service struct {
	pb.UnimplementedRouteGuideServer
	h        Handlers
	fallback *server.Server
}

func (s *service) GetFeature(ctx context.Context, p *pb.Point) (*pb.Feature, error) {
	if s.h.GetFeature != nil {
		return s.h.GetFeature(ctx, p)
	}
	return s.fallback.GetFeature(ctx, p)
}

func (s *service) ListFeatures(r *pb.Rectangle, stream grpc.ServerStreamingServer[pb.Feature]) error {
	if s.h.ListFeatures != nil {
		return s.h.ListFeatures(r, stream)
	}
	return s.fallback.ListFeatures(r, stream)
}

func (s *service) RecordRoute(stream grpc.ClientStreamingServer[pb.Point, pb.RouteSummary]) error {
	if s.h.RecordRoute != nil {
		return s.h.RecordRoute(stream)
	}
	return s.fallback.RecordRoute(stream)
}

func (s *service) RouteChat(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	if s.h.RouteChat != nil {
		return s.h.RouteChat(stream)
	}
	return s.fallback.RouteChat(stream)
}

// Option configures Start and StartTCP.
type Option func(*options)

type options struct {
	serverOpts []grpc.ServerOption
	dialOpts   []grpc.DialOption
	wraps      []func(net.Listener) net.Listener
	registers  []func(grpc.ServiceRegistrar)
}

// WithServerOptions adds options to the grpc.Server, such as
// grpc.ChainUnaryInterceptor for a server-side interceptor under test.
// Repeated uses add up, in order.
//
// Default: none.
func WithServerOptions(opts ...grpc.ServerOption) Option {
	return func(o *options) { o.serverOpts = append(o.serverOpts, opts...) }
}

// WithDialOptions adds options to the default connection behind Conn and
// Client, such as the client interceptors under test. They come after the
// insecure transport credentials, so they may replace them. Repeated uses add
// up, in order. Connections made with Dial do not get them.
//
// Default: none.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithListener has the server accept through wrap(l) instead of the
// listener l that Start or StartTCP made, such as a faultinject.Listener
// that injects connection faults. Clients still dial l's address. Repeated
// uses add up: each wrap gets the listener the one before it returned. A wrap
// runs on the goroutine of Start or StartTCP and must return a listener;
// closing the returned listener must close l.
//
// Default: none; the server accepts from l itself.
func WithListener(wrap func(net.Listener) net.Listener) Option {
	return func(o *options) { o.wraps = append(o.wraps, wrap) }
}

// WithRegister calls register with the grpc.Server before it serves, after
// the route guide service is registered, so that a test can serve more
// services on the same server, such as the fault admin service. register
// runs on the goroutine of Start or StartTCP. Repeated uses add up, in
// order.
//
// Default: none; the server holds only the route guide service.
func WithRegister(register func(grpc.ServiceRegistrar)) Option {
	return func(o *options) { o.registers = append(o.registers, register) }
}

// Server is a running stub route guide server and its default client
// connection. Create one with Start or StartTCP.
type Server struct {
	gs     *grpc.Server
	addr   string
	target string
	// dialer reaches a bufconn listener; nil for TCP.
	dialer func(context.Context, string) (net.Conn, error)

	conn   *grpc.ClientConn
	client pb.RouteGuideClient

	stopOnce sync.Once
}

// Start serves h over an in-memory bufconn listener, with the default
// connection already made. Both are shut down in tb.Cleanup.
func Start(tb testing.TB, h Handlers, opts ...Option) *Server {
	tb.Helper()
	lis := bufconn.Listen(bufSize)
	dialer := func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }
	return start(tb, h, lis, "passthrough:///bufconn", dialer, opts)
}

// StartTCP is Start over real TCP, listening on 127.0.0.1 on a port the
// kernel picks. Use it for what bufconn cannot show: real sockets, or a
// server address to hand to a command.
func StartTCP(tb testing.TB, h Handlers, opts ...Option) *Server {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("stubserver: listen on 127.0.0.1:0: %v", err)
	}
	return start(tb, h, lis, lis.Addr().String(), nil, opts)
}

func start(tb testing.TB, h Handlers, lis net.Listener, target string, dialer func(context.Context, string) (net.Conn, error), opts []Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for i, wrap := range o.wraps {
		if wrap == nil {
			continue
		}
		w := wrap(lis)
		if w == nil {
			_ = lis.Close()
			tb.Fatalf("stubserver: WithListener wrap %d returned a nil listener", i+1)
		}
		lis = w
	}

	s := &Server{
		gs:     grpc.NewServer(o.serverOpts...),
		addr:   lis.Addr().String(),
		target: target,
		dialer: dialer,
	}
	pb.RegisterRouteGuideServer(s.gs, &service{h: h, fallback: server.New()})
	for _, register := range o.registers {
		if register != nil {
			register(s.gs)
		}
	}

	served := make(chan error, 1)
	go func() { served <- s.gs.Serve(lis) }()
	// Registered before any connection's cleanup, so it runs after them.
	tb.Cleanup(func() {
		s.Stop()
		// ErrServerStopped only means Stop came before Serve got going.
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			tb.Errorf("stubserver: Serve(%s) = %v, want nil after Stop", s.addr, err)
		}
	})

	s.conn = s.dial(tb, o.dialOpts)
	s.client = pb.NewRouteGuideClient(s.conn)
	return s
}

// Dial makes a new connection to s with insecure transport credentials and
// opts, and none of the WithDialOptions given to Start. It is closed in
// tb.Cleanup; closing it earlier is fine. Use it to reach one server through
// differently configured clients.
func (s *Server) Dial(tb testing.TB, opts ...grpc.DialOption) *grpc.ClientConn {
	tb.Helper()
	return s.dial(tb, opts)
}

func (s *Server) dial(tb testing.TB, opts []grpc.DialOption) *grpc.ClientConn {
	tb.Helper()
	all := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if s.dialer != nil {
		all = append(all, grpc.WithContextDialer(s.dialer))
	}
	all = append(all, opts...)
	conn, err := grpc.NewClient(s.target, all...)
	if err != nil {
		tb.Fatalf("stubserver: grpc.NewClient(%q) = %v", s.target, err)
	}
	tb.Cleanup(func() {
		// The test may have closed it already; that error means nothing.
		_ = conn.Close()
	})
	return conn
}

// Client returns a route guide client over the default connection.
func (s *Server) Client() pb.RouteGuideClient { return s.client }

// Conn returns the default connection: made by Start or StartTCP with
// WithDialOptions, closed in tb.Cleanup.
func (s *Server) Conn() *grpc.ClientConn { return s.conn }

// Target returns the name the connections dial: "127.0.0.1:port" for
// StartTCP, which any client can use, and "passthrough:///bufconn" for Start,
// which only connections from Dial and the default one can reach.
func (s *Server) Target() string { return s.target }

// Addr returns the listener's address: "127.0.0.1:port" for StartTCP (the
// value to give a command's --addr flag) and "bufconn" for Start.
func (s *Server) Addr() string { return s.addr }

// Stop stops the server at once: it closes the listener and every
// connection, and active calls fail on the client with Unavailable. Use it to
// test what clients do when the server goes away. Calling it again, or
// letting tb.Cleanup call it, does nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(s.gs.Stop)
}
