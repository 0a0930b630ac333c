package e2e

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill cmd if the test binary dies first (no orphaned nodes).
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
