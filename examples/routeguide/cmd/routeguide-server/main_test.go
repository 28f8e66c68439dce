package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRunCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	if err := run(ctx, []string{"--addr", "127.0.0.1:0"}, &stdout, io.Discard); err != nil {
		t.Fatalf("run(cancelled, --addr 127.0.0.1:0) = %v, want nil", err)
	}
	if got, want := stdout.String(), name+": listening on 127.0.0.1:"; !strings.HasPrefix(got, want) {
		t.Errorf("run(cancelled, --addr 127.0.0.1:0) printed %q, want it to start with %q", got, want)
	}
}

// TestRunServes runs the command, calls it over TCP, and stops it by
// cancelling its context as a signal would.
func TestRunServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pr, pw := io.Pipe()
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		for s := bufio.NewScanner(pr); s.Scan(); {
			lines <- s.Text()
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()

	timeout, stopTimeout := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer stopTimeout()
	var addr string
	select {
	case line := <-lines:
		var ok bool
		if addr, ok = strings.CutPrefix(line, name+": listening on "); !ok {
			t.Fatalf("run() first line = %q, want the listening address", line)
		}
	case err := <-done:
		t.Fatalf("run() = %v before listening", err)
	case <-timeout.Done():
		t.Fatalf("run() printed no address within %v", stubserver.DefaultTimeout)
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v", addr, err)
	}
	defer conn.Close()
	p := &pb.Point{Latitude: 101203450, Longitude: -398765430}
	f, err := pb.NewRouteGuideClient(conn).GetFeature(timeout, p)
	if err != nil {
		t.Fatalf("GetFeature(%v) = %v", p, err)
	}
	if got, want := f.GetName(), "Harbour Lighthouse"; got != want {
		t.Errorf("GetFeature(%v) = %q, want %q", p, got, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() after cancel = %v, want nil", err)
		}
	case <-timeout.Done():
		t.Fatalf("run() did not return within %v of cancel", stubserver.DefaultTimeout)
	}
	for range lines {
		// Drain until the pipe closes so the reader goroutine ends.
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantUsage bool   // a usageError, exit status 2
		wantOut   string // in stdout
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantUsage: true},
		{name: "flag without value", args: []string{"--addr"}, wantUsage: true},
		{name: "positional argument", args: []string{"serve"}, wantUsage: true},
		{name: "help", args: []string{"-h"}, wantOut: "-addr host:port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, io.Discard)
			if got := errors.As(err, new(usageError)); got != tc.wantUsage {
				t.Errorf("run(%q) = %v, usage error %t, want %t", tc.args, err, got, tc.wantUsage)
			}
			if !tc.wantUsage && err != nil {
				t.Errorf("run(%q) = %v, want nil", tc.args, err)
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("run(%q) printed %q, want it to contain %q", tc.args, stdout.String(), tc.wantOut)
			}
		})
	}
}

func TestRunListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	defer busy.Close()
	args := []string{"--addr", busy.Addr().String()}
	err = run(context.Background(), args, io.Discard, io.Discard)
	if err == nil || errors.As(err, new(usageError)) {
		t.Errorf("run(%q) on a busy port = %v, want a non-usage error", args, err)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err        error
		want       int
		wantStderr string
	}{
		{nil, 0, ""},
		{usageError{errors.New("bad flag")}, 2, name + ": bad flag\n"},
		{errors.New("boom"), 1, name + ": boom\n"},
	}
	for _, tc := range tests {
		var stderr bytes.Buffer
		if got := exitCode(tc.err, &stderr); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
		if stderr.String() != tc.wantStderr {
			t.Errorf("exitCode(%v) printed %q, want %q", tc.err, stderr.String(), tc.wantStderr)
		}
	}
}

// TestServeGrace checks that a stream left open does not hold up the
// shutdown for longer than the grace period.
func TestServeGrace(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("net.Listen() = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, lis, stubserver.ShortTimeout, io.Discard, &stderr) }()

	timeout, stopTimeout := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer stopTimeout()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v", lis.Addr(), err)
	}
	defer conn.Close()
	chat, err := pb.NewRouteGuideClient(conn).RouteChat(timeout)
	if err != nil {
		t.Fatalf("RouteChat() = %v", err)
	}
	// The reply to the second note proves the handler is running.
	n := &pb.RouteNote{Location: &pb.Point{}, Message: "hold"}
	for range 2 {
		if err := chat.Send(n); err != nil {
			t.Fatalf("RouteChat Send() = %v", err)
		}
	}
	if _, err := chat.Recv(); err != nil {
		t.Fatalf("RouteChat Recv() = %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve() with an open stream = %v, want nil", err)
		}
	case <-timeout.Done():
		t.Fatalf("serve() did not return within %v of cancel", stubserver.DefaultTimeout)
	}
	if _, err := chat.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("RouteChat Recv() after the grace period = %v, want code %v", err, codes.Unavailable)
	}
	if !strings.Contains(stderr.String(), "closing them") {
		t.Errorf("serve() stderr = %q, want a note that running calls were closed", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer that serve's goroutine can write while the
// test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
