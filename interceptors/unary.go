package interceptors

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/resilience-go/grpc-resilience/retry"
)

// attemptMD receives one attempt's response header and trailer from grpc.
type attemptMD struct {
	header, trailer metadata.MD
}

func (c *client) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	o, opts, override := c.callOptions(opts)
	p := c.planFor(o, method, override)
	opts = withWaitForReady(p, opts)
	ctx, cancel := callContext(ctx, p)
	if cancel != nil {
		defer cancel()
	}
	th := c.throttle(p, cc)
	if p.policy == nil {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil {
			th.Success()
		}
		return err
	}

	pol := *p.policy
	if pol.MaxAttempts > 1 {
		pol.Throttle = th
	}
	call := retry.NewCall(&pol)

	// The header tells whether the call committed (a header arrived before
	// the failure); the trailer carries the server's pushback.
	md := &attemptMD{}
	attemptOpts := make([]grpc.CallOption, len(opts), len(opts)+2)
	copy(attemptOpts, opts)
	attemptOpts = append(attemptOpts, grpc.Header(&md.header), grpc.Trailer(&md.trailer))

	for {
		n := call.BeginAttempt()
		actx, acancel := attemptContext(ctx, &pol, n)
		start := o.clock.Now()
		md.header, md.trailer = nil, nil
		err := invoker(actx, method, req, reply, cc, attemptOpts...)
		if acancel != nil {
			acancel()
		}
		if err == nil {
			c.succeeded(ctx, o, th, method, n, start)
			return nil
		}
		d := c.decide(ctx, o, &call, method, n, start, err, md.trailer, md.header != nil)
		if !d.Retry {
			return call.Err(err, d.Reason)
		}
		if werr := wait(ctx, o.clock, d.Delay); werr != nil {
			return call.Err(werr, stopReasonOf(ctx))
		}
	}
}
