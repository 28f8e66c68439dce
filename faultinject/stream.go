package faultinject

import (
	"sync/atomic"

	"google.golang.org/grpc"
)

// faultStream lets limit messages pass, in either direction, then fails the
// next send or receive with err. Sends and receives may run on two
// goroutines at once, as grpc allows; a receive counts only once a message
// arrived, so a receive blocked waiting for the client holds no slot.
type faultStream struct {
	grpc.ServerStream
	limit  int64
	err    error
	passed atomic.Int64 // messages passed, or reserved by a send in flight
	fired  atomic.Bool
}

// take reserves a message slot, or reports that the limit is reached.
func (s *faultStream) take() bool {
	for {
		n := s.passed.Load()
		if n >= s.limit {
			s.fired.Store(true)
			return false
		}
		if s.passed.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// SendMsg sends m, or fails once the limit was reached.
func (s *faultStream) SendMsg(m any) error {
	if !s.take() {
		return s.err
	}
	err := s.ServerStream.SendMsg(m)
	if err != nil {
		s.passed.Add(-1)
	}
	return err
}

// RecvMsg receives into m, or fails once the limit was reached. The end of
// the client's stream (io.EOF) is not a message. A message that arrives
// after a concurrent send took the last slot is dropped: the call fails.
func (s *faultStream) RecvMsg(m any) error {
	if s.passed.Load() >= s.limit {
		s.fired.Store(true)
		return s.err
	}
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if !s.take() {
		return s.err
	}
	return nil
}

// requestFaultStream lets limit request messages reach the handler, then
// fails its next receive with err. Sends pass untouched.
type requestFaultStream struct {
	grpc.ServerStream
	limit    int64
	err      error
	received atomic.Int64
	fired    atomic.Bool
}

// RecvMsg receives into m, or fails once limit messages were received.
func (s *requestFaultStream) RecvMsg(m any) error {
	if s.received.Load() >= s.limit {
		s.fired.Store(true)
		return s.err
	}
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	s.received.Add(1)
	return nil
}
