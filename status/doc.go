// Package status classifies the 17 gRPC status codes once, for every other
// package of grpc-resilience.
//
// Import it as rstatus: its name collides with google.golang.org/grpc/status.
//
//	import rstatus "github.com/resilience-go/grpc-resilience/status"
//
// # Classes
//
// Every code falls in exactly one [Class]:
//
//   - [Success]: OK.
//   - [Transient]: UNAVAILABLE. The server did not process the call, or the
//     connection failed before it could; any method may be retried.
//   - [Ambiguous]: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL and
//     UNKNOWN. The server may or may not have acted on the call, so only a
//     method known to be idempotent may be retried.
//   - [Permanent]: the other eleven codes (CANCELLED, INVALID_ARGUMENT,
//     NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION,
//     OUT_OF_RANGE, UNIMPLEMENTED, DATA_LOSS, UNAUTHENTICATED). A retry would
//     give the same answer, or the caller asked to stop (CANCELLED).
//     Codes outside 0..16 are also Permanent.
//
// [Retryable] is the default retry decision built on these classes. Callers
// that must tell a per-attempt timeout from the caller's own expired deadline
// do so before asking: the caller's own deadline is never retried.
//
// # Names
//
// [ParseCode] accepts a code name in any case ("UNAVAILABLE", "unavailable",
// "Unavailable"), grpc-go's spelling ("DeadlineExceeded"), or a decimal number
// from 0 to 16. [Name] gives the canonical upper-case name that the gRPC
// service config and grpc-go's parser use.
//
// The table behind all of this is returned by [Codes] as a fresh copy; it is
// never a mutable exported variable. Every function here is safe for
// concurrent use.
package status
