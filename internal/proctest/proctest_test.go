package proctest

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestStartServer starts the route guide server, the project's model
// server, and stops it as its tests do.
func TestStartServer(t *testing.T) {
	bin := Build(t, "../../examples/routeguide/cmd/routeguide-server")
	s := StartServer(t, bin, "--seed", "1")
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") || strings.HasSuffix(s.Addr, ":0") {
		t.Errorf("StartServer().Addr = %q, want 127.0.0.1 and the port picked", s.Addr)
	}
	if !s.Running() {
		t.Fatalf("Running() = false after StartServer, want true")
	}
	if err := s.Stop(t, syscall.SIGTERM); err != nil {
		t.Errorf("Stop(SIGTERM) = %v, want nil: the server exits 0 after a graceful stop", err)
	}
	if s.Running() {
		t.Errorf("Running() = true after Stop, want false")
	}
	if line := s.WaitStdout(t, "routeguide-server: stats: "); !strings.Contains(line, "calls=0") {
		t.Errorf("stats line = %q, want calls=0", line)
	}
}

// TestWaitStderrAndKill waits for a line on stderr that comes after one on
// stdout, then kills the process.
func TestWaitStderrAndKill(t *testing.T) {
	p := Start(t, "sh", "-c", `echo out; echo "err line" >&2; exec sleep 60`)
	if got := p.WaitStdout(t, "out"); got != "out" {
		t.Errorf("WaitStdout(out) = %q, want %q", got, "out")
	}
	if got := p.WaitStderr(t, "err"); got != "err line" {
		t.Errorf("WaitStderr(err) = %q, want %q", got, "err line")
	}
	err := p.Stop(t, syscall.SIGKILL)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Stop(SIGKILL) = %v, want the process killed by SIGKILL", err)
	}
}

// TestCleanupKills leaves a process running at the end of a subtest: its
// cleanup must kill it.
func TestCleanupKills(t *testing.T) {
	var p *Process
	t.Run("leave it running", func(t *testing.T) {
		p = Start(t, "sleep", "60")
	})
	if p.Running() {
		t.Errorf("process %d still running after its test's cleanup, want it killed", p.Pid())
	}
}

// TestWaitAfterExit finds a line the process printed before it exited.
func TestWaitAfterExit(t *testing.T) {
	p := Start(t, "sh", "-c", "echo a; echo b")
	if got := p.WaitStdout(t, "b"); got != "b" {
		t.Errorf("WaitStdout(b) = %q, want %q", got, "b")
	}
}

// TestRun runs a command to its end and keeps its output and exit status.
func TestRun(t *testing.T) {
	got := Run(t, StartTimeout, "sh", "-c", "echo out; echo err >&2; exit 3")
	if want := (Result{Stdout: "out\n", Stderr: "err\n", Code: 3}); got != want {
		t.Errorf("Run(sh) = %+v, want %+v", got, want)
	}
}
