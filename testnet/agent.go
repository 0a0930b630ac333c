package testnet

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Agent is a running zos-agent process (`zos-agent run` with Args).
type Agent struct {
	Bin     string
	Args    []string
	Metrics string // host:port of /metrics and /healthz
	LogPath string

	cmd    *exec.Cmd
	exited chan struct{}
}

// NewAgent prepares an agent (not started); args are the run command's flags.
func NewAgent(bin, metrics, logPath string, args ...string) *Agent {
	return &Agent{Bin: bin, Metrics: metrics, LogPath: logPath, Args: args}
}

// Start runs the agent and waits until /healthz answers 200 (registered, chain followed, relay
// connected).
func (a *Agent) Start() error {
	logf, err := os.OpenFile(a.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	a.cmd = exec.Command(a.Bin, append([]string{"run", "--metrics-addr", a.Metrics}, a.Args...)...)
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		return fmt.Errorf("start zos-agent: %w", err)
	}
	a.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { _ = cmd.Wait(); close(ch) }(a.cmd, a.exited)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + a.Metrics + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-a.exited:
			return fmt.Errorf("zos-agent exited: %s", tailFile(a.LogPath, 20))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("zos-agent not healthy after 60 s: %s", tailFile(a.LogPath, 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop sends SIGTERM (the agent finishes its current job; workloads keep running) and waits,
// killing it after 30 s.
func (a *Agent) Stop() {
	a.signal(syscall.SIGTERM, 30*time.Second)
}

// Kill stops the agent with SIGKILL, as a crash would.
func (a *Agent) Kill() {
	a.signal(syscall.SIGKILL, 10*time.Second)
}

func (a *Agent) signal(sig syscall.Signal, wait time.Duration) {
	if a.cmd == nil {
		return
	}
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Signal(sig)
	select {
	case <-a.exited:
	case <-time.After(wait):
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}

// Restart stops the agent (SIGTERM) and starts it again with the same arguments.
func (a *Agent) Restart() error {
	a.Stop()
	return a.Start()
}

// LogTail returns the last n lines of the agent's log.
func (a *Agent) LogTail(n int) string { return tailFile(a.LogPath, n) }
