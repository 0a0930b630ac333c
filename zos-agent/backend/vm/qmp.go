package vm

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

// qmpTimeout bounds one QMP exchange: QEMU serves one monitor client at a time, and a second
// client would otherwise wait for the banner forever.
const qmpTimeout = 5 * time.Second

// qmpRun connects to the QMP socket, runs one command and disconnects; it returns the command's
// "return" value.
func qmpRun(socket, command string) (json.RawMessage, error) {
	mon, err := qmp.NewSocketMonitor("unix", socket, qmpTimeout)
	if err != nil {
		return nil, fmt.Errorf("QMP %s: %w", socket, err)
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		if err := mon.Connect(); err != nil {
			done <- result{err: err}
			return
		}
		out, err := mon.Run([]byte(fmt.Sprintf(`{"execute":%q}`, command)))
		done <- result{out: out, err: err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(qmpTimeout):
		res.err = fmt.Errorf("no answer in %s", qmpTimeout)
	}
	_ = mon.Disconnect()
	if res.err != nil {
		return nil, fmt.Errorf("QMP %s on %s: %w", command, socket, res.err)
	}
	var reply struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(res.out, &reply); err != nil {
		return nil, fmt.Errorf("QMP %s on %s: %w", command, socket, err)
	}
	return reply.Return, nil
}

// qmpStatus asks QEMU whether the guest runs: "running", "paused", "shutdown", ...
func qmpStatus(socket string) (string, error) {
	out, err := qmpRun(socket, "query-status")
	if err != nil {
		return "", err
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return "", fmt.Errorf("QMP query-status on %s: %w", socket, err)
	}
	return st.Status, nil
}
