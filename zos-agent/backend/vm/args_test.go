package vm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The command line follows the accelerator, the boot source and the cards; values with commas are
// escaped for QEMU's option lists.
func TestQEMUArgs(t *testing.T) {
	dir := t.TempDir()
	qcow2 := filepath.Join(dir, "disk,1.qcow2")
	if err := os.WriteFile(qcow2, []byte("QFI\xfb\x00\x00\x00\x03"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := Record{Accel: AccelTCG, PidFile: "/d/qemu.pid", QMPSocket: "/d/q,mp.sock", ConsoleLog: "/d/console.log",
		Taps: []Tap{{MAC: "02:00:00:00:00:01"}, {MAC: "02:00:00:00:00:02"}}}
	kernelBoot := Spec{ID: "a", Kernel: "/k", Initrd: "/i", Cmdline: "console=ttyS0", CPU: 3, MemoryBytes: 512 << 20,
		Disks: []Disk{{Path: "/disk"}, {Path: "/ro", ReadOnly: true}}}
	kvm := rec
	kvm.Accel = AccelKVM
	for name, tc := range map[string]struct {
		spec Spec
		rec  Record
		want []string
	}{
		"tcg kernel boot": {kernelBoot, rec, []string{
			"-machine q35,accel=tcg", "-cpu max", "-smp 3", "-m 512M", "-kernel /k", "-initrd /i", "-append console=ttyS0",
			"-qmp unix:/d/q,,mp.sock,server=on,wait=off", "-drive if=virtio,format=raw,file=/disk",
			"-drive if=virtio,format=raw,file=/ro,readonly=on", "-netdev tap,id=net0,fd=3",
			"-device virtio-net-pci,netdev=net0,mac=02:00:00:00:00:01,romfile=", "-netdev tap,id=net1,fd=4", "-daemonize"}},
		"kvm image boot": {Spec{ID: "b", Image: qcow2, CPU: 1, MemoryBytes: 64 << 20}, kvm, []string{
			"-machine q35,accel=kvm", "-cpu host", "-drive if=virtio,format=qcow2,file=" + strings.ReplaceAll(qcow2, ",", ",,")}},
	} {
		t.Run(name, func(t *testing.T) {
			args := qemuArgs(tc.spec, tc.rec)
			pairs := make([]string, 0, len(args))
			for i, a := range args {
				if strings.HasPrefix(a, "-") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					pairs = append(pairs, a+" "+args[i+1])
				} else if strings.HasPrefix(a, "-") {
					pairs = append(pairs, a)
				}
			}
			for _, w := range tc.want {
				if !slices.Contains(pairs, w) {
					t.Errorf("args %q lack %q", args, w)
				}
			}
			if tc.spec.Kernel == "" && slices.Contains(args, "-kernel") {
				t.Errorf("image boot has -kernel: %q", args)
			}
		})
	}
}
