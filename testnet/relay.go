package testnet

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Relay is a running rmb-relay process.
type Relay struct {
	Bin     string
	Args    []string
	Listen  string // 127.0.0.1:N
	URL     string // ws://127.0.0.1:N
	LogPath string

	cmd    *exec.Cmd
	exited chan struct{}
}

// NewRelay prepares a relay on listen (127.0.0.1:N) with extra args (not started).
func NewRelay(bin, listen, logPath string, args ...string) *Relay {
	return &Relay{Bin: bin, Listen: listen, URL: "ws://" + listen, LogPath: logPath, Args: args}
}

// Launch runs the relay process without waiting for it to be healthy.
func (r *Relay) Launch() error {
	logf, err := os.OpenFile(r.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	r.cmd = exec.Command(r.Bin, append([]string{"--listen", r.Listen}, r.Args...)...)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start rmb-relay: %w", err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { _ = cmd.Wait(); close(ch) }(r.cmd, r.exited)
	return nil
}

// Start runs the relay and waits until /healthz answers 200.
func (r *Relay) Start() error {
	if err := r.Launch(); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + r.Listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.exited:
			return fmt.Errorf("rmb-relay exited at start-up; log:\n%s", tailFile(r.LogPath, 30))
		default:
		}
		if time.Now().After(deadline) {
			r.Kill()
			return fmt.Errorf("rmb-relay not healthy after 30 s; log:\n%s", tailFile(r.LogPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PID of the running process (0 when not running).
func (r *Relay) PID() int {
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Stop sends SIGTERM (graceful shutdown) and waits up to 30 s, then kills.
func (r *Relay) Stop() error {
	if r.cmd == nil {
		return nil
	}
	select {
	case <-r.exited:
		return nil
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		r.Kill()
		return fmt.Errorf("rmb-relay (pid %d) ignored SIGTERM for 30 s", r.PID())
	}
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("rmb-relay exited with %d after SIGTERM; log:\n%s", code, tailFile(r.LogPath, 20))
	}
	return nil
}

// Kill sends SIGKILL (a crash) and waits.
func (r *Relay) Kill() {
	if r.cmd == nil {
		return
	}
	select {
	case <-r.exited:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
}

// LogTail returns the last n lines of the relay's log.
func (r *Relay) LogTail(n int) string { return tailFile(r.LogPath, n) }
