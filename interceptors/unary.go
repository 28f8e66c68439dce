package interceptors

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/resilience-go/grpc-resilience/retry"
)

// unaryState is the per-call state of a retried unary call, pooled so that
// a call that succeeds at once allocates nothing of its own.
type unaryState struct {
	pol  retry.Policy
	call retry.Call
	// header and trailer receive each attempt's: the header tells whether
	// the call committed, the trailer carries the server's pushback.
	header, trailer metadata.MD
	opts            [8]grpc.CallOption
}

var unaryStates = sync.Pool{New: func() any { return new(unaryState) }}

func (c *client) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) (err error) {
	o, opts, override := c.callOptions(opts)
	if o.deadlineMargin > 0 {
		mctx, mcancel, merr := withMargin(ctx, o.deadlineMargin, opts)
		if merr != nil {
			return merr
		}
		if mcancel != nil {
			defer mcancel()
		}
		ctx = mctx
	}
	p := c.planFor(o, method, override)
	opts = withWaitForReady(p, opts)
	ctx, cancel := callContext(ctx, p)
	if cancel != nil {
		defer cancel()
	}
	th := c.throttle(p, cc)
	if p.hedge != nil {
		return c.hedgeUnary(ctx, o, p.hedge, th, method, req, reply, cc, invoker, opts)
	}
	if p.policy == nil {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil {
			th.Success()
		}
		return err
	}

	opts, fin := takeOnFinish(opts)
	if fin != nil {
		defer func() { fin.call(err) }()
	}
	st := unaryStates.Get().(*unaryState)
	defer func() {
		*st = unaryState{}
		unaryStates.Put(st)
	}()
	st.pol = *p.policy
	if st.pol.MaxAttempts > 1 {
		st.pol.Throttle = th
	}
	st.call = retry.NewCall(&st.pol)
	pol, call := &st.pol, &st.call
	attemptOpts := st.opts[:0]
	if len(opts)+2 > len(st.opts) {
		attemptOpts = make([]grpc.CallOption, 0, len(opts)+2)
	}
	attemptOpts = append(attemptOpts, opts...)
	// These two are the whole success-path cost of a retried unary call:
	// grpc-go copies the header and the trailer for them after every
	// attempt, successful or not (4 allocations for a one-key header). A
	// unary interceptor has no other way to learn whether a failed attempt
	// had committed, or the server's pushback (TestSuccessPathAllocs).
	attemptOpts = append(attemptOpts, grpc.Header(&st.header), grpc.Trailer(&st.trailer))

	for {
		n := call.BeginAttempt()
		// grpc-go sets the header and trailer (a non-nil MD, maybe empty)
		// only for an attempt that got a stream: a trailer left nil means
		// one that never left the client.
		actx, acancel := attemptContext(ctx, n, pol.PerAttemptTimeout)
		var start time.Time // only the observer needs it
		if o.observer != nil {
			start = o.clock.Now()
		}
		st.header, st.trailer = nil, nil
		err := invoker(actx, method, req, reply, cc, attemptOpts...)
		if acancel != nil {
			acancel()
		}
		if err == nil {
			c.succeeded(ctx, o, th, method, n, start)
			return nil
		}
		sent := st.trailer != nil
		d := c.decide(ctx, o, call, method, n, start, err, st.trailer, st.header != nil, sent && unanswered(st.trailer, err))
		if !d.Retry {
			return call.Err(err, d.Reason)
		}
		if werr := wait(ctx, o.clock, d.Delay); werr != nil {
			return call.Err(werr, stopReasonOf(ctx))
		}
	}
}
