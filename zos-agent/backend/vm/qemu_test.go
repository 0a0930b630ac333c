package vm_test

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
)

// bootTimeout is generous: under TCG the guest answers after 3.5 to 5.5 s on an idle machine,
// and other tests share the cores.
const bootTimeout = 60 * time.Second

// testBridge makes a network namespace with a bridge holding gateway, for a machine's tap.
func testBridge(t *testing.T, gateway netip.Prefix) (ns, bridge string) {
	t.Helper()
	ns = backendtest.NetNS(t, "vm")
	bridge = "tfztbr0"
	h, err := netnsutil.Handle(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridge}}); err != nil {
		t.Fatal(err)
	}
	backendtest.Address(t, ns, bridge, gateway)
	return ns, bridge
}

func newQEMU(t *testing.T, dataDir string) *vm.QEMU {
	t.Helper()
	q, err := vm.NewQEMU(vm.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// A machine boots the cloud kernel, answers on its IP through a tap in the bridge, writes its disk,
// stops answering while paused and answers again after resume; a second backend over the same
// data directory (an agent restart) finds it and controls it; delete leaves nothing.
func TestQEMUMachineLifecycle(t *testing.T) {
	backendtest.RequireRoot(t)
	ctx := context.Background()
	kernel, modules := backendtest.GuestKernel(t)
	gateway := netip.MustParsePrefix("10.231.0.1/24")
	guest := netip.MustParseAddrPort("10.231.0.2:80")
	ns, bridge := testBridge(t, gateway)

	disk, readOnly := filepath.Join(t.TempDir(), "zmount.img"), filepath.Join(t.TempDir(), "ro.img")
	for _, f := range []string{disk, readOnly} {
		if err := os.WriteFile(f, make([]byte, 16<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := t.TempDir()
	q := newQEMU(t, dataDir)
	spec := vm.Spec{
		ID: "vm1", Kernel: kernel, Initrd: backendtest.GuestInitramfs(t, modules),
		Cmdline: "console=ttyS0 panic=-1 ip=10.231.0.2:::255.255.255.0::eth0:off", CPU: 2, MemoryBytes: 256 << 20,
		Disks:      []vm.Disk{{Path: disk}, {Path: readOnly, ReadOnly: true}},
		Interfaces: []vm.Interface{{NetNS: ns, Bridge: bridge}},
	}
	started := time.Now()
	rec, err := q.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := newQEMU(t, dataDir).Delete(ctx, "vm1"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if rec.Accel != q.Accel() || len(rec.Taps) != 1 || rec.Taps[0].MAC == "" {
		t.Fatalf("record %+v", rec)
	}
	if _, err := q.Create(ctx, spec); !errors.Is(err, vm.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}

	if err := backendtest.Eventually(ns, netip.Addr{}, guest, backendtest.GuestReply, bootTimeout); err != nil {
		console, _ := os.ReadFile(rec.ConsoleLog)
		t.Fatalf("guest does not answer: %v\nconsole:\n%s", err, console)
	}
	t.Logf("guest answered %s after start (accel %s)", time.Since(started).Round(time.Millisecond), rec.Accel)
	console := consoleUntil(t, rec.ConsoleLog, "GUEST-READY")
	assertGuestLimits(t, string(console), spec)
	written, err := os.ReadFile(disk)
	if err != nil || !strings.HasPrefix(string(written), backendtest.GuestDiskMarker) {
		t.Fatalf("disk %s starts with %q (%v), want %q", disk, written[:len(backendtest.GuestDiskMarker)], err, backendtest.GuestDiskMarker)
	}
	if untouched, err := os.ReadFile(readOnly); err != nil || !strings.Contains(string(console), "GUEST-HAS-VDB") ||
		strings.Contains(string(console), "GUEST-WROTE-READ-ONLY-DISK") ||
		!bytes.Equal(untouched[:4096], make([]byte, 4096)) {
		t.Fatalf("the guest lacks its read-only disk or wrote it (%v):\n%s", err, console)
	}
	assertTapInBridge(t, ns, rec.Taps[0].Name, bridge)
	assertStatus(t, q, "vm1", vm.StatusRunning)

	if err := q.Pause(ctx, "vm1"); err != nil {
		t.Fatal(err)
	}
	assertStatus(t, q, "vm1", vm.StatusPaused)
	if got, err := backendtest.Fetch(ns, netip.Addr{}, guest, 2*time.Second); err == nil {
		t.Fatalf("paused guest answered %q", got)
	}

	// The agent restarts: a new backend reattaches through the record, pid file and QMP socket.
	q2 := newQEMU(t, dataDir)
	list, err := q2.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "vm1" || list[0].Status != vm.StatusPaused || list[0].Pid != rec.Pid {
		t.Fatalf("list after restart: %+v, %v", list, err)
	}
	if err := q2.Resume(ctx, "vm1"); err != nil {
		t.Fatal(err)
	}
	if err := backendtest.Eventually(ns, netip.Addr{}, guest, backendtest.GuestReply, 10*time.Second); err != nil {
		t.Fatalf("resumed guest: %v", err)
	}
	assertStatus(t, q2, "vm1", vm.StatusRunning)

	if err := q2.Delete(ctx, "vm1"); err != nil {
		t.Fatal(err)
	}
	if cmdline, err := os.ReadFile(filepathProc(rec.Pid)); err == nil && strings.Contains(string(cmdline), rec.PidFile) {
		t.Errorf("QEMU pid %d still runs after delete", rec.Pid)
	}
	backendtest.AssertNoLink(t, ns, rec.Taps[0].Name)
	for _, path := range []string{rec.QMPSocket, rec.PidFile, rec.ConsoleLog, rec.Dir} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after delete (%v)", path, err)
		}
	}
	if _, err := q2.State(ctx, "vm1"); !errors.Is(err, vm.ErrNotFound) {
		t.Errorf("state after delete: %v, want ErrNotFound", err)
	}
	if err := q2.Delete(ctx, "vm1"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if err := q2.Pause(ctx, "vm1"); !errors.Is(err, vm.ErrNotFound) {
		t.Errorf("pause after delete: %v, want ErrNotFound", err)
	}
}

func filepathProc(pid int) string { return filepath.Join("/proc", strconv.Itoa(pid), "cmdline") }

// assertGuestLimits checks the CPUs and memory the guest reported on its console against spec:
// all the CPUs, and the memory less what the kernel keeps for itself.
func assertGuestLimits(t *testing.T, console string, spec vm.Spec) {
	t.Helper()
	value := func(key string) int {
		_, rest, ok := strings.Cut(console, key+"=")
		if !ok {
			t.Fatalf("console lacks %s:\n%s", key, console)
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]))
		if err != nil {
			t.Fatalf("console %s: %v", key, err)
		}
		return n
	}
	cpus, kb := value("GUEST-CPUS"), value("GUEST-MEMORY-KB")
	t.Logf("guest sees %d CPUs and %d kB of memory", cpus, kb)
	if cpus != int(spec.CPU) {
		t.Errorf("guest sees %d CPUs, want %d", cpus, spec.CPU)
	}
	limitKB := int(spec.MemoryBytes >> 10)
	if kb > limitKB || kb < limitKB*3/4 {
		t.Errorf("guest has %d kB of memory, want at most %d and most of it", kb, limitKB)
	}
}

// consoleUntil waits for marker in the console log (the serial port drains after the guest's
// writes return) and returns the log; everything the guest printed before marker is in it.
func consoleUntil(t *testing.T, path, marker string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		console, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(console), marker) {
			return console
		}
		if time.Now().After(deadline) {
			t.Fatalf("console log %s (%v) lacks %q:\n%s", path, err, marker, console)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func assertStatus(t *testing.T, q *vm.QEMU, id, want string) {
	t.Helper()
	st, err := q.State(context.Background(), id)
	if err != nil || st.Status != want {
		t.Fatalf("state of %s: %+v, %v; want %s", id, st, err, want)
	}
}

// assertTapInBridge checks that the tap is a port of the bridge.
func assertTapInBridge(t *testing.T, ns, tap, bridge string) {
	t.Helper()
	h, err := netnsutil.Handle(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName(tap)
	if err != nil {
		t.Fatalf("tap %s: %v", tap, err)
	}
	br, err := h.LinkByName(bridge)
	if err != nil {
		t.Fatal(err)
	}
	if l.Attrs().MasterIndex != br.Attrs().Index {
		t.Errorf("tap %s is not in bridge %s", tap, bridge)
	}
}

// A create that fails (no such bridge) is refused naming the bridge and leaves nothing behind.
func TestQEMUCreateFailureLeavesNothing(t *testing.T) {
	backendtest.RequireRoot(t)
	ns := backendtest.NetNS(t, "vm")
	kernel := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(kernel, []byte("not a kernel"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	q := newQEMU(t, dataDir)
	spec := vm.Spec{ID: "bad", Kernel: kernel, CPU: 1, MemoryBytes: 128 << 20,
		Interfaces: []vm.Interface{{NetNS: ns, Bridge: "tfztnobr"}}}
	_, err := q.Create(context.Background(), spec)
	if !errors.Is(err, vm.ErrInvalidSpec) || !strings.Contains(err.Error(), `bridge "tfztnobr"`) {
		t.Fatalf("create with a missing bridge: %v", err)
	}
	assertNothingLeft(t, dataDir, ns)

	// QEMU itself refuses the kernel: its error comes back, and the tap and files are gone.
	brNS, bridge := testBridge(t, netip.MustParsePrefix("10.232.0.1/24"))
	spec.Interfaces = []vm.Interface{{NetNS: brNS, Bridge: bridge}}
	if _, err := q.Create(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "qemu-system-x86_64") {
		t.Fatalf("create with a bad kernel: %v", err)
	}
	assertNothingLeft(t, dataDir, brNS)
}

// assertNothingLeft fails if the backend left a machine directory, or ns holds a tap.
func assertNothingLeft(t *testing.T, dataDir, ns string) {
	t.Helper()
	if entries, _ := os.ReadDir(filepath.Join(dataDir, "vms")); len(entries) != 0 {
		t.Errorf("a failed create left %v", entries)
	}
	h, err := netnsutil.Handle(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Type() == "tuntap" {
			t.Errorf("a failed create left tap %s", l.Attrs().Name)
		}
	}
}
