package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"strings"

	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

// A zmachine whose image is a VM image (image.VMKernel) runs as a virtual machine: its zmounts
// are virtio disks, its volumes virtio-fs shares, its private and public interfaces are taps in the
// same bridges as a container's veths, and the guest learns its addresses and where to mount its
// volumes from the kernel command line.

// vmCmdline is the start of every guest's kernel command line: the serial console is the
// machine's console log; a guest whose kernel panics powers off instead of hanging. The rest
// shortens the boot, most under TCG where every guest instruction is emulated (docs/benchmarks.md,
// bench-agent): cryptomgr.notests skips the crypto self-tests (0.5 s of emulated CPU before
// init); tsc=reliable keeps the TSC as clocksource, which a loaded host's stalls would otherwise
// get marked unstable for slow emulated HPET reads; no_timer_check skips the IO-APIC timer check.
// Kata Containers' guests boot with them too; the entrypoint's arguments come after and win.
const vmCmdline = "console=ttyS0 panic=-1 cryptomgr.notests tsc=reliable no_timer_check"

// vmBootOf reports whether machine m boots as a virtual machine, and what it boots.
func (e *Engine) vmBootOf(m *deployment.ZMachine) (image.VMBoot, bool, error) {
	img, err := e.b.Images.Resolve(m.FList)
	if err != nil {
		return image.VMBoot{}, false, err
	}
	return img.VMBoot()
}

// admitVM checks what a virtual machine cannot do: run on a node without a VM backend, take an
// environment, mount anything but zmounts and volumes, mount a volume where the kernel command
// line cannot say.
func (e *Engine) admitVM(d *deployment.Deployment, name string, m *deployment.ZMachine) error {
	if e.b.VMs == nil {
		return fmt.Errorf("contract %d: workload %q: flist %q is a virtual machine image: %w (no virtual machine backend: install qemu-system-x86)",
			d.ContractID, name, m.FList, ErrUnsupported)
	}
	if len(m.Env) > 0 {
		return fmt.Errorf("contract %d: workload %q: env: a virtual machine has no environment to set; give kernel arguments in entrypoint",
			d.ContractID, name)
	}
	volumes := 0
	for i, mount := range m.Mounts {
		w, ok := workloadNamed(d, mount.Name)
		if !ok {
			continue // the document's own checks name it
		}
		switch w.Type {
		case deployment.TypeZMount:
		case deployment.TypeVolume:
			volumes++
			if !guestMountpointPattern.MatchString(mount.Mountpoint) {
				return fmt.Errorf("contract %d: workload %q: mounts[%d].mountpoint %q: a virtual machine learns it from the kernel command line (%s<tag>:<path>,...): printable ASCII without spaces, ',', ':' or '\"'; %w",
					d.ContractID, name, i, mount.Mountpoint, guestMountsArg, ErrMountOnVM)
			}
		default:
			return fmt.Errorf("contract %d: workload %q: mounts[%d] %q is a %s: a virtual machine takes zmounts (virtio disks) and volumes (virtio-fs) only; %w",
				d.ContractID, name, i, mount.Name, w.Type, ErrMountOnVM)
		}
	}
	if volumes > vm.MaxShares {
		return fmt.Errorf("contract %d: workload %q: mounts: %d volumes, a virtual machine takes at most %d; %w",
			d.ContractID, name, volumes, vm.MaxShares, ErrMountOnVM)
	}
	return nil
}

// ErrMountOnVM: a virtual machine cannot mount this.
var ErrMountOnVM = errors.New("a virtual machine cannot mount it")

// guestMountsArg starts the kernel argument that tells the guest where to mount its volumes:
// tfgrid.mounts=<tag>:<mountpoint>,... (the agent README's guest contract); a volume's tag is its
// workload name.
const guestMountsArg = "tfgrid.mounts="

// guestMountpointPattern is a mountpoint the guest can read back from guestMountsArg: no byte that
// ends a kernel argument or separates its entries.
var guestMountpointPattern = regexp.MustCompile(`^[!#-+\--9;-~]+$`)

func workloadNamed(d *deployment.Deployment, name string) (deployment.Workload, bool) {
	for _, w := range d.Workloads {
		if w.Name == name {
			return w, true
		}
	}
	return deployment.Workload{}, false
}

// usedByVM reports whether a machine of d that boots as a virtual machine has zmount name as a
// virtio disk: such a disk is never mounted on the node (the guest mounts it). A volume stays
// mounted: the guest reaches its directory through virtio-fs.
func (e *Engine) usedByVM(d *deployment.Deployment, name string) bool {
	if w, ok := workloadNamed(d, name); !ok || w.Type != deployment.TypeZMount {
		return false
	}
	for _, w := range d.Workloads {
		if w.Type != deployment.TypeZMachine || !mounts(w, name) {
			continue
		}
		if m, err := decode[*deployment.ZMachine](w); err == nil {
			if _, isVM, _ := e.vmBootOf(m); isVM {
				return true
			}
		}
	}
	return false
}

// ensureVM starts machine w as a virtual machine unless it already runs (or is paused): a job run
// again, or an agent restart, reattaches through QMP instead of starting a second one.
func (e *Engine) ensureVM(ctx context.Context, d *deployment.Deployment, w deployment.Workload, m *deployment.ZMachine, boot image.VMBoot) (vm.Record, error) {
	id := WorkloadID(d.ContractID, w.Name)
	st, err := e.b.VMs.State(ctx, id)
	switch {
	case err == nil && (st.Status == vm.StatusRunning || st.Status == vm.StatusPaused):
		return vm.Record{ID: id, Pid: st.Pid}, nil
	case err == nil:
		// its QEMU is gone (the guest powered off, a reboot), or a volume's daemon is (broken):
		// start it afresh.
		if err := e.b.VMs.Delete(ctx, id); err != nil {
			return vm.Record{}, err
		}
	case !errors.Is(err, vm.ErrNotFound):
		return vm.Record{}, err
	}
	spec, err := e.vmSpec(d, id, m, boot)
	if err != nil {
		return vm.Record{}, err
	}
	return e.b.VMs.Create(ctx, spec)
}

// vmSpec translates a zmachine into a virtual machine: the image's kernel and initrd, cpu and
// memory, its zmounts' files as virtio disks (unmounted from the node), its volumes' directories
// as shares, a card per private interface and one for the public IP, each address and each
// volume's mountpoint on the kernel command line.
func (e *Engine) vmSpec(d *deployment.Deployment, id string, m *deployment.ZMachine, boot image.VMBoot) (vm.Spec, error) {
	spec := vm.Spec{ID: id, Kernel: boot.Kernel, Initrd: boot.Initrd, CPU: uint(m.ComputeCapacity.CPU),
		MemoryBytes: m.ComputeCapacity.Memory &^ (1<<20 - 1)}
	args := []string{vmCmdline}
	mountArg, err := e.vmMounts(d, m, &spec)
	if err != nil {
		return vm.Spec{}, err
	}
	if mountArg != "" {
		args = append(args, mountArg)
	}
	card := func(ifc vm.Interface, ip netip.Prefix, gateway netip.Addr) {
		gw := ""
		if gateway.IsValid() {
			gw = gateway.String()
		}
		args = append(args, guestIP(len(spec.Interfaces), ip, gw))
		spec.Interfaces = append(spec.Interfaces, ifc)
	}
	if len(m.Network.Interfaces) > 0 && e.b.Networks == nil {
		return vm.Spec{}, fmt.Errorf("network interfaces: %w", ErrUnsupported)
	}
	for i, iface := range m.Network.Interfaces {
		ip, err := netip.ParseAddr(iface.IP)
		if err != nil {
			return vm.Spec{}, fmt.Errorf("network %q: ip %q: %w", iface.Network, iface.IP, err)
		}
		a, err := e.b.Networks.Attach(network.AttachSpec{ID: id, Twin: uint32(d.TwinID), Network: iface.Network, IP: ip, Tap: true})
		if err != nil {
			return vm.Spec{}, err
		}
		var gateway netip.Addr // the default route: the first private network's, without a public IP
		if i == 0 && m.Network.PublicIP == "" {
			gateway = a.Gateway
		}
		card(vm.Interface{NetNS: a.BridgeNS, Bridge: a.Bridge, MAC: network.MAC(id).String(), Name: a.HostLink},
			netip.PrefixFrom(ip, a.Subnet.Bits()), gateway)
	}
	if m.Network.PublicIP != "" {
		w, ok := workloadNamed(d, m.Network.PublicIP)
		if !ok || w.Type != deployment.TypeIP {
			return vm.Spec{}, fmt.Errorf("network.public_ip %q: not an ip workload of the deployment", m.Network.PublicIP)
		}
		rec, err := e.ensurePublicIP(d, d.ContractID, w)
		if err != nil {
			return vm.Spec{}, err
		}
		card(vm.Interface{NetNS: e.b.PublicIPs.UplinkNS(), Bridge: e.b.PublicIPs.Bridge(), MAC: rec.MAC, Name: rec.HostLink},
			rec.IP, rec.Gateway)
	}
	spec.Cmdline = strings.Join(append(args, m.Entrypoint), " ")
	return spec, nil
}

// vmMounts gives spec the machine's mounts: a zmount's file as a virtio disk (unmounted from the
// node), a volume's mounted directory as a share tagged with the volume's name. It returns the
// kernel argument naming where the guest mounts each share ("" without volumes).
func (e *Engine) vmMounts(d *deployment.Deployment, m *deployment.ZMachine, spec *vm.Spec) (string, error) {
	var shares []string
	for _, mount := range m.Mounts {
		id := WorkloadID(d.ContractID, mount.Name)
		if w, _ := workloadNamed(d, mount.Name); w.Type == deployment.TypeVolume {
			disk, err := e.b.Disks.Get(id)
			if err != nil {
				return "", fmt.Errorf("mount %q: %w", mount.Name, err)
			}
			spec.Shares = append(spec.Shares, vm.Share{Source: disk.MountPoint, Tag: mount.Name})
			shares = append(shares, mount.Name+":"+path.Clean(mount.Mountpoint))
			continue
		}
		disk, err := e.b.Disks.Unmount(id)
		if err != nil {
			return "", fmt.Errorf("mount %q: %w", mount.Name, err)
		}
		spec.Disks = append(spec.Disks, vm.Disk{Path: disk.File})
	}
	if len(shares) == 0 {
		return "", nil
	}
	return guestMountsArg + strings.Join(shares, ","), nil
}

// guestIP is card index's address in the kernel's ip= format
// (ip=<address>::<gateway>:<netmask>::eth<index>:off); the gateway only on the card with the
// default route. Linux's own autoconfiguration takes one such entry; a guest's init reads them all
// from /proc/cmdline.
func guestIP(index int, ip netip.Prefix, gateway string) string {
	mask := net.IP(net.CIDRMask(ip.Bits(), 32)).String()
	return fmt.Sprintf("ip=%s::%s:%s::eth%d:off", ip.Addr(), gateway, mask, index)
}
