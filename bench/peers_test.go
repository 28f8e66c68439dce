package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/failsafegrpc"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	mwretry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/interceptors"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// A policy is what a scenario asks of every client, each expressing it in
// its own API. Codes retried (or hedged past) are UNAVAILABLE only.
type policy struct {
	// attempts is the most attempts per call, the first included.
	attempts int
	// backoff is the initial backoff (A6 initialBackoff, the manual
	// interval, the peers' base delay); maxBackoff caps it.
	backoff, maxBackoff time.Duration
	// throttle asks for A6 retry throttling, maxTokens 10, tokenRatio 0.1.
	throttle bool
	// hedge, when above zero, asks for hedging: a new attempt every hedge
	// until one answers, instead of retrying.
	hedge time.Duration
	// replayLimit, when above zero, bounds the bytes a stream call keeps
	// for replay (this library's WithMaxReplayBytes, grpc-go's
	// MaxRetryRPCBufferSize); zero leaves each client's default, 256 KiB
	// for both.
	replayLimit int
}

// defaultPolicy is the success path's: three attempts, a tiny backoff. On
// the success path only its presence matters.
var defaultPolicy = policy{attempts: 3, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond}

// throttleMaxTokens and throttleTokenRatio are the A6 retryThrottling
// figures of every throttled client.
const (
	throttleMaxTokens  = 10
	throttleTokenRatio = 0.1
)

// A peer is one client library, or this library in one of its modes.
type peer struct {
	// name is the value of the sub-benchmark key "client".
	name string
	// ours marks this library's clients.
	ours bool
	// unaryOnly marks a peer with no stream interceptor at all.
	unaryOnly bool
	// refusesClientStreams marks a peer whose stream interceptor fails
	// every client-streaming and bidi call (by design, with UNIMPLEMENTED).
	refusesClientStreams bool
	// options returns the peer's dial options for p, or a reason why the
	// peer cannot express p (a feature it does not have).
	options func(tb testing.TB, p policy) ([]grpc.DialOption, string)
}

// peers are in benchstat's column order: plain first, as the baseline.
var peers = []peer{
	{name: "plain", options: plainOptions},
	{name: "grpcbuiltin", options: grpcBuiltinOptions},
	{name: "middleware", options: middlewareOptions, refusesClientStreams: true},
	{name: "failsafe", options: failsafeOptions, unaryOnly: true},
	{name: "manual", options: manualOptions, ours: true},
	{name: "a6", options: a6Options, ours: true},
}

// plainOptions is grpc-go with its own retries off: it never retries,
// whatever p asks.
func plainOptions(testing.TB, policy) ([]grpc.DialOption, string) {
	return []grpc.DialOption{grpc.WithDisableRetry()}, ""
}

// grpcBuiltinOptions gives grpc-go the service config A6 defines, as JSON of
// its own: grpc-go parses it, not this library. grpc-go has no hedging
// (it ignores hedgingPolicy), which the tail scenario shows.
func grpcBuiltinOptions(_ testing.TB, p policy) ([]grpc.DialOption, string) {
	opts := []grpc.DialOption{grpc.WithDefaultServiceConfig(serviceConfigJSON(p))}
	if p.replayLimit > 0 {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxRetryRPCBufferSize(p.replayLimit)))
	}
	return opts, ""
}

// middlewareOptions is go-grpc-middleware v2's retry interceptor. WithMax
// counts attempts, the first included. grpc-go's own retry stays on, as its
// users get it; with no service config it never retries.
func middlewareOptions(_ testing.TB, p policy) ([]grpc.DialOption, string) {
	switch {
	case p.hedge > 0:
		return nil, "no hedging"
	case p.throttle:
		return nil, "no retry throttling"
	}
	opts := []mwretry.CallOption{
		mwretry.WithMax(uint(p.attempts)),
		mwretry.WithBackoff(mwretry.BackoffExponentialWithJitterBounded(p.backoff, 0.2, p.maxBackoff)),
		mwretry.WithCodes(codes.Unavailable),
	}
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(mwretry.UnaryClientInterceptor(opts...)),
		grpc.WithChainStreamInterceptor(mwretry.StreamClientInterceptor(opts...)),
	}, ""
}

// failsafeOptions is failsafe-go's gRPC client interceptor, which exists
// for unary calls only: a retry policy, or a hedge policy.
func failsafeOptions(_ testing.TB, p policy) ([]grpc.DialOption, string) {
	if p.throttle {
		// Its budget caps concurrent retries against executions in flight;
		// nothing counts failures over time as A6 throttling does.
		return nil, "no retry throttling"
	}
	unavailable := func(_ any, err error) bool { return status.Code(err) == codes.Unavailable }
	var pol failsafe.Policy[any]
	if p.hedge > 0 {
		// A hedge whose attempt failed with a code other than UNAVAILABLE
		// cancels the rest, as A6 fatal codes do.
		pol = hedgepolicy.NewBuilderWithDelay[any](p.hedge).
			WithMaxHedges(p.attempts - 1).
			CancelIf(func(_ any, err error) bool { return !unavailable(nil, err) }).
			Build()
	} else {
		pol = retrypolicy.NewBuilder[any]().
			HandleIf(unavailable).
			WithMaxAttempts(p.attempts).
			WithBackoff(p.backoff, p.maxBackoff).
			WithJitterFactor(0.2).
			ReturnLastFailure().
			Build()
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(failsafegrpc.NewUnaryClientInterceptor(pol))}, ""
}

// manualOptions is this library's manual mode: retry times and an interval.
// It has no throttling; hedging is WithHedging.
func manualOptions(_ testing.TB, p policy) ([]grpc.DialOption, string) {
	switch {
	case p.throttle:
		return nil, "no retry throttling (the service config has it)"
	case p.hedge > 0:
		return interceptors.DialOptions(interceptors.WithHedging(p.attempts, p.hedge, codes.Unavailable)), ""
	}
	return interceptors.DialOptions(append(replayLimit(p),
		interceptors.WithRetryTimes(p.attempts-1),
		interceptors.WithRetryInterval(p.backoff),
		interceptors.WithCodes(codes.Unavailable),
	)...), ""
}

// replayLimit is this library's option for p.replayLimit, if any.
func replayLimit(p policy) []interceptors.Option {
	if p.replayLimit > 0 {
		return []interceptors.Option{interceptors.WithMaxReplayBytes(p.replayLimit)}
	}
	return nil
}

// a6Options is this library with the same A6 service config grpcbuiltin
// gets, parsed by this library.
func a6Options(tb testing.TB, p policy) ([]grpc.DialOption, string) {
	cfg, err := rsc.Parse([]byte(serviceConfigJSON(p)))
	if err != nil {
		tb.Fatalf("rsc.Parse(%s) = %v", serviceConfigJSON(p), err)
	}
	return interceptors.DialOptions(append(replayLimit(p), interceptors.WithServiceConfig(cfg))...), ""
}

// serviceConfigJSON returns the A6 service config for p: a retryPolicy, or
// a hedgingPolicy, for every route guide method, and retryThrottling when
// p asks for it.
func serviceConfigJSON(p policy) string {
	var pol string
	if p.hedge > 0 {
		pol = fmt.Sprintf(`"hedgingPolicy": {"maxAttempts": %d, "hedgingDelay": %q, "nonFatalStatusCodes": ["UNAVAILABLE"]}`,
			p.attempts, seconds(p.hedge))
	} else {
		pol = fmt.Sprintf(`"retryPolicy": {"maxAttempts": %d, "initialBackoff": %q, "maxBackoff": %q, "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}`,
			p.attempts, seconds(p.backoff), seconds(p.maxBackoff))
	}
	var throttle string
	if p.throttle {
		throttle = fmt.Sprintf(`, "retryThrottling": {"maxTokens": %d, "tokenRatio": %g}`, throttleMaxTokens, throttleTokenRatio)
	}
	return `{"methodConfig": [{"name": [{"service": "routeguide.RouteGuide"}], ` + pol + `}]` + throttle + `}`
}

// seconds formats d as a service config duration: decimal seconds and "s".
func seconds(d time.Duration) string {
	s := fmt.Sprintf("%.9f", d.Seconds())
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "s"
}

// peerByName returns the peer named name.
func peerByName(tb testing.TB, name string) peer {
	tb.Helper()
	for _, p := range peers {
		if p.name == name {
			return p
		}
	}
	tb.Fatalf("no peer %q", name)
	return peer{}
}

// supports reports whether pr can make calls of kind k at all, or why not.
func (pr peer) supports(k kind) (bool, string) {
	switch {
	case pr.unaryOnly && k.name != unary.name:
		return false, "no stream interceptor"
	case pr.refusesClientStreams && k.clientStreams:
		return false, "refuses client-streaming and bidi calls (UNIMPLEMENTED)"
	}
	return true, ""
}
