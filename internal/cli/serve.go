package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Serve serves gs on lis until ctx is done, then stops it gracefully: it
// logs "NAME: stopping" on log, calls beforeStop (if not nil; a health
// server's Shutdown, say), and lets running calls finish for up to grace
// before it cuts them off. It returns nil after such a stop, and the error
// of Serve if serving failed first. A ctx that is already done stops gs at
// once.
func Serve(ctx context.Context, name string, gs *grpc.Server, lis net.Listener, grace time.Duration, log *LineWriter, beforeStop func()) error {
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	select {
	case err := <-served:
		gs.Stop()
		return fmt.Errorf("serve %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	log.Printf("%s: stopping\n", name)
	if beforeStop != nil {
		beforeStop()
	}
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		log.Printf("%s: calls still running after %v; closing them\n", name, grace)
		gs.Stop()
		<-stopped
	}
	// A stop that comes before Serve got going makes Serve return
	// ErrServerStopped, which is still a clean stop.
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// LineWriter serialises whole lines written from concurrent goroutines
// (the fault log of a server, its stop messages) to one writer.
type LineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLineWriter returns a LineWriter that writes to w.
func NewLineWriter(w io.Writer) *LineWriter { return &LineWriter{w: w} }

// Printf formats a line and writes it in one piece. A line that cannot be
// written is lost: it is a log line.
func (l *LineWriter) Printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line)
}

// Listen listens on TCP address addr, the value of the command's --addr; an
// error names the flag.
func Listen(addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", addr, err)
	}
	return lis, nil
}
