package interceptors

import (
	"context"
	"io"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/retry"
)

// attemptEnd is how one attempt of a hedged call ended, as the schedule
// sees it.
type attemptEnd struct {
	n       int
	start   time.Time
	took    time.Duration
	err     error // nil, or io.EOF from a stream, for OK
	trailer metadata.MD
	// won reports a stream attempt whose response headers committed the
	// call to it.
	won bool
	// fatal reports a failure in the client that every attempt would meet
	// (a message that cannot be sent): it ends the call whatever its code.
	fatal bool
}

// code returns the attempt's status code, OK for nil and io.EOF.
func (a *attemptEnd) code() codes.Code {
	if a.err == io.EOF {
		return codes.OK
	}
	return status.Code(a.err)
}

// hedgeSchedule sends the attempts of one hedged call (gRFC A6): the first
// at once, another after each delay without a result, the next at once
// after a non-fatal code, or after the server's pushback; none while the
// throttle says no, none after a pushback says stop. It is used by one
// goroutine.
type hedgeSchedule struct {
	c      *client
	o      *options
	h      *hedgePolicy
	th     *retry.Throttle
	ctx    context.Context // the call's
	method string
	delay  time.Duration
	lat    *latencies // nil unless the delay is adaptive

	// launch starts attempt n, which must send its end to results once.
	// It returns false, starting nothing, when the call has committed.
	launch func(n int) bool
	// results receives every attempt's end; it holds maxAttempts.
	results chan *attemptEnd
	// committed, when not nil, is closed once the call commits outside
	// the schedule (a stream's headers, or its replay buffer overflowing).
	committed <-chan struct{}

	started, pending int
	// last is the last attempt that failed with a non-fatal code.
	last *attemptEnd
	// held are ends that run received after the call committed outside
	// it: finish reports them with the others.
	held []*attemptEnd
}

func (c *client) newHedgeSchedule(ctx context.Context, o *options, h *hedgePolicy, th *retry.Throttle, method string) *hedgeSchedule {
	s := &hedgeSchedule{c: c, o: o, h: h, th: th, ctx: ctx, method: method, delay: h.delay,
		results: make(chan *attemptEnd, h.maxAttempts)}
	if h.quantile > 0 {
		s.lat = c.latenciesOf(method, h.quantile)
		s.delay = s.lat.delay(h.delay)
	}
	return s
}

// record adds the latency of a winning attempt to the adaptive delay's window.
func (s *hedgeSchedule) record(d time.Duration) {
	if s.lat != nil {
		s.lat.record(d)
	}
}

// start launches the next attempt; false when the call has committed.
func (s *hedgeSchedule) start() bool {
	if !s.launch(s.started + 1) {
		return false
	}
	s.started++
	s.pending++
	s.c.observe(s.ctx, s.o, retry.Event{Kind: retry.HedgeStarted, Method: s.method, Attempt: s.started, Hedge: true})
	return true
}

// run sends attempts until one decides the call: an OK or fatal end, or a
// stream attempt's headers. It returns that attempt; or nil and the error
// the call ends with (every attempt failed, hedging stopped, or the call's
// context ended); or nil, nil when the call committed outside the
// schedule.
func (s *hedgeSchedule) run() (*attemptEnd, error) {
	var (
		timer   <-chan time.Time
		stop    func() bool
		halt    retry.StopReason // why no further hedge is sent; 0 while hedging goes on
		late    bool             // the next hedge would go out after the deadline
		nextIn  = s.delay
		armNext = true
	)
	disarm := func() {
		if stop != nil {
			stop()
		}
		timer, stop = nil, nil
	}
	defer disarm()
	// hedge sends the next attempt if the call's context and the throttle
	// allow it.
	hedge := func() bool {
		switch {
		case s.ctx.Err() != nil:
			return true // the loop returns on ctx.Done
		case !s.th.Allowed():
			halt = retry.Throttled
			return true
		}
		nextIn, armNext = s.delay, true
		return s.start()
	}
	if !s.start() {
		return nil, nil
	}
	for {
		if armNext && halt == 0 && s.started < s.h.maxAttempts {
			armNext = false
			disarm()
			late = false
			switch {
			case nextIn <= 0:
				if !hedge() {
					return nil, nil
				}
				continue
			case s.pastDeadline(nextIn):
				// The hedge would go out after the call's deadline: it is
				// not scheduled, and with no attempt pending the call
				// ends now.
				late = true
			default:
				timer, stop = s.o.clock.NewTimer(nextIn)
			}
		}
		if s.pending == 0 && (halt != 0 || late || s.started >= s.h.maxAttempts) {
			reason := halt
			switch {
			case reason != 0:
			case late:
				reason = retry.Deadline
			default:
				reason = retry.Exhausted
			}
			return nil, &retry.Error{Attempts: s.started, Reason: reason, Err: s.last.err}
		}
		select {
		case a := <-s.results:
			s.pending--
			if a.won {
				return a, nil
			}
			if s.committedNow() {
				// It lost to the commit while it ended.
				s.held = append(s.held, a)
				return nil, nil
			}
			code := a.code()
			fatal := a.fatal || code == codes.OK || !slices.Contains(s.h.nonFatal, code)
			s.c.observe(s.ctx, s.o, retry.Event{Method: s.method, Attempt: a.n, Hedge: true, Code: code, Err: a.err,
				Duration: a.took, Retry: !fatal && halt == 0 && s.started < s.h.maxAttempts})
			if code == codes.DeadlineExceeded && s.pastDeadline(0) {
				// The caller's deadline, seen by the server or the
				// transport before the call's context: no attempt won.
				s.last = a
				return nil, &retry.Error{Attempts: s.started, Reason: retry.Deadline, Err: a.err}
			}
			if fatal {
				return a, nil
			}
			s.last = a
			s.th.Failure()
			if pb := retry.ParsePushback(a.trailer, status.Convert(a.err)); pb.Present {
				if pb.Stop {
					halt = retry.PushbackStop
					disarm()
					continue
				}
				nextIn = pb.Delay
			} else {
				nextIn = 0 // a non-fatal code sends the next hedge at once
			}
			armNext = true
		case <-timer:
			timer, stop = nil, nil
			if !hedge() {
				return nil, nil
			}
		case <-s.committed:
			return nil, nil
		case <-s.ctx.Done():
			err := status.FromContextError(s.ctx.Err()).Err()
			return nil, &retry.Error{Attempts: s.started, Reason: stopReasonOf(s.ctx), Err: err}
		}
	}
}

// committedNow reports whether the call committed outside the schedule.
func (s *hedgeSchedule) committedNow() bool {
	select {
	case <-s.committed:
		return true
	default:
		return false
	}
}

// pastDeadline reports whether a hedge sent after d would go out at or
// after the call's deadline.
func (s *hedgeSchedule) pastDeadline(d time.Duration) bool {
	dl, ok := s.ctx.Deadline()
	return ok && !s.o.clock.Now().Add(d).Before(dl)
}

// finish reports the winner, if any, then waits for every other attempt
// still running (the caller has cancelled them) and reports it cancelled.
// A winner still running (a stream committed by its buffer) is not waited
// for twice: its end is skipped.
func (s *hedgeSchedule) finish(win *attemptEnd) {
	if win != nil {
		s.c.observe(s.ctx, s.o, retry.Event{Kind: retry.HedgeWon, Method: s.method, Attempt: win.n, Hedge: true,
			Code: win.code(), Err: win.err, Duration: win.took})
	}
	cancelled := func(a *attemptEnd) {
		if win != nil && a.n == win.n {
			return
		}
		code := a.code()
		// With no winner, the call's own end stopped every attempt; one
		// cancelled just before the context's end reached it would
		// otherwise show CANCELLED for what was the caller's deadline.
		switch {
		case win != nil:
		case s.ctx.Err() != nil:
			code = status.FromContextError(s.ctx.Err()).Code()
		case s.pastDeadline(0):
			code = codes.DeadlineExceeded
		}
		s.c.observe(s.ctx, s.o, retry.Event{Kind: retry.HedgeCancelled, Method: s.method, Attempt: a.n, Hedge: true,
			Code: code, Err: a.err, Duration: a.took})
	}
	for _, a := range s.held {
		cancelled(a)
	}
	for ; s.pending > 0; s.pending-- {
		cancelled(<-s.results)
	}
}
