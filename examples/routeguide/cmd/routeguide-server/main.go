// Command routeguide-server serves the route guide example service with its
// embedded feature database.
//
// Usage:
//
//	routeguide-server [--addr 127.0.0.1:50051]
//
// It prints the address it listens on, serves until SIGINT or SIGTERM, then
// stops gracefully: it lets running calls finish for up to 5 seconds before
// cutting them off. It exits 2 on a bad command line and 1 on any other
// failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
)

const (
	name        = "routeguide-server"
	defaultAddr = "127.0.0.1:50051"
	// shutdownGrace is how long running calls get to finish after a signal;
	// a RouteChat stream can stay open for ever, so it must be bounded.
	shutdownGrace = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a bad command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode reports err on stderr in one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// run serves until ctx is done, then stops gracefully. A cancelled ctx still
// starts the server (so a bad address is reported) and stops it at once.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by exitCode, in one line
	addr := fs.String("addr", defaultAddr, "`host:port` to listen on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "Usage: %s [flags]\n", name)
			fs.PrintDefaults()
			return nil
		}
		return usageError{fmt.Errorf("%w (see -h)", err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))}
	}

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	return serve(ctx, lis, shutdownGrace, stdout, stderr)
}

// serve runs the route guide on lis until ctx is done, then stops
// gracefully, cutting off calls still running after grace.
func serve(ctx context.Context, lis net.Listener, grace time.Duration, stdout, stderr io.Writer) error {
	gs := grpc.NewServer()
	server.New().Register(gs)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	fmt.Fprintf(stdout, "%s: listening on %s\n", name, lis.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	fmt.Fprintf(stderr, "%s: stopping\n", name)

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
		fmt.Fprintf(stderr, "%s: calls still running after %v; closing them\n", name, grace)
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
