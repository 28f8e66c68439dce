package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/examples/helloworld/server"
	"github.com/resilience-go/grpc-resilience/faultinject"
	"github.com/resilience-go/grpc-resilience/internal/cli"
	"github.com/resilience-go/grpc-resilience/internal/stubserver"
	"github.com/resilience-go/grpc-resilience/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer serves a Greeter on 127.0.0.1 with the faults of spec and
// returns its address; it is stopped in t.Cleanup.
func startServer(t *testing.T, spec string) string {
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
	gs := grpc.NewServer(grpc.UnaryInterceptor(in.UnaryServerInterceptor()), grpc.StreamInterceptor(in.StreamServerInterceptor()))
	server.New().Register(gs)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve() = %v, want nil", err)
		}
	})
	return lis.Addr().String()
}

func runClient(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	var stdout bytes.Buffer
	err := run(ctx, args, &stdout)
	return stdout.String(), err
}

// TestRunRetries fails the first attempt of every call: each call
// succeeds on its second attempt, streams included. (Failing two would
// drain the retry throttle's bucket to half by the third call.)
func TestRunRetries(t *testing.T) {
	addr := startServer(t, "first=1:unavailable")
	got, err := runClient(t, "--addr", addr, "--name", "Ada")
	if err != nil {
		t.Fatalf("run(--addr %s) = %v, want nil", addr, err)
	}
	want := `SayHello: "Hello Ada" (attempts: 2)
SayHelloStreamReply: "Hello Ada", "Bonjour Ada", "Hola Ada" (attempts: 2)
SayHelloBidiStream: "Hello Ada", "Hello Alice", "Hello Bob" (attempts: 2)
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run(--addr %s) output mismatch (-want +got):\n%s", addr, diff)
	}
}

// TestRunFails checks that a call that fails after its retries ends the
// run with its status, attempts and stop reason.
func TestRunFails(t *testing.T) {
	dir := t.TempDir()
	twoAttempts := filepath.Join(dir, "two.json")
	writeFile(t, twoAttempts, `{"methodConfig": [{"name": [{"service": "helloworld.Greeter"}],
		"retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.01s", "maxBackoff": "0.01s",
			"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`)
	for _, tc := range []struct {
		desc, spec   string
		args         []string
		wantOut      string
		wantCode     codes.Code
		wantAttempts int
		wantReason   retry.StopReason
	}{
		// The fifth failure drains the throttle's bucket (10 tokens) to
		// half, which the library reports as the reason.
		{"always unavailable", "unavailable", nil, "", codes.Unavailable, 5, retry.Throttled},
		{"not in the policy's codes", "/helloworld.Greeter/SayHello:internal", nil, "", codes.Internal, 1, retry.NonRetryable},
		{"stream after SayHello", "/helloworld.Greeter/SayHelloStreamReply:unavailable", nil,
			"SayHello: \"Hello world\" (attempts: 1)\n", codes.Unavailable, 5, retry.Throttled},
		{"own service config", "first=2:unavailable", []string{"--service-config", twoAttempts}, "",
			codes.Unavailable, 2, retry.Exhausted},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			addr := startServer(t, tc.spec)
			args := append([]string{"--addr", addr}, tc.args...)
			out, err := runClient(t, args...)
			attempts, reason, ok := retry.Info(err)
			if status.Code(err) != tc.wantCode || !ok || attempts != tc.wantAttempts || reason != tc.wantReason {
				t.Errorf("run(%q) = %v (attempts %d, reason %v, retried %t); want %v after %d attempts, %v",
					args, err, attempts, reason, ok, tc.wantCode, tc.wantAttempts, tc.wantReason)
			}
			if out != tc.wantOut {
				t.Errorf("run(%q) printed %q, want %q", args, out, tc.wantOut)
			}
			if errors.As(err, new(cli.UsageError)) {
				t.Errorf("run(%q) = a usage error, want exit status 1", args)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.json")
	writeFile(t, badConfig, `{"methodConfig": [{"name": [{"service": "helloworld.Greeter"}], "retryPolicy": {"maxAttempts": 1, "initialBackoff": "0.01s", "maxBackoff": "0.01s",
			"backoffMultiplier": 1, "retryableStatusCodes": ["UNAVAILABLE"]}}]}`)
	for _, tc := range []struct {
		desc    string
		args    []string
		wantErr []string
	}{
		{"unknown flag", []string{"--nope"}, []string{"-nope"}},
		{"positional argument", []string{"hello"}, []string{`"hello"`}},
		{"empty name", []string{"--name", ""}, []string{"--name", `""`}},
		{"zero timeout", []string{"--timeout", "0s"}, []string{"--timeout", "0s"}},
		{"bad timeout", []string{"--timeout", "soon"}, []string{"-timeout", `"soon"`}},
		{"missing config", []string{"--service-config", filepath.Join(dir, "none.json")}, []string{"--service-config", "none.json"}},
		{"bad config", []string{"--service-config", badConfig}, []string{"--service-config", badConfig, "maxAttempts"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := runClient(t, tc.args...)
			var stderr bytes.Buffer
			if code := cli.ExitCode(name, err, &stderr); code != 2 {
				t.Errorf("exit status of run(%q) = %d (%v), want 2", tc.args, code, err)
			}
			if strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("run(%q) reported %q, want one line", tc.args, stderr.String())
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("run(%q) reported %q, want it to name %q", tc.args, stderr.String(), w)
				}
			}
		})
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
