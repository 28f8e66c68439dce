// Package serviceconfig holds the gRPC service config of gRFC A6 (retries,
// hedging, throttling) as typed Go values: a strict parser, validation, JSON
// output that grpc-go accepts, A6 method lookup, and a grpc.DialOption.
//
// Import it as rsc: its name collides with google.golang.org/grpc/serviceconfig.
//
//	import rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
//
// # Parsing
//
// [Parse] (and [Config.UnmarshalJSON]) is stricter than grpc-go, which ignores
// unknown fields and keeps the last of repeated ones. Here every error is an
// [*Error] that names the JSON path of the first bad field and quotes its
// value, e.g.
//
//	serviceconfig: methodConfig[0].retryPolicy.maxAttempts: 1 is not greater than 1
//	serviceconfig: methodConfig[0].retryPolicy.maxAttempt: unknown field
//
// Unknown fields, repeated fields, wrong JSON types, empty input and a bare
// null are errors; JSON syntax errors give a line and column. A member whose
// value is null counts as absent, as in proto3 JSON. Besides A6's fields the
// parser knows grpc's standard ones (loadBalancingPolicy, loadBalancingConfig,
// healthCheckConfig, waitForReady, timeout, maxRequestMessageBytes,
// maxResponseMessageBytes), so that real configs parse.
//
// Durations are proto3 JSON strings: "0.1s", "1s", "1.5s", ".5s", up to 9
// fractional digits, the trailing "s" required. Status codes are names in any
// case ("UNAVAILABLE", "unavailable") or numbers 0 to 16, as JSON strings or
// numbers.
//
// # Rules
//
//   - methodConfig: each entry needs a non-empty name list. A name needs a
//     service, except the default entry {} (no service, no method); a
//     method without a service is an error; neither may contain "/". The
//     same (service, method) may appear once in the whole config.
//   - retryPolicy and hedgingPolicy are exclusive within one entry.
//   - retryPolicy: maxAttempts, initialBackoff, maxBackoff, backoffMultiplier
//     and retryableStatusCodes are required; maxAttempts > 1, both backoffs
//     > 0, backoffMultiplier > 0, at least one code.
//   - hedgingPolicy: maxAttempts is required and > 1; hedgingDelay is
//     optional and >= 0 (0 sends every attempt at once); nonFatalStatusCodes
//     is optional and may be empty.
//   - retryThrottling: maxTokens and tokenRatio are required; maxTokens in
//     (0, 1000], tokenRatio > 0 and still > 0 after truncation.
//   - timeout, if present, must be > 0. grpc-go accepts "0s" but then fails
//     every call with an expired deadline, and accepts a negative timeout but
//     ignores it; both are rejected here. In [MethodConfig], 0 means no
//     timeout.
//   - maxRequestMessageBytes and maxResponseMessageBytes are integers >= 0.
//   - loadBalancingConfig, if present, is a non-empty JSON array of objects
//     that each name one policy; it is passed to grpc-go compacted but
//     otherwise unchanged, and grpc-go checks the policies themselves.
//
// # Normalisation
//
// A6 lowers some values instead of rejecting them. [Config.Normalized]
// applies that to a deep copy, and [Parse] always returns normalised configs:
//
//   - maxAttempts above 5 ([MaxAttemptsLimit]) becomes 5, for retries and
//     hedging alike;
//   - tokenRatio keeps 3 decimal places, truncated: 0.1239 becomes 0.123;
//   - a status code listed twice is kept once, in first-seen order;
//   - empty lists become nil.
//
// [Config.Validate] checks a config written as Go struct literals against the
// same rules and never modifies it; MaxAttempts 6 is valid there.
// [Config.MarshalJSON] writes the normalised form, so Parse(Marshal(c))
// equals c for every config Parse returned.
//
// # Lookup
//
// [Config.MethodConfig] finds the entry for "/pkg.Service/Method" in A6
// order: the exact (service, method) name, then the service-wide name
// (service alone), then the default entry, then nil.
//
// # grpc-go
//
// [Config.DialOption] hands the config to grpc-go as its default service
// config. [Config.MarshalJSON] writes codes as canonical upper-case names,
// the only spelling grpc-go's parser accepts, whatever case the input used.
// grpc-go ignores hedgingPolicy: only this library's interceptors act on it.
// They are installed with grpc.WithDisableRetry, so that grpc-go's retries
// and theirs never multiply; timeouts and the other fields still reach
// grpc-go through DialOption. An invalid config's DialOption makes
// grpc.NewClient fail with the validation message.
//
// Nothing here modifies a [Config]; a config that is no longer written to is
// safe for concurrent use.
package serviceconfig
