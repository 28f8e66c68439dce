package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/resilience-go/grpc-resilience/internal/cli"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunCancelledContext: a cancelled run still listens, prints its
// startup line with the settings, and its stats line when it stops.
func TestRunCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	args := []string{"--port", "0", "--upstream", "127.0.0.1:1", "--retry-times", "4", "--retry-interval", "10ms"}
	if err := run(ctx, args, &stdout, io.Discard); err != nil {
		t.Fatalf("run(cancelled, %q) = %v, want nil", args, err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if got, want := len(lines), 2; got != want {
		t.Fatalf("run(cancelled, %q) printed %d lines %q, want %d: startup and stats", args, got, lines, want)
	}
	if want := name + ": listening on 127.0.0.1:"; !strings.HasPrefix(lines[0], want) {
		t.Errorf("run(cancelled, %q) printed %q, want it to start with %q", args, lines[0], want)
	}
	want := ` upstream=127.0.0.1:1 retry-times=4 retry-interval=10ms service-config="" per-attempt-timeout=0s`
	if !strings.HasSuffix(lines[0], want) {
		t.Errorf("run(cancelled, %q) printed %q, want it to end with %q", args, lines[0], want)
	}
	if want := name + ": stats: calls=0 ok=0 failed=0 retries=0 hedges=0"; lines[1] != want {
		t.Errorf("run(cancelled, %q) printed %q last, want %q", args, lines[1], want)
	}
}

// TestRunHelp: -h prints the flags on stdout and is no error.
func TestRunHelp(t *testing.T) {
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &stdout, io.Discard); err != nil {
		t.Fatalf("run(-h) = %v, want nil", err)
	}
	for _, flag := range []string{"-upstream", "-retry-times", "-retry-interval", "-service-config", "-port", "-addr"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("run(-h) printed:\n%s\nwant it to list %s", stdout.String(), flag)
		}
	}
}

// TestBadFlags: every bad command line exits 2 with one line on stderr that
// names the flag (and the value, where there is one).
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badConfig, []byte(`{"methodConfig":[{"retryPolicy":{"maxAttempts":1}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	up := []string{"--upstream", "127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		want []string // in the message
	}{
		{"no upstream", []string{"--retry-times", "1"}, []string{"--upstream"}},
		{"no retry mode", up, []string{"--retry-times", "--service-config"}},
		{"negative retry times", append(up, "--retry-times", "-1"), []string{"--retry-times", "-1"}},
		{"negative interval", append(up, "--retry-times", "1", "--retry-interval", "-1s"), []string{"--retry-interval", "-1s"}},
		{"interval alone", append(up, "--retry-interval", "1s"), []string{"--retry-interval", "--retry-times"}},
		{"negative attempt timeout", append(up, "--retry-times", "1", "--per-attempt-timeout", "-1s"), []string{"--per-attempt-timeout", "-1s"}},
		{"port out of range", append(up, "--retry-times", "1", "--port", "70000"), []string{"--port", "70000"}},
		{"port and addr", append(up, "--retry-times", "1", "--port", "1", "--addr", "127.0.0.1:2"), []string{"--port", "--addr"}},
		{"missing config", append(up, "--service-config", filepath.Join(dir, "none.json")), []string{"--service-config", "none.json"}},
		{"invalid config", append(up, "--service-config", badConfig), []string{"--service-config", "bad.json", "retryPolicy"}},
		{"bad duration", append(up, "--retry-times", "1", "--retry-interval", "soon"), []string{"retry-interval", "soon"}},
		{"unknown flag", append(up, "--retries", "1"), []string{"retries"}},
		{"argument", append(up, "--retry-times", "1", "extra"), []string{`"extra"`}},
	}
	// A command line taken for good serves until the context ends: end it
	// at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(ctx, append([]string{"--port", "0"}, tt.args...), io.Discard, io.Discard)
			if !errors.As(err, new(cli.UsageError)) {
				t.Fatalf("run(%q) = %v, want a cli.UsageError", tt.args, err)
			}
			var stderr bytes.Buffer
			if got := exitCode(err, &stderr); got != 2 {
				t.Errorf("exitCode(run(%q)) = %d, want 2", tt.args, got)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, name+": ") {
				t.Errorf("run(%q) reported %q, want one line starting with %q", tt.args, msg, name+": ")
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("run(%q) reported %q, want it to name %q", tt.args, msg, w)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writing goroutine and a reading
// test.
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
