package retry

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
)

// EventKind says what an [Event] reports. Retried calls report only
// finished attempts; hedged calls also report hedges started, won and
// cancelled.
type EventKind int

// The kinds of events.
const (
	// AttemptDone: an attempt finished; Code, Err and Duration describe it.
	AttemptDone EventKind = iota
	// HedgeStarted: a hedged attempt was sent.
	HedgeStarted
	// HedgeWon: the attempt won a hedged call: its result (OK or a fatal
	// code) ended the call, or, for a stream, its response headers (or the
	// replay buffer filling up) committed the call to it.
	HedgeWon
	// HedgeCancelled: the attempt was still running when another won, and
	// was cancelled.
	HedgeCancelled
)

var eventKindNames = [...]string{"attempt-done", "hedge-started", "hedge-won", "hedge-cancelled"}

// String returns the kind's name, such as "hedge-won".
func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event describes one attempt of a call: by default a finished attempt
// (Kind AttemptDone).
type Event struct {
	// Kind says what the event reports.
	Kind EventKind
	// Method is the full method name, "/pkg.Service/Method".
	Method string
	// Attempt is the attempt's number, 1 for the first.
	Attempt int
	// Hedge reports that the attempt belongs to a hedged call.
	Hedge bool
	// Code is the attempt's status code.
	Code codes.Code
	// Err is the attempt's error, nil on success.
	Err error
	// Duration is how long the attempt ran.
	Duration time.Duration
	// Retry reports that another attempt follows after Delay.
	Retry bool
	// Delay is the wait before the next attempt, when Retry.
	Delay time.Duration
	// Reason says why no attempt follows, when Retry is false.
	Reason StopReason
}

// Observer sees every attempt of every call, once the attempt is over. It is
// called on the call's goroutine, or for a hedged call on the goroutines
// that run its attempts, and must be quick and safe for concurrent use.
// Every event of a call is reported before the call returns its end to the
// caller, so the context's values tie events to their call; an observer
// that waits for the caller therefore deadlocks.
type Observer func(ctx context.Context, e Event)

// SlogObserver returns an Observer that logs each attempt to l: failed
// attempts that will be retried at Info, failures that end the call at Warn,
// successes at Debug.
func SlogObserver(l *slog.Logger) Observer {
	return func(ctx context.Context, e Event) {
		level := slog.LevelDebug
		switch {
		case e.Err == nil:
		case e.Retry:
			level = slog.LevelInfo
		default:
			level = slog.LevelWarn
		}
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", e.Method),
			slog.Int("attempt", e.Attempt),
			slog.String("code", e.Code.String()),
			slog.Duration("duration", e.Duration),
		}
		if e.Hedge {
			attrs = append(attrs, slog.Bool("hedge", true))
		}
		if e.Kind != AttemptDone {
			attrs = append(attrs, slog.String("event", e.Kind.String()))
		}
		if e.Err != nil {
			if e.Retry {
				attrs = append(attrs, slog.Duration("retry_after", e.Delay))
			} else {
				attrs = append(attrs, slog.String("stop", e.Reason.String()))
			}
			attrs = append(attrs, slog.String("error", e.Err.Error()))
		}
		l.LogAttrs(ctx, level, "grpc attempt", attrs...)
	}
}
