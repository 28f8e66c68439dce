package interceptors

import (
	"context"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
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
	n               int
	start           time.Time
	reply           proto.Message
	header, trailer metadata.MD
	peer            peer.Peer
	err             error
}

// callerAddrs are where the caller asked grpc to put the header, trailer
// and peer of the call; the winning attempt's are copied there.
type callerAddrs struct {
	header, trailer *metadata.MD
	peer            *peer.Peer
}

// splitCallOptions takes the caller's Header, Trailer and Peer options out
// of opts, so that concurrent attempts do not write to the same place.
func splitCallOptions(opts []grpc.CallOption) ([]grpc.CallOption, callerAddrs) {
	var addrs callerAddrs
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
	delay := h.delay
	var lat *latencies
	if h.quantile > 0 {
		lat = c.latenciesOf(method, h.quantile)
		delay = lat.delay(h.delay)
	}
	base, addrs := splitCallOptions(opts)
	hctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	results := make(chan *hedgeAttempt, h.maxAttempts)
	started, pending := 0, 0

	launch := func() {
		started++
		pending++
		a := &hedgeAttempt{n: started, reply: out.ProtoReflect().New().Interface(), start: o.clock.Now()}
		actx := hctx
		if a.n > 1 {
			actx = metadata.AppendToOutgoingContext(actx, previousAttemptsKey, strconv.Itoa(a.n-1))
		}
		acancel := context.CancelFunc(func() {})
		if h.perAttemptTimeout > 0 {
			actx, acancel = context.WithTimeout(actx, h.perAttemptTimeout)
		}
		c.observe(ctx, o, retry.Event{Kind: retry.HedgeStarted, Method: method, Attempt: a.n, Hedge: true})
		aopts := append(slices.Clip(base), grpc.Header(&a.header), grpc.Trailer(&a.trailer), grpc.Peer(&a.peer))
		go func() {
			a.err = invoker(actx, method, req, a.reply, cc, aopts...)
			acancel()
			results <- a
		}()
	}

	// finish cancels the attempts still running, waits for them, and
	// reports them cancelled.
	finish := func() {
		cancelAll()
		for ; pending > 0; pending-- {
			a := <-results
			c.observe(ctx, o, retry.Event{Kind: retry.HedgeCancelled, Method: method, Attempt: a.n, Hedge: true,
				Code: status.Code(a.err), Err: a.err, Duration: o.clock.Now().Sub(a.start)})
		}
	}

	var (
		timer   <-chan time.Time
		stop    func() bool
		last    *hedgeAttempt
		halt    retry.StopReason // why no further hedge is sent; 0 while hedging goes on
		nextIn  = delay
		armNext = true
	)
	launch()
	for {
		if armNext && halt == 0 && started < h.maxAttempts {
			armNext = false
			if stop != nil {
				stop()
			}
			if nextIn <= 0 {
				timer, stop = nil, nil
				if !th.Allowed() {
					halt = retry.Throttled
				} else {
					launch()
					nextIn, armNext = delay, true
				}
				continue
			}
			timer, stop = o.clock.NewTimer(nextIn)
		}
		if pending == 0 && (halt != 0 || started >= h.maxAttempts) {
			if stop != nil {
				stop()
			}
			reason := halt
			if reason == 0 {
				reason = retry.Exhausted
			}
			return &retry.Error{Attempts: started, Reason: reason, Err: last.err}
		}
		select {
		case a := <-results:
			pending--
			took := o.clock.Now().Sub(a.start)
			code := status.Code(a.err)
			fatal := a.err == nil || !slices.Contains(h.nonFatal, code)
			c.observe(ctx, o, retry.Event{Method: method, Attempt: a.n, Hedge: true, Code: code, Err: a.err,
				Duration: took, Retry: !fatal && halt == 0 && started < h.maxAttempts})
			if fatal {
				if stop != nil {
					stop()
				}
				c.observe(ctx, o, retry.Event{Kind: retry.HedgeWon, Method: method, Attempt: a.n, Hedge: true, Code: code, Err: a.err, Duration: took})
				finish()
				if lat != nil && a.err == nil {
					lat.record(took)
				}
				return c.hedgeWon(a, out, addrs, th, started)
			}
			last = a
			th.Failure()
			if pb := retry.ParsePushback(a.trailer, status.Convert(a.err)); pb.Present {
				if pb.Stop {
					halt = retry.PushbackStop
					continue
				}
				nextIn = pb.Delay
			} else {
				nextIn = 0 // a non-fatal code sends the next hedge at once
			}
			armNext = true
		case <-timer:
			timer, stop = nil, nil
			if !th.Allowed() {
				halt = retry.Throttled
				continue
			}
			launch()
			nextIn, armNext = delay, true
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			finish()
			err := status.FromContextError(ctx.Err()).Err()
			return &retry.Error{Attempts: started, Reason: stopReasonOf(ctx), Err: err}
		}
	}
}

// hedgeWon hands the winning attempt's reply, header, trailer and peer to
// the caller and returns its result.
func (c *client) hedgeWon(a *hedgeAttempt, out proto.Message, addrs callerAddrs, th *retry.Throttle, started int) error {
	if addrs.header != nil {
		*addrs.header = a.header
	}
	if addrs.trailer != nil {
		*addrs.trailer = a.trailer
	}
	if addrs.peer != nil {
		*addrs.peer = a.peer
	}
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
