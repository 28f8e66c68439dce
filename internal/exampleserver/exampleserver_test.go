package exampleserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	pb "github.com/resilience-go/grpc-resilience/examples/helloworld/helloworldpb"
	"github.com/resilience-go/grpc-resilience/examples/helloworld/server"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

const name = "greeter-server"

// testCommand returns a Command serving a fresh Greeter, with a stats field.
func testCommand() Command {
	return Command{
		Name:        name,
		DefaultAddr: "127.0.0.1:50052",
		Desc:        &pb.Greeter_ServiceDesc,
		Impl:        server.New(),
		Stats:       func() string { return "extra=1" },
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantAddr string
		wantSeed uint64
		wantSpec int // rules
	}{
		{args: nil, wantAddr: "127.0.0.1:50052"},
		{args: []string{"--port", "0", "--seed", "7"}, wantAddr: "127.0.0.1:0", wantSeed: 7},
		{args: []string{"--port", "50099"}, wantAddr: "127.0.0.1:50099"},
		{args: []string{"--addr", "127.0.0.1:1234", "--faults", "unavailable=30%,delay=5ms@10%", "--seed", "1"},
			wantAddr: "127.0.0.1:1234", wantSeed: 1, wantSpec: 2},
		{args: []string{"--faults", "/helloworld.Greeter/*:internal"}, wantAddr: "127.0.0.1:50052", wantSpec: 1},
		{args: []string{"--faults", "/helloworld.Greeter/SayHelloBidiStream:internal+after=1"}, wantAddr: "127.0.0.1:50052", wantSpec: 1},
		{args: []string{"--faults", "*:internal"}, wantAddr: "127.0.0.1:50052", wantSpec: 1},
	} {
		cfg, err := testCommand().parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Errorf("parseFlags(%q) = %v, want nil", tc.args, err)
			continue
		}
		if cfg.addr != tc.wantAddr || len(cfg.rules) != tc.wantSpec {
			t.Errorf("parseFlags(%q) = addr %q, %d rules; want %q, %d rules", tc.args, cfg.addr, len(cfg.rules), tc.wantAddr, tc.wantSpec)
		}
		if tc.wantSeed != 0 && cfg.seed != tc.wantSeed {
			t.Errorf("parseFlags(%q) seed = %d, want %d", tc.args, cfg.seed, tc.wantSeed)
		}
	}
}

// TestRunUsage checks that every bad command line is a usage error (exit
// status 2) reported in one line that names the flag and its value.
func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr []string
	}{
		{"unknown flag", []string{"--nope"}, []string{"-nope"}},
		{"flag without value", []string{"--addr"}, []string{"-addr"}},
		{"positional argument", []string{"serve"}, []string{`"serve"`}},
		{"bad port", []string{"--port", "http"}, []string{"-port", `"http"`}},
		{"port too big", []string{"--port", "70000"}, []string{"--port", "70000"}},
		{"negative port", []string{"--port", "-1"}, []string{"--port", "-1"}},
		{"port and addr", []string{"--port", "0", "--addr", "127.0.0.1:0"}, []string{"--port", "--addr"}},
		{"bad fault code", []string{"--faults", "nope"}, []string{"--faults", `"nope"`}},
		{"bad fault share", []string{"--faults", "internal=300%"}, []string{"--faults", "300%"}},
		{"bad fault duration", []string{"--faults", "delay=abc"}, []string{"--faults", `"abc"`}},
		{"other service", []string{"--faults", "/routeguide.RouteGuide/*:internal"},
			[]string{"--faults", "/routeguide.RouteGuide/*", "helloworld.Greeter"}},
		{"unknown method", []string{"--faults", "/helloworld.Greeter/SayGoodbye:internal"},
			[]string{"--faults", "/helloworld.Greeter/SayGoodbye"}},
		{"bad seed", []string{"--seed", "abc"}, []string{"-seed", `"abc"`}},
		{"negative seed", []string{"--seed", "-1"}, []string{"-seed", `"-1"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout bytes.Buffer
			err := testCommand().Run(context.Background(), tc.args, &stdout, io.Discard)
			if !errors.As(err, new(cli.UsageError)) {
				t.Fatalf("Run(%q) = %v, want a cli.UsageError", tc.args, err)
			}
			var stderr bytes.Buffer
			if code := cli.ExitCode(name, err, &stderr); code != 2 {
				t.Errorf("ExitCode(Run(%q)) = %d, want 2", tc.args, code)
			}
			line := stderr.String()
			if strings.Count(line, "\n") != 1 {
				t.Errorf("Run(%q) reported %q, want one line", tc.args, line)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(line, w) {
					t.Errorf("Run(%q) reported %q, want it to name %q", tc.args, line, w)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("Run(%q) printed %q on stdout, want nothing", tc.args, stdout.String())
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout bytes.Buffer
	if err := testCommand().Run(context.Background(), []string{"-h"}, &stdout, io.Discard); err != nil {
		t.Fatalf("Run(-h) = %v, want nil", err)
	}
	for _, w := range []string{"Usage: " + name, "-addr host:port", "-port N", "-faults spec", "-seed seed"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("Run(-h) printed %q, want it to contain %q", stdout.String(), w)
		}
	}
}

// TestRunCancelled checks the startup and stats lines of a server stopped
// before any call.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	args := []string{"--port", "0", "--seed", "5", "--faults", "unavailable=30%"}
	if err := testCommand().Run(ctx, args, &stdout, io.Discard); err != nil {
		t.Fatalf("Run(cancelled, %q) = %v, want nil", args, err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("Run(cancelled, %q) printed %q, want 2 lines: startup and stats", args, lines)
	}
	if want := name + ": listening on 127.0.0.1:"; !strings.HasPrefix(lines[0], want) {
		t.Errorf("Run(cancelled, %q) first line = %q, want it to start with %q", args, lines[0], want)
	}
	if want := ` seed=5 faults="unavailable=30%"`; !strings.HasSuffix(lines[0], want) {
		t.Errorf("Run(cancelled, %q) first line = %q, want it to end with %q", args, lines[0], want)
	}
	if got, want := lines[1], name+": stats: calls=0 aborts=0 delays=0 extra=1"; got != want {
		t.Errorf("Run(cancelled, %q) last line = %q, want %q", args, got, want)
	}
}

func TestRunAddrInUse(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	args := []string{"--addr", lis.Addr().String()}
	err = testCommand().Run(context.Background(), args, io.Discard, io.Discard)
	if err == nil || errors.As(err, new(cli.UsageError)) {
		t.Errorf("Run(%q) on a port in use = %v, want an error that is not a usage error (exit 1)", args, err)
	}
}

// TestServeFaultsOnlyTheService serves over bufconn with every call
// faulted: the Greeter fails, health and its counters do not.
func TestServeFaultsOnlyTheService(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	c := testCommand()
	cfg, err := c.parseFlags([]string{"--faults", "unavailable", "--seed", "1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	serveCtx, stop := context.WithCancel(ctx)
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	pr, pw := io.Pipe()
	go func() {
		err := c.serve(serveCtx, lis, cfg, pw, &stderr)
		pw.Close()
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve() printed no startup line")
	}
	if want := name + ": listening on bufconn seed=1 faults=\"unavailable\""; lines.Text() != want {
		t.Errorf("serve() startup line = %q, want %q", lines.Text(), want)
	}

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pb.NewGreeterClient(conn).SayHello(ctx, &pb.HelloRequest{Name: "x"})
	if got := status.Code(err); got != codes.Unavailable {
		t.Errorf("SayHello() = %v, want UNAVAILABLE from the fault", err)
	}
	for _, svc := range []string{"", "helloworld.Greeter"} {
		res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Health.Check(%q) = %v, %v; want SERVING, nil", svc, res.GetStatus(), err)
		}
	}
	conn.Close()

	stop()
	for lines.Scan() {
		stdout.WriteString(lines.Text() + "\n")
	}
	if err := <-done; err != nil {
		t.Errorf("serve() after stop = %v, want nil", err)
	}
	if want := name + ": stats: calls=1 aborts=1 (UNAVAILABLE=1) delays=0 extra=1\n"; stdout.String() != want {
		t.Errorf("serve() printed %q after the startup line, want %q", stdout.String(), want)
	}
	wantLog := name + ": fault: abort UNAVAILABLE /helloworld.Greeter/SayHello seq=1 attempt=1 rule=0\n" + name + ": stopping\n"
	if stderr.String() != wantLog {
		t.Errorf("serve() logged %q, want %q", stderr.String(), wantLog)
	}
}

// TestStopGrace checks that a call still running after the grace period is
// cut off, and that the server then stops cleanly.
func TestStopGrace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	c := testCommand()
	c.grace = stubserver.ShortTimeout
	cfg, err := c.parseFlags([]string{"--seed", "1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() { done <- c.serve(serveCtx, lis, cfg, io.Discard, &stderr) }()

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// An open bidi stream keeps GracefulStop waiting.
	stream, err := pb.NewGreeterClient(conn).SayHelloBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pb.HelloRequest{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("SayHelloBidiStream Recv() = %v, want a reply", err)
	}
	stop()
	timer := time.NewTimer(stubserver.DefaultTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve() after stop = %v, want nil", err)
		}
	case <-timer.C:
		t.Fatalf("serve() still running %v after stop with grace %v", stubserver.DefaultTimeout, c.grace)
	}
	if _, err := stream.Recv(); err == nil {
		t.Errorf("SayHelloBidiStream Recv() after the stop = nil error, want the stream cut off")
	}
	if !strings.Contains(stderr.String(), "calls still running after") {
		t.Errorf("serve() logged %q, want a note about calls cut off", stderr.String())
	}
}
