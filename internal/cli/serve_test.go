package cli

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// TestServeStop stops a server whose context is already done: Serve calls
// beforeStop, logs the stop and returns nil.
func TestServeStop(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var log bytes.Buffer
	called := false
	err = Serve(ctx, "srv", grpc.NewServer(), lis, time.Second, NewLineWriter(&log), func() { called = true })
	if err != nil {
		t.Errorf("Serve(done ctx) = %v, want nil", err)
	}
	if !called {
		t.Errorf("Serve(done ctx) did not call beforeStop, want it called")
	}
	if got, want := log.String(), "srv: stopping\n"; got != want {
		t.Errorf("Serve(done ctx) logged %q, want %q", got, want)
	}
}

// TestServeFails returns the error of a listener that cannot accept.
func TestServeFails(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen = %v, want nil", err)
	}
	lis.Close()
	var log bytes.Buffer
	err = Serve(context.Background(), "srv", grpc.NewServer(), lis, time.Second, NewLineWriter(&log), nil)
	if err == nil {
		t.Errorf("Serve(closed listener) = nil, want an error")
	}
	if log.Len() != 0 {
		t.Errorf("Serve(closed listener) logged %q, want nothing", log.String())
	}
}
