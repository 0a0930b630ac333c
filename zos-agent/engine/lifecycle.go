package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

func result(state deployment.ResultState, message string, data json.RawMessage) deployment.Result {
	return deployment.Result{Created: time.Now().Unix(), State: state, Message: message, Data: data}
}

// setResult stores one workload's new result (and its system object, when given).
func (e *Engine) setResult(contract uint64, name string, r deployment.Result, object any) error {
	return e.store.Update(contract, nil, func(rec *store.Record) error {
		for i := range rec.Deployment.Workloads {
			if rec.Deployment.Workloads[i].Name == name {
				rec.Deployment.Workloads[i].Result = r
			}
		}
		if object != nil {
			if rec.Objects == nil {
				rec.Objects = map[string]json.RawMessage{}
			}
			rec.Objects[name] = marshal(object)
		}
		return nil
	})
}

// provision brings up every workload still in init, disks first. A workload that fails is in
// error with the reason; the others go on.
func (e *Engine) provision(ctx context.Context, contract uint64) error {
	rec, err := e.store.Get(contract)
	if err != nil {
		return err
	}
	for _, w := range startOrder(rec.Deployment.Workloads) {
		if w.Result.State != deployment.StateInit {
			continue
		}
		if err := e.install(ctx, &rec.Deployment, w); err != nil {
			return err
		}
	}
	return nil
}

// install provisions one workload and records the outcome; only a store failure is returned.
func (e *Engine) install(ctx context.Context, d *deployment.Deployment, w deployment.Workload) error {
	contract := d.ContractID
	data, object, err := e.provisionWorkload(ctx, d, w)
	if err != nil {
		e.log.Warn("workload failed", "contract", contract, "workload", w.Name, "err", err)
		return e.setResult(contract, w.Name, result(deployment.StateError, err.Error(), nil), nil)
	}
	return e.setResult(contract, w.Name, result(deployment.StateOk, "", marshal(data)), object)
}

// teardown removes every workload that is not yet deleted, machines first, each ending deleted
// with reason (or error when the system refused to let go).
func (e *Engine) teardown(ctx context.Context, contract uint64, reason string) error {
	rec, err := e.store.Get(contract)
	if err != nil {
		return err
	}
	ws := startOrder(rec.Deployment.Workloads)
	slices.Reverse(ws)
	for _, w := range ws {
		if w.Result.State == deployment.StateDeleted {
			continue
		}
		r := result(deployment.StateDeleted, reason, w.Result.Data)
		if err := e.removeWorkload(ctx, &rec.Deployment, w); err != nil {
			e.log.Error("workload teardown failed", "contract", contract, "workload", w.Name, "err", err)
			r = result(deployment.StateError, fmt.Sprintf("delete (%s) failed: %v", reason, err), w.Result.Data)
		}
		if err := e.setResult(contract, w.Name, r, nil); err != nil {
			return err
		}
	}
	return nil
}

// pause freezes (or thaws) the deployment's machines and flips ok ↔ paused on all its workloads.
func (e *Engine) pause(ctx context.Context, contract uint64, pause bool) error {
	rec, err := e.store.Get(contract)
	if err != nil {
		return err
	}
	from, to := deployment.StateOk, deployment.StatePaused
	if !pause {
		from, to = to, from
	}
	for _, w := range rec.Deployment.Workloads {
		if w.Result.State != from || PausedForName(rec, w.Name) {
			continue // a gateway paused for its name contract waits for that contract
		}
		r := result(to, "", w.Result.Data)
		var object any
		switch w.Type {
		case deployment.TypeGatewayNameProxy:
			if pause {
				e.unroute(WorkloadID(contract, w.Name), false)
			} else if _, o, err := e.ensureGateway(rec.Deployment.TwinID, WorkloadID(contract, w.Name), w); err != nil {
				r = result(from, fmt.Sprintf("%s failed: %v", to, err), w.Result.Data)
			} else {
				object = o
			}
		default:
			if err := e.freeze(ctx, w, WorkloadID(contract, w.Name), pause); err != nil {
				r = result(from, fmt.Sprintf("%s failed: %v", to, err), w.Result.Data)
			}
		}
		if err := e.setResult(contract, w.Name, r, object); err != nil {
			return err
		}
	}
	return nil
}

// freeze pauses (or resumes) what workload w runs: a machine stops (QMP stop for a virtual
// machine, the cgroup freezer for a container), a public IP's link is cut so the IP answers
// nothing, not even the TCP handshakes a frozen container's kernel would complete.
func (e *Engine) freeze(ctx context.Context, w deployment.Workload, id string, pause bool) error {
	switch {
	case w.Type == deployment.TypeIP && e.b.PublicIPs != nil && pause:
		return e.b.PublicIPs.Cut(id)
	case w.Type == deployment.TypeIP && e.b.PublicIPs != nil:
		return e.b.PublicIPs.Restore(id)
	case w.Type != deployment.TypeZMachine:
		return nil
	case e.isVM(ctx, id) && pause:
		return e.b.VMs.Pause(ctx, id)
	case e.isVM(ctx, id):
		return e.b.VMs.Resume(ctx, id)
	case pause:
		return e.b.Containers.Pause(ctx, id)
	}
	return e.b.Containers.Resume(ctx, id)
}

// isVM reports whether machine id runs as a virtual machine.
func (e *Engine) isVM(ctx context.Context, id string) bool {
	if e.b.VMs == nil {
		return false
	}
	_, err := e.b.VMs.State(ctx, id)
	return err == nil
}

// machinePaused reports whether machine id is paused now.
func (e *Engine) machinePaused(ctx context.Context, id string) (bool, error) {
	if e.isVM(ctx, id) {
		st, err := e.b.VMs.State(ctx, id)
		return st.Status == vm.StatusPaused, err
	}
	st, err := e.b.Containers.State(ctx, id)
	return st.Status == container.StatusPaused, err
}

// update applies the next version: removals first, then additions, then disks that grow (their
// machines stopped, the disk grown offline, the machines started again). A grow that fails leaves
// the old disk in use and the workload unchanged, with the reason.
func (e *Engine) update(ctx context.Context, contract uint64, next *deployment.Deployment) error {
	if next == nil {
		return fmt.Errorf("contract %d: update job without a target", contract)
	}
	rec, err := e.store.Get(contract)
	if err != nil {
		return err
	}
	changes, err := deployment.Update(&rec.Deployment, next)
	if err != nil {
		return fmt.Errorf("contract %d: %w", contract, err)
	}
	current := map[string]deployment.Workload{}
	for _, w := range rec.Deployment.Workloads {
		current[w.Name] = w
	}
	for _, c := range changes {
		if c.Op == deployment.OpRemove {
			w := current[c.Name]
			r := result(deployment.StateDeleted, "deleted by an update", w.Result.Data)
			if err := e.removeWorkload(ctx, &rec.Deployment, w); err != nil {
				r = result(deployment.StateError, "delete by an update failed: "+err.Error(), w.Result.Data)
			}
			if err := e.setResult(contract, c.Name, r, nil); err != nil {
				return err
			}
		}
	}
	// The new version: kept workloads keep their results, added ones start in init.
	err = e.store.Update(contract, nil, func(r *store.Record) error {
		nd := *next
		nd.Workloads = slices.Clone(next.Workloads)
		for i, w := range nd.Workloads {
			if old, ok := current[w.Name]; ok {
				nd.Workloads[i].Result = old.Result
			} else {
				nd.Workloads[i].Result = result(deployment.StateInit, "", w.Result.Data) // an ip's assignment
			}
		}
		for _, c := range changes {
			if c.Op == deployment.OpRemove {
				delete(r.Objects, c.Name)
			}
		}
		r.Deployment = nd
		return nil
	})
	if err != nil {
		return err
	}
	if err := e.provision(ctx, contract); err != nil {
		return err
	}
	for _, c := range changes {
		if c.Op == deployment.OpUpdate && isDisk(c.Type) {
			if err := e.growDisk(ctx, contract, c.Name); err != nil {
				return err
			}
		}
		if c.Op == deployment.OpUpdate && c.Type == deployment.TypeNetwork {
			if err := e.updateNetwork(contract, c.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// growDisk grows a disk to its new size: this kernel cannot resize a mounted ext4, so the
// machines mounting it stop first and start again after.
func (e *Engine) growDisk(ctx context.Context, contract uint64, name string) error {
	rec, err := e.store.Get(contract)
	if err != nil {
		return err
	}
	var target deployment.Workload
	var users []deployment.Workload
	for _, w := range rec.Deployment.Workloads {
		if w.Name == name {
			target = w
		}
		if w.Type == deployment.TypeZMachine && w.Result.State == deployment.StateOk && mounts(w, name) {
			users = append(users, w)
		}
	}
	size, err := diskSizeOf(target)
	if err != nil {
		return err
	}
	id := WorkloadID(contract, name)
	for _, m := range users {
		if err := e.haltMachine(ctx, WorkloadID(contract, m.Name)); err != nil {
			return e.setResult(contract, name, result(deployment.StateUnchanged, "stop machine "+m.Name+": "+err.Error(), target.Result.Data), nil)
		}
	}
	r := result(deployment.StateOk, "", target.Result.Data)
	d, growErr := e.b.Disks.Grow(ctx, id, size)
	if growErr != nil {
		r = result(deployment.StateUnchanged, "grow: "+growErr.Error(), target.Result.Data)
	}
	var object any
	if growErr == nil {
		object = d
	}
	if err := e.setResult(contract, name, r, object); err != nil {
		return err
	}
	for _, m := range users {
		rec, err := e.ensureMachine(ctx, &rec.Deployment, m)
		r := result(deployment.StateOk, "", m.Result.Data)
		if err != nil {
			r = result(deployment.StateError, "restart after growing "+name+": "+err.Error(), m.Result.Data)
		}
		var object any
		if err == nil {
			object = rec
		}
		if err := e.setResult(contract, m.Name, r, object); err != nil {
			return err
		}
	}
	return nil
}

// updateNetwork applies a network workload's new version (its peers) to the running network.
func (e *Engine) updateNetwork(contract uint64, name string) error {
	rec, err := e.store.Get(contract)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(rec.Deployment.Workloads, func(w deployment.Workload) bool { return w.Name == name })
	if i < 0 {
		return fmt.Errorf("contract %d: network %q is not in the deployment", contract, name)
	}
	w := rec.Deployment.Workloads[i]
	r := result(deployment.StateOk, "", w.Result.Data)
	info, err := e.ensureNetwork(rec.Deployment.TwinID, WorkloadID(contract, name), w)
	var object any = info
	if err != nil {
		r, object = result(deployment.StateUnchanged, "update: "+err.Error(), w.Result.Data), nil
	}
	return e.setResult(contract, name, r, object)
}

func mounts(machine deployment.Workload, disk string) bool {
	data, err := machine.DecodeData()
	if err != nil {
		return false
	}
	m, ok := data.(*deployment.ZMachine)
	return ok && slices.ContainsFunc(m.Mounts, func(mm deployment.MachineMount) bool { return mm.Name == disk })
}

// recoverAll runs at start: every ok or paused workload is reattached (disks mounted again,
// containers found by runc state) and what a reboot removed is brought back, paused ones paused
// again. Nothing that still runs is started twice.
func (e *Engine) recoverAll() {
	ctx := context.Background()
	recs, err := e.store.List()
	if err != nil {
		e.log.Error("recover: list deployments", "err", err)
		return
	}
	for _, rec := range recs {
		contract := rec.Deployment.ContractID
		for _, w := range startOrder(rec.Deployment.Workloads) {
			state := w.Result.State
			if state != deployment.StateOk && state != deployment.StatePaused && state != deployment.StateUnchanged {
				continue
			}
			if err := e.reattach(ctx, &rec.Deployment, w); err != nil {
				e.log.Error("recover workload", "contract", contract, "workload", w.Name, "err", err)
				if err := e.setResult(contract, w.Name, result(deployment.StateError, "recover after restart: "+err.Error(), w.Result.Data), nil); err != nil {
					e.log.Error("recover: store", "err", err)
				}
			}
		}
	}
	e.log.Info("recovered deployments", "count", len(recs))
}

func (e *Engine) reattach(ctx context.Context, d *deployment.Deployment, w deployment.Workload) error {
	contract := d.ContractID
	if w.Type == deployment.TypeGatewayNameProxy && w.Result.State == deployment.StatePaused {
		return nil // a paused gateway serves nothing: its route comes with the resume
	}
	if _, _, err := e.provisionWorkload(ctx, d, w); err != nil {
		return err
	}
	id := WorkloadID(contract, w.Name)
	paused := w.Result.State == deployment.StatePaused
	switch w.Type {
	case deployment.TypeIP:
		// a public link made again after a reboot is up: cut it again
		return e.freeze(ctx, w, id, paused)
	case deployment.TypeZMachine:
		now, err := e.machinePaused(ctx, id)
		if err != nil {
			return err
		}
		if paused != now {
			return e.freeze(ctx, w, id, paused)
		}
	}
	return nil
}
