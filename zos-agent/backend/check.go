package backend

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/mountinfo"
)

// Backends the agent may need.
const (
	Containers = "containers"
	Images     = "images"
	Disks      = "disks"
	Networks   = "networks"
	PublicIPs  = "publicips"
	VMs        = "vms"
)

// Support says whether this machine can run one backend, and if not, what it lacks.
type Support struct {
	Backend   string   `json:"backend"`
	Supported bool     `json:"supported"`
	Missing   []string `json:"missing,omitempty"`
}

// Report is the result of Check, one entry per backend; zos.statistics.get lists it.
type Report []Support

// Machine is what Check looks at besides PATH and the mount table; DefaultMachine is the real one.
type Machine struct {
	ProcFilesystems string // the kernel's filesystem list (/proc/filesystems)
	LoopControl     string // the loop device allocator (/dev/loop-control)
	TUN             string // the TUN clone device userspace WireGuard runs on (/dev/net/tun)
	// NFTables probes the kernel's nftables netlink interface; nil means the machine has none.
	NFTables func() error
	IsRoot   bool
	KVM      string // the KVM device (/dev/kvm)
	CPUInfo  string // the CPU's feature flags (/proc/cpuinfo)
}

// DefaultMachine describes the machine the agent runs on.
func DefaultMachine() Machine {
	return Machine{
		ProcFilesystems: "/proc/filesystems",
		LoopControl:     "/dev/loop-control",
		TUN:             "/dev/net/tun",
		NFTables:        probeNFTables,
		IsRoot:          os.Geteuid() == 0,
		KVM:             "/dev/kvm",
		CPUInfo:         "/proc/cpuinfo",
	}
}

// Check reports which backends this machine supports; binaries are looked up in PATH.
func Check() Report { return DefaultMachine().Check() }

// Check reports which backends m supports.
func (m Machine) Check() Report {
	filesystems := m.kernelFilesystems()
	controllers, cgroupErr := cgroupControllers()
	var root []string
	if !m.IsRoot {
		root = []string{"root privileges (the agent runs as uid 0)"}
	}

	containers := append(slices.Clone(root), missingBinaries(map[string]string{"runc": "runc"})...)
	if cgroupErr != nil {
		containers = append(containers, fmt.Sprintf("cgroups (%v)", cgroupErr))
	}
	for _, c := range []string{"memory", "cpu", "pids", "freezer"} {
		if cgroupErr == nil && !controllers[c] {
			containers = append(containers, fmt.Sprintf("cgroup controller %s (not mounted)", c))
		}
	}

	images := slices.Clone(root)
	if !filesystems["overlay"] {
		images = append(images, fmt.Sprintf("overlay filesystem (not in %s)", m.ProcFilesystems))
	}

	disks := append(slices.Clone(root), missingBinaries(map[string]string{
		"losetup": "mount", "mkfs.ext4": "e2fsprogs", "e2fsck": "e2fsprogs", "resize2fs": "e2fsprogs",
	})...)
	if _, err := os.Stat(m.LoopControl); err != nil {
		disks = append(disks, fmt.Sprintf("loop devices (%s: %v)", m.LoopControl, err))
	}
	if !filesystems["ext4"] {
		disks = append(disks, fmt.Sprintf("ext4 filesystem (not in %s)", m.ProcFilesystems))
	}

	networks := slices.Clone(root)
	if _, err := os.Stat(m.TUN); err != nil {
		networks = append(networks, fmt.Sprintf("TUN device (%s: %v)", m.TUN, err))
	}
	publicIPs := slices.Clone(root)
	switch {
	case m.NFTables == nil:
		publicIPs = append(publicIPs, "nftables netlink support (kernel nf_tables)")
	default:
		if err := m.NFTables(); err != nil {
			publicIPs = append(publicIPs, fmt.Sprintf("nftables netlink support (kernel nf_tables: %v)", err))
		}
	}

	// Without usable KVM, QEMU emulates the CPU (TCG): slower, but VMs still run.
	vms := append(slices.Clone(root), missingBinaries(map[string]string{"qemu-system-x86_64": "qemu-system-x86"})...)
	if _, err := os.Stat(m.TUN); err != nil {
		vms = append(vms, fmt.Sprintf("TUN device for the VMs' taps (%s: %v)", m.TUN, err))
	}

	return Report{support(Containers, containers), support(Images, images), support(Disks, disks),
		support(Networks, networks), support(PublicIPs, publicIPs), support(VMs, vms)}
}

// kvmAPIVersion is the only KVM API version Linux has ever had (KVM_GET_API_VERSION).
const kvmAPIVersion = 12

// KVMUsable says why hardware virtualisation cannot run guests here, or nil when it can: the KVM
// device must answer the stable API version and the CPU must offer vmx or svm. A /dev/kvm without
// them (nested under a hypervisor that does not pass virtualisation through) starts QEMU but
// hangs Linux guests, so VMs fall back to TCG emulation.
func KVMUsable(m Machine) error {
	f, err := os.OpenFile(m.KVM, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("KVM device: %w", err)
	}
	defer f.Close()
	version, err := unix.IoctlRetInt(int(f.Fd()), kvmGetAPIVersion)
	if err != nil {
		return fmt.Errorf("KVM device %s: KVM_GET_API_VERSION: %w", m.KVM, err)
	}
	if version != kvmAPIVersion {
		return fmt.Errorf("KVM device %s: API version %d, want %d", m.KVM, version, kvmAPIVersion)
	}
	cpuinfo, err := os.ReadFile(m.CPUInfo)
	if err != nil {
		return fmt.Errorf("CPU flags: %w", err)
	}
	for _, line := range strings.Split(string(cpuinfo), "\n") {
		name, flags, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		for _, flag := range strings.Fields(flags) {
			if flag == "vmx" || flag == "svm" {
				return nil
			}
		}
	}
	return fmt.Errorf("CPU flags in %s: no vmx or svm (no hardware virtualisation for guests)", m.CPUInfo)
}

// kvmGetAPIVersion is the ioctl KVM_GET_API_VERSION, _IO(KVMIO=0xAE, 0x00).
const kvmGetAPIVersion = 0xAE00

// probeNFTables asks the kernel for its nftables tables over netlink.
func probeNFTables() error {
	c, err := nftables.New()
	if err != nil {
		return err
	}
	_, err = c.ListTables()
	return err
}

func support(backend string, missing []string) Support {
	return Support{Backend: backend, Supported: len(missing) == 0, Missing: missing}
}

// missingBinaries names the binaries (and their Debian packages) not found in PATH, in a stable order.
func missingBinaries(packageOf map[string]string) []string {
	var missing []string
	for _, bin := range slices.Sorted(maps.Keys(packageOf)) {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s binary (Debian package %s)", bin, packageOf[bin]))
		}
	}
	return missing
}

func (m Machine) kernelFilesystems() map[string]bool {
	found := map[string]bool{}
	f, err := os.Open(m.ProcFilesystems)
	if err != nil {
		return found
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 0 {
			found[fields[len(fields)-1]] = true
		}
	}
	return found
}

// cgroupControllers lists the mounted cgroup controllers: the v1 hierarchies' options, or what a
// cgroup v2 hierarchy offers in cgroup.controllers (v2 has the freezer built in).
func cgroupControllers() (map[string]bool, error) {
	mounts, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, m := range mounts {
		switch m.FSType {
		case "cgroup":
			for _, opt := range m.SuperOptions {
				found[opt] = true
			}
		case "cgroup2":
			ctrl, err := os.ReadFile(filepath.Join(m.MountPoint, "cgroup.controllers"))
			if err != nil {
				return nil, err
			}
			for _, c := range strings.Fields(string(ctrl)) {
				found[c] = true
			}
			found["freezer"] = true
		}
	}
	return found, nil
}

// Require fails, naming everything missing, unless the report supports every named backend.
func (r Report) Require(backends ...string) error {
	var missing []string
	for _, name := range backends {
		i := slices.IndexFunc(r, func(s Support) bool { return s.Backend == name })
		switch {
		case i < 0:
			missing = append(missing, fmt.Sprintf("%s: unknown backend", name))
		case !r[i].Supported:
			missing = append(missing, fmt.Sprintf("%s: missing %s", name, strings.Join(r[i].Missing, ", ")))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("this machine cannot run the node agent's backends: %s", strings.Join(missing, "; "))
	}
	return nil
}
