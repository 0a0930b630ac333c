package backend_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
)

// The test machine is set up for the agent (root, runc, e2fsprogs, loop devices, cgroup v1, TUN,
// nftables).
func TestCheckThisMachineSupportsEveryBackend(t *testing.T) {
	report := backend.Check()
	if err := report.Require(backend.Containers, backend.Images, backend.Disks, backend.Networks, backend.PublicIPs, backend.VMs); err != nil {
		t.Fatalf("%v (report %+v)", err, report)
	}
}

// A machine without the binaries, loop devices or filesystems gets a report naming each of them.
func TestCheckNamesWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	filesystems := filepath.Join(t.TempDir(), "filesystems")
	if err := os.WriteFile(filesystems, []byte("nodev\tproc\n\tvfat\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := backend.Machine{ProcFilesystems: filesystems, LoopControl: "/no/such/loop-control", TUN: "/no/such/tun", IsRoot: false}
	report := m.Check()
	want := map[string][]string{
		backend.Containers: {"root privileges", "runc binary (Debian package runc)"},
		backend.Images:     {"overlay filesystem"},
		backend.Disks: {"losetup binary (Debian package mount)", "mkfs.ext4 binary (Debian package e2fsprogs)",
			"resize2fs binary", "e2fsck binary", "loop devices (/no/such/loop-control", "ext4 filesystem"},
		backend.Networks:  {"root privileges", "TUN device (/no/such/tun"},
		backend.PublicIPs: {"root privileges", "nftables netlink support"},
		backend.VMs:       {"root privileges", "qemu-system-x86_64 binary (Debian package qemu-system-x86)", "TUN device for the VMs' taps"},
	}
	for _, s := range report {
		if s.Supported {
			t.Errorf("%s reported supported on a bare machine", s.Backend)
		}
		all := strings.Join(s.Missing, "\n")
		for _, w := range want[s.Backend] {
			if !strings.Contains(all, w) {
				t.Errorf("%s: missing list %q does not name %q", s.Backend, s.Missing, w)
			}
		}
		delete(want, s.Backend)
	}
	if len(want) != 0 {
		t.Errorf("report %+v lacks backends %v", report, want)
	}
	err := report.Require(backend.Disks, "gpu")
	if err == nil || !strings.Contains(err.Error(), "disks: missing root privileges") || !strings.Contains(err.Error(), "gpu: unknown backend") {
		t.Fatalf("require: %v", err)
	}
}

// KVM is used only when the device answers and the CPU offers hardware virtualisation.
func TestKVMUsable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	notADevice := write("kvm", "")
	noVMX := write("cpuinfo-plain", "processor\t: 0\nflags\t\t: fpu sse2 hypervisor\n")
	for name, tc := range map[string]struct {
		m    backend.Machine
		want string
	}{
		"no device":     {backend.Machine{KVM: "/no/such/kvm", CPUInfo: noVMX}, "KVM device: open /no/such/kvm"},
		"not a device":  {backend.Machine{KVM: notADevice, CPUInfo: noVMX}, "KVM_GET_API_VERSION"},
		"no cpu flags":  {backend.Machine{KVM: "/dev/kvm", CPUInfo: "/no/such/cpuinfo"}, "CPU flags"},
		"no vmx or svm": {backend.Machine{KVM: "/dev/kvm", CPUInfo: noVMX}, "no vmx or svm"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.m.KVM == "/dev/kvm" {
				if _, err := os.Stat(tc.m.KVM); err != nil {
					t.Skipf("this case needs a KVM device: %v", err)
				}
			}
			err := backend.KVMUsable(tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("KVMUsable(%+v) = %v, want an error containing %q", tc.m, err, tc.want)
			}
		})
	}
	if _, err := os.Stat("/dev/kvm"); err == nil {
		withVMX := write("cpuinfo-vmx", "processor\t: 0\nflags\t\t: fpu vmx sse2\n")
		if err := backend.KVMUsable(backend.Machine{KVM: "/dev/kvm", CPUInfo: withVMX}); err != nil {
			t.Fatalf("a KVM device with vmx: %v", err)
		}
	}
}

func TestValidateID(t *testing.T) {
	for id, ok := range map[string]bool{
		"vm1": true, "a.b_c-d": true, "0": true, strings.Repeat("a", 63): true,
		"": false, "-x": false, "Upper": false, "a/b": false, "a b": false, strings.Repeat("a", 64): false,
	} {
		if err := backend.ValidateID(id); (err == nil) != ok {
			t.Errorf("ValidateID(%q) = %v, want ok %v", id, err, ok)
		}
	}
	if backend.Name("vm1") != "tfz-vm1" {
		t.Errorf("Name(vm1) = %q", backend.Name("vm1"))
	}
}

// A kernel whose nftables probe fails is reported with the probe's error.
func TestCheckReportsAFailedNFTablesProbe(t *testing.T) {
	m := backend.DefaultMachine()
	m.NFTables = func() error { return os.ErrPermission }
	for _, s := range m.Check() {
		if s.Backend == backend.PublicIPs && (s.Supported || !strings.Contains(strings.Join(s.Missing, ","), "permission denied")) {
			t.Fatalf("public IPs: %+v", s)
		}
	}
}
