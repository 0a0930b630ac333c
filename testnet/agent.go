package testnet

import (
	"syscall"
	"time"
)

// Agent is a running zos-agent process (`zos-agent run` with Args).
type Agent struct {
	process
	Bin     string
	Args    []string
	Metrics string // host:port of /metrics and /healthz
}

// NewAgent prepares an agent (not started); args are the run command's flags.
func NewAgent(bin, metrics, logPath string, args ...string) *Agent {
	return &Agent{process: process{name: "zos-agent", LogPath: logPath}, Bin: bin, Metrics: metrics, Args: args}
}

// Start runs the agent and waits until /healthz answers 200 (registered, chain followed, relay
// connected).
func (a *Agent) Start() error {
	if err := a.launch(a.Bin, nil, append([]string{"run", "--metrics-addr", a.Metrics}, a.Args...)...); err != nil {
		return err
	}
	return a.waitReady(60*time.Second, func() bool { return healthy("http://" + a.Metrics + "/healthz") })
}

// Stop sends SIGTERM (the agent finishes its current job; workloads keep running) and waits,
// killing it after 30 s.
func (a *Agent) Stop() { a.signal(syscall.SIGTERM, 30*time.Second) }

// Kill stops the agent with SIGKILL, as a crash would.
func (a *Agent) Kill() { a.signal(syscall.SIGKILL, 10*time.Second) }

// Restart stops the agent (SIGTERM) and starts it again with the same arguments.
func (a *Agent) Restart() error {
	a.Stop()
	return a.Start()
}
