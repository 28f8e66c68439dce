// Command greeter-client calls the three methods of the helloworld example's
// Greeter once each and prints the replies, retrying under a gRFC A6 service
// config through grpc-resilience's interceptors.
//
// Usage:
//
//	greeter-client [--addr HOST:PORT] [--name NAME] [--service-config FILE] [--timeout D]
//
// Flags:
//
//	--addr HOST:PORT        the greeter-server to call (default 127.0.0.1:50052)
//	--name NAME             who to greet (default "world")
//	--service-config FILE   the A6 service config to follow (default: the
//	                        copy of examples/helloworld/service_config.json
//	                        built into the command: up to 5 attempts per call,
//	                        retrying UNAVAILABLE)
//	--timeout D             bound on the whole run (default 10s)
//
// Example, from the repository root, against a server started with
// greeter-server --port 50052:
//
//	go run ./examples/helloworld/cmd/greeter-client --addr 127.0.0.1:50052
//
// It calls SayHello with the name, SayHelloStreamReply with the name
// (three greetings come back), and SayHelloBidiStream with the name,
// "Alice" and "Bob", one reply per request. Each call's line says how many
// attempts it took; against greeter-server --faults 'unavailable=30%'
// --seed 1:
//
//	SayHello: "Hello world" (attempts: 2)
//	SayHelloStreamReply: "Hello world", "Bonjour world", "Hola world" (attempts: 1)
//	SayHelloBidiStream: "Hello world", "Hello Alice", "Hello Bob" (attempts: 2)
//
// Against a fresh server with seeded faults the output is the same on every
// run. The first call that fails even after its retries ends the command
// with exit status 1 and a message giving the call, its final status, the
// attempts made and why retrying stopped. A bad command line exits 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/resilience-go/grpc-resilience/examples/helloworld"
	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/retry"
	rsc "github.com/resilience-go/grpc-resilience/serviceconfig"
)

const (
	name           = "greeter-client"
	defaultAddr    = "127.0.0.1:50052"
	defaultTimeout = 10 * time.Second
)

// bidiNames are the names SayHelloBidiStream sends after --name.
var bidiNames = []string{"Alice", "Bob"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	os.Exit(cli.ExitCode(name, err, os.Stderr))
}

// run parses args, then makes the three calls and prints their replies on
// stdout. It returns the first call's failure, or a cli.UsageError for a
// bad command line.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by cli.ExitCode, in one line
	addr := fs.String("addr", defaultAddr, "`host:port` of a greeter-server")
	who := fs.String("name", "world", "`name` of the person to greet")
	configFile := fs.String("service-config", "", "A6 service config `file` (default: the built-in copy of examples/helloworld/service_config.json)")
	timeout := fs.Duration("timeout", defaultTimeout, "bound on the whole run")
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
	if *who == "" {
		return cli.Usagef("--name %q: want a name", *who)
	}
	if *timeout <= 0 {
		return cli.Usagef("--timeout %v: want a positive duration", *timeout)
	}
	cfg, err := loadServiceConfig(*configFile)
	if err != nil {
		return err
	}

	opts := append(interceptors.DialOptions(interceptors.WithServiceConfig(cfg)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient(*addr, opts...)
	if err != nil {
		return cli.Usagef("--addr %q: %w", *addr, err)
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return greet(ctx, pb.NewGreeterClient(conn), *who, stdout)
}

// loadServiceConfig parses the service config in file, or the built-in one
// when file is empty.
func loadServiceConfig(file string) (*rsc.Config, error) {
	data := helloworld.ServiceConfigJSON()
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, cli.Usagef("--service-config: %w", err)
		}
	}
	cfg, err := rsc.Parse(data)
	if err != nil {
		if file == "" {
			return nil, fmt.Errorf("built-in service config: %w", err)
		}
		return nil, cli.Usagef("--service-config %s: %w", file, err)
	}
	return cfg, nil
}

// greet makes the three calls in order and prints one line for each.
func greet(ctx context.Context, c pb.GreeterClient, who string, stdout io.Writer) error {
	var unary, serverStream, bidiStream attempts
	reply, err := c.SayHello(ctx, &pb.HelloRequest{Name: who}, unary.counter())
	if err != nil {
		return callError("SayHello", err)
	}
	fmt.Fprintf(stdout, "SayHello: %q (attempts: %d)\n", reply.GetMessage(), unary.get())

	replies, err := streamReply(ctx, c, who, serverStream.counter())
	if err != nil {
		return callError("SayHelloStreamReply", err)
	}
	fmt.Fprintf(stdout, "SayHelloStreamReply: %s (attempts: %d)\n", quoteAll(replies), serverStream.get())

	replies, err = bidi(ctx, c, append([]string{who}, bidiNames...), bidiStream.counter())
	if err != nil {
		return callError("SayHelloBidiStream", err)
	}
	fmt.Fprintf(stdout, "SayHelloBidiStream: %s (attempts: %d)\n", quoteAll(replies), bidiStream.get())
	return nil
}

// streamReply calls SayHelloStreamReply and returns every greeting.
func streamReply(ctx context.Context, c pb.GreeterClient, who string, opts ...grpc.CallOption) ([]string, error) {
	stream, err := c.SayHelloStreamReply(ctx, &pb.HelloRequest{Name: who}, opts...)
	if err != nil {
		return nil, err
	}
	var replies []string
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return replies, nil
		}
		if err != nil {
			return nil, err
		}
		replies = append(replies, r.GetMessage())
	}
}

// bidi calls SayHelloBidiStream, sending each name and reading its reply
// before the next, and returns the replies.
func bidi(ctx context.Context, c pb.GreeterClient, names []string, opts ...grpc.CallOption) ([]string, error) {
	stream, err := c.SayHelloBidiStream(ctx, opts...)
	if err != nil {
		return nil, err
	}
	var replies []string
	for _, who := range names {
		if err := stream.Send(&pb.HelloRequest{Name: who}); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		// A failed Send returns io.EOF; the call's status comes from Recv.
		r, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		replies = append(replies, r.GetMessage())
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("more replies than requests")
		}
		return nil, err
	}
	return replies, nil
}

// callError names the failed call; the error of a retried call already says
// how many attempts were made and why retrying stopped.
func callError(method string, err error) error {
	if _, _, ok := retry.Info(err); ok {
		return fmt.Errorf("%s: %w", method, err)
	}
	return fmt.Errorf("%s: %w (not retried)", method, err)
}

// quoteAll quotes each string and joins them with ", ".
func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// attempts counts the attempts of one call, through the interceptors'
// observer.
type attempts struct{ n atomic.Int32 }

// counter returns the call option that counts the call's attempts.
func (a *attempts) counter() grpc.CallOption {
	return interceptors.WithObserver(func(_ context.Context, e retry.Event) {
		if e.Kind == retry.AttemptDone {
			a.n.Add(1)
		}
	})
}

// get returns the attempts counted.
func (a *attempts) get() int32 { return a.n.Load() }
