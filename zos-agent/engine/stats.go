package engine

import (
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// holds reports whether a workload in this state holds its capacity.
func holds(s deployment.ResultState) bool {
	return s == deployment.StateInit || s == deployment.StateOk || s == deployment.StatePaused || s == deployment.StateUnchanged
}

// allocation is what a deployment's workloads in the given states hold.
func allocation(d deployment.Deployment, counts func(deployment.ResultState) bool) (deployment.Capacity, error) {
	held := deployment.Deployment{ContractID: d.ContractID}
	for _, w := range d.Workloads {
		if counts(w.Result.State) {
			held.Workloads = append(held.Workloads, w)
		}
	}
	return held.Capacity()
}

// used sums what every deployment but except holds (queued ones included).
func (e *Engine) used(except uint64) (deployment.Capacity, error) {
	recs, err := e.store.List()
	if err != nil {
		return deployment.Capacity{}, err
	}
	var total deployment.Capacity
	for _, rec := range recs {
		if rec.Deployment.ContractID == except {
			continue
		}
		c, err := allocation(rec.Deployment, holds)
		if err != nil {
			return deployment.Capacity{}, err
		}
		total = add(total, c)
	}
	return total, nil
}

func add(a, b deployment.Capacity) deployment.Capacity {
	return deployment.Capacity{CRU: a.CRU + b.CRU, MRU: a.MRU + b.MRU, SRU: a.SRU + b.SRU, HRU: a.HRU + b.HRU, IPv4: a.IPv4 + b.IPv4}
}

func running(s deployment.ResultState) bool {
	return s == deployment.StateOk || s == deployment.StatePaused
}

// Allocations is what each deployment's running (ok or paused) workloads hold, by contract: what
// the consumption reports bill.
func (e *Engine) Allocations() (map[uint64]deployment.Capacity, error) {
	recs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	out := map[uint64]deployment.Capacity{}
	for _, rec := range recs {
		if !rec.Active() {
			continue
		}
		c, err := allocation(rec.Deployment, running)
		if err != nil {
			return nil, err
		}
		out[rec.Deployment.ContractID] = c
	}
	return out, nil
}

// Active lists the contracts of the deployments that still hold something.
func (e *Engine) Active() (map[uint64]store.Record, error) {
	recs, err := e.store.List()
	if err != nil {
		return nil, err
	}
	out := map[uint64]store.Record{}
	for _, rec := range recs {
		if rec.Active() {
			out[rec.Deployment.ContractID] = rec
		}
	}
	return out, nil
}

// Statistics is what zos.statistics.get returns.
type Statistics struct {
	// Total is what the node offers (memory after the system reserve).
	Total deployment.Capacity `json:"total"`
	// Used is what workloads hold plus the system reserve.
	Used   deployment.Capacity `json:"used"`
	System deployment.Capacity `json:"system"`
	Users  Users               `json:"users"`
	// Workloads counts the workloads of the node by state.
	Workloads map[deployment.ResultState]int `json:"workloads"`
	// UnsupportedTypes are the workload types this node refuses.
	UnsupportedTypes []string `json:"unsupported_types"`
}

// Users counts the deployments that hold something.
type Users struct {
	Deployments             int   `json:"deployments"`
	Workloads               int   `json:"workloads"`
	LastDeploymentTimestamp int64 `json:"last_deployment_timestamp"`
}

// Statistics counts capacity and deployments.
func (e *Engine) Statistics() (Statistics, error) {
	recs, err := e.store.List()
	if err != nil {
		return Statistics{}, err
	}
	system := deployment.Capacity{MRU: e.opts.SystemReserve}
	st := Statistics{
		Total:            deployment.Capacity{CRU: e.opts.Total.CRU, MRU: e.opts.Total.MRU, SRU: e.opts.Total.SRU, HRU: e.opts.Total.HRU},
		System:           system,
		Used:             system,
		Workloads:        map[deployment.ResultState]int{},
		UnsupportedTypes: e.UnsupportedTypes(),
	}
	for _, rec := range recs {
		c, err := allocation(rec.Deployment, running)
		if err != nil {
			return Statistics{}, err
		}
		st.Used = add(st.Used, c)
		for _, w := range rec.Deployment.Workloads {
			st.Workloads[w.Result.State]++
			if holds(w.Result.State) {
				st.Users.Workloads++
			}
		}
		if rec.Active() {
			st.Users.Deployments++
			for _, w := range rec.Deployment.Workloads {
				st.Users.LastDeploymentTimestamp = max(st.Users.LastDeploymentTimestamp, w.Result.Created)
			}
		}
	}
	return st, nil
}
