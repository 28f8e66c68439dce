// Package interceptors provides drop-in gRPC client interceptors that retry
// calls of all four kinds (unary, server-streaming, client-streaming, bidi)
// with gRFC A6 service-config policies or a simple manual mode.
//
// # Quick start
//
//	conn, err := grpc.NewClient(target, append(
//		interceptors.DialOptions(interceptors.WithRetryTimes(3),
//			interceptors.WithRetryInterval(50*time.Millisecond)),
//		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
//
// [DialOptions] installs both interceptors and grpc.WithDisableRetry(), so
// that attempts never multiply with grpc-go's own configured retries (its
// transparent retries of calls that never left the client stay on).
//
// # Modes
//
//   - Service config ([WithServiceConfig]): each method follows the A6
//     retryPolicy that the A6 lookup order finds for it (exact method, then
//     service, then the default entry); methods without one are not retried.
//     retryThrottling gives one token bucket per target; timeout caps the
//     call's deadline and sets one when the caller set none; waitForReady
//     becomes the call's default.
//   - Manual ([WithRetryTimes], [WithRetryInterval], [WithCodes]): every
//     method is retried up to the retry times (attempts = retry times + 1)
//     after a fixed interval. It takes precedence over a service config's
//     retry policy.
//
// Every Option is also a grpc.CallOption that overrides the interceptor's
// setting for one call; [Disable] turns retries off for one call.
//
// # Defaults and invariants
//
//   - Codes: a policy's list, or [WithCodes]; without either,
//     rstatus.Retryable(code, idempotent): UNAVAILABLE for every method, the
//     Ambiguous codes (DEADLINE_EXCEEDED from a per-attempt timeout,
//     RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNKNOWN) only for methods whose
//     proto says idempotency_level = IDEMPOTENT or NO_SIDE_EFFECTS, or that an
//     option declares idempotent. CANCELLED and the caller's own deadline are
//     never retried.
//   - Unanswered attempts: an attempt whose request went out but that got no
//     status from the server (the connection was lost, a proxy answered with
//     an HTTP error, the stream was reset) may have been acted on, whatever
//     its code says: a lost connection reads UNAVAILABLE. Without a code
//     list such an attempt is retried only for idempotent methods; the call
//     stops with retry.Unanswered. An attempt that never left the client (no
//     connection) is retried as its code says. A code list ([WithCodes], a
//     service config's retryableStatusCodes) is followed as written, as
//     grpc-go's retry does: list only codes that are safe for the method.
//   - Deadline: the caller's deadline spans every attempt and every wait; a
//     wait that would end past it is not started, and the call returns the
//     last attempt's error at once.
//   - Commit: once a response header or message arrived, Context was called
//     on a stream, or the replay buffer overflowed, the call is committed
//     and never retried. Before that, a stream call keeps every message sent
//     and the half-close, and replays them on the next attempt: the caller
//     never sees a duplicated or missing message.
//   - Memory: a stream call's replay buffer never grows past
//     [WithMaxReplayBytes] (256 KiB by default), and the buffers of the
//     calls on one connection together never past [WithMaxConnReplayBytes]
//     (16 MiB by default). A call that would pass either commits instead:
//     past the limits, calls lose their retries, never their data.
//   - Pushback: grpc-retry-pushback-ms (or a google.rpc.RetryInfo detail)
//     sets the next wait exactly; a negative, malformed or repeated value
//     stops retrying.
//   - Each retry carries grpc-previous-rpc-attempts.
//   - Errors: a call that failed under a policy returns a *retry.Error, which
//     grpc's status package reads as the last attempt's status; retry.Info
//     tells the attempts and why retrying stopped.
//   - Observability: [WithObserver] sees every attempt; retry.SlogObserver
//     logs them with log/slog.
//
// # Deadline propagation
//
// A server that calls other services while serving a request should make
// those calls with the request's context, so that they share its deadline.
// [WithDeadlineMargin] keeps a safety margin of that deadline back: every
// call with a deadline runs with the deadline minus the margin, so a chain
// of services stops working before the first caller gives up, and each hop
// keeps time to answer. A call with no more than the margin left is not
// sent; it fails at once with DEADLINE_EXCEEDED and is not retried.
// [Downstream] shortens a context the same way, for work that does not go
// through the interceptors.
//
// # Hedging
//
// A method with an A6 hedgingPolicy (or every method, with [WithHedging])
// is hedged: the first attempt goes out at once and another after each
// hedging delay without a result, up to maxAttempts; the first OK or fatal
// status wins, and every other attempt is cancelled. A non-fatal code sends
// the next hedge at once; a pushback of n ms delays it to n ms, a negative
// one stops hedging. Hedges share the retry throttle: none is sent while
// tokens are at or below half. [WithHedgeDelayQuantile] makes the delay
// follow the method's recent latencies.
//
// Unary calls: each attempt has its own reply, header and trailer; the
// winner's are handed to the caller, and the call returns once every other
// attempt has ended.
//
// Streaming calls (all three kinds) are hedged until they commit. The first
// attempt whose response headers arrive wins (a gRPC server sends them with
// its first response message, or when the handler sends them explicitly):
// the call commits to it, the others are cancelled, and the caller reads
// the winner's stream alone, so it never sees a response twice or from two
// attempts. Until then, every message the caller sends and the half-close
// go to every attempt, in order, and a hedge started later gets them all
// from the replay buffer; SendMsg only buffers, so a slow attempt never
// holds the caller up, and an error from sending shows in RecvMsg. RecvMsg
// and Header wait for the commit. A message that would overflow the replay
// buffer commits the call to the running attempt that sent the most
// messages, as A6 says, and is sent on it. An attempt that ends without
// headers is settled like a unary attempt: OK or a fatal code ends the
// call, a non-fatal one sends the next hedge. A failure after the commit is
// returned as it is (retry.ErrCommitted). The caller's Header, Trailer,
// Peer and OnFinish call options get the winner's, once.
//
// # Server side
//
// [NewServer] (or [UnaryServerInterceptor] and [StreamServerInterceptor])
// gives servers the other half of the contract, before the handler runs: a
// call whose deadline has passed or leaves less than [WithMinBudget] is
// answered DEADLINE_EXCEEDED, trailers-only; a call over
// [WithConcurrencyLimit] or [WithMethodConcurrencyLimit] is shed at once
// with UNAVAILABLE (or RESOURCE_EXHAUSTED, [WithShedCode]) and a
// grpc-retry-pushback-ms trailer ([WithShedPushback], 50ms by default) that
// this package's clients obey; [WithMaxDeadline] bounds every handler. Around
// the handler, go-grpc-middleware's recovery interceptor turns a panic into
// INTERNAL, and handler errors get honest codes: context errors become
// DEADLINE_EXCEEDED or CANCELLED, plain errors UNKNOWN with their message.
// Server.Stats counts calls, expired, shed, panics and handlers in flight.
//
// The interceptors are safe for concurrent use by any number of calls.
package interceptors
