package soak

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/interceptors"
)

// callFaults are the soak's call faults, in faultinject.ParseSpec's form.
// Rules are drawn independently and the first abort that fires applies, so
// the shares compound: the rules for every method abort 1 − 0.83·0.96·0.97·
// 0.98·0.99·0.99 ≈ 25.8% of attempts, and each method's own stream or
// commit fault brings it to ≈ 29.5%; connection drops add the rest of the
// 30%. Of the aborts most are UNAVAILABLE (some with a pushback), the rest
// are Ambiguous codes (INTERNAL, ABORTED, RESOURCE_EXHAUSTED, retried only
// for the idempotent reads) and one Permanent code. Every method also meets
// a fault that a correct client must not retry or must replay:
//
//   - GetFeature: the handler runs, then its answer is replaced by an error
//     after response headers (after=1): committed, never retried.
//   - ListFeatures: fails after one feature went out (after=2): committed,
//     the caller keeps a correct prefix.
//   - RecordRoute: cut off after 2 points, before any answer (recv=2): a
//     retry must replay every point exactly once.
//   - RouteChat: the same cut (recv=2), and a failure after 3 messages
//     (after=3), before or after replies went out.
//
// Delays: a short one, and a rare one longer than the manual mode's
// per-attempt timeout, so that timeouts and deadlines happen too.
const callFaults = "unavailable=17%," +
	"unavailable=4%+pushback=10ms," +
	"internal=3%," +
	"aborted=2%," +
	"resource_exhausted=1%," +
	"permission_denied=1%," +
	"/routeguide.RouteGuide/GetFeature:unavailable=5%+after=1," +
	"/routeguide.RouteGuide/ListFeatures:unavailable=5%+after=2," +
	"/routeguide.RouteGuide/RecordRoute:unavailable=5%+recv=2," +
	"/routeguide.RouteGuide/RouteChat:unavailable=3%+recv=2," +
	"/routeguide.RouteGuide/RouteChat:internal=2%+after=3," +
	"delay=20ms@5%," +
	"delay=600ms@1%"

// connFaults are the soak's connection faults, in
// faultinject.ParseConnSpec's form: a tenth of connections reset at accept,
// a tenth held 50ms, and every connection that lives cut after 32 KiB (a
// few hundred calls), so connections keep dropping, mid-call, for the whole
// run rather than only until a lucky one survives.
const connFaults = "reset=10%,delay=50ms@10%,cut=32768"

// service is the route guide the soak serves: the example server, except
// that every RouteChat attempt gets a note store of its own. The example's
// store is shared by all streams and lives as long as the server, so under
// a soak it grows by every note ever sent, and a heap check would measure
// it rather than the library. A store per attempt also makes the right
// answer known after a retry: RouteChat is a write, and an attempt cut off
// after the server stored notes but before it answered is retried (UNAVAILABLE
// is retried for every method), so on a shared store the retry would meet
// its own earlier notes. Every reply then depends only on the notes that
// attempt received, so a note duplicated or lost by a replay changes the
// answer.
type service struct{ *server.Server }

// RouteChat serves the stream from a fresh, empty server.
func (service) RouteChat(stream grpc.BidiStreamingServer[pb.RouteNote, pb.RouteNote]) error {
	return server.New(server.WithFeatures(nil)).RouteChat(stream)
}

// rig is the soak's server: the route guide behind the interceptors' server
// guard and the fault injector, on 127.0.0.1, through the connection-fault
// listener, over a listener that counts open connections.
type rig struct {
	addr   string
	gs     *grpc.Server
	in     *faultinject.Injector
	flis   *faultinject.Listener
	guard  *interceptors.Server
	conns  *trackingListener
	served chan error
}

// startRig starts serving; stop ends it.
func startRig(seed uint64) (*rig, error) {
	rules, err := faultinject.ParseSpec(callFaults)
	if err != nil {
		return nil, err
	}
	cf, err := faultinject.ParseConnSpec(connFaults)
	if err != nil {
		return nil, err
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(seed))
	if err != nil {
		return nil, err
	}
	guard, err := interceptors.NewServer()
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tl := &trackingListener{Listener: lis}
	flis, err := faultinject.NewListener(tl, cf, faultinject.WithSeed(seed))
	if err != nil {
		lis.Close()
		return nil, err
	}
	// As in routeguide-server: the guard outside the injector, so that
	// injected faults run under its panic recovery.
	gs := grpc.NewServer(
		grpc.WaitForHandlers(true),
		grpc.ChainUnaryInterceptor(guard.UnaryServerInterceptor(), in.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(guard.StreamServerInterceptor(), in.StreamServerInterceptor()),
	)
	pb.RegisterRouteGuideServer(gs, service{server.New()})
	r := &rig{addr: lis.Addr().String(), gs: gs, in: in, flis: flis, guard: guard, conns: tl, served: make(chan error, 1)}
	go func() { r.served <- gs.Serve(flis) }()
	return r, nil
}

// stopGrace bounds the graceful stop; the clients are closed first, so it
// is only reached when a handler hangs.
const stopGrace = 5 * time.Second

// stop stops the server, gracefully unless a handler outlives stopGrace,
// and reports a Serve failure or a connection left open.
func (r *rig) stop() error {
	done := make(chan struct{})
	go func() {
		r.gs.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	var errs []error
	select {
	case <-done:
	case <-timer.C:
		errs = append(errs, fmt.Errorf("GracefulStop did not return within %v; handlers still running were cut off", stopGrace))
		r.gs.Stop()
		<-done
	}
	if err := <-r.served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		errs = append(errs, fmt.Errorf("Serve() = %v, want nil after stop", err))
	}
	if n := r.conns.open.Load(); n != 0 {
		errs = append(errs, fmt.Errorf("server connections open after stop = %d, want 0", n))
	}
	return errors.Join(errs...)
}

// trackingListener counts the connections it accepted that are not closed
// yet, so the soak can check that stopping closed every one.
type trackingListener struct {
	net.Listener
	open, peak atomic.Int64
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &trackedConn{Conn: c, l: l}, nil
}

// trackedConn counts its own first Close. It keeps SetLinger reachable, so
// that the fault listener can still reset it with a RST.
type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// SetLinger forwards to the TCP connection, for faultinject's resets.
func (c *trackedConn) SetLinger(sec int) error {
	if tc, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
		return tc.SetLinger(sec)
	}
	return errors.New("soak: connection has no SetLinger")
}
