// Package proctest runs real server processes for tests: it builds a
// command with go build, starts it, waits for the line that says it is
// ready, and stops exactly the process it started, by its process id.
//
// Every wait is bounded ([BuildTimeout], [StartTimeout], [StopTimeout]);
// t.Cleanup kills a process that still runs when its test ends, and waits
// for it, so no test leaves a server behind.
//
// The project's servers (routeguide-server, greeter-server, ...) print
//
//	NAME: listening on ADDR ...
//
// as their first line on stdout; [StartServer] starts one on a free port
// of 127.0.0.1 and returns once that line gave its address.
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// BuildTimeout bounds one go build.
	BuildTimeout = 2 * time.Minute
	// StartTimeout bounds the wait for a process's ready line.
	StartTimeout = 10 * time.Second
	// StopTimeout bounds the wait for a process to exit after a signal:
	// more than the project's servers' 5 s shutdown grace.
	StopTimeout = 10 * time.Second
)

// Build builds the main package pkg (a directory relative to the test's,
// such as "../../examples/routeguide/cmd/routeguide-server", or an import
// path) into a temporary directory and returns the binary's path. The
// binary is named after pkg's last element.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s %s = %v, want nil; output:\n%s", bin, pkg, err, out)
	}
	return bin
}

// Process is one process a test started.
type Process struct {
	// Name is the binary's base name, for messages.
	Name string
	// Args are the arguments it was started with.
	Args []string

	proc           *os.Process
	stdout, stderr *Output
	exited         chan struct{} // closed once Wait returned
	waitErr        error         // what Wait returned; read after exited
}

// Start starts bin with args, in a process group of its own. Its output is
// collected in memory (see [Process.Stdout], [Process.Stderr]). In
// t.Cleanup it kills the group with SIGKILL (the process and any children
// it left), and waits for the process.
func Start(t testing.TB, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: filepath.Base(bin), Args: args, stdout: newOutput(), stderr: newOutput(), exited: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	// Writers that are not files make exec copy the output on goroutines of
	// its own until the process exits, so the process never blocks on it.
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	// A child of the process (nginx's worker) may hold the output open after
	// the process exited; Wait stops copying then.
	cmd.WaitDelay = StopTimeout
	// Its own process group, so that the cleanup kills its children too;
	// on Linux, the kernel kills it if the test binary dies first.
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s %q = %v, want nil", bin, args, err)
	}
	p.proc = cmd.Process
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		// The whole group: the process and any child it started, by the
		// group id, which is the process's id.
		if err := syscall.Kill(-p.proc.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Errorf("kill -KILL -%d (%s) = %v, want nil", p.proc.Pid, p.Name, err)
		}
		if !p.waitExit(StopTimeout) {
			t.Errorf("%s %q (pid %d) still running %v after SIGKILL", p.Name, args, p.proc.Pid, StopTimeout)
		}
	})
	return p
}

// StartServer starts one of the project's servers, bin, with "--port 0"
// and args, and returns once its first stdout line, "NAME: listening on
// ADDR ...", gave an address on 127.0.0.1; [Process.Addr] returns it.
func StartServer(t testing.TB, bin string, args ...string) *Server {
	t.Helper()
	p := Start(t, bin, append([]string{"--port", "0"}, args...)...)
	prefix := p.Name + ": listening on "
	line := p.WaitStdout(t, prefix)
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, prefix), " ")
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("%s %q startup line = %q, want an address on 127.0.0.1", p.Name, p.Args, line)
	}
	return &Server{Process: p, Addr: addr}
}

// Server is a started server and the address it listens on.
type Server struct {
	*Process
	// Addr is the address from the server's startup line, "127.0.0.1:PORT".
	Addr string
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.proc.Pid }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stdout returns what the process wrote on stdout so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr returns what the process wrote on stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// WaitStdout waits, for at most [StartTimeout], until the process's stdout
// holds a complete line that contains substr, and returns the first such
// line without its newline. It fails the test if the process exits first or
// the time runs out.
func (p *Process) WaitStdout(t testing.TB, substr string) string {
	t.Helper()
	return p.waitLine(t, p.stdout, substr)
}

// WaitStderr is [Process.WaitStdout] for stderr.
func (p *Process) WaitStderr(t testing.TB, substr string) string {
	t.Helper()
	return p.waitLine(t, p.stderr, substr)
}

// StderrLine is [Process.WaitStderr] that returns an error instead of
// failing the test, for a caller that can try again (a port taken).
func (p *Process) StderrLine(substr string) (string, error) {
	return p.line(p.stderr, substr)
}

func (p *Process) waitLine(t testing.TB, o *Output, substr string) string {
	t.Helper()
	line, err := p.line(o, substr)
	if err != nil {
		t.Fatalf("%v; stdout:\n%s\nstderr:\n%s", err, p.Stdout(), p.Stderr())
	}
	return line
}

// line waits, for at most StartTimeout, for a complete line of o that
// contains substr.
func (p *Process) line(o *Output, substr string) (string, error) {
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	for {
		// Wait returns only after the output was copied: a snapshot taken
		// after the exit holds all of it.
		exited := !p.Running()
		text, changed := o.snapshot()
		for line := range strings.Lines(text) {
			if strings.HasSuffix(line, "\n") && strings.Contains(line, substr) {
				return strings.TrimSuffix(line, "\n"), nil
			}
		}
		if exited {
			return "", fmt.Errorf("%s %q (pid %d) = %v before printing %q, want it running", p.Name, p.Args, p.proc.Pid, p.waitErr, substr)
		}
		select {
		case <-changed:
		case <-p.exited:
		case <-timer.C:
			return "", fmt.Errorf("%s %q (pid %d) printed no line with %q within %v", p.Name, p.Args, p.proc.Pid, substr, StartTimeout)
		}
	}
}

// Stop sends the process sig, waits for it to exit for at most
// [StopTimeout], and returns what Wait returned (nil for exit status 0).
func (p *Process) Stop(t testing.TB, sig syscall.Signal) error {
	t.Helper()
	if err := p.proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill -%d %d (%s) = %v, want nil", sig, p.proc.Pid, p.Name, err)
	}
	if !p.waitExit(StopTimeout) {
		t.Fatalf("%s (pid %d) still running %v after signal %v, want it stopped", p.Name, p.proc.Pid, StopTimeout, sig)
	}
	return p.waitErr
}

// waitExit waits for the process to exit, for at most d.
func (p *Process) waitExit(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.exited:
		return true
	case <-timer.C:
		return false
	}
}

// Output collects a process's output and tells waiters when it grows.
type Output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at every write
}

func newOutput() *Output { return &Output{changed: make(chan struct{})} }

// Write appends p and wakes every waiter.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

// String returns everything written so far.
func (o *Output) String() string {
	s, _ := o.snapshot()
	return s
}

// snapshot returns everything written so far and a channel closed at the
// next write.
func (o *Output) snapshot() (string, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String(), o.changed
}

// Result is what a command run to its end by [Run] did.
type Result struct {
	Stdout, Stderr string
	// Code is the exit status.
	Code int
}

// Run runs bin with args to its end, for at most timeout, and returns what
// it printed and its exit status. It fails the test if the command cannot
// start, is killed, or runs out of time (then only it is killed).
func Run(t testing.TB, timeout time.Duration, bin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || ctx.Err() != nil) {
		t.Fatalf("%s %q = %v (context: %v), want it to run to its end", bin, args, err, ctx.Err())
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
}
