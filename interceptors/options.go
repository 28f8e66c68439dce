package interceptors

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

// defaultMaxReplayBytes bounds the messages a stream call keeps for replay
// before it commits.
const defaultMaxReplayBytes = 256 << 10

// defaultMaxConnReplayBytes bounds what the stream calls on one connection
// keep for replay together: 16 MiB, grpc-java's default for the same A6
// "per-channel" limit.
const defaultMaxConnReplayBytes = 16 << 20

// Option configures the client interceptors. Every Option is also a
// grpc.CallOption: passed to one call, it overrides the interceptor's
// setting for that call only. When an option is given twice, the last one
// wins.
type Option struct {
	grpc.EmptyCallOption
	apply func(*options)
}

type options struct {
	serviceConfig     *rsc.Config
	retryTimes        int
	retryTimesSet     bool
	hedge             *hedgePolicy
	hedgeQuantile     float64
	interval          time.Duration
	jitter            float64
	codes             []codes.Code
	perAttemptTimeout time.Duration
	deadlineMargin    time.Duration
	idempotent        *bool
	idempotentMethods map[string]bool
	maxReplayBytes    int
	maxConnReplay     int // < 0: no limit
	observer          retry.Observer
	disabled          bool
	clock             clock
}

func defaultOptions() options {
	return options{maxReplayBytes: defaultMaxReplayBytes, maxConnReplay: defaultMaxConnReplayBytes, clock: realClock{}}
}

// WithServiceConfig makes the interceptors follow the gRFC A6 retry policies,
// retry throttling and timeouts of cfg, method by method (the A6 lookup
// order). Methods without a retry policy are not retried. The config should
// come from rsc.Parse or have passed Validate; an invalid one is normalised
// as far as it can be and otherwise ignored.
//
// Default: no service config.
func WithServiceConfig(cfg *rsc.Config) Option {
	return Option{apply: func(o *options) { o.serviceConfig = cfg }}
}

// WithRetryTimes turns on the manual mode: every method is retried up to n
// times (so a call makes at most n+1 attempts), with the interval of
// WithRetryInterval and the codes of WithCodes. It takes precedence over a
// service config's retry policy. n must be >= 0; a negative n is treated as
// 0. There is no upper cap.
//
// Default: 0, no manual retries.
func WithRetryTimes(n int) Option {
	return Option{apply: func(o *options) { o.retryTimes, o.retryTimesSet, o.hedge = max(n, 0), true, nil }}
}

// WithHedging hedges every method as a gRFC A6 hedgingPolicy would: the
// first attempt at once, another after each delay without a result, up to
// maxAttempts attempts in all; the first OK or fatal status wins and every
// other attempt is cancelled; a code in nonFatal sends the next hedge at
// once. It takes precedence over the service config, and it and
// WithRetryTimes replace each other: the last one given wins. maxAttempts
// below 2 turns hedging off; there is no upper cap (A6's cap of 5 applies to
// service configs). Hedged methods must be safe to run more than once.
//
// Calls of all four kinds are hedged. A streaming call is hedged until it
// commits: the first attempt whose response headers arrive wins, and every
// message sent before then goes to every attempt (see the package doc).
//
// Default: no hedging.
//
// See WithHedgeDelayQuantile for a delay that follows observed latencies.
func WithHedging(maxAttempts int, delay time.Duration, nonFatal ...codes.Code) Option {
	nonFatal = append([]codes.Code(nil), nonFatal...)
	return Option{apply: func(o *options) {
		o.retryTimesSet = false
		o.hedge = nil
		if maxAttempts > 1 {
			o.hedge = &hedgePolicy{maxAttempts: maxAttempts, delay: max(delay, 0), nonFatal: nonFatal}
		}
	}}
}

// WithRetryInterval sets the manual mode's fixed wait between attempts.
//
// Default: 0, retry at once.
func WithRetryInterval(d time.Duration) Option {
	return Option{apply: func(o *options) { o.interval = max(d, 0) }}
}

// WithRetryJitter spreads the manual mode's interval by a fraction f in
// [0, 1]: each wait is drawn uniformly from [d*(1-f), d*(1+f)].
//
// Default: 0, no jitter.
func WithRetryJitter(f float64) Option {
	return Option{apply: func(o *options) { o.jitter = f }}
}

// WithCodes sets the retryable codes, for the manual mode and, when given,
// in place of a service config policy's retryableStatusCodes. With no codes,
// the default applies again.
//
// Default: rstatus.Retryable(code, idempotent): UNAVAILABLE for every method,
// and DEADLINE_EXCEEDED (per-attempt timeout), RESOURCE_EXHAUSTED, ABORTED,
// INTERNAL and UNKNOWN for idempotent methods.
func WithCodes(cs ...codes.Code) Option {
	cs = append([]codes.Code(nil), cs...)
	return Option{apply: func(o *options) { o.codes = cs }}
}

// WithPerAttemptTimeout bounds every attempt of a call by d, capped by the
// time left before the caller's deadline. An attempt cut short fails with
// DEADLINE_EXCEEDED, which is retried for idempotent methods (or when listed
// in the codes). For a stream, the timeout bounds the whole attempt, after
// commit too: leave it off for long-lived streams. Zero turns it off.
//
// Default: 0, no per-attempt timeout.
func WithPerAttemptTimeout(d time.Duration) Option {
	return Option{apply: func(o *options) { o.perAttemptTimeout = max(d, 0) }}
}

// WithDeadlineMargin keeps d of every call's deadline back: a call whose
// context has a deadline runs with that deadline minus d, retries, hedges
// and waits included. A server that calls other services with its incoming
// context thus stops them d before its own caller gives up, and keeps d to
// answer. A call with d or less left is not sent: it fails at once with
// DEADLINE_EXCEEDED and is not retried. Calls without a deadline are
// unchanged; the service config timeout applies after the margin, as the
// client's own. Zero or less turns it off. See Downstream for a context
// that does not go through the interceptors.
//
// Default: 0, no margin.
func WithDeadlineMargin(d time.Duration) Option {
	return Option{apply: func(o *options) { o.deadlineMargin = max(d, 0) }}
}

// WithIdempotent declares whether the called method is idempotent, which
// lets the default codes retry Ambiguous codes. As an interceptor option it
// applies to every method; as a call option, to that call.
//
// Default: read from the method's proto option idempotency_level
// (IDEMPOTENT or NO_SIDE_EFFECTS) in the registered descriptors, then from
// WithIdempotentMethods; otherwise not idempotent.
func WithIdempotent(idempotent bool) Option {
	return Option{apply: func(o *options) { o.idempotent = &idempotent }}
}

// WithIdempotentMethods declares the given full method names
// ("/pkg.Service/Method") idempotent, for methods whose proto does not say
// so.
//
// Default: none.
func WithIdempotentMethods(fullMethods ...string) Option {
	set := make(map[string]bool, len(fullMethods))
	for _, m := range fullMethods {
		set[m] = true
	}
	return Option{apply: func(o *options) { o.idempotentMethods = set }}
}

// WithMaxReplayBytes bounds the memory a stream call holds for replay
// before it commits: n bytes, however many messages it sends, plus a small
// constant per call. Messages are kept encoded as they were when sent, so
// reusing a message value between sends is safe. They share one buffer,
// which never grows past n bytes; each counts its encoded size plus the
// length prefix that frames it there (1 byte below 128 bytes, 2 below
// 16 KiB, 3 below 2 MiB). At most 65,536 messages are kept. A call that
// would keep more before it commits is committed at that point and not
// retried after; so is a call that sends a message that is not a proto
// message, or not of its first message's type. With n = 0, every stream
// call commits at its first message.
//
// A retry replays the kept messages before it reads any response of the new
// attempt. Against a bidi server that answers each message before it reads the
// next, a replay larger than the HTTP/2 flow-control windows can stall until
// the deadline (grpc-go's own retry shares this): keep the limit modest for
// such methods.
//
// Default: 256 KiB.
func WithMaxReplayBytes(n int) Option {
	return Option{apply: func(o *options) { o.maxReplayBytes = max(n, 0) }}
}

// WithMaxConnReplayBytes bounds the replay memory that all the stream calls
// in flight on one grpc.ClientConn hold together, as gRFC A6's per-channel
// buffer limit does: n bytes of replay buffers (their capacity, as counted
// by [WithMaxReplayBytes]) across the calls through these interceptors. A
// call's buffer takes what it grows by from the connection's share and gives
// it all back when the call commits or ends; the share of a call whose
// caller cancelled its context and left the stream is reclaimed when the
// connection runs short, or in a periodic sweep. A call whose buffer cannot grow because the connection's share
// is spent commits at that point, exactly as when its own limit is reached:
// it carries on, unretried from then on, rather than hold more memory. So
// under load the calls past the limit lose their retries, never their data,
// and memory stays bounded: per connection n bytes, per call the
// WithMaxReplayBytes limit. n = 0 commits every stream call at its first
// message; a negative n means no limit per connection.
//
// Unary calls keep no replay buffer (grpc-go holds the request) and are not
// counted, nor are stream calls that are never retried. The share is per
// connection and per interceptor: calls on two connections, or through two
// sets of interceptors, have a share each. As a call option it sets the
// limit that one call's growth is checked against (what the connection
// holds, that call included): a larger value lets that call use more of
// the connection than the others may, a negative one leaves it uncounted.
//
// Default: 16 MiB.
func WithMaxConnReplayBytes(n int) Option {
	return Option{apply: func(o *options) { o.maxConnReplay = max(n, -1) }}
}

// WithObserver calls obs after every attempt of every call.
//
// Default: none. retry.SlogObserver logs attempts with log/slog.
func WithObserver(obs retry.Observer) Option {
	return Option{apply: func(o *options) { o.observer = obs }}
}

// Disable turns retries off. As a call option it sends that call once,
// whatever the interceptor's configuration.
//
// Default: retries as configured.
func Disable() Option {
	return Option{apply: func(o *options) { o.disabled = true }}
}

// WithHedgeDelayQuantile makes the hedging delay adaptive: for each hedged
// method it becomes the q-quantile (0 < q <= 1; 0.95 for p95) of the
// latencies of its last 128 winning attempts, recomputed every 16, in place
// of the configured delay (which still applies until 16 are known). The
// delay then follows the backend: a hedge goes out only for calls slower
// than most. q of 0 turns it off; values outside [0, 1] are clamped.
//
// Default: 0, the configured delay.
func WithHedgeDelayQuantile(q float64) Option {
	q = min(max(q, 0), 1)
	return Option{apply: func(o *options) { o.hedgeQuantile = q }}
}
