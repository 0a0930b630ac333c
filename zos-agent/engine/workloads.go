package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// machinePids bounds the processes of one machine.
const machinePids = 4096

// WorkloadID is the id a workload's system objects carry (as tfz-<id>): the contract and the
// workload name in lower case; a name with capitals gets a short hash of itself too, since
// workload names are case-sensitive and ids are not.
func WorkloadID(contract uint64, name string) string {
	id := fmt.Sprintf("%d-%s", contract, strings.ToLower(name))
	if strings.ToLower(name) != name {
		sum := sha256.Sum256([]byte(name))
		id += "." + hex.EncodeToString(sum[:3])
	}
	return id
}

func isDisk(t string) bool { return t == deployment.TypeZMount || t == deployment.TypeVolume }

// startOrder puts networks and disks before machines (machines join and mount them), and public
// IPs after them (an IP goes into its machine's namespace); teardown goes the other way.
func startOrder(ws []deployment.Workload) []deployment.Workload {
	out := slices.Clone(ws)
	slices.SortStableFunc(out, func(a, b deployment.Workload) int { return rank(a.Type) - rank(b.Type) })
	return out
}

func rank(t string) int {
	switch {
	case isDisk(t) || t == deployment.TypeNetwork:
		return 0
	case t == deployment.TypeIP || t == deployment.TypeGatewayNameProxy:
		return 2
	}
	return 1
}

// diskSizeOf is the size of a zmount or volume workload.
func diskSizeOf(w deployment.Workload) (uint64, error) {
	data, err := w.DecodeData()
	if err != nil {
		return 0, err
	}
	switch d := data.(type) {
	case *deployment.ZMount:
		return d.Size, nil
	case *deployment.Volume:
		return d.Size, nil
	}
	return 0, fmt.Errorf("workload %q is a %s, not a disk", w.Name, w.Type)
}

// ensureDisk creates the disk, or mounts it again when it exists (a job run again after a crash,
// a reboot): never a second one. A virtual machine's disk (forVM) that exists is left unmounted:
// the guest has its filesystem.
func (e *Engine) ensureDisk(ctx context.Context, id string, size uint64, forVM bool) (disk.Disk, error) {
	if d, err := e.b.Disks.Get(id); err == nil {
		if forVM {
			return d, nil
		}
		return e.b.Disks.Mount(ctx, id)
	} else if !errors.Is(err, disk.ErrNotFound) {
		return disk.Disk{}, err
	}
	return e.b.Disks.Create(ctx, id, size)
}

// machineSpec translates a zmachine into a container: the image's root as an overlay, the
// entrypoint (or the image's), env over the image's, cpu and memory limits, the disks it mounts.
func (e *Engine) machineSpec(contract uint64, id, netNS string, m *deployment.ZMachine) (container.Spec, error) {
	img, err := e.b.Images.Resolve(m.FList)
	if err != nil {
		return container.Spec{}, err
	}
	args, err := splitCommand(m.Entrypoint)
	if err != nil {
		return container.Spec{}, fmt.Errorf("entrypoint %q: %w", m.Entrypoint, err)
	}
	if len(args) == 0 {
		args = append(slices.Clone(img.Entrypoint), img.Cmd...)
	}
	if len(args) == 0 {
		return container.Spec{}, fmt.Errorf("flist %q has no entrypoint and the workload gives none", m.FList)
	}
	env := slices.Clone(img.Env)
	for _, k := range slices.Sorted(maps.Keys(m.Env)) {
		env = append(env, k+"="+m.Env[k])
	}
	spec := container.Spec{ID: id, Args: args, Env: env, WorkDir: img.WorkDir, CPU: uint64(m.ComputeCapacity.CPU),
		MemoryBytes: m.ComputeCapacity.Memory, Pids: machinePids, NetNS: netNS}
	for _, mount := range m.Mounts {
		d, err := e.b.Disks.Get(WorkloadID(contract, mount.Name))
		if err != nil {
			return container.Spec{}, fmt.Errorf("mount %q: %w", mount.Name, err)
		}
		spec.Mounts = append(spec.Mounts, container.Mount{Source: d.MountPoint, Destination: mount.Mountpoint})
	}
	rootfs, err := e.b.Images.MountRootfs(img, id)
	if err != nil {
		return container.Spec{}, err
	}
	spec.Rootfs = rootfs
	return spec, nil
}

// ensureMachine starts the machine, as a virtual machine when its image is a VM image, else as a
// container; the record is what the backend made.
func (e *Engine) ensureMachine(ctx context.Context, d *deployment.Deployment, w deployment.Workload) (any, error) {
	m, err := decode[*deployment.ZMachine](w)
	if err != nil {
		return nil, err
	}
	boot, isVM, err := e.vmBootOf(m)
	switch {
	case err != nil:
		return nil, err
	case isVM && e.b.VMs == nil:
		return nil, fmt.Errorf("flist %q is a virtual machine image: %w", m.FList, ErrUnsupported)
	case isVM:
		return e.ensureVM(ctx, d, w, m, boot)
	}
	return e.ensureContainer(ctx, d.TwinID, d.ContractID, w.Name, m)
}

// ensureContainer starts the machine's container unless it already runs (or is paused): a job run
// again, or an agent restart, reattaches instead of starting a second one.
func (e *Engine) ensureContainer(ctx context.Context, twin, contract uint64, name string, m *deployment.ZMachine) (container.Record, error) {
	id := WorkloadID(contract, name)
	st, err := e.b.Containers.State(ctx, id)
	switch {
	case err == nil && (st.Status == container.StatusRunning || st.Status == container.StatusPaused):
		return container.Record{ID: st.ID, Pid: st.Pid, Bundle: st.Bundle, CgroupsPath: e.b.Containers.CgroupsPath(id)}, nil
	case err == nil:
		// created or stopped: its process is gone; start it afresh.
		if err := e.b.Containers.Delete(ctx, id); err != nil {
			return container.Record{}, err
		}
	case !errors.Is(err, container.ErrNotFound):
		return container.Record{}, err
	}
	netNS, err := e.connectMachine(twin, contract, id, m)
	if err != nil {
		return container.Record{}, err
	}
	spec, err := e.machineSpec(contract, id, netNS, m)
	if err != nil {
		return container.Record{}, err
	}
	rec, err := e.b.Containers.Create(ctx, spec)
	if err != nil {
		return container.Record{}, errors.Join(err, e.b.Images.UnmountRootfs(id))
	}
	return rec, nil
}

// provisionWorkload brings one workload up and returns what its result data and stored object are.
func (e *Engine) provisionWorkload(ctx context.Context, d *deployment.Deployment, w deployment.Workload) (data, object any, err error) {
	contract := d.ContractID
	id := WorkloadID(contract, w.Name)
	switch w.Type {
	case deployment.TypeNetwork:
		info, err := e.ensureNetwork(d.TwinID, id, w)
		if err != nil {
			return nil, nil, err
		}
		return map[string]string{"public_key": info.PublicKey}, info, nil
	case deployment.TypeIP:
		rec, err := e.ensurePublicIP(d, contract, w)
		if err != nil {
			return nil, nil, err
		}
		return IPResult{IP: rec.IP.String(), Gateway: rec.Gateway.String()}, rec, nil
	case deployment.TypeGatewayNameProxy:
		return e.ensureGateway(d.TwinID, id, w)
	}
	if isDisk(w.Type) {
		size, err := diskSizeOf(w)
		if err != nil {
			return nil, nil, err
		}
		disk, err := e.ensureDisk(ctx, id, size, e.usedByVM(d, w.Name))
		if err != nil {
			return nil, nil, err
		}
		return map[string]string{"volume_id": id}, disk, nil
	}
	rec, err := e.ensureMachine(ctx, d, w)
	if err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": id}, rec, nil
}

// haltMachine ends machine id, a virtual machine or a container, keeping a container's root;
// ending what is gone is no error. It does not ask which kind the machine is: the image may be
// gone from the store.
func (e *Engine) haltMachine(ctx context.Context, id string) error {
	if e.b.VMs != nil {
		if err := e.b.VMs.Delete(ctx, id); err != nil {
			return err
		}
	}
	return e.b.Containers.Delete(ctx, id)
}

// stopMachine removes a machine (haltMachine) and a container's root.
func (e *Engine) stopMachine(ctx context.Context, id string) error {
	if err := e.haltMachine(ctx, id); err != nil {
		return err
	}
	return e.b.Images.UnmountRootfs(id)
}

// removeWorkload frees everything the workload holds on the machine.
func (e *Engine) removeWorkload(ctx context.Context, d *deployment.Deployment, w deployment.Workload) error {
	id := WorkloadID(d.ContractID, w.Name)
	switch w.Type {
	case deployment.TypeNetwork:
		if e.b.Networks == nil {
			return nil // never created: the node runs no networks
		}
		return e.b.Networks.Release(id, uint32(d.TwinID), w.Name)
	case deployment.TypeIP:
		if e.b.PublicIPs == nil {
			return nil // never created: the node has no public network
		}
		return e.b.PublicIPs.Delete(id)
	case deployment.TypeGatewayNameProxy:
		e.unroute(id, true)
		return nil
	}
	if isDisk(w.Type) {
		return e.b.Disks.Delete(ctx, id)
	}
	m, err := decode[*deployment.ZMachine](w)
	if err != nil {
		return err
	}
	if err := e.stopMachine(ctx, id); err != nil {
		return err
	}
	return e.disconnectMachine(d.TwinID, id, m)
}

func marshal(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return raw
}
