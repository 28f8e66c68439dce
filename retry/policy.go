package retry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// MaxA6Attempts is the cap gRFC A6 puts on maxAttempts; larger values in a
// service config are lowered to it.
const MaxA6Attempts = 5

// Policy says how the calls of one method are retried. Build it as a struct
// literal, or let the interceptors build it from a service config or the
// manual options. A Policy is read-only once in use and safe to share; its
// Throttle is the only shared mutable state, and is safe for concurrent use.
type Policy struct {
	// MaxAttempts counts every attempt, the first included; 1 or less means
	// no retry.
	MaxAttempts int
	// Backoff makes the backoff of one call; it is called at most once per
	// call, on its first retry. Nil means retry at once.
	Backoff func() backoff.BackOff
	// Codes lists the retryable codes. Empty means the default,
	// rstatus.Retryable(code, Idempotent).
	Codes []codes.Code
	// RetryIf, when set, decides which codes are retryable and takes
	// precedence over Codes.
	RetryIf func(code codes.Code) bool
	// Idempotent declares the method idempotent, which lets the default code
	// set retry Ambiguous codes.
	Idempotent bool
	// PerAttemptTimeout bounds each attempt; 0 means none. It is capped by
	// the time left before the caller's deadline.
	PerAttemptTimeout time.Duration
	// Throttle is the A6 retry throttle of the call's target; nil means none.
	Throttle *Throttle
}

// Validate reports a policy that cannot work, naming the field and value.
func (p *Policy) Validate() error {
	if p.MaxAttempts < 1 {
		return fmt.Errorf("retry policy: MaxAttempts %d is less than 1", p.MaxAttempts)
	}
	if p.PerAttemptTimeout < 0 {
		return fmt.Errorf("retry policy: PerAttemptTimeout %v is negative", p.PerAttemptTimeout)
	}
	for i, c := range p.Codes {
		if _, ok := rstatus.Lookup(c); !ok || c == codes.OK {
			return fmt.Errorf("retry policy: Codes[%d] %d is not a retryable gRPC code", i, uint32(c))
		}
	}
	return nil
}

// Retryable reports whether the policy retries code c.
func (p *Policy) Retryable(c codes.Code) bool {
	switch {
	case c == codes.OK:
		return false
	case p.RetryIf != nil:
		return p.RetryIf(c)
	case len(p.Codes) > 0:
		return slices.Contains(p.Codes, c)
	}
	return rstatus.Retryable(c, p.Idempotent)
}

// Call tracks the attempts of one call under a Policy: it counts attempts,
// owns the call's backoff, and decides after each failed attempt whether to
// retry and after how long. It is transport-free: the caller runs the
// attempts. A Call is not safe for concurrent use.
type Call struct {
	p        *Policy
	attempts int
	bo       backoff.BackOff
}

// NewCall starts tracking one call under p.
func NewCall(p *Policy) Call { return Call{p: p} }

// BeginAttempt records that an attempt starts and returns its number, 1 for
// the first.
func (c *Call) BeginAttempt() int {
	c.attempts++
	return c.attempts
}

// Attempts returns the attempts begun so far.
func (c *Call) Attempts() int { return c.attempts }

// Succeeded records the call's success with the throttle.
func (c *Call) Succeeded() { c.p.Throttle.Success() }

// Outcome is what a failed attempt left behind.
type Outcome struct {
	// Err is the attempt's error, a gRPC status error.
	Err error
	// Trailer is the attempt's trailer, for the server's pushback.
	Trailer metadata.MD
	// Committed reports that a response header or message arrived, or that
	// the call can no longer be replayed.
	Committed bool
	// Unanswered reports that the attempt's request went out but no status
	// came back from the server: the connection was lost, or the client's
	// transport ended the attempt. Err's code was then made by the client,
	// and the server may have acted on the request, whatever the code says
	// (a lost connection reads UNAVAILABLE). Under the default code set
	// (no Codes, no RetryIf) such an attempt is retried only for an
	// Idempotent method; an explicit code list is followed as written, as
	// grpc-go's retry does. False for an attempt that never left the client
	// (no connection) or that the server answered.
	Unanswered bool
}

// Decision is what to do after a failed attempt.
type Decision struct {
	// Retry reports whether to make another attempt after Delay.
	Retry bool
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// Reason says why not to retry, when Retry is false.
	Reason StopReason
	// Pushback is the server's advice, if it gave any.
	Pushback Pushback
}

// Decide says whether to retry after a failed attempt, at time now, for a
// call whose caller's context is ctx. In order: the caller's cancelled or
// expired context stops the call (Canceled, Deadline), and so does an
// attempt that failed DEADLINE_EXCEEDED at or past the caller's deadline
// (the server or the transport saw the deadline before the context's timer
// fired); a committed call stops
// (Committed); a pushback that says stop stops (PushbackStop, and counts as a
// throttle failure); a code the policy does not retry stops (NonRetryable);
// an Unanswered attempt of a method not known to be idempotent stops under
// the default code set (Unanswered);
// a retryable failure takes a throttle token and stops when throttled
// (Throttled); no attempts left stops (Exhausted). The wait is the server's
// pushback if it gave one (restarting the backoff sequence) or the next
// backoff. A wait that would end at or past the caller's deadline is not
// started (Deadline).
func (c *Call) Decide(ctx context.Context, now time.Time, o Outcome) Decision {
	if err := ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Decision{Reason: Deadline}
		}
		return Decision{Reason: Canceled}
	}
	if dl, ok := ctx.Deadline(); ok && !now.Before(dl) && status.Code(o.Err) == codes.DeadlineExceeded {
		return Decision{Reason: Deadline}
	}
	if o.Committed {
		return Decision{Reason: Committed}
	}
	st := status.Convert(o.Err)
	pb := ParsePushback(o.Trailer, st)
	if pb.Stop {
		c.p.Throttle.Failure()
		return Decision{Reason: PushbackStop, Pushback: pb}
	}
	if !c.p.Retryable(st.Code()) {
		return Decision{Reason: NonRetryable, Pushback: pb}
	}
	if o.Unanswered && !c.p.Idempotent && c.p.RetryIf == nil && len(c.p.Codes) == 0 {
		return Decision{Reason: Unanswered, Pushback: pb}
	}
	if c.p.Throttle.Failure() {
		return Decision{Reason: Throttled, Pushback: pb}
	}
	if c.attempts >= c.p.MaxAttempts {
		return Decision{Reason: Exhausted, Pushback: pb}
	}
	var delay time.Duration
	switch {
	case pb.Present:
		delay = pb.Delay
		if c.bo != nil {
			c.bo.Reset()
		}
	case c.p.Backoff != nil:
		if c.bo == nil {
			c.bo = c.p.Backoff()
		}
		if delay = c.bo.NextBackOff(); delay == backoff.Stop {
			return Decision{Reason: Exhausted, Pushback: pb}
		}
	}
	if dl, ok := ctx.Deadline(); ok && dl.Sub(now) <= delay {
		return Decision{Reason: Deadline, Delay: delay, Pushback: pb}
	}
	return Decision{Retry: true, Delay: delay, Pushback: pb}
}

// Err returns the call's final error: last wrapped in an [*Error] that tells
// the attempts made and the reason.
func (c *Call) Err(last error, reason StopReason) error {
	return &Error{Attempts: c.attempts, Reason: reason, Err: last}
}
