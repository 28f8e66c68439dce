//go:build !unix

package browsertest

import (
	"errors"
	"os"
	"os/exec"
)

// startProcessGroup does nothing where there are no process groups.
func startProcessGroup(*exec.Cmd) {}

// killProcessGroup kills cmd's process; its helpers are left to exit when
// the browser is gone.
func killProcessGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	err := cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}
