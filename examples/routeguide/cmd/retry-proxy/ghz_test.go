package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/resilience-go/grpc-resilience/internal/stubserver"
)

const (
	// requireGhzEnv, set to 1, turns a missing ghz from a skip into a
	// failure.
	requireGhzEnv = "GRPC_RESILIENCE_REQUIRE_GHZ"
	// ghzInstall is the command that installs the ghz the script pins.
	ghzInstall = "go install github.com/bojand/ghz/cmd/ghz@v0.120.0"
	// scriptTimeout bounds a run of ghz.sh: two builds and two small loads.
	scriptTimeout = 5 * time.Minute
	// scriptStopDelay is how long the script gets, after a SIGTERM at
	// scriptTimeout, to stop the processes it started.
	scriptStopDelay = 30 * time.Second
)

// comparisonLine is ghz.sh's last line: failed and counted calls without
// and with the library.
var comparisonLine = regexp.MustCompile(`(?m)^comparison: without-library errors=(\d+)/(\d+) \([0-9.]+%\) with-library errors=(\d+)/(\d+) \([0-9.]+%\)$`)

// TestGhzScript runs examples/routeguide/ghz.sh with a small load and
// checks its comparison: ghz straight against the faulty server meets
// about 30% failures, and through the proxy almost none.
func TestGhzScript(t *testing.T) {
	const total = 200
	ghz := findGhz(t)
	script, err := filepath.Abs(filepath.Join("..", "..", "ghz.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	// A SIGTERM lets the script's trap stop the server and the proxy it
	// started; SIGKILL would leave them running.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = scriptStopDelay
	cmd.Env = append(os.Environ(), "GHZ="+ghz, "GHZ_TOTAL="+strconv.Itoa(total), "GHZ_CONCURRENCY=4")
	out, err := cmd.CombinedOutput()
	t.Logf("ghz.sh output:\n%s", out)
	if err != nil {
		t.Fatalf("ghz.sh = %v, want success", err)
	}
	if got := strings.Count(string(out), "Status code distribution:"); got != 2 {
		t.Errorf("ghz.sh printed %d ghz status code distributions, want 2", got)
	}
	for _, want := range []string{"routeguide-server: stats: ", name + ": stats: "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ghz.sh printed no line with %q, want the stats of the process it stopped", want)
		}
	}
	m := comparisonLine.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("ghz.sh printed no line matching %s", comparisonLine)
	}
	n := make([]int, len(m)-1)
	for i, s := range m[1:] {
		n[i], _ = strconv.Atoi(s)
	}
	without, withoutCount, with, withCount := n[0], n[1], n[2], n[3]
	if withoutCount != total || withCount != total {
		t.Errorf("ghz.sh counted %d and %d calls, want %d in each run", withoutCount, withCount, total)
	}
	// 30% of calls fail at random (seed 1): well above 10% straight from
	// the server; through the proxy a call fails only if six attempts in a
	// row do (0.07%).
	if without < total/10 {
		t.Errorf("ghz.sh: %d of %d calls failed without the library, want about 30%%", without, total)
	}
	if with > total/50 || with >= without {
		t.Errorf("ghz.sh: %d of %d calls failed with the library (%d without), want almost none", with, total, without)
	}
}

// findGhz returns the path of ghz, from PATH or $(go env GOPATH)/bin.
// Without it the test is skipped (the script would install it, over the
// network), or fails when GRPC_RESILIENCE_REQUIRE_GHZ=1.
func findGhz(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("ghz"); err == nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), stubserver.DefaultTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "ghz")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	const msg = "ghz not found on PATH nor in $(go env GOPATH)/bin; install it with: " + ghzInstall
	if os.Getenv(requireGhzEnv) == "1" {
		t.Fatalf("%s (%s=1)", msg, requireGhzEnv)
	}
	t.Skip(msg)
	return ""
}
