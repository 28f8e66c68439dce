package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

// binTimeout bounds one run of the grpc-chaos binary in a test.
const binTimeout = 3 * time.Minute

// chaosBin is the grpc-chaos binary, built once by TestMain.
var chaosBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "grpc-chaos-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chaosBin = filepath.Join(dir, "grpc-chaos")
	if out, err := exec.Command("go", "build", "-o", chaosBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build grpc-chaos: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// chaosRun is what one run of the binary did.
type chaosRun struct {
	stdout, stderr string
	code           int
}

// runBinary runs the grpc-chaos binary with args and waits for it, for at
// most binTimeout; it kills only the process it started.
func runBinary(t *testing.T, args ...string) chaosRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), binTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaosBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
	default:
		t.Fatalf("grpc-chaos %q: %v\nstderr:\n%s", args, err, stderr.String())
	}
	return chaosRun{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// decodeReport decodes a --json report.
func decodeReport(t *testing.T, data string) *report.Report {
	t.Helper()
	var rep report.Report
	dec := json.NewDecoder(bytes.NewReader([]byte(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decoding the JSON report: %v\n%s", err, data)
	}
	return &rep
}

// rowOf returns the report's row for kind and policy.
func rowOf(t *testing.T, rep *report.Report, kind, policy string) report.Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Kind == kind && r.Policy == policy {
			return r
		}
	}
	t.Fatalf("report has no row for kind %q, policy %q", kind, policy)
	return report.Row{}
}
