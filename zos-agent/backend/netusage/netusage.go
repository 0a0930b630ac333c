// Package netusage measures the bytes through workloads' public interfaces (the host-side veth
// counters, read through netlink) and through the gateway for the consumption reports' nru,
// surviving counter resets.
package netusage

import (
	"fmt"
	"maps"
	"sync"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// Counters are a link's cumulative byte counters.
type Counters struct {
	RxBytes uint64 `json:"rx_bytes"`
	TxBytes uint64 `json:"tx_bytes"`
}

// Increase is the traffic (received plus sent) between two readings of one link. A counter
// below its previous value was reset (the link was recreated, the node rebooted): everything it
// counts now is new traffic.
func Increase(previous, current Counters) uint64 {
	return increase(previous.RxBytes, current.RxBytes) + increase(previous.TxBytes, current.TxBytes)
}

func increase(previous, current uint64) uint64 {
	if current < previous {
		return current
	}
	return current - previous
}

// Read returns the counters of link in the network namespace at ns ("" is the agent's own).
func Read(ns, link string) (Counters, error) {
	h, err := netnsutil.Handle(ns)
	if err != nil {
		return Counters{}, err
	}
	defer h.Close()
	l, err := h.LinkByName(link)
	if err != nil {
		return Counters{}, fmt.Errorf("link %s: %w", link, err)
	}
	s := l.Attrs().Statistics
	if s == nil {
		return Counters{}, fmt.Errorf("link %s: the kernel reported no statistics", link)
	}
	return Counters{RxBytes: s.RxBytes, TxBytes: s.TxBytes}, nil
}

// Meter remembers the last reading per workload so each Sample returns the traffic since the
// previous one. The caller persists Last and passes it to NewMeter after a restart.
type Meter struct {
	ns   string
	mu   sync.Mutex
	last map[string]Counters
}

// NewMeter reads links in the namespace at ns, continuing from last (nil for none).
func NewMeter(ns string, last map[string]Counters) *Meter {
	m := &Meter{ns: ns, last: maps.Clone(last)}
	if m.last == nil {
		m.last = map[string]Counters{}
	}
	return m
}

// Sample reads workload id's link and returns the bytes since its previous sample (all bytes
// the link counted, for a workload never sampled).
func (m *Meter) Sample(id, link string) (uint64, error) {
	current, err := Read(m.ns, link)
	if err != nil {
		return 0, fmt.Errorf("network usage of workload %s: %w", id, err)
	}
	return m.Observe(id, current), nil
}

// Observe takes a reading of workload id's counters from elsewhere (the gateway's per-route
// counts) and returns the bytes since its previous reading, as Sample does for a link.
func (m *Meter) Observe(id string, current Counters) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	delta := Increase(m.last[id], current)
	m.last[id] = current
	return delta
}

// Forget drops a deleted workload's last reading.
func (m *Meter) Forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.last, id)
}

// Last is a copy of the last readings, for the caller to persist.
func (m *Meter) Last() map[string]Counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.last)
}
