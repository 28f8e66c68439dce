//go:build unix

package browsertest

import (
	"errors"
	"os/exec"
	"syscall"
)

// startProcessGroup makes cmd the leader of a new process group, which
// the helpers Chromium forks join.
func startProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills cmd's process group; a group already gone is not
// an error.
func killProcessGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
