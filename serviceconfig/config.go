package serviceconfig

import (
	"encoding/json"
	"time"

	"google.golang.org/grpc/codes"
)

// MaxAttemptsLimit is the client-side cap on maxAttempts from gRFC A6: a
// retryPolicy or hedgingPolicy asking for more attempts gets this many.
const MaxAttemptsLimit = 5

// MaxTokensLimit is the largest retryThrottling.maxTokens that A6 allows.
const MaxTokensLimit = 1000

// Config is a gRPC service config restricted to what a client's retry,
// hedging and deadline logic needs, plus grpc-go's standard fields so that
// real configs parse. Its JSON form is the A6 service config; see [Parse] and
// [Config.MarshalJSON].
//
// A Config is plain data: it may be written as a struct literal, checked with
// [Config.Validate] and normalised with [Config.Normalized]. Nothing in this
// package modifies a Config, so one that is no longer written to is safe for
// concurrent use.
type Config struct {
	// LoadBalancingPolicy is grpc's older, deprecated way to name a load
	// balancing policy, e.g. "round_robin". It is passed to grpc-go as it is;
	// LoadBalancingConfig wins when both are set. Empty means unset.
	LoadBalancingPolicy string

	// LoadBalancingConfig is passed to grpc-go unchanged except for
	// whitespace (it is kept compacted), e.g. [{"round_robin":{}}]. When set it
	// must be a JSON array of objects that each name one policy. Nil means
	// unset: grpc-go then uses LoadBalancingPolicy or pick_first.
	LoadBalancingConfig json.RawMessage

	// MethodConfigs holds one entry per "methodConfig" element, in order.
	// A method's entry is found with [Config.MethodConfig].
	MethodConfigs []MethodConfig

	// RetryThrottling, if set, throttles retries and hedges for the whole
	// target. Nil means no throttling.
	RetryThrottling *RetryThrottling

	// HealthCheckConfig is grpc's client-side health checking setting,
	// passed to grpc-go as it is. Nil means unset.
	HealthCheckConfig *HealthCheckConfig
}

// MethodConfig is the configuration of the methods it names.
type MethodConfig struct {
	// Names lists the methods this entry applies to; it must not be empty,
	// and no (service, method) pair may appear twice in a Config.
	Names []Name

	// WaitForReady, if set, is the default wait-for-ready setting of calls.
	WaitForReady *bool

	// Timeout is the default deadline of a call that set none; a call that
	// set one gets the earlier of the two. Zero means no default deadline; a
	// negative value is invalid.
	Timeout time.Duration

	// MaxRequestMessageBytes and MaxResponseMessageBytes are grpc's limits
	// on message sizes, passed to grpc-go. Nil means unset; negative values
	// are invalid.
	MaxRequestMessageBytes, MaxResponseMessageBytes *int64

	// RetryPolicy, if set, retries failed calls. At most one of RetryPolicy
	// and HedgingPolicy may be set.
	RetryPolicy *RetryPolicy

	// HedgingPolicy, if set, hedges calls. grpc-go ignores it: only this
	// library's interceptors act on it.
	HedgingPolicy *HedgingPolicy
}

// Name selects methods. Service "" and Method "" make the default entry, which
// applies to every method no other entry names; Method "" alone selects every
// method of Service. Neither may contain "/".
type Name struct {
	// Service is the fully qualified service name, e.g. "routeguide.RouteGuide".
	Service string
	// Method is the bare method name, e.g. "GetFeature".
	Method string
}

// RetryPolicy is A6's retryPolicy: retry a failed call after an exponential,
// jittered backoff when its status code is in RetryableStatusCodes.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first one included. It must be
	// greater than 1; values above [MaxAttemptsLimit] are lowered to it.
	MaxAttempts int

	// InitialBackoff bounds the wait before the first retry; it must be
	// greater than 0.
	InitialBackoff time.Duration

	// MaxBackoff bounds every wait; it must be greater than 0. A6 does not
	// require it to be at least InitialBackoff: a smaller value caps every
	// wait, the first one included.
	MaxBackoff time.Duration

	// BackoffMultiplier grows the bound from one retry to the next; it must
	// be greater than 0.
	BackoffMultiplier float64

	// RetryableStatusCodes lists the codes that are retried; it must not be
	// empty. Normalised, it holds no code twice and keeps first-seen order.
	RetryableStatusCodes []codes.Code
}

// HedgingPolicy is A6's hedgingPolicy: send the first attempt at once and
// another every HedgingDelay until MaxAttempts were sent or one answered.
// grpc-go ignores hedging policies; this library's interceptors act on them.
type HedgingPolicy struct {
	// MaxAttempts counts every attempt, the first one included. It must be
	// greater than 1; values above [MaxAttemptsLimit] are lowered to it.
	MaxAttempts int

	// HedgingDelay is the time between hedges; 0 sends all MaxAttempts at
	// once. It must not be negative.
	HedgingDelay time.Duration

	// NonFatalStatusCodes lists the codes after which the other hedges go
	// on, and the next one is sent at once; any other code ends the call.
	// It may be empty. Normalised, it holds no code twice and keeps
	// first-seen order.
	NonFatalStatusCodes []codes.Code
}

// RetryThrottling is A6's retryThrottling: a token bucket per target that
// stops retries and hedges while too many calls fail.
type RetryThrottling struct {
	// MaxTokens is the bucket size and its starting level; it must be in
	// (0, [MaxTokensLimit]].
	MaxTokens float64

	// TokenRatio is added for every successful call; it must be greater
	// than 0 and is truncated to 3 decimal places (0.1239 becomes 0.123),
	// which must leave it greater than 0.
	TokenRatio float64
}

// HealthCheckConfig is grpc's "healthCheckConfig", passed to grpc-go as it
// is.
type HealthCheckConfig struct {
	// ServiceName is the service name sent in health-checking requests.
	ServiceName string
}
