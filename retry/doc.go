// Package retry is the retry engine of grpc-resilience, free of transport
// code: policies, backoffs, the A6 retry throttle, server pushback, the
// per-call decision, stop reasons and errors. The interceptors package runs
// attempts over gRPC with it; other transports could too.
//
// # Policy and call
//
// A [Policy] says how many attempts a call may make (MaxAttempts counts the
// first), how long to wait between them (a backoff factory), which codes are
// retried, and which throttle applies. A [Call] tracks one call: after every
// failed attempt, [Call.Decide] says whether to retry and after how long, or
// why not ([StopReason]).
//
// # Defaults and invariants
//
//   - Codes: with no Codes and no RetryIf, a code is retried when
//     rstatus.Retryable(code, Idempotent) says so: UNAVAILABLE for every
//     method, the Ambiguous codes only for idempotent methods.
//   - The caller's own cancellation or expired deadline is never retried, and
//     a wait that would end at or past the caller's deadline is not started.
//   - A committed call (a response header or message arrived) is never
//     retried.
//   - Pushback: a trailer grpc-retry-pushback-ms with one non-negative integer
//     sets the wait to exactly that many ms and restarts the backoff sequence;
//     a negative, unparseable or repeated value stops retrying. A
//     google.rpc.RetryInfo detail is honoured the same way.
//   - Backoff: [A6Backoff] waits min(initial*multiplier^(n-1), max) times a
//     uniform factor in [0.8, 1.2]; [FixedBackoff] waits a fixed interval, with
//     no jitter unless asked. Both are cenkalti/backoff/v4 BackOff values, made
//     fresh for every call because a BackOff is not safe for concurrent use.
//   - Throttle: the A6 token bucket; one per target, safe for concurrent use.
//
// # Errors
//
// A call that fails under a policy returns an [*Error] holding the last
// attempt's error: grpc's status package sees that error's code and message
// unchanged, errors.Is matches the sentinel of the stop reason
// ([ErrExhausted], [ErrThrottled], ...), and [Info] returns the attempts made.
package retry
