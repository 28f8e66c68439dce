package retry

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/status"
)

// StopReason says why a call made no further attempt.
type StopReason int

const (
	// Succeeded: the last attempt succeeded.
	Succeeded StopReason = iota
	// Exhausted: the policy's attempts were used up.
	Exhausted
	// NonRetryable: the last code is not retried by the policy.
	NonRetryable
	// Throttled: the retry throttle held back the retry.
	Throttled
	// PushbackStop: the server's pushback said not to retry.
	PushbackStop
	// Deadline: the caller's deadline passed, or would pass before the next
	// attempt could start.
	Deadline
	// Canceled: the caller cancelled the call.
	Canceled
	// Committed: a response header or message had arrived (or the replay
	// buffer overflowed), so a retry could duplicate or lose messages.
	Committed
	// Unanswered: the request went out and no answer came back (the
	// connection was lost), so the server may have acted on it; under the
	// default code set only idempotent methods are retried after that.
	Unanswered
)

var reasonNames = [...]string{"succeeded", "exhausted", "non-retryable", "throttled", "pushback", "deadline", "canceled", "committed", "unanswered"}

// String returns the reason in lower case, e.g. "exhausted".
func (r StopReason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// Sentinel errors, one per stop reason, matched by errors.Is against an
// [*Error].
var (
	ErrExhausted    = errors.New("retry: attempts exhausted")
	ErrNonRetryable = errors.New("retry: code not retryable")
	ErrThrottled    = errors.New("retry: throttled")
	ErrPushback     = errors.New("retry: server pushback said stop")
	ErrDeadline     = errors.New("retry: deadline")
	ErrCanceled     = errors.New("retry: canceled")
	ErrCommitted    = errors.New("retry: call committed")
	ErrUnanswered   = errors.New("retry: request unanswered, method not idempotent")
)

var sentinels = map[StopReason]error{
	Exhausted: ErrExhausted, NonRetryable: ErrNonRetryable, Throttled: ErrThrottled,
	PushbackStop: ErrPushback, Deadline: ErrDeadline, Canceled: ErrCanceled, Committed: ErrCommitted,
	Unanswered: ErrUnanswered,
}

// Error is the error of a call that failed under a retry policy. It keeps the
// last attempt's error: status.FromError, status.Code and status.Convert see
// the last attempt's code and message unchanged. It also says how many
// attempts were made and why retrying stopped; errors.Is matches the
// sentinel of that reason (ErrExhausted, ...).
type Error struct {
	// Attempts counts every attempt made, the first included.
	Attempts int
	// Reason says why no further attempt was made.
	Reason StopReason
	// Err is the last attempt's error.
	Err error
}

// Error returns the last attempt's error text followed by the attempts and
// the stop reason.
func (e *Error) Error() string {
	return fmt.Sprintf("%v (attempts: %d, retry stopped: %v)", e.Err, e.Attempts, e.Reason)
}

// Unwrap returns the last attempt's error.
func (e *Error) Unwrap() error { return e.Err }

// GRPCStatus returns the last attempt's status, so that grpc's status package
// sees its code and message.
func (e *Error) GRPCStatus() *status.Status { return status.Convert(e.Err) }

// Is reports whether target is the sentinel of e's stop reason.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Reason]
	return ok && s == target
}

// Info returns the attempts and stop reason of a retried call's error, and
// false when err is not (and does not wrap) an [*Error].
func Info(err error) (attempts int, reason StopReason, ok bool) {
	var e *Error
	if !errors.As(err, &e) {
		return 0, 0, false
	}
	return e.Attempts, e.Reason, true
}
