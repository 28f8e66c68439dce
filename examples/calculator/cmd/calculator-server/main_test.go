package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"

	pb "github.com/resilience-go/grpc-resilience/examples/calculator/calculatorpb"
	"github.com/resilience-go/grpc-resilience/examples/calculator/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCommand checks the command's name and the running total in its stats
// line.
func TestCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := server.New()
	for _, v := range []int32{10, 5} {
		if _, err := srv.Accumulate(context.Background(), &pb.AccumulateRequest{Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	var stdout bytes.Buffer
	args := []string{"--port", "0", "--seed", "3", "--faults", "internal=50%"}
	if err := command(srv).Run(ctx, args, &stdout, io.Discard); err != nil {
		t.Fatalf("Run(cancelled, %q) = %v, want nil", args, err)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "calculator-server: listening on 127.0.0.1:") ||
		!strings.HasSuffix(lines[0], ` seed=3 faults="internal=50%"`) ||
		lines[1] != "calculator-server: stats: calls=0 aborts=0 delays=0 total=15 accumulated=2" {
		t.Errorf("Run(cancelled, %q) printed %q, want the startup line and a stats line with total=15 accumulated=2", args, lines)
	}
	if got, want := command(srv).DefaultAddr, "127.0.0.1:50053"; got != want {
		t.Errorf("DefaultAddr = %q, want %q", got, want)
	}
}
