package interceptors

import (
	"context"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/resilience-go/grpc-resilience/retry"
)

func (c *client) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	o, opts, override := c.callOptions(opts)
	var release context.CancelFunc // the margin's; nil without one
	if o.deadlineMargin > 0 {
		mctx, cancel, err := withMargin(ctx, o.deadlineMargin, opts)
		if err != nil {
			return nil, err
		}
		if cancel != nil {
			// The call's end, however it comes, releases the margin.
			ctx, release = mctx, cancel
			opts = append(opts[:len(opts):len(opts)], grpc.OnFinish(func(error) { cancel() }))
		}
	}
	p := c.planFor(o, method, override)
	opts = withWaitForReady(p, opts)
	th := c.throttle(p, cc)
	if p.hedge != nil {
		return c.newHedgeStream(ctx, o, p, th, desc, cc, method, streamer, opts), nil
	}
	if p.policy == nil && p.timeout <= 0 && th == nil {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil && release != nil {
			release() // in case the failure came before grpc-go
		}
		return cs, err
	}
	s := &retryStream{
		c: c, o: o, desc: desc, cc: cc, method: method, streamer: streamer,
		pol: retry.Policy{MaxAttempts: 1},
	}
	s.opts, s.fin = takeOnFinish(opts)
	s.ctx, s.cancel = callContext(ctx, p)
	s.stopFin = s.fin.onCancel(s.ctx)
	if p.policy != nil {
		s.pol = *p.policy
	}
	s.throttle = th
	if s.pol.MaxAttempts > 1 {
		s.pol.Throttle = th
	}
	s.call = retry.NewCall(&s.pol)
	s.buf.bind(&c.replay, cc, o.maxConnReplay, s.ctx, &s.mu)

	s.mu.Lock()
	defer s.mu.Unlock()
	if end, ok := s.startAttemptLocked(); !ok {
		s.settleLocked(end, false)
	}
	if s.done && s.finalErr != io.EOF {
		return nil, s.finalErr
	}
	return s, nil
}

// retryStream is a client stream that retries its call on new streams until
// the call commits. Before commit it keeps every message sent and the
// half-close, and replays them on each new attempt.
//
// Concurrency follows grpc.ClientStream: one goroutine may send while another
// receives. Whoever first learns that an uncommitted attempt ended settles it
// (retries or finishes the call) under mu; a receiver blocked in RecvMsg
// always settles its own attempt, so RecvMsg is never called on one stream
// from two goroutines.
type retryStream struct {
	c        *client
	o        *options
	ctx      context.Context
	cancel   context.CancelFunc // releases the service config timeout; may be nil
	desc     *grpc.StreamDesc
	cc       *grpc.ClientConn
	method   string
	streamer grpc.Streamer
	opts     []grpc.CallOption // without the caller's OnFinish
	fin      *onFinish         // the caller's OnFinish, called once
	stopFin  func() bool       // stops calling fin when the context ends; nil without fin
	pol      retry.Policy
	throttle *retry.Throttle // the target's, for successes; nil for none

	mu        sync.Mutex
	call      retry.Call
	cur       grpc.ClientStream
	curCancel context.CancelFunc
	curN      int
	curStart  time.Time
	gen       int           // counts attempts that got a stream
	settled   chan struct{} // closed when the current attempt is retried, committed or finished
	committed bool
	buf       replayBuffer
	halfClose bool
	recvBusy  bool
	done      bool
	finalErr  error // what RecvMsg returns once done: io.EOF after success
}

// streamEnd is how an attempt ended.
type streamEnd struct {
	err        error       // io.EOF for a call that ended well
	trailer    metadata.MD // the server's, for its pushback; nil for none
	unanswered bool        // see retry.Outcome.Unanswered
}

// endOf reads how cs, an attempt that went out, ended with err.
func endOf(cs grpc.ClientStream, err error) streamEnd {
	trailer := cs.Trailer()
	return streamEnd{err: err, trailer: trailer, unanswered: err != io.EOF && unanswered(trailer, err)}
}

// startAttemptLocked begins an attempt: a new stream, then the replay of
// every buffered message and the half-close. ok reports a running attempt;
// otherwise end says how the attempt ended.
func (s *retryStream) startAttemptLocked() (end streamEnd, ok bool) {
	n := s.call.BeginAttempt()
	actx, acancel := attemptContext(s.ctx, n, s.pol.PerAttemptTimeout)
	s.curN = n
	if s.o.observer != nil {
		s.curStart = s.o.clock.Now() // only the observer needs it
	}
	cs, err := s.streamer(actx, s.desc, s.cc, s.method, s.opts...)
	if err != nil {
		// The stream never left the client.
		if acancel != nil {
			acancel()
		}
		return streamEnd{err: err}, false
	}
	s.cur, s.curCancel = cs, acancel
	s.gen++
	s.wakeLocked()
	for i, off := 0, 0; i < s.buf.len(); i++ {
		var snap snapshot
		snap, off = s.buf.next(off)
		m, merr := snap.message()
		if merr != nil {
			return streamEnd{err: merr}, false
		}
		serr := cs.SendMsg(m)
		if serr == nil {
			continue
		}
		if serr != io.EOF {
			return streamEnd{err: serr}, false
		}
		// The attempt ended during the replay.
		if hdr, _ := cs.Header(); hdr != nil {
			s.commitLocked()
			return streamEnd{}, true
		}
		return endOf(cs, cs.RecvMsg(new(emptypb.Empty))), false
	}
	if s.halfClose {
		cs.CloseSend()
	}
	return streamEnd{}, true
}

// settleLocked acts on the end of an uncommitted attempt: success ends the
// call; a failure is retried as the policy says, on as many new attempts as
// needed, or ends the call.
func (s *retryStream) settleLocked(end streamEnd, committed bool) {
	for {
		err := end.err
		if err == io.EOF {
			s.succeedLocked()
			return
		}
		if s.curCancel != nil {
			s.curCancel()
			s.curCancel = nil
		}
		d := s.c.decide(s.ctx, s.o, &s.call, s.method, s.curN, s.curStart, err, end.trailer, committed || s.committed, end.unanswered)
		if !d.Retry {
			s.finishLocked(s.call.Err(err, d.Reason))
			return
		}
		if werr := wait(s.ctx, s.o.clock, d.Delay); werr != nil {
			s.finishLocked(s.call.Err(werr, stopReasonOf(s.ctx)))
			return
		}
		var ok bool
		if end, ok = s.startAttemptLocked(); ok {
			return
		}
		committed = false
	}
}

// settleEndedLocked settles the current attempt, whose stream ended, when no
// receiver is there to do it: it reads the status itself.
func (s *retryStream) settleEndedLocked(cs grpc.ClientStream) {
	if hdr, _ := cs.Header(); hdr != nil {
		s.commitLocked()
		return
	}
	// No header arrived, so no message can have: the placeholder stays empty.
	err := cs.RecvMsg(new(emptypb.Empty))
	if err == nil {
		s.commitLocked()
		return
	}
	s.settleLocked(endOf(cs, err), false)
}

// waitSettledLocked releases mu until the current attempt is settled.
func (s *retryStream) waitSettledLocked() {
	if s.settled == nil {
		s.settled = make(chan struct{})
	}
	ch := s.settled
	s.mu.Unlock()
	<-ch
	s.mu.Lock()
}

func (s *retryStream) wakeLocked() {
	if s.settled != nil {
		close(s.settled)
		s.settled = nil
	}
}

func (s *retryStream) commitLocked() {
	s.committed = true
	s.buf.reset()
	s.wakeLocked()
}

func (s *retryStream) succeedLocked() {
	s.c.succeeded(s.ctx, s.o, s.throttle, s.method, s.curN, s.curStart)
	s.finishLocked(io.EOF)
}

func (s *retryStream) finishLocked(err error) {
	if s.done {
		return
	}
	s.done, s.finalErr = true, err
	s.buf.reset()
	if s.fin != nil {
		s.stopFin()
		s.fin.call(err)
	}
	if s.curCancel != nil {
		s.curCancel()
		s.curCancel = nil
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wakeLocked()
}

// endedSend is what SendMsg returns once the call has ended: io.EOF, or,
// as grpc-go does, nil for a call whose client sends one message (the
// generated code would hand io.EOF to the caller in place of the status,
// which RecvMsg returns).
func endedSend(desc *grpc.StreamDesc) error {
	if desc.ClientStreams {
		return io.EOF
	}
	return nil
}

// bufferLocked keeps m's encoding for replay, or commits the call when the
// replay buffer would overflow or refuses m. It reports
// whether m was kept.
func (s *retryStream) bufferLocked(m any) bool {
	if s.pol.MaxAttempts <= 1 {
		// Never replayed (a per-attempt timeout, a service config timeout
		// or throttling brought the call here): keep nothing, and take
		// none of the connection's share.
		return false
	}
	if s.buf.add(m, s.o.maxReplayBytes) {
		return true
	}
	s.commitLocked()
	return false
}

// SendMsg sends m on the current attempt, keeping it for replay until the
// call commits. If the attempt ended and is retried, m is replayed on the
// new attempt and SendMsg returns nil; if the call ended, it returns
// endedSend and RecvMsg returns the status.
func (s *retryStream) SendMsg(m any) error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return endedSend(s.desc)
	}
	buffered := !s.committed && s.bufferLocked(m)
	cs, gen := s.cur, s.gen
	s.mu.Unlock()

	err := cs.SendMsg(m)
	if err == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != io.EOF {
		// A local failure (encoding, size limit, send after CloseSend):
		// grpc ended the attempt, and a retry would send the same message.
		if s.gen == gen && !s.done {
			if buffered {
				s.buf.dropLast()
			}
			s.finishLocked(s.call.Err(err, retry.NonRetryable))
		}
		return err
	}
	for {
		switch {
		case s.gen != gen && !s.done:
			return nil // retried: m was in the buffer and was replayed
		case s.done, s.committed, s.gen != gen:
			return endedSend(s.desc)
		case s.recvBusy:
			s.waitSettledLocked()
		default:
			s.settleEndedLocked(cs)
		}
	}
}

// RecvMsg receives the next message. Before commit, a retryable failure
// moves the call to a new attempt, invisibly to the caller.
func (s *retryStream) RecvMsg(m any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.done {
			return s.finalErr
		}
		cs, gen := s.cur, s.gen
		s.recvBusy = true
		s.mu.Unlock()
		err := cs.RecvMsg(m)
		s.mu.Lock()
		s.recvBusy = false
		switch {
		case gen != s.gen:
			continue
		case err == nil:
			if !s.committed {
				s.commitLocked()
			}
			if !s.desc.ServerStreams {
				// grpc read the end of the stream with the only response.
				s.succeedLocked()
			}
			return nil
		case err == io.EOF:
			s.succeedLocked()
			continue
		}
		hdr, _ := cs.Header()
		s.settleLocked(endOf(cs, err), hdr != nil)
	}
}

// Header returns the response header of the attempt that commits. Calling
// it waits for that header, and the header commits the call.
func (s *retryStream) Header() (metadata.MD, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		cs, gen := s.cur, s.gen
		if s.done || s.committed {
			s.mu.Unlock()
			md, err := cs.Header()
			s.mu.Lock()
			return md, err
		}
		s.mu.Unlock()
		md, err := cs.Header()
		s.mu.Lock()
		switch {
		case gen != s.gen:
			continue
		case md != nil:
			if !s.committed {
				s.commitLocked()
			}
			return md, err
		case s.done || s.committed:
			return md, err
		case s.recvBusy:
			s.waitSettledLocked()
		default:
			s.settleEndedLocked(cs)
		}
	}
}

// Trailer returns the trailer of the last attempt.
func (s *retryStream) Trailer() metadata.MD {
	s.mu.Lock()
	cs := s.cur
	s.mu.Unlock()
	return cs.Trailer()
}

// CloseSend half-closes the call; the half-close is replayed on retries.
func (s *retryStream) CloseSend() error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.halfClose = true
	cs := s.cur
	s.mu.Unlock()
	return cs.CloseSend()
}

// Context returns the current attempt's context. As in grpc-go, asking for
// it commits the call: the context belongs to one attempt.
func (s *retryStream) Context() context.Context {
	s.mu.Lock()
	if !s.committed && !s.done {
		s.commitLocked()
	}
	cs := s.cur
	s.mu.Unlock()
	return cs.Context()
}
