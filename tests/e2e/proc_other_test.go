//go:build !linux

package e2e

import "os/exec"

// setPdeathsig is Linux-only; elsewhere the test's cleanup stops the node.
func setPdeathsig(*exec.Cmd) {}
