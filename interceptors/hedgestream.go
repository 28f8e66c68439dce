package interceptors

import (
	"context"
	"io"
	"slices"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/resilience-go/grpc-resilience/retry"
)

// hedgeStream is a streaming call of any kind under a hedging policy
// (gRFC A6). Until the call commits, up to maxAttempts attempts run at once:
// the first at once, another after each hedging delay, the next at once
// after a non-fatal code. Every message the caller sends, and the
// half-close, go to every attempt: each attempt sends them in order from the
// replay buffer, so one started late replays them all. The first attempt
// whose response headers arrive wins (gRPC servers send them with the first
// response message, or when the handler sends them): the call commits to
// it, the other attempts are cancelled, and from then on the stream is the
// winner's. An attempt that ends without headers with OK or a fatal code
// ends the call.
//
// The caller's SendMsg only buffers until commit, so a slow attempt never
// holds the caller up. A message that would overflow the buffer commits the
// call to the running attempt that sent the most messages, as A6 says, and
// is then sent on it.
//
// Goroutines: a coordinator runs the schedule and waits for the losers to
// end; each attempt has a watcher, which opens its stream and waits for its
// headers or end, and a sender. The RecvMsg that returns the call's end
// waits for the coordinator, so by then every attempt has ended (the
// winner's sender may still be returning) and the observer has heard of
// each one.
type hedgeStream struct {
	c         *client
	o         *options
	th        *retry.Throttle
	sch       *hedgeSchedule
	ctx       context.Context    // the call's
	cancel    context.CancelFunc // releases the service config timeout; may be nil
	hctx      context.Context    // every attempt's parent
	cancelAll context.CancelFunc
	desc      *grpc.StreamDesc
	cc        *grpc.ClientConn
	method    string
	streamer  grpc.Streamer
	opts      []grpc.CallOption // without the caller's Header, Trailer, Peer and OnFinish
	addrs     callerAddrs
	ready     chan struct{} // closed once the call committed, or ended and OnFinish was called
	// coordinated is closed once the coordinator has reported the winner
	// and every loser: the caller's last RecvMsg waits for it, so that the
	// observer has heard every event of the call when the call returns.
	coordinated chan struct{}

	mu sync.Mutex
	// cond is signalled when the buffer, the half-close, the commit or the
	// end changed, or an attempt's stream or sender did.
	cond      sync.Cond
	attempts  []*streamAttempt // every attempt started, attempt n at n-1
	buf       replayBuffer
	halfClose bool
	winner    *streamAttempt // the attempt the call committed to
	final     *streamAttempt // the attempt whose end ended the uncommitted call, if any
	done      bool           // the call ended for the caller: RecvMsg returns finalErr
	finalErr  error
	// stopAbandon stops the watch, from the commit on, for a caller that
	// ends the committed call by its context.
	stopAbandon func() bool
}

// streamAttempt is one attempt of a hedged stream.
type streamAttempt struct {
	attemptEnd // its end, set by its watcher before it reports
	cancel     context.CancelFunc

	// Under hedgeStream.mu:
	cs         grpc.ClientStream // nil until opened
	sent       int               // buffered messages sent on cs
	off        int               // where the next message to send starts in the buffer
	closed     bool              // the half-close was sent on cs
	senderDone bool              // the sender is finished: once committed, the caller sends on cs
	ended      bool              // cs ended without headers, or never opened
	sendErr    error             // a local failure to send a message
}

func (c *client) newHedgeStream(ctx context.Context, o *options, p *plan, th *retry.Throttle, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts []grpc.CallOption) *hedgeStream {
	s := &hedgeStream{c: c, o: o, th: th, desc: desc, cc: cc, method: method, streamer: streamer,
		ready: make(chan struct{}), coordinated: make(chan struct{})}
	s.cond.L = &s.mu
	s.opts, s.addrs = splitCallOptions(opts)
	s.ctx, s.cancel = callContext(ctx, p)
	// Never reclaimed: the coordinator resets buf when ctx ends, and the
	// senders' offsets into it must not see it emptied before that.
	s.buf.bind(&c.replay, cc, o.maxConnReplay, s.ctx, nil)
	s.hctx, s.cancelAll = context.WithCancel(s.ctx)
	s.sch = c.newHedgeSchedule(s.ctx, o, p.hedge, th, method)
	s.sch.launch = s.launch
	s.sch.committed = s.ready
	go s.coordinate()
	return s
}

// coordinate runs the schedule until the call commits or ends, then
// reports the winner and waits for the other attempts to end.
func (s *hedgeStream) coordinate() {
	defer close(s.coordinated)
	win, err := s.sch.run()
	s.mu.Lock()
	switch {
	case s.winner != nil:
		if w := s.winner; win == nil || win.n != w.n {
			// Committed by the buffer, or the headers' report is still
			// on its way.
			win = &attemptEnd{n: w.n, start: w.start, took: s.o.clock.Now().Sub(w.start)}
		}
	case win != nil:
		final := s.attempts[win.n-1]
		if win.code() == codes.OK {
			s.endLocked(final, io.EOF)
		} else {
			s.endLocked(final, &retry.Error{Attempts: len(s.attempts), Reason: retry.NonRetryable, Err: win.err})
		}
	default:
		var last *streamAttempt
		if s.sch.last != nil {
			last = s.attempts[s.sch.last.n-1]
		}
		s.endLocked(last, err)
	}
	ended := s.winner == nil
	s.mu.Unlock()
	if ended {
		s.addrs.finished(s.finalErr)
		close(s.ready)
	}
	s.sch.finish(win)
}

// launch starts attempt n, unless the call has committed or ended.
func (s *hedgeStream) launch(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.winner != nil || s.done {
		return false
	}
	ctx, cancel := attemptContext(s.hctx, n, s.sch.h.perAttemptTimeout)
	if cancel == nil {
		ctx, cancel = context.WithCancel(ctx)
	}
	a := &streamAttempt{attemptEnd: attemptEnd{n: n, start: s.o.clock.Now()}, cancel: cancel}
	s.attempts = append(s.attempts, a)
	go s.watch(a, ctx)
	return true
}

// watch opens attempt a's stream, starts its sender, and waits for its
// headers (a wins, unless another won first) or its end; then it reports a
// to the schedule.
func (s *hedgeStream) watch(a *streamAttempt, ctx context.Context) {
	cs, err := s.streamer(ctx, s.desc, s.cc, s.method, s.opts...)
	s.mu.Lock()
	if err != nil {
		a.ended, a.senderDone = true, true
		s.cond.Broadcast()
		s.mu.Unlock()
		s.report(a, err, nil)
		return
	}
	a.cs = cs
	s.cond.Broadcast()
	s.mu.Unlock()
	go s.send(a)

	md, _ := cs.Header()
	s.mu.Lock()
	switch {
	case md != nil && s.winner == nil && !s.done:
		a.won, a.took = true, s.o.clock.Now().Sub(a.start)
		s.commitLocked(a)
		s.sch.record(a.took)
		s.mu.Unlock()
		s.sch.results <- &a.attemptEnd
		return
	case s.winner == a:
		// Committed by the buffer before its end was known: the caller
		// reads the status.
		s.mu.Unlock()
		s.report(a, nil, nil)
		return
	case md != nil:
		// Headers, but another attempt won first.
		s.mu.Unlock()
		s.report(a, status.Error(codes.Canceled, "grpc-resilience: another hedged attempt won"), nil)
		return
	}
	a.ended = true
	s.mu.Unlock()
	// No header arrived, so no message can have: the placeholder stays
	// empty, and nothing else reads this stream.
	err = cs.RecvMsg(new(emptypb.Empty))
	trailer := cs.Trailer()
	s.mu.Lock()
	if a.sendErr != nil {
		err, a.fatal = a.sendErr, true
	}
	s.mu.Unlock()
	s.report(a, err, trailer)
}

// report hands a's end to the schedule; a's context is released unless it
// won.
func (s *hedgeStream) report(a *streamAttempt, err error, trailer metadata.MD) {
	a.err, a.trailer, a.took = err, trailer, s.o.clock.Now().Sub(a.start)
	s.mu.Lock()
	won := s.winner == a
	s.mu.Unlock()
	if !won {
		a.cancel()
	}
	s.sch.results <- &a.attemptEnd
}

// send sends the buffered messages and the half-close on a's stream, in
// order, as the caller gives them, until a ends or loses; once a is the
// winner and has caught up, the caller sends on a's stream itself.
func (s *hedgeStream) send(a *streamAttempt) {
	s.mu.Lock()
	defer func() {
		a.senderDone = true
		if s.winner == a {
			s.buf.reset()
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	for {
		switch {
		case s.done || a.ended || (s.winner != nil && s.winner != a):
			return
		case a.sent < s.buf.len():
			snap, next := s.buf.next(a.off)
			s.mu.Unlock()
			err := sendSnapshot(a.cs, snap)
			s.mu.Lock()
			if err != nil {
				if err != io.EOF {
					// grpc refused the message: every attempt would.
					a.sendErr = err
					a.cancel()
				}
				return // io.EOF: the stream ended; the watcher reads how
			}
			a.sent, a.off = a.sent+1, next
		case s.halfClose && !a.closed:
			a.closed = true
			s.mu.Unlock()
			a.cs.CloseSend()
			s.mu.Lock()
		case s.winner == a:
			return
		default:
			s.cond.Wait()
		}
	}
}

// sendSnapshot sends a fresh copy of the buffered message on cs.
func sendSnapshot(cs grpc.ClientStream, snap snapshot) error {
	m, err := snap.message()
	if err != nil {
		return err
	}
	return cs.SendMsg(m)
}

// commitLocked commits the call to w and cancels every other attempt.
func (s *hedgeStream) commitLocked(w *streamAttempt) {
	s.winner = w
	s.stopAbandon = context.AfterFunc(s.hctx, s.abandoned)
	for _, a := range s.attempts {
		if a != w {
			a.cancel()
		}
	}
	close(s.ready)
	s.cond.Broadcast()
}

// commitFurthestLocked commits the call to the running attempt that sent
// the most messages (the oldest of equals), as A6 does when the buffer
// overflows. If no attempt has opened its stream yet (or a hedge waits for
// a pushback), it waits for one; it returns at once if the call ended.
func (s *hedgeStream) commitFurthestLocked() {
	for s.winner == nil && !s.done {
		var best *streamAttempt
		for _, a := range s.attempts {
			if a.cs != nil && !a.ended && (best == nil || a.sent > best.sent) {
				best = a
			}
		}
		if best != nil {
			s.commitLocked(best)
			return
		}
		s.cond.Wait()
	}
}

// abandoned ends the committed call when its context ended before the
// caller read its end: OnFinish still hears of it, once.
func (s *hedgeStream) abandoned() {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	err := &retry.Error{Attempts: len(s.attempts), Reason: stopReasonOf(s.ctx), Err: status.FromContextError(s.hctx.Err()).Err()}
	s.done, s.finalErr = true, err
	s.mu.Unlock()
	s.addrs.finished(err)
}

// endLocked ends the uncommitted call with err (io.EOF for OK), decided by
// final's end (or the last to fail; nil for none). Every attempt is
// cancelled. The caller closes ready once OnFinish was called.
func (s *hedgeStream) endLocked(final *streamAttempt, err error) {
	s.done, s.final, s.finalErr = true, final, err
	s.buf.reset()
	s.cancelAll()
	if s.cancel != nil {
		s.cancel()
	}
	if err == io.EOF {
		s.th.Success()
	}
	s.publishLocked(final)
	s.cond.Broadcast()
}

// publishLocked hands a's header, trailer and peer to the caller's call
// options.
func (s *hedgeStream) publishLocked(a *streamAttempt) {
	if a == nil || a.cs == nil {
		return
	}
	header, _ := a.cs.Header()
	p, _ := peer.FromContext(a.cs.Context())
	s.addrs.publish(header, a.cs.Trailer(), p)
}

// decidedLocked returns the attempt whose stream the caller sees: the
// winner, or the attempt that ended the call; nil for neither.
func (s *hedgeStream) decidedLocked() *streamAttempt {
	if s.winner != nil {
		return s.winner
	}
	return s.final
}

// SendMsg sends m on every running attempt, and on every attempt started
// later, by buffering it until the call commits; after commit it sends m on
// the winner. It returns io.EOF once the call ended; RecvMsg then returns
// the status.
func (s *hedgeStream) SendMsg(m any) error {
	s.mu.Lock()
	if s.winner == nil {
		if s.done {
			s.mu.Unlock()
			return endedSend(s.desc)
		}
		if s.buf.add(m, s.o.maxReplayBytes) {
			s.cond.Broadcast()
			s.mu.Unlock()
			return nil
		}
		s.commitFurthestLocked()
	}
	w := s.winner
	for w != nil && !w.senderDone {
		s.cond.Wait()
	}
	s.mu.Unlock()
	if w == nil || w.cs == nil {
		return endedSend(s.desc) // the call ended while m waited
	}
	return w.cs.SendMsg(m)
}

// CloseSend half-closes the call on every attempt, as SendMsg sends.
func (s *hedgeStream) CloseSend() error {
	s.mu.Lock()
	s.halfClose = true
	s.cond.Broadcast()
	w := s.winner
	if w == nil || !w.senderDone || w.closed || w.cs == nil {
		s.mu.Unlock()
		return nil // the sender half-closes, or the call ended
	}
	w.closed = true
	s.mu.Unlock()
	return w.cs.CloseSend()
}

// RecvMsg waits for the call to commit, then receives from the winner.
func (s *hedgeStream) RecvMsg(m any) error {
	<-s.ready
	s.mu.Lock()
	w, done, err := s.winner, s.done, s.finalErr
	s.mu.Unlock()
	if done {
		<-s.coordinated // the losers were cancelled: this is quick
		return err
	}
	err = w.cs.RecvMsg(m)
	switch {
	case err == nil && s.desc.ServerStreams:
		return nil
	case err == nil:
		// grpc read the end of the stream with the only response.
		s.finishCommitted(w, io.EOF)
		return nil
	case err == io.EOF:
		s.finishCommitted(w, io.EOF)
		return io.EOF
	}
	return s.finishCommitted(w, err)
}

// finishCommitted ends the committed call when the winner's stream ended
// with err (io.EOF for OK), and returns what the caller sees.
func (s *hedgeStream) finishCommitted(w *streamAttempt, err error) error {
	s.mu.Lock()
	if s.done {
		err = s.finalErr
		s.mu.Unlock()
		<-s.coordinated
		return err
	}
	if err != io.EOF {
		if slices.Contains(s.sch.h.nonFatal, status.Code(err)) {
			s.th.Failure()
		}
		err = &retry.Error{Attempts: len(s.attempts), Reason: retry.Committed, Err: err}
	}
	s.done, s.finalErr = true, err
	s.publishLocked(w)
	s.stopAbandon()
	s.cancelAll()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	if err == io.EOF {
		s.c.succeeded(s.ctx, s.o, s.th, s.method, w.n, w.start)
	} else {
		s.c.observe(s.ctx, s.o, retry.Event{Method: s.method, Attempt: w.n, Hedge: true, Code: status.Code(err), Err: err,
			Duration: s.o.clock.Now().Sub(w.start), Reason: retry.Committed})
	}
	s.addrs.finished(err)
	<-s.coordinated // the losers were cancelled at commit: this is quick
	return err
}

// Header waits for the call to commit and returns the winner's header.
func (s *hedgeStream) Header() (metadata.MD, error) {
	<-s.ready
	s.mu.Lock()
	a := s.decidedLocked()
	s.mu.Unlock()
	if a == nil || a.cs == nil {
		return nil, nil // the status comes from RecvMsg
	}
	return a.cs.Header()
}

// Trailer returns the trailer of the attempt the caller sees; nil before
// the call committed or ended.
func (s *hedgeStream) Trailer() metadata.MD {
	s.mu.Lock()
	a := s.decidedLocked()
	s.mu.Unlock()
	if a == nil || a.cs == nil {
		return nil
	}
	return a.cs.Trailer()
}

// Context returns the context of the attempt the caller sees. As for
// retried streams, asking for it before commit commits the call, here to
// the running attempt that sent the most, waiting for one to have opened
// its stream if need be; if the call ended without one, it returns the
// call's context.
func (s *hedgeStream) Context() context.Context {
	s.mu.Lock()
	s.commitFurthestLocked()
	a := s.decidedLocked()
	s.mu.Unlock()
	if a == nil || a.cs == nil {
		return s.ctx
	}
	return a.cs.Context()
}
