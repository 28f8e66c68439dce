package faultinject

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// pushbackKey is the trailer of gRFC A6 that tells a client when to retry.
const pushbackKey = "grpc-retry-pushback-ms"

// UnaryServerInterceptor returns an interceptor that injects the
// injector's faults into unary calls. Install it first (outermost) so that
// faults hit before other interceptors do work.
func (in *Injector) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		p, ok := in.decide(ctx, info.FullMethod)
		if !ok {
			return handler(ctx, req)
		}
		defer in.release()
		if err := in.wait(ctx, info.FullMethod, &p); err != nil {
			return nil, err
		}
		if p.abort == nil {
			return handler(ctx, req)
		}
		if p.abort.AfterMessages == 0 {
			return nil, in.fail(ctx, info.FullMethod, &p, 0, func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) })
		}
		if resp, err := handler(ctx, req); err != nil {
			return resp, err
		}
		// The work is done: commit the call with headers, then fail it,
		// dropping the response.
		_ = grpc.SendHeader(ctx, nil)
		return nil, in.fail(ctx, info.FullMethod, &p, 1, func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) })
	}
}

// StreamServerInterceptor returns an interceptor that injects the
// injector's faults into streaming calls. Install it first (outermost).
func (in *Injector) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx := ss.Context()
		p, ok := in.decide(ctx, info.FullMethod)
		if !ok {
			return handler(srv, ss)
		}
		defer in.release()
		if err := in.wait(ctx, info.FullMethod, &p); err != nil {
			return err
		}
		if p.abort == nil {
			return handler(srv, ss)
		}
		if p.abort.AfterRequests > 0 && info.IsClientStream {
			rs := &requestFaultStream{ServerStream: ss, limit: int64(p.abort.AfterRequests), err: abortError(p.abort)}
			err := handler(srv, rs)
			if !rs.fired.Load() {
				return err
			}
			// No headers: unless the handler sent some, the client sees a
			// trailers-only failure it may retry.
			return in.fail(ctx, info.FullMethod, &p, int(rs.received.Load()), ss.SetTrailer)
		}
		if p.abort.AfterMessages == 0 {
			return in.fail(ctx, info.FullMethod, &p, 0, ss.SetTrailer)
		}
		fs := &faultStream{ServerStream: ss, limit: int64(p.abort.AfterMessages), err: abortError(p.abort)}
		err := handler(srv, fs)
		if !fs.fired.Load() {
			return err
		}
		// Make the failure a mid-stream one even when only requests had
		// passed: response headers commit the call at the client.
		_ = ss.SendHeader(nil)
		return in.fail(ctx, info.FullMethod, &p, int(fs.passed.Load()), ss.SetTrailer)
	}
}

// wait holds a delayed call for its delay, or until the call ends.
func (in *Injector) wait(ctx context.Context, method string, p *plan) error {
	if !p.delayed {
		return nil
	}
	in.c.delays.Add(1)
	in.emit(Event{Kind: KindDelay, Method: method, Seq: p.seq, Attempt: p.attemptFor(ctx), Rule: p.delayRule, Delay: p.delay})
	if p.delay <= 0 {
		return nil
	}
	t := time.NewTimer(p.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// fail counts and reports the abort of p, sets its pushback trailer, and
// returns its error. messages > 0 marks an abort after messages passed.
func (in *Injector) fail(ctx context.Context, method string, p *plan, messages int, setTrailer func(metadata.MD)) error {
	a := p.abort
	if a.Pushback != nil {
		setTrailer(metadata.Pairs(pushbackKey, strconv.FormatInt(a.Pushback.Milliseconds(), 10)))
	}
	in.c.aborts[a.Code].Add(1)
	kind := KindAbort
	if a.AfterMessages > 0 || (a.AfterRequests > 0 && messages > 0) {
		kind = KindStreamAbort
		in.c.streamAborts.Add(1)
	}
	in.emit(Event{Kind: kind, Method: method, Seq: p.seq, Attempt: p.attemptFor(ctx), Rule: p.abortRule, Code: a.Code, Messages: messages})
	return abortError(a)
}

func abortError(a *Abort) error { return status.Error(a.Code, a.message()) }
