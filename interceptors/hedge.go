package interceptors

import (
	"context"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"

	"github.com/resilience-go/grpc-resilience/retry"
)

// hedgePolicy is how the calls of a hedged method run (gRFC A6
// hedgingPolicy): up to maxAttempts attempts, one every delay until one
// wins; a non-fatal code sends the next one at once.
type hedgePolicy struct {
	maxAttempts       int
	delay             time.Duration
	nonFatal          []codes.Code
	perAttemptTimeout time.Duration
	// quantile, when above 0, makes the delay adaptive: the quantile of
	// the method's recent winning attempt latencies.
	quantile float64
}

// hedgeAttempt is one attempt of a hedged unary call, with a reply, header,
// trailer and peer of its own: attempts run at once and must not share the
// caller's.
type hedgeAttempt struct {
	attemptEnd
	reply  proto.Message
	header metadata.MD
	peer   peer.Peer
}

// callerAddrs are where the caller asked grpc to put the header, trailer
// and peer of the call, and the caller's OnFinish callbacks: concurrent
// attempts must not each write and call them, so the interceptor does it
// once, for the attempt that decided the call.
type callerAddrs struct {
	header, trailer *metadata.MD
	peer            *peer.Peer
	onFinish        *onFinish
}

// splitCallOptions takes the caller's Header, Trailer, Peer and OnFinish
// options out of opts.
func splitCallOptions(opts []grpc.CallOption) ([]grpc.CallOption, callerAddrs) {
	var addrs callerAddrs
	opts, addrs.onFinish = takeOnFinish(opts)
	rest := make([]grpc.CallOption, 0, len(opts)+3)
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			addrs.header = o.HeaderAddr
		case grpc.TrailerCallOption:
			addrs.trailer = o.TrailerAddr
		case grpc.PeerCallOption:
			addrs.peer = o.PeerAddr
		default:
			rest = append(rest, o)
		}
	}
	return rest, addrs
}

// publish hands the header, trailer and peer of the attempt that decided
// the call to the caller (nil leaves an address as it is).
func (a callerAddrs) publish(header, trailer metadata.MD, p *peer.Peer) {
	if a.header != nil && header != nil {
		*a.header = header
	}
	if a.trailer != nil && trailer != nil {
		*a.trailer = trailer
	}
	if a.peer != nil && p != nil {
		*a.peer = *p
	}
}

// finished calls the caller's OnFinish callbacks, once.
func (a callerAddrs) finished(err error) { a.onFinish.call(err) }

// hedgeUnary runs a unary call under h: the first attempt at once, another
// after each delay without a result, until one attempt returns OK or a
// fatal code (it wins, and every other attempt is cancelled), or every
// attempt failed with a non-fatal code. It returns only once every attempt
// it started has ended.
func (c *client) hedgeUnary(ctx context.Context, o *options, h *hedgePolicy, th *retry.Throttle, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts []grpc.CallOption) error {
	out, ok := reply.(proto.Message)
	if !ok {
		// Attempts need replies of their own; without proto there is no
		// way to make one, so the call is sent once.
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	base, addrs := splitCallOptions(opts)
	hctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	sch := c.newHedgeSchedule(ctx, o, h, th, method)
	attempts := make([]*hedgeAttempt, 0, h.maxAttempts)
	sch.launch = func(n int) bool {
		a := &hedgeAttempt{attemptEnd: attemptEnd{n: n, start: o.clock.Now()}, reply: out.ProtoReflect().New().Interface()}
		attempts = append(attempts, a)
		actx, acancel := attemptContext(hctx, n, h.perAttemptTimeout)
		aopts := append(slices.Clip(base), grpc.Header(&a.header), grpc.Trailer(&a.trailer), grpc.Peer(&a.peer))
		go func() {
			a.err = invoker(actx, method, req, a.reply, cc, aopts...)
			a.took = o.clock.Now().Sub(a.start)
			if acancel != nil {
				acancel()
			}
			sch.results <- &a.attemptEnd
		}()
		return true
	}
	win, err := sch.run()
	cancelAll()
	sch.finish(win)
	if win == nil && sch.last != nil {
		last := attempts[sch.last.n-1]
		addrs.publish(last.header, last.trailer, &last.peer)
	}
	if win != nil {
		if win.err == nil {
			sch.record(win.took)
		}
		err = c.hedgeWon(attempts[win.n-1], out, addrs, th, sch.started)
	}
	addrs.finished(err)
	return err
}

// hedgeWon hands the winning attempt's reply, header, trailer and peer to
// the caller and returns its result.
func (c *client) hedgeWon(a *hedgeAttempt, out proto.Message, addrs callerAddrs, th *retry.Throttle, started int) error {
	addrs.publish(a.header, a.trailer, &a.peer)
	if a.err != nil {
		return &retry.Error{Attempts: started, Reason: retry.NonRetryable, Err: a.err}
	}
	proto.Reset(out)
	proto.Merge(out, a.reply)
	th.Success()
	return nil
}

// observe tells the observer, if any, about e.
func (c *client) observe(ctx context.Context, o *options, e retry.Event) {
	if o.observer != nil {
		o.observer(ctx, e)
	}
}
