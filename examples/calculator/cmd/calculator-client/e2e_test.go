package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/resilience-go/grpc-resilience/internal/proctest"
)

// The end-to-end test runs the README's two commands as real processes:
// calculator-server on a free port of 127.0.0.1 with the README's faults
// and seed, then calculator-client against it.
const (
	serverPkg = "../calculator-server"
	clientPkg = "../calculator-client"
	// readmeFaults and readmeSeed are the server flags of
	// examples/calculator/README.md.
	readmeFaults = "internal=50%"
	readmeSeed   = "3"
	// clientTimeout bounds one run of calculator-client.
	clientTimeout = 30 * time.Second
)

// readmeOutput is calculator-client's output in
// examples/calculator/README.md.
const readmeOutput = `Add(2, 3) = 5 (attempts: 3)
Multiply(6, 7) = 42 (attempts: 2)
Accumulate(10) failed: INTERNAL "faultinject: injected INTERNAL" (attempts: 1, retry stopped: non-retryable)
Add(-20, 62) = 42 (attempts: 1)
Accumulate(5) = total 5 (attempts: 1)
Multiply(-4, 8) = -32 (attempts: 1)
Accumulate(-3) failed: INTERNAL "faultinject: injected INTERNAL" (attempts: 1, retry stopped: non-retryable)
Add(100, 23) = 123 (attempts: 1)
Accumulate(7) = total 12 (attempts: 1)
Add(2147483647, 1) failed: OUT_OF_RANGE "Add(2147483647, 1) = 2147483648 overflows int32" (attempts: 1, retry stopped: non-retryable)
Multiply(65536, 65536) failed: OUT_OF_RANGE "Multiply(65536, 65536) = 4294967296 overflows int32" (attempts: 1, retry stopped: non-retryable)
Accumulate: 2 of 4 calls succeeded; their values sum to 12, the server's total
`

// outcome is one parsed line of calculator-client's output.
type outcome struct {
	method   string
	args     string
	ok       bool
	result   int64  // when ok
	code     string // when not ok
	attempts int
}

var outcomeLine = regexp.MustCompile(`^(Add|Multiply|Accumulate)\(([-0-9, ]+)\) (?:= (?:total )?(-?\d+)|failed: ([A-Z_]+) ".*") \(attempts: (\d+)(?:, retry stopped: [a-z-]+)?\)$`)

// parseOutcomes parses the call lines of out, and returns them with the
// summary line.
func parseOutcomes(t *testing.T, out string) ([]outcome, string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var outcomes []outcome
	for _, line := range lines[:len(lines)-1] {
		m := outcomeLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("calculator-client line %q does not parse", line)
		}
		o := outcome{method: m[1], args: m[2], ok: m[3] != "", code: m[4]}
		o.attempts, _ = strconv.Atoi(m[5])
		o.result, _ = strconv.ParseInt(m[3], 10, 64)
		outcomes = append(outcomes, o)
	}
	return outcomes, lines[len(lines)-1]
}

// TestREADME runs the README's commands and checks the retry semantics
// the README describes, then the exact output.
func TestREADME(t *testing.T) {
	serverBin := proctest.Build(t, serverPkg)
	clientBin := proctest.Build(t, clientPkg)
	srv := proctest.StartServer(t, serverBin, "--faults", readmeFaults, "--seed", readmeSeed)

	res := proctest.Run(t, clientTimeout, clientBin, "--addr", srv.Addr)
	if res.Code != 0 {
		t.Fatalf("calculator-client --addr %s = exit status %d, want 0; stderr:\n%s", srv.Addr, res.Code, res.Stderr)
	}
	if err := srv.Stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("calculator-server after SIGTERM = %v, want exit status 0; stderr:\n%s", err, srv.Stderr())
	}

	outcomes, summary := parseOutcomes(t, res.Stdout)
	if len(outcomes) != len(series) {
		t.Fatalf("calculator-client printed %d call lines, want %d:\n%s", len(outcomes), len(series), res.Stdout)
	}
	var retriedOK, accumulateInternal, accumulateOK int
	var sum, lastTotal int64
	for i, o := range outcomes {
		overflow := i >= len(series)-2
		switch {
		case overflow:
			if o.ok || o.code != "OUT_OF_RANGE" || o.attempts != 1 {
				t.Errorf("%s(%s): ok=%t code=%s after %d attempts, want OUT_OF_RANGE after 1", o.method, o.args, o.ok, o.code, o.attempts)
			}
		case o.method == "Accumulate" && o.ok:
			accumulateOK++
			sum += int64(series[i].a)
			lastTotal = o.result
			if o.attempts != 1 {
				t.Errorf("Accumulate(%s) succeeded after %d attempts, want 1: INTERNAL must never be retried", o.args, o.attempts)
			}
		case o.method == "Accumulate":
			accumulateInternal++
			if o.code != "INTERNAL" || o.attempts != 1 {
				t.Errorf("Accumulate(%s) failed %s after %d attempts, want INTERNAL after exactly 1", o.args, o.code, o.attempts)
			}
		default: // Add, Multiply
			if !o.ok {
				t.Errorf("%s(%s) failed %s after %d attempts, want success: INTERNAL is retried for idempotent methods", o.method, o.args, o.code, o.attempts)
			}
			if o.attempts > 1 {
				retriedOK++
			}
		}
	}
	if retriedOK == 0 {
		t.Errorf("no Add or Multiply took more than 1 attempt under %q; want some retried:\n%s", readmeFaults, res.Stdout)
	}
	if accumulateInternal == 0 {
		t.Errorf("no Accumulate failed INTERNAL under %q; want some:\n%s", readmeFaults, res.Stdout)
	}
	if lastTotal != sum {
		t.Errorf("last Accumulate total = %d, want %d, the sum of the values that succeeded", lastTotal, sum)
	}
	wantSummary := fmt.Sprintf("Accumulate: %d of 4 calls succeeded; their values sum to %d, the server's total", accumulateOK, sum)
	if summary != wantSummary {
		t.Errorf("summary line = %q, want %q", summary, wantSummary)
	}

	// The server's own count: every value added once, none twice.
	lines := strings.Split(strings.TrimSuffix(srv.Stdout(), "\n"), "\n")
	stats := lines[len(lines)-1]
	if want := fmt.Sprintf(" total=%d accumulated=%d", sum, accumulateOK); !strings.HasSuffix(stats, want) {
		t.Errorf("calculator-server stats line = %q, want it to end with %q", stats, want)
	}
	// Every faulted Accumulate was a first attempt: none was retried.
	faulted := 0
	for line := range strings.Lines(srv.Stderr()) {
		if strings.Contains(line, "fault: abort INTERNAL /calculator.Calculator/Accumulate ") {
			faulted++
			if !strings.Contains(line, " attempt=1 ") {
				t.Errorf("calculator-server logged %q, want only first attempts of Accumulate", strings.TrimSpace(line))
			}
		}
	}
	if faulted != accumulateInternal {
		t.Errorf("calculator-server faulted %d Accumulate attempts, want %d, one per failed call", faulted, accumulateInternal)
	}

	if diff := cmp.Diff(readmeOutput, res.Stdout); diff != "" {
		t.Errorf("calculator-client --addr %s output mismatch with the README (-want +got):\n%s", srv.Addr, diff)
	}
}

// TestBadFlags checks that both commands exit 2 with one line on stderr
// naming the flag and its value.
func TestBadFlags(t *testing.T) {
	serverBin := proctest.Build(t, serverPkg)
	clientBin := proctest.Build(t, clientPkg)
	for _, tc := range []struct {
		bin     string
		args    []string
		wantErr []string
	}{
		{serverBin, []string{"--port", "-2"}, []string{"calculator-server: ", "--port", "-2"}},
		{serverBin, []string{"--faults", "/calculator.Calculator/Divide:internal"},
			[]string{"calculator-server: ", "--faults", "/calculator.Calculator/Divide"}},
		{serverBin, []string{"--addr", "127.0.0.1:0", "--port", "0"}, []string{"calculator-server: ", "--addr", "--port"}},
		{clientBin, []string{"--retry-times", "-3"}, []string{"calculator-client: ", "--retry-times", "-3"}},
		{clientBin, []string{"--retry-interval", "fast"}, []string{"calculator-client: ", "-retry-interval", `"fast"`}},
	} {
		res := proctest.Run(t, clientTimeout, tc.bin, tc.args...)
		if res.Code != 2 || strings.Count(res.Stderr, "\n") != 1 || res.Stdout != "" {
			t.Errorf("%s %q = exit status %d, stdout %q, stderr %q; want 2, nothing, one line",
				tc.bin, tc.args, res.Code, res.Stdout, res.Stderr)
		}
		for _, w := range tc.wantErr {
			if !strings.Contains(res.Stderr, w) {
				t.Errorf("%s %q stderr = %q, want it to contain %q", tc.bin, tc.args, res.Stderr, w)
			}
		}
	}
}
