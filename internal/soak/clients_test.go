package soak

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// Full method names of the route guide.
const (
	methodGetFeature   = "/routeguide.RouteGuide/GetFeature"
	methodListFeatures = "/routeguide.RouteGuide/ListFeatures"
	methodRecordRoute  = "/routeguide.RouteGuide/RecordRoute"
	methodRouteChat    = "/routeguide.RouteGuide/RouteChat"
)

// readMethod reports whether method is one of the two reads, which the
// proto marks NO_SIDE_EFFECTS (idempotent).
func readMethod(method string) bool {
	return method == methodGetFeature || method == methodListFeatures
}

// readCodes are the codes the A6 configs retry (or hedge past) for the
// idempotent reads, besides UNAVAILABLE.
var readCodes = []codes.Code{codes.Unavailable, codes.Internal, codes.Aborted, codes.ResourceExhausted}

// a6Retry is an A6 service config: reads retried on UNAVAILABLE and the
// Ambiguous codes, writes on UNAVAILABLE only, calls waiting for a ready
// connection, and a retry throttle that a burst of failures (a dropped
// connection) can drain.
const a6Retry = `{
  "methodConfig": [
    {
      "name": [{"service": "routeguide.RouteGuide", "method": "GetFeature"},
               {"service": "routeguide.RouteGuide", "method": "ListFeatures"}],
      "waitForReady": true,
      "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.005s", "maxBackoff": "0.05s",
        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE", "INTERNAL", "ABORTED", "RESOURCE_EXHAUSTED"]}
    },
    {
      "name": [{"service": "routeguide.RouteGuide"}],
      "waitForReady": true,
      "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.005s", "maxBackoff": "0.05s",
        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}
    }
  ],
  "retryThrottling": {"maxTokens": 20, "tokenRatio": 0.5}
}`

// a6Hedge hedges the reads (a hedge every 30ms, at once after a non-fatal
// code) and retries the writes on UNAVAILABLE.
const a6Hedge = `{
  "methodConfig": [
    {
      "name": [{"service": "routeguide.RouteGuide", "method": "GetFeature"},
               {"service": "routeguide.RouteGuide", "method": "ListFeatures"}],
      "waitForReady": true,
      "hedgingPolicy": {"maxAttempts": 3, "hedgingDelay": "0.03s",
        "nonFatalStatusCodes": ["UNAVAILABLE", "INTERNAL", "ABORTED", "RESOURCE_EXHAUSTED"]}
    },
    {
      "name": [{"service": "routeguide.RouteGuide"}],
      "waitForReady": true,
      "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.005s", "maxBackoff": "0.05s",
        "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}
    }
  ]
}`

// mode is one way of configuring the library: the client connection of
// each mode is shared by the workers given to it. Besides the options it
// knows what an honest error of each method can say.
type mode struct {
	name string
	// serviceConfig is the A6 JSON, or "" for the manual mode's options.
	serviceConfig string
	manual        []interceptors.Option
	// maxAttempts is the most attempts a call of method may make.
	maxAttempts func(method string) int
	// retried reports whether a failed attempt with code is retried (or,
	// hedged, answered with the next hedge) for method.
	retried func(method string, c codes.Code) bool
	// hedged reports whether method's calls are hedged.
	hedged func(method string) bool
	// throttled reports whether the mode has a retry throttle.
	throttled bool
}

// modes are the soak's client configurations, one connection each; worker
// i uses modes[i%len(modes)].
var modes = []mode{
	{
		name:          "a6-retry",
		serviceConfig: a6Retry,
		maxAttempts:   func(string) int { return 4 },
		retried:       a6Retried,
		hedged:        func(string) bool { return false },
		throttled:     true,
	},
	{
		// Manual mode with the default codes, which follow the proto's
		// idempotency: the Ambiguous codes and per-attempt timeouts are
		// retried for the reads only.
		name: "manual",
		manual: []interceptors.Option{
			interceptors.WithRetryTimes(3),
			interceptors.WithRetryInterval(5 * time.Millisecond),
			interceptors.WithRetryJitter(0.5),
			interceptors.WithPerAttemptTimeout(400 * time.Millisecond),
		},
		maxAttempts: func(string) int { return 4 },
		retried:     func(m string, c codes.Code) bool { return rstatus.Retryable(c, readMethod(m)) },
		hedged:      func(string) bool { return false },
	},
	{
		name:          "a6-hedge",
		serviceConfig: a6Hedge,
		maxAttempts: func(m string) int {
			if readMethod(m) {
				return 3
			}
			return 4
		},
		retried: a6Retried,
		hedged:  readMethod,
	},
	{
		// Manual mode with an explicit code list, which is followed as
		// written, also for the writes. The interval outlasts the first
		// reconnect backoff (see reconnect): retried at once, a call that
		// meets a reset connection would use up its attempts in
		// microseconds, failing fast while the connection is down. The
		// replay buffer is so small (a few points, a note or two) that
		// most routes and chats commit when it overflows, before their
		// last message, and are not retried after: that commit must hold
		// too.
		name: "manual-codes",
		manual: []interceptors.Option{
			interceptors.WithRetryTimes(2),
			interceptors.WithRetryInterval(25 * time.Millisecond),
			interceptors.WithCodes(codes.Unavailable),
			interceptors.WithMaxReplayBytes(64),
		},
		maxAttempts: func(string) int { return 3 },
		retried:     func(_ string, c codes.Code) bool { return c == codes.Unavailable },
		hedged:      func(string) bool { return false },
	},
}

// a6Retried is the code set of both A6 configs.
func a6Retried(method string, c codes.Code) bool {
	if readMethod(method) {
		return slices.Contains(readCodes, c)
	}
	return c == codes.Unavailable
}

// libraryOptions returns the mode's interceptor options, with obs.
func (m mode) libraryOptions(obs retry.Observer) ([]interceptors.Option, error) {
	opts := []interceptors.Option{interceptors.WithObserver(obs)}
	if m.serviceConfig != "" {
		cfg, err := rsc.Parse([]byte(m.serviceConfig))
		if err != nil {
			return nil, err
		}
		opts = append(opts, interceptors.WithServiceConfig(cfg))
	}
	return append(opts, m.manual...), nil
}

// reconnect keeps reconnecting quick: with grpc-go's default backoff (1s
// and growing) a reset connection would idle a worker for seconds, and the
// soak would measure waiting rather than calls.
var reconnect = grpc.WithConnectParams(grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 250 * time.Millisecond},
	MinConnectTimeout: time.Second,
})

// dial returns a client connection to addr through the library, in mode
// m, with the interceptors of outer (the tests' leaks and lies), if any,
// outside the library's: they see what a caller sees.
func dial(addr string, m mode, obs retry.Observer, outer ...grpc.DialOption) (*grpc.ClientConn, error) {
	lopts, err := m.libraryOptions(obs)
	if err != nil {
		return nil, err
	}
	dopts := append([]grpc.DialOption(nil), outer...)
	dopts = append(dopts, interceptors.DialOptions(lopts...)...)
	dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()), reconnect)
	return grpc.NewClient("passthrough:///"+addr, dopts...)
}

// traceKey keys a call's *trace in its context.
type traceKey struct{}

// trace counts what the library's observer saw of one call.
type trace struct {
	done atomic.Int64 // finished attempts (retry.AttemptDone)
}

// observer counts the library's attempt events, in all and for the call
// whose context carries a *trace.
type observer struct {
	byKind  [4]atomic.Int64 // by retry.EventKind
	retries atomic.Int64    // finished attempts followed by another
}

func (o *observer) observe(ctx context.Context, e retry.Event) {
	if k := int(e.Kind); k >= 0 && k < len(o.byKind) {
		o.byKind[k].Add(1)
	}
	if e.Kind == retry.AttemptDone && e.Retry {
		o.retries.Add(1)
	}
	if tr, ok := ctx.Value(traceKey{}).(*trace); ok && e.Kind == retry.AttemptDone {
		tr.done.Add(1)
	}
}

// leak is a deliberate leak, for the test that proves the flatness check
// catches one: per call, goroutines left blocked and bytes kept.
type leak struct {
	goroutines int
	bytes      int
}

func (l leak) String() string {
	switch {
	case l.goroutines > 0 && l.bytes > 0:
		return "goroutines+bytes"
	case l.goroutines > 0:
		return "goroutines"
	case l.bytes > 0:
		return "bytes"
	}
	return "none"
}

// leaker is a client interceptor that leaks as its leak says on every
// call, until free.
type leaker struct {
	leak
	release chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	kept    [][]byte
}

func newLeaker(l leak) *leaker { return &leaker{leak: l, release: make(chan struct{})} }

func (l *leaker) take() {
	for range l.goroutines {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			<-l.release
		}()
	}
	if l.bytes > 0 {
		b := make([]byte, l.bytes)
		b[len(b)-1] = 1 // touched, so it is really there
		l.mu.Lock()
		l.kept = append(l.kept, b)
		l.mu.Unlock()
	}
}

// free ends the leaked goroutines and drops the kept bytes.
func (l *leaker) free() {
	close(l.release)
	l.wg.Wait()
	l.mu.Lock()
	l.kept = nil
	l.mu.Unlock()
}

func (l *leaker) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	l.take()
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (l *leaker) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	l.take()
	return streamer(ctx, desc, cc, method, opts...)
}
