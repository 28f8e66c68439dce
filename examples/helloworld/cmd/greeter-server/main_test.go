package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCommand checks the command's name, default address and service, as
// its startup and stats lines show them.
func TestCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	args := []string{"--port", "0", "--seed", "1", "--faults", "/helloworld.Greeter/SayHello:unavailable=30%"}
	if err := command().Run(ctx, args, &stdout, io.Discard); err != nil {
		t.Fatalf("Run(cancelled, %q) = %v, want nil", args, err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "greeter-server: listening on 127.0.0.1:") ||
		!strings.HasSuffix(lines[0], ` seed=1 faults="/helloworld.Greeter/SayHello:unavailable=30%"`) ||
		lines[1] != "greeter-server: stats: calls=0 aborts=0 delays=0" {
		t.Errorf("Run(cancelled, %q) printed %q, want the startup line and an empty stats line", args, lines)
	}
	if got, want := command().DefaultAddr, "127.0.0.1:50052"; got != want {
		t.Errorf("DefaultAddr = %q, want %q", got, want)
	}
}
