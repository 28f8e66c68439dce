package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/resilience-go/grpc-resilience/examples/calculator/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer serves a fresh Calculator on 127.0.0.1 with the faults of
// spec and returns its address and the calculator; it is stopped in
// t.Cleanup.
func startServer(t *testing.T, spec string) (string, *server.Server) {
	t.Helper()
	rules, err := faultinject.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	in, err := faultinject.New(rules, faultinject.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.UnaryInterceptor(in.UnaryServerInterceptor()))
	calc := server.New()
	calc.Register(gs)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve() = %v, want nil", err)
		}
	})
	return lis.Addr().String(), calc
}

func runClient(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	var stdout bytes.Buffer
	err := run(ctx, args, &stdout)
	return stdout.String(), err
}

// TestRunFirstAttemptsFail fails the first attempt of every call with
// INTERNAL: Add and Multiply succeed on their second attempt, every
// Accumulate fails after one, and the overflows show on the second attempt.
func TestRunFirstAttemptsFail(t *testing.T) {
	addr, calc := startServer(t, "first=1:internal")
	got, err := runClient(t, "--addr", addr, "--retry-interval", "1ms")
	if err != nil {
		t.Fatalf("run(--addr %s) = %v, want nil", addr, err)
	}
	const internal = `failed: INTERNAL "faultinject: injected INTERNAL" (attempts: 1, retry stopped: non-retryable)`
	want := `Add(2, 3) = 5 (attempts: 2)
Multiply(6, 7) = 42 (attempts: 2)
Accumulate(10) ` + internal + `
Add(-20, 62) = 42 (attempts: 2)
Accumulate(5) ` + internal + `
Multiply(-4, 8) = -32 (attempts: 2)
Accumulate(-3) ` + internal + `
Add(100, 23) = 123 (attempts: 2)
Accumulate(7) ` + internal + `
Add(2147483647, 1) failed: OUT_OF_RANGE "Add(2147483647, 1) = 2147483648 overflows int32" (attempts: 2, retry stopped: non-retryable)
Multiply(65536, 65536) failed: OUT_OF_RANGE "Multiply(65536, 65536) = 4294967296 overflows int32" (attempts: 2, retry stopped: non-retryable)
Accumulate: 0 of 4 calls succeeded; their values sum to 0, the server's total
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run(--addr %s) output mismatch (-want +got):\n%s", addr, diff)
	}
	if calc.Total() != 0 || calc.Accumulated() != 0 {
		t.Errorf("server total = %d after %d Accumulate calls, want 0 after 0", calc.Total(), calc.Accumulated())
	}
}

// TestRunNoFaults checks the results, and that every call takes one
// attempt.
func TestRunNoFaults(t *testing.T) {
	addr, calc := startServer(t, "")
	got, err := runClient(t, "--addr", addr)
	if err != nil {
		t.Fatalf("run(--addr %s) = %v, want nil", addr, err)
	}
	want := `Add(2, 3) = 5 (attempts: 1)
Multiply(6, 7) = 42 (attempts: 1)
Accumulate(10) = total 10 (attempts: 1)
Add(-20, 62) = 42 (attempts: 1)
Accumulate(5) = total 15 (attempts: 1)
Multiply(-4, 8) = -32 (attempts: 1)
Accumulate(-3) = total 12 (attempts: 1)
Add(100, 23) = 123 (attempts: 1)
Accumulate(7) = total 19 (attempts: 1)
Add(2147483647, 1) failed: OUT_OF_RANGE "Add(2147483647, 1) = 2147483648 overflows int32" (attempts: 1, retry stopped: non-retryable)
Multiply(65536, 65536) failed: OUT_OF_RANGE "Multiply(65536, 65536) = 4294967296 overflows int32" (attempts: 1, retry stopped: non-retryable)
Accumulate: 4 of 4 calls succeeded; their values sum to 19, the server's total
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run(--addr %s) output mismatch (-want +got):\n%s", addr, diff)
	}
	if calc.Total() != 19 {
		t.Errorf("server total = %d, want 19", calc.Total())
	}
}

// TestRunUnavailable checks that UNAVAILABLE is retried for every method,
// Accumulate included, and that a call still UNAVAILABLE after its retries
// fails the run (exit status 1).
func TestRunUnavailable(t *testing.T) {
	addr, calc := startServer(t, "first=2:unavailable")
	got, err := runClient(t, "--addr", addr, "--retry-interval", "1ms")
	if err != nil {
		t.Fatalf("run(--addr %s) with first=2:unavailable = %v, want nil", addr, err)
	}
	if strings.Count(got, "(attempts: 3") != len(series) {
		t.Errorf("run(--addr %s) = %q, want every call to take 3 attempts", addr, got)
	}
	if calc.Total() != 19 || calc.Accumulated() != 4 {
		t.Errorf("server total = %d after %d Accumulate calls, want 19 after 4", calc.Total(), calc.Accumulated())
	}

	got, err = runClient(t, "--addr", addr, "--retry-times", "1", "--retry-interval", "1ms")
	var stderr bytes.Buffer
	if code := cli.ExitCode(name, err, &stderr); code != 1 || !strings.Contains(stderr.String(), "UNAVAILABLE") {
		t.Errorf("run(--retry-times 1) with first=2:unavailable: exit status %d, reported %q; want 1 and UNAVAILABLE", code, stderr.String())
	}
	if n := strings.Count(got, `failed: UNAVAILABLE "faultinject: injected UNAVAILABLE" (attempts: 2, retry stopped: exhausted)`); n != len(series) {
		t.Errorf("run(--retry-times 1) = %q, want %d calls UNAVAILABLE after 2 attempts", got, len(series))
	}
}

func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		args    []string
		wantErr []string
	}{
		{"unknown flag", []string{"--codes", "internal"}, []string{"-codes"}},
		{"positional argument", []string{"add"}, []string{`"add"`}},
		{"negative retry times", []string{"--retry-times", "-1"}, []string{"--retry-times", "-1"}},
		{"bad retry times", []string{"--retry-times", "many"}, []string{"-retry-times", `"many"`}},
		{"negative retry interval", []string{"--retry-interval", "-5ms"}, []string{"--retry-interval", "-5ms"}},
		{"bad retry interval", []string{"--retry-interval", "10"}, []string{"-retry-interval", `"10"`}},
		{"zero timeout", []string{"--timeout", "0s"}, []string{"--timeout", "0s"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			out, err := runClient(t, tc.args...)
			var stderr bytes.Buffer
			if code := cli.ExitCode(name, err, &stderr); code != 2 {
				t.Errorf("exit status of run(%q) = %d (%v), want 2", tc.args, code, err)
			}
			if strings.Count(stderr.String(), "\n") != 1 || out != "" {
				t.Errorf("run(%q) printed %q and reported %q, want nothing and one line", tc.args, out, stderr.String())
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("run(%q) reported %q, want it to name %q", tc.args, stderr.String(), w)
				}
			}
		})
	}
}
