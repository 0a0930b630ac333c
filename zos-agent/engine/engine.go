// Package engine runs accepted deployments: one worker over the persisted job queue turns
// workloads into backend calls (zmount/volume → disk, zmachine → image root + container, or a
// virtual machine when its image is a VM image), keeps
// each workload's state and change log in the store, and recovers after a restart without
// creating anything twice.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/backend/gateway"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// Backends are the system backends the engine drives.
type Backends struct {
	Containers *container.Driver
	Images     *image.Store
	Disks      *disk.Manager
	// Networks runs private networks; nil: machines get no network (the engine's unit tests).
	Networks *network.Manager
	// PublicIPs puts contract IPs on machines; nil: the node has no public network configured.
	PublicIPs *publicip.Manager
	// Gateway serves gateway-name-proxy workloads; nil: the node has no gateway configured.
	Gateway *gateway.Proxy
	// VMs runs machines whose image is a VM image; nil: such machines are refused.
	VMs vm.Backend
}

// Options configure an engine.
type Options struct {
	// Total is what the node offers (memory already less the system reserve).
	Total capacity.Resources
	// SystemReserve is the memory kept for the node itself.
	SystemReserve uint64
	// CPUOvercommit is how many times its CPUs the node lets workloads reserve (≥ 1).
	CPUOvercommit float64
	// MemAvailable reads the memory the machine really has free (default: /proc/meminfo).
	MemAvailable func() (uint64, error)
	Logger       *slog.Logger
}

// Engine owns the deployments of the node.
type Engine struct {
	store *store.Store
	b     Backends
	opts  Options
	log   *slog.Logger
	wake  chan struct{}
	// admit serialises admission with storing, so two deployments cannot both take the last
	// free memory.
	admit sync.Mutex
}

// New makes an engine over a store and backends. Run starts its worker.
func New(st *store.Store, b Backends, opts Options) *Engine {
	if opts.CPUOvercommit < 1 {
		opts.CPUOvercommit = 1
	}
	if opts.MemAvailable == nil {
		opts.MemAvailable = memAvailable
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Engine{store: st, b: b, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// supports says whether this node runs workloads of type t: machines and disks always, networks
// and public IPs with their backends.
func (e *Engine) supports(t string) bool {
	switch t {
	case deployment.TypeZMachine, deployment.TypeZMount, deployment.TypeVolume:
		return true
	case deployment.TypeNetwork:
		return e.b.Networks != nil
	case deployment.TypeIP:
		return e.b.PublicIPs != nil
	case deployment.TypeGatewayNameProxy:
		return e.b.Gateway != nil
	}
	return false
}

// UnsupportedTypes lists the known workload types this node refuses.
func (e *Engine) UnsupportedTypes() []string {
	var out []string
	for _, t := range deployment.KnownTypes() {
		if !e.supports(t) {
			out = append(out, t)
		}
	}
	return out
}

// ErrUnsupported: the node cannot run this workload type yet.
var ErrUnsupported = errors.New("workload type not supported by this node")

// Deploy admits a new deployment (types, images, capacity) and stores it with its workloads in
// init and a provision job, or refuses it and stores nothing. The caller has checked the document
// and the chain; grant is what the chain grants it: the contract's public IPs, which its ip
// workloads take, and the name contracts its gateways serve under.
func (e *Engine) Deploy(d deployment.Deployment, grant Grant) error {
	if d.Version != 0 {
		return fmt.Errorf("contract %d: version %d: a new deployment has version 0", d.ContractID, d.Version)
	}
	e.admit.Lock()
	defer e.admit.Unlock()
	if err := e.admissible(&d, nil); err != nil {
		return err
	}
	now := time.Now().Unix()
	for i := range d.Workloads {
		d.Workloads[i].Result = deployment.Result{Created: now, State: deployment.StateInit}
	}
	if err := e.assign(&d, nil, grant); err != nil {
		return err
	}
	err := e.store.Create(store.Record{Deployment: d}, store.Job{Op: store.OpProvision, Contract: d.ContractID})
	if err != nil {
		return err
	}
	e.poke()
	return nil
}

// Update admits the next version of a stored deployment and queues it; the update rules of the
// deployment package apply. Nothing changes on a refusal.
func (e *Engine) Update(next deployment.Deployment, grant Grant) error {
	e.admit.Lock()
	defer e.admit.Unlock()
	rec, err := e.store.Get(next.ContractID)
	if err != nil {
		return err
	}
	if !rec.Active() {
		return fmt.Errorf("contract %d: the deployment was deleted", next.ContractID)
	}
	if _, err := deployment.Update(&rec.Deployment, &next); err != nil {
		return fmt.Errorf("contract %d: %w", next.ContractID, err)
	}
	if err := e.admissible(&next, &rec.Deployment); err != nil {
		return err
	}
	if err := e.assign(&next, &rec.Deployment, grant); err != nil {
		return err
	}
	job := store.Job{Op: store.OpUpdate, Contract: next.ContractID, Target: &next}
	if err := e.store.Enqueue(job); err != nil {
		return err
	}
	e.poke()
	return nil
}

// assign gives new workloads what the chain granted: ip workloads a reserved IP, gateways their
// name contract.
func (e *Engine) assign(d, current *deployment.Deployment, grant Grant) error {
	if err := e.assignIPs(d, current, grant.IPs); err != nil {
		return err
	}
	return e.assignNames(d, current, grant.Names)
}

// Delete queues the teardown of a deployment; reason is shown in the workloads' results.
func (e *Engine) Delete(contract uint64, reason string) error {
	return e.enqueue(store.Job{Op: store.OpDelete, Contract: contract, Reason: reason})
}

// Pause queues freezing a deployment's machines (the contract's grace period).
func (e *Engine) Pause(contract uint64) error {
	return e.enqueue(store.Job{Op: store.OpPause, Contract: contract})
}

// Resume queues thawing a paused deployment.
func (e *Engine) Resume(contract uint64) error {
	return e.enqueue(store.Job{Op: store.OpResume, Contract: contract})
}

func (e *Engine) enqueue(job store.Job) error {
	if err := e.store.Enqueue(job); err != nil {
		return err
	}
	e.poke()
	return nil
}

// Get returns a stored deployment.
func (e *Engine) Get(contract uint64) (store.Record, error) { return e.store.Get(contract) }

// QueueDepth is the number of jobs waiting.
func (e *Engine) QueueDepth() int { return e.store.QueueDepth() }

// Run recovers every stored deployment (reattach; bring back what a reboot removed), then works
// the queue until ctx ends. A job that is running when ctx ends is finished first: shutting
// down never leaves a workload half made.
func (e *Engine) Run(ctx context.Context) error {
	e.recoverAll()
	for {
		job, ok, err := e.store.NextJob()
		if err != nil {
			return err
		}
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-e.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		e.process(job)
		if err := e.store.Done(job.ID); err != nil {
			return err
		}
	}
}

// process runs one job with a context of its own: a shutdown waits for it.
func (e *Engine) process(job store.Job) {
	ctx := context.Background()
	log := e.log.With("job", job.ID, "op", job.Op, "contract", job.Contract)
	var err error
	switch job.Op {
	case store.OpProvision:
		err = e.provision(ctx, job.Contract)
	case store.OpUpdate:
		err = e.update(ctx, job.Contract, job.Target)
	case store.OpDelete:
		err = e.teardown(ctx, job.Contract, job.Reason)
	case store.OpPause:
		err = e.pause(ctx, job.Contract, true)
	case store.OpResume:
		err = e.pause(ctx, job.Contract, false)
	case store.OpNameSuspend, store.OpNameRestore, store.OpNameRevoke:
		err = e.nameJob(job.Op, job.NameContract, job.Reason)
	default:
		err = fmt.Errorf("unknown job op %q", job.Op)
	}
	if errors.Is(err, store.ErrNotFound) {
		log.Info("job for a deployment this node does not have", "err", err)
		return
	}
	if err != nil {
		log.Error("job failed", "err", err)
		return
	}
	log.Info("job done")
}
