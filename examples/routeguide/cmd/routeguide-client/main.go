// Command routeguide-client calls each of the route guide's four methods once
// and prints what came back.
//
// Usage:
//
//	routeguide-client [--addr host:port] [--timeout 5s]
//
// With --addr it talks to that server. Without it, it starts the route guide
// server in the same process on a free 127.0.0.1 port and talks to that over
// real TCP, so it works on a fresh machine with no arguments:
//
//	go run ./examples/routeguide/cmd/routeguide-client
//
// Results go to stdout and are the same on every run against a fresh server;
// notes about the embedded server go to stderr. It exits 2 on a bad command
// line and 1 if a call fails.
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
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/resilience-go/grpc-resilience/examples/routeguide/routeguidepb"
	"github.com/resilience-go/grpc-resilience/examples/routeguide/server"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/cli"
)

const (
	name           = "routeguide-client"
	defaultTimeout = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a bad command line: exit status 2.
type usageError = cli.UsageError

// exitCode reports err on stderr in one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode(name, err, stderr) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by exitCode, in one line
	addr := fs.String("addr", "", "`host:port` of a route guide server (default: start one in this process)")
	timeout := fs.Duration("timeout", defaultTimeout, "deadline for each call, streams included")
	retryTimes := fs.Int("retry-times", 3, "retries of a failed call, through grpc-resilience's interceptors (0 for none)")
	retryInterval := fs.Duration("retry-interval", 100*time.Millisecond, "wait between retries")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fmt.Fprintf(stdout, "Usage: %s [flags]\n", name)
			fs.PrintDefaults()
			return nil
		}
		return cli.Usagef("%w (see -h)", err)
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if *timeout <= 0 {
		return cli.Usagef("--timeout = %v, want a positive duration", *timeout)
	}
	if *retryTimes < 0 {
		return cli.Usagef("--retry-times = %d, want 0 or more", *retryTimes)
	}
	if *retryInterval < 0 {
		return cli.Usagef("--retry-interval = %v, want 0 or more", *retryInterval)
	}

	target := *addr
	if target == "" {
		embedded, stop, err := startEmbedded()
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stderr, "%s: no --addr given; started a route guide server on %s\n", name, embedded)
		target = embedded
	}

	dialOpts := interceptors.DialOptions(
		interceptors.WithRetryTimes(*retryTimes),
		interceptors.WithRetryInterval(*retryInterval),
	)
	dialOpts = append(dialOpts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient(target, dialOpts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	return tour(ctx, pb.NewRouteGuideClient(conn), *timeout, stdout)
}

// startEmbedded serves the route guide on a free loopback port and returns
// its address and a function that stops it.
func startEmbedded() (string, func(), error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	gs := grpc.NewServer()
	server.New().Register(gs)
	served := make(chan struct{})
	go func() {
		defer close(served)
		// Serve returns nil once stopped; a listener failure shows up as
		// failed calls instead.
		_ = gs.Serve(lis)
	}()
	return lis.Addr().String(), func() {
		gs.Stop()
		<-served
	}, nil
}
