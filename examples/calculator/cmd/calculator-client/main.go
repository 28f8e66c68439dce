// Command calculator-client makes a fixed series of calls to the calculator
// example's Calculator and prints, for each, its result or final status and
// how many attempts it took, retrying through grpc-resilience's manual mode.
//
// Usage:
//
//	calculator-client [--addr HOST:PORT] [--retry-times N] [--retry-interval D] [--timeout D]
//
// Flags:
//
//	--addr HOST:PORT     the calculator-server to call (default 127.0.0.1:50053)
//	--retry-times N      retries of a failed call, so up to N+1 attempts
//	                     (default 4)
//	--retry-interval D   fixed wait between attempts (default 10ms)
//	--timeout D          deadline of each call, its retries included (default 5s)
//
// The client sets interceptors.WithRetryTimes and WithRetryInterval and no
// codes, so the library's default decides what is retried: UNAVAILABLE for
// every method; the ambiguous codes (INTERNAL, UNKNOWN, ABORTED,
// RESOURCE_EXHAUSTED) only for Add and Multiply, which the proto declares
// IDEMPOTENT, never for Accumulate, which adds to the server's running
// total; OUT_OF_RANGE never, since a retry would overflow again.
//
// Example, from the repository root, against a server started with
// calculator-server --port 50053 --faults 'internal=50%' --seed 3:
//
//	go run ./examples/calculator/cmd/calculator-client --addr 127.0.0.1:50053
//
// prints lines such as
//
//	Add(2, 3) = 5 (attempts: 3)
//	Accumulate(10) failed: INTERNAL "faultinject: injected INTERNAL" (attempts: 1, retry stopped: non-retryable)
//	Accumulate(5) = total 5 (attempts: 1)
//	Add(2147483647, 1) failed: OUT_OF_RANGE "Add(2147483647, 1) = 2147483648 overflows int32" (attempts: 1, retry stopped: non-retryable)
//
// and a last line with the sum of the values of the Accumulate calls that
// succeeded, which the server's running total must equal: no value was
// added twice. Against a fresh server with seeded faults the output is the
// same on every run.
//
// A call that fails is printed, not fatal: INTERNAL and OUT_OF_RANGE are
// what the example is about. The command exits 1 when a call failed with
// UNAVAILABLE or DEADLINE_EXCEEDED even after its retries (no server, or
// one too slow), and 2 on a bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
	"github.com/resilience-go/grpc-resilience/interceptors"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/retry"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

const (
	name                 = "calculator-client"
	defaultAddr          = "127.0.0.1:50053"
	defaultRetryTimes    = 4
	defaultRetryInterval = 10 * time.Millisecond
	defaultTimeout       = 5 * time.Second
)

// op is one call of the series.
type op struct {
	method string // "Add", "Multiply" or "Accumulate"
	a, b   int32  // the operands; Accumulate sends a alone
}

// String renders o as a call, such as "Add(2, 3)" or "Accumulate(10)".
func (o op) String() string {
	if o.method == "Accumulate" {
		return fmt.Sprintf("Accumulate(%d)", o.a)
	}
	return fmt.Sprintf("%s(%d, %d)", o.method, o.a, o.b)
}

// series is the fixed list of calls the client makes, in order: small sums,
// products and additions to the running total, then two overflows.
var series = []op{
	{"Add", 2, 3},
	{"Multiply", 6, 7},
	{"Accumulate", 10, 0},
	{"Add", -20, 62},
	{"Accumulate", 5, 0},
	{"Multiply", -4, 8},
	{"Accumulate", -3, 0},
	{"Add", 100, 23},
	{"Accumulate", 7, 0},
	{"Add", math.MaxInt32, 1},
	{"Multiply", 1 << 16, 1 << 16},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	os.Exit(cli.ExitCode(name, err, os.Stderr))
}

// run parses args, makes the calls of series and prints one line for each,
// then the sum of the values Accumulate added.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by cli.ExitCode, in one line
	addr := fs.String("addr", defaultAddr, "`host:port` of a calculator-server")
	retryTimes := fs.Int("retry-times", defaultRetryTimes, "retries of a failed call (`N`+1 attempts at most)")
	retryInterval := fs.Duration("retry-interval", defaultRetryInterval, "fixed wait between attempts")
	timeout := fs.Duration("timeout", defaultTimeout, "deadline of each call, its retries included")
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
	if *retryTimes < 0 {
		return cli.Usagef("--retry-times %d: want 0 or more", *retryTimes)
	}
	if *retryInterval < 0 {
		return cli.Usagef("--retry-interval %v: want 0 or more", *retryInterval)
	}
	if *timeout <= 0 {
		return cli.Usagef("--timeout %v: want a positive duration", *timeout)
	}

	opts := append(interceptors.DialOptions(
		interceptors.WithRetryTimes(*retryTimes),
		interceptors.WithRetryInterval(*retryInterval),
	), grpc.WithTransportCredentials(insecure.NewCredentials()))
	conn, err := grpc.NewClient(*addr, opts...)
	if err != nil {
		return cli.Usagef("--addr %q: %w", *addr, err)
	}
	defer conn.Close()
	return calculate(ctx, pb.NewCalculatorClient(conn), *timeout, stdout)
}

// calculate makes the calls of series, each with its own deadline, and
// prints their outcomes. It fails when a call could not reach the server.
func calculate(ctx context.Context, c pb.CalculatorClient, timeout time.Duration, stdout io.Writer) error {
	var sum int64
	accumulations, accumulated, unreachable := 0, 0, 0
	for _, o := range series {
		if o.method == "Accumulate" {
			accumulations++
		}
		result, n, err := call(ctx, c, o, timeout)
		switch {
		case err == nil && o.method == "Accumulate":
			fmt.Fprintf(stdout, "%v = total %d (attempts: %d)\n", o, result, n)
			sum += int64(o.a)
			accumulated++
			continue
		case err == nil:
			fmt.Fprintf(stdout, "%v = %d (attempts: %d)\n", o, result, n)
			continue
		}
		s := status.Convert(err)
		reason := "not retried"
		if _, r, ok := retry.Info(err); ok {
			reason = "retry stopped: " + r.String()
		}
		fmt.Fprintf(stdout, "%v failed: %s %q (attempts: %d, %s)\n", o, rstatus.Name(s.Code()), s.Message(), n, reason)
		if s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded {
			unreachable++
		}
	}
	fmt.Fprintf(stdout, "Accumulate: %d of %d calls succeeded; their values sum to %d, the server's total\n", accumulated, accumulations, sum)
	if unreachable > 0 {
		return fmt.Errorf("%d of %d calls failed with UNAVAILABLE or DEADLINE_EXCEEDED even after retries: is a calculator-server running and answering?",
			unreachable, len(series))
	}
	return nil
}

// call makes one call of o with its own deadline and returns its result,
// the attempts it made and its error.
func call(ctx context.Context, c pb.CalculatorClient, o op, timeout time.Duration) (int32, int32, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var attempts atomic.Int32
	count := interceptors.WithObserver(func(_ context.Context, e retry.Event) {
		if e.Kind == retry.AttemptDone {
			attempts.Add(1)
		}
	})
	var reply *pb.CalcReply
	var err error
	switch o.method {
	case "Add":
		reply, err = c.Add(ctx, &pb.CalcRequest{A: o.a, B: o.b}, count)
	case "Multiply":
		reply, err = c.Multiply(ctx, &pb.CalcRequest{A: o.a, B: o.b}, count)
	case "Accumulate":
		reply, err = c.Accumulate(ctx, &pb.AccumulateRequest{Value: o.a}, count)
	default:
		return 0, 0, fmt.Errorf("unknown method %q", o.method)
	}
	return reply.GetResult(), attempts.Load(), err
}
