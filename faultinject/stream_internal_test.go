package faultinject

import (
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// blockingStream's RecvMsg reports that it was entered, then waits for the
// test to release it with an error; SendMsg succeeds.
type blockingStream struct {
	grpc.ServerStream
	entered chan struct{}
	release chan error
	sent    int
}

func (s *blockingStream) SendMsg(any) error { s.sent++; return nil }

func (s *blockingStream) RecvMsg(any) error {
	s.entered <- struct{}{}
	return <-s.release
}

// TestFaultStreamBlockedRecv: a receive blocked waiting for the client, on
// its own goroutine, holds no message slot: with a limit of 2 both sends go
// out, the end of the client's stream is not a message, and only the next
// operation fails.
func TestFaultStreamBlockedRecv(t *testing.T) {
	inner := &blockingStream{entered: make(chan struct{}), release: make(chan error)}
	abort := status.Error(codes.Unavailable, "injected")
	fs := &faultStream{ServerStream: inner, limit: 2, err: abort}
	recvd := make(chan error, 1)
	go func() { recvd <- fs.RecvMsg(nil) }()
	<-inner.entered // past the limit check, blocked in the inner stream
	for i := range 2 {
		if err := fs.SendMsg(nil); err != nil {
			t.Fatalf("SendMsg %d with a receive pending = %v, want nil", i+1, err)
		}
	}
	inner.release <- io.EOF
	if err := <-recvd; !errors.Is(err, io.EOF) {
		t.Errorf("RecvMsg = %v, want io.EOF", err)
	}
	if fs.fired.Load() || fs.passed.Load() != 2 || inner.sent != 2 {
		t.Errorf("after 2 sends and EOF: fired %v, passed %d, sent %d; want false, 2, 2", fs.fired.Load(), fs.passed.Load(), inner.sent)
	}
	if err := fs.SendMsg(nil); !errors.Is(err, abort) || !fs.fired.Load() || inner.sent != 2 {
		t.Errorf("third SendMsg = %v (fired %v, sent %d), want the abort, nothing sent", err, fs.fired.Load(), inner.sent)
	}
}

// TestFaultStreamRecvOverLimit: a message that arrives after a concurrent
// send took the last slot is dropped and the receive fails.
func TestFaultStreamRecvOverLimit(t *testing.T) {
	inner := &blockingStream{entered: make(chan struct{}), release: make(chan error)}
	abort := status.Error(codes.Internal, "injected")
	fs := &faultStream{ServerStream: inner, limit: 1, err: abort}
	recvd := make(chan error, 1)
	go func() { recvd <- fs.RecvMsg(nil) }()
	<-inner.entered
	if err := fs.SendMsg(nil); err != nil {
		t.Fatalf("SendMsg = %v, want nil", err)
	}
	inner.release <- nil // a message arrives, but the slot is gone
	if err := <-recvd; !errors.Is(err, abort) || !fs.fired.Load() || fs.passed.Load() != 1 {
		t.Errorf("RecvMsg over the limit = %v (fired %v, passed %d), want the abort, fired, 1 passed", err, fs.fired.Load(), fs.passed.Load())
	}
}
