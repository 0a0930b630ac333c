package vm

import (
	"slices"
	"strings"
	"testing"
)

// A machine with shares gets its memory as a shared memfd and a vhost-user-fs card per share; one
// without keeps private memory.
func TestShareArgs(t *testing.T) {
	spec := Spec{ID: "a", Kernel: "/k", CPU: 1, MemoryBytes: 512 << 20}
	rec := Record{Accel: AccelTCG, PidFile: "/d/qemu.pid", QMPSocket: "/d/qmp.sock", ConsoleLog: "/d/console.log"}
	if args := strings.Join(qemuArgs(spec, rec), " "); strings.Contains(args, "memfd") || strings.Contains(args, "vhost-user") {
		t.Errorf("a machine without shares: %s", args)
	}
	rec.Shares = []ShareDaemon{{Tag: "data", Socket: "/d/fs0.sock"}, {Tag: "logs", Socket: "/d,x/fs1.sock"}}
	args := qemuArgs(spec, rec)
	for _, want := range [][2]string{
		{"-object", "memory-backend-memfd,id=mem,size=512M,share=on"}, {"-numa", "node,memdev=mem"},
		{"-chardev", "socket,id=fs0,path=/d/fs0.sock"}, {"-device", "vhost-user-fs-pci,chardev=fs0,tag=data"},
		{"-chardev", "socket,id=fs1,path=/d,,x/fs1.sock"}, {"-device", "vhost-user-fs-pci,chardev=fs1,tag=logs"},
	} {
		i := slices.Index(args, want[1])
		if i < 1 || args[i-1] != want[0] {
			t.Errorf("args %q lack %s %s", args, want[0], want[1])
		}
	}
}
