package testnet

import (
	"fmt"
	"net/http"
	"syscall"
	"time"
)

// Relay is a running rmb-relay process.
type Relay struct {
	process
	Bin    string
	Args   []string
	Listen string // 127.0.0.1:N
	URL    string // ws://127.0.0.1:N
}

// NewRelay prepares a relay on listen (127.0.0.1:N) with extra args (not started).
func NewRelay(bin, listen, logPath string, args ...string) *Relay {
	return &Relay{process: process{name: "rmb-relay", LogPath: logPath}, Bin: bin, Listen: listen, URL: "ws://" + listen, Args: args}
}

// Launch runs the relay process without waiting for it to be healthy.
func (r *Relay) Launch() error {
	return r.launch(r.Bin, nil, append([]string{"--listen", r.Listen}, r.Args...)...)
}

// Start runs the relay and waits until /healthz answers 200.
func (r *Relay) Start() error {
	if err := r.Launch(); err != nil {
		return err
	}
	return r.waitReady(30*time.Second, func() bool { return healthy("http://" + r.Listen + "/healthz") })
}

// Stop sends SIGTERM (graceful shutdown) and waits up to 30 s, then kills.
func (r *Relay) Stop() error {
	if r.cmd == nil {
		return nil
	}
	if !r.signal(syscall.SIGTERM, 30*time.Second) {
		return fmt.Errorf("rmb-relay (pid %d) ignored SIGTERM for 30 s", r.PID())
	}
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("rmb-relay exited with %d after SIGTERM; log:\n%s", code, r.LogTail(20))
	}
	return nil
}

// Kill sends SIGKILL (a crash) and waits.
func (r *Relay) Kill() { r.signal(syscall.SIGKILL, 10*time.Second) }

// healthy tells whether url answers 200.
func healthy(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
