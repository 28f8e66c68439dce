package proctest

import "syscall"

// sysProcAttr puts the process in a group of its own and has the kernel
// kill it when the test binary's thread that started it ends, so that a
// test binary that crashes or times out leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
