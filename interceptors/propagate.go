package interceptors

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/retry"
)

// Downstream returns the context for calls made while serving a request
// whose context is ctx: its deadline is ctx's minus margin, so that those
// calls end while the request's own caller still waits, and the server keeps
// margin to answer it. If margin or less is left, the returned context is
// already done with context.DeadlineExceeded. Without a deadline, or with a
// margin <= 0, it returns ctx itself and a cancel that does nothing.
//
// As with context.WithDeadline, call cancel once the calls are done.
// WithDeadlineMargin does the same for every call through the interceptors.
func Downstream(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || margin <= 0 {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, dl.Add(-margin))
}

// withMargin moves the deadline of an outgoing call's ctx, if it has one,
// margin earlier; cancel is nil when ctx is unchanged. A call with margin or
// less left must not be sent: err is then its status, already handed to the
// caller's OnFinish callbacks in opts, as grpc-go does for a call that fails
// before it starts. A ctx that already ended is left to grpc, which fails
// the call with ctx's own status.
func withMargin(ctx context.Context, margin time.Duration, opts []grpc.CallOption) (_ context.Context, cancel context.CancelFunc, err error) {
	dl, ok := ctx.Deadline()
	if !ok || ctx.Err() != nil {
		return ctx, nil, nil
	}
	if left := time.Until(dl); left <= margin {
		err = &retry.Error{Reason: retry.Deadline, Err: status.Errorf(codes.DeadlineExceeded,
			"grpc-resilience: %v left of the deadline, within the safety margin of %v", max(left, 0).Truncate(time.Millisecond), margin)}
		_, fin := takeOnFinish(opts)
		fin.call(err)
		return ctx, nil, err
	}
	ctx, cancel = Downstream(ctx, margin)
	return ctx, cancel, nil
}
