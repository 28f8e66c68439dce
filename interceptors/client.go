package interceptors

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// previousAttemptsKey is the request header that tells the server how many
// attempts of this call came before (gRFC A6); absent on the first attempt.
const previousAttemptsKey = "grpc-previous-rpc-attempts"

// client is the state shared by the unary and stream interceptors built from
// one set of options.
type client struct {
	base      options
	plans     methodCache[*plan] // for calls without call options
	throttles sync.Map           // target -> *retry.Throttle
	protoIdem methodCache[bool]
	latency   methodCache[*latencies] // for adaptive hedging delays
	replay    replayBudgets
}

// plan is how the calls of one method run.
type plan struct {
	// policy is nil when the method is not retried and has no per-attempt
	// timeout: calls pass straight through.
	policy *retry.Policy
	// timeout is the service config's timeout; 0 for none.
	timeout time.Duration
	// waitForReady is the service config's waitForReady; nil for unset.
	waitForReady *bool
	// throttling is the service config's retryThrottling; nil for none.
	throttling *rsc.RetryThrottling
	// hedge, when not nil, hedges the method's calls; policy is then nil.
	hedge *hedgePolicy
}

func newClient(opts []Option) *client {
	c := &client{base: defaultOptions()}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&c.base)
		}
	}
	c.base.serviceConfig = normalize(c.base.serviceConfig)
	return c
}

// normalize applies A6's caps to cfg; an invalid config is ignored, as
// grpc-go ignores an invalid default service config it was not handed at
// dial time.
func normalize(cfg *rsc.Config) *rsc.Config {
	if cfg == nil {
		return nil
	}
	n, err := cfg.Normalized()
	if err != nil {
		return nil
	}
	return n
}

// callOptions returns the options of one call: the interceptor's, overridden
// by any Option among opts, and opts without those.
func (c *client) callOptions(opts []grpc.CallOption) (*options, []grpc.CallOption, bool) {
	n := 0
	for _, o := range opts {
		if _, ok := o.(Option); ok {
			n++
		}
	}
	if n == 0 {
		return &c.base, opts, false
	}
	o := c.base
	rest := make([]grpc.CallOption, 0, len(opts)-n)
	for _, co := range opts {
		if ro, ok := co.(Option); ok {
			if ro.apply != nil {
				ro.apply(&o)
			}
			continue
		}
		rest = append(rest, co)
	}
	o.serviceConfig = normalize(o.serviceConfig)
	return &o, rest, true
}

// planFor returns the plan of method under o; plans for the interceptor's
// own options are cached.
func (c *client) planFor(o *options, method string, override bool) *plan {
	if !override {
		if p, ok := c.plans.load(method); ok {
			return p
		}
	}
	p := c.buildPlan(o, method)
	if !override {
		return c.plans.store(method, p)
	}
	return p
}

func (c *client) buildPlan(o *options, method string) *plan {
	p := &plan{}
	mc := o.serviceConfig.MethodConfig(method)
	if mc != nil {
		p.timeout = mc.Timeout
		p.waitForReady = mc.WaitForReady
	}
	if o.serviceConfig != nil {
		p.throttling = o.serviceConfig.RetryThrottling
	}
	if o.disabled {
		return p
	}
	pol := &retry.Policy{
		MaxAttempts:       1,
		Codes:             o.codes,
		Idempotent:        c.idempotent(o, method),
		PerAttemptTimeout: o.perAttemptTimeout,
	}
	var h *hedgePolicy
	switch {
	case o.retryTimesSet:
		pol.MaxAttempts = o.retryTimes + 1
		if o.interval > 0 {
			pol.Backoff = retry.Fixed(o.interval, o.jitter)
		}
	case o.hedge != nil:
		h = o.hedge
	case mc != nil && mc.HedgingPolicy != nil:
		hp := mc.HedgingPolicy
		h = &hedgePolicy{maxAttempts: min(hp.MaxAttempts, retry.MaxA6Attempts), delay: hp.HedgingDelay, nonFatal: hp.NonFatalStatusCodes}
	case mc != nil && mc.RetryPolicy != nil:
		rp := mc.RetryPolicy
		pol.MaxAttempts = min(rp.MaxAttempts, retry.MaxA6Attempts)
		pol.Backoff = retry.A6(rp.InitialBackoff, rp.MaxBackoff, rp.BackoffMultiplier)
		if len(o.codes) == 0 {
			pol.Codes = rp.RetryableStatusCodes
		}
	}
	if h != nil {
		hh := *h
		hh.perAttemptTimeout = o.perAttemptTimeout
		hh.quantile = o.hedgeQuantile
		p.hedge = &hh
		return p
	}
	if pol.MaxAttempts > 1 || pol.PerAttemptTimeout > 0 {
		p.policy = pol
	}
	return p
}

func (c *client) idempotent(o *options, method string) bool {
	if o.idempotent != nil {
		return *o.idempotent
	}
	if o.idempotentMethods[method] {
		return true
	}
	if v, ok := c.protoIdem.load(method); ok {
		return v
	}
	return c.protoIdem.store(method, protoIdempotent(method))
}

// throttle returns the retry throttle of cc's target, or nil when the plan
// has no throttling. Only a policy that retries takes tokens from it; every
// successful call gives tokens back.
func (c *client) throttle(p *plan, cc *grpc.ClientConn) *retry.Throttle {
	if p.throttling == nil || cc == nil {
		return nil
	}
	target := cc.Target()
	if t, ok := c.throttles.Load(target); ok {
		return t.(*retry.Throttle)
	}
	t, err := retry.NewThrottle(p.throttling.MaxTokens, p.throttling.TokenRatio)
	if err != nil {
		return nil
	}
	actual, _ := c.throttles.LoadOrStore(target, t)
	return actual.(*retry.Throttle)
}

// callContext applies the service config's timeout: the call's deadline is
// the earlier of the caller's and now+timeout.
func callContext(ctx context.Context, p *plan) (context.Context, context.CancelFunc) {
	if p.timeout <= 0 {
		return ctx, nil
	}
	return context.WithTimeout(ctx, p.timeout)
}

// withWaitForReady puts the service config's waitForReady in front of the
// caller's options, so that the caller's own choice wins.
func withWaitForReady(p *plan, opts []grpc.CallOption) []grpc.CallOption {
	if p.waitForReady == nil {
		return opts
	}
	out := make([]grpc.CallOption, 0, len(opts)+1)
	out = append(out, grpc.WaitForReady(*p.waitForReady))
	return append(out, opts...)
}

// attemptContext returns the context of attempt n: the call's context, with
// grpc-previous-rpc-attempts from the second attempt on, and the per-attempt
// timeout if any. cancel is nil when nothing needs releasing.
func attemptContext(ctx context.Context, n int, perAttemptTimeout time.Duration) (context.Context, context.CancelFunc) {
	if n > 1 {
		ctx = metadata.AppendToOutgoingContext(ctx, previousAttemptsKey, strconv.Itoa(n-1))
	}
	if perAttemptTimeout > 0 {
		return context.WithTimeout(ctx, perAttemptTimeout)
	}
	return ctx, nil
}

// decide asks the call's policy what to do after a failed attempt and tells
// the observer.
func (c *client) decide(ctx context.Context, o *options, call *retry.Call, method string, n int, start time.Time, err error, trailer metadata.MD, committed, unanswered bool) retry.Decision {
	now := o.clock.Now()
	d := call.Decide(ctx, now, retry.Outcome{Err: err, Trailer: trailer, Committed: committed, Unanswered: unanswered})
	if o.observer != nil {
		o.observer(ctx, retry.Event{
			Method: method, Attempt: n, Code: status.Code(err), Err: err,
			Duration: now.Sub(start), Retry: d.Retry, Delay: d.Delay, Reason: d.Reason,
		})
	}
	return d
}

// unanswered reports whether an attempt that went out and failed with err
// got no answer from the server, from its trailer: a server's status always
// comes with HTTP/2 trailers, and those of a call that had no response
// header (a "Trailers-Only" response) carry content-type, which grpc-go
// keeps in the trailer; so an empty trailer of an uncommitted attempt means
// the status was made by the client's transport: a lost connection, a reset
// stream, an HTTP error from a proxy that does not speak gRPC, or the
// attempt's own deadline. The exceptions are grpc-go's own reports that the
// server never processed the stream (see neverProcessed).
func unanswered(trailer metadata.MD, err error) bool {
	return len(trailer) == 0 && !neverProcessed(err)
}

// neverProcessedMessages are grpc-go's (1.85) status messages for an
// attempt whose stream the server refused unprocessed, or that found no
// connection at all: GOAWAY naming a lower stream id ("the connection is
// draining"), RST_STREAM REFUSED_STREAM, and a dial failure. grpc-go retries
// such a stream once by itself (a transparent retry); these messages reach
// the interceptor when that retry failed too. TestNeverProcessed pins them.
var neverProcessedMessages = []string{
	"the connection is draining",
	"stream terminated by RST_STREAM with error code: REFUSED_STREAM",
	"transport: Error while dialing",
}

func neverProcessed(err error) bool {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unavailable {
		return false
	}
	for _, m := range neverProcessedMessages {
		if strings.Contains(st.Message(), m) {
			return true
		}
	}
	return false
}

// succeeded records a successful call with the target's throttle (every
// success counts, retried method or not, as in A6) and the observer.
func (c *client) succeeded(ctx context.Context, o *options, th *retry.Throttle, method string, n int, start time.Time) {
	th.Success()
	if o.observer != nil {
		o.observer(ctx, retry.Event{Method: method, Attempt: n, Code: codes.OK, Duration: o.clock.Now().Sub(start)})
	}
}

// wait blocks for d or until ctx is done; it returns the status error of
// ctx in the latter case.
func wait(ctx context.Context, clk clock, d time.Duration) error {
	if d <= 0 {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		return nil
	}
	ch, stop := clk.NewTimer(d)
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		stop()
		return status.FromContextError(ctx.Err()).Err()
	}
}

// stopReasonOf tells Deadline from Canceled for a context that ended.
func stopReasonOf(ctx context.Context) retry.StopReason {
	if ctx.Err() == context.DeadlineExceeded {
		return retry.Deadline
	}
	return retry.Canceled
}

// onFinish holds the caller's grpc.OnFinish callbacks. grpc calls them
// once per call; attempts would call them once each, so the interceptors
// take them out of the attempts' options and call them once, when the call
// ends. A nil *onFinish has none.
type onFinish struct {
	once sync.Once
	fns  []func(error)
}

// takeOnFinish takes the OnFinish options out of opts; opts is returned
// as it is, without allocating, when it holds none.
func takeOnFinish(opts []grpc.CallOption) ([]grpc.CallOption, *onFinish) {
	n := 0
	for _, o := range opts {
		if _, ok := o.(grpc.OnFinishCallOption); ok {
			n++
		}
	}
	if n == 0 {
		return opts, nil
	}
	f := &onFinish{fns: make([]func(error), 0, n)}
	rest := make([]grpc.CallOption, 0, len(opts)-n)
	for _, o := range opts {
		if of, ok := o.(grpc.OnFinishCallOption); ok {
			f.fns = append(f.fns, of.OnFinish)
			continue
		}
		rest = append(rest, o)
	}
	return rest, f
}

// call calls the callbacks with the call's error (nil for a stream's
// io.EOF, as grpc-go does), the first time only.
func (f *onFinish) call(err error) {
	if f == nil {
		return
	}
	f.once.Do(func() {
		if err == io.EOF {
			err = nil
		}
		for _, fn := range f.fns {
			fn(err)
		}
	})
}

// onCancel calls the callbacks with ctx's status once ctx ends, for a
// stream its caller ends by cancelling rather than by reading its status.
// It returns the stop function, nil when there is nothing to call.
func (f *onFinish) onCancel(ctx context.Context) func() bool {
	if f == nil {
		return nil
	}
	return context.AfterFunc(ctx, func() { f.call(status.FromContextError(ctx.Err()).Err()) })
}

// UnaryClientInterceptor returns an interceptor that retries unary calls as
// the options say. Pair it with StreamClientInterceptor from the same
// options, or use DialOptions, which also turns off grpc-go's own retries.
func UnaryClientInterceptor(opts ...Option) grpc.UnaryClientInterceptor {
	return newClient(opts).unary
}

// StreamClientInterceptor returns an interceptor that retries streaming
// calls of all three kinds as the options say, replaying the messages sent
// so far until the call commits.
func StreamClientInterceptor(opts ...Option) grpc.StreamClientInterceptor {
	return newClient(opts).stream
}

// DialOptions returns the dial options that install both client interceptors
// (sharing one retry throttle per target) and grpc.WithDisableRetry(), so
// that grpc-go's own configured retries never multiply the attempts.
// grpc-go's transparent retries of calls that never left the client stay on.
func DialOptions(opts ...Option) []grpc.DialOption {
	c := newClient(opts)
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(c.unary),
		grpc.WithChainStreamInterceptor(c.stream),
		grpc.WithDisableRetry(),
	}
}
