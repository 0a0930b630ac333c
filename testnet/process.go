package testnet

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child process of a test: its output appended to a log file, killed by the kernel
// if the test binary dies first (Pdeathsig), stopped by its PID.
type process struct {
	name    string // for messages: "tfgridd", "rmb-relay", "zos-agent"
	LogPath string

	cmd    *exec.Cmd
	exited chan struct{}
}

// launch starts bin with args (env nil: the test's environment).
func (p *process) launch(bin string, env []string, args ...string) error {
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { _ = cmd.Wait(); close(ch) }(p.cmd, p.exited)
	return nil
}

// waitReady polls ready until it holds, the process exits, or timeout passes.
func (p *process) waitReady(timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited during start-up; log:\n%s", p.name, p.LogTail(40))
		default:
		}
		if time.Now().After(deadline) {
			p.signal(syscall.SIGKILL, 10*time.Second)
			return fmt.Errorf("%s not ready after %s; log:\n%s", p.name, timeout, p.LogTail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// running tells whether the process was started and has not exited.
func (p *process) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig and waits up to wait for the process to exit, then kills it. It returns false
// when the process had to be killed.
func (p *process) signal(sig syscall.Signal, wait time.Duration) bool {
	if !p.running() {
		return true
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return true
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return false
	}
}

// PID of the process (0 when never started).
func (p *process) PID() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// LogTail returns the last n lines of the process's log.
func (p *process) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
