package vm_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
)

// A machine with two virtio-fs shares mounts them where its command line says: a file the guest
// writes at boot appears in the host directory, and a file the host writes while the guest runs is
// served by the guest from its mount. A second backend (an agent restart) finds the shares'
// daemons; one that dies makes the machine broken; delete leaves no daemon, socket or memfd.
func TestQEMUMachineShares(t *testing.T) {
	backendtest.RequireRoot(t)
	ctx := context.Background()
	kernel, modules := backendtest.GuestKernel(t)
	ns, bridge := testBridge(t, netip.MustParsePrefix("10.233.0.1/24"))
	guest := netip.MustParseAddr("10.233.0.2")
	one, two := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(one, "before-boot"), []byte("written by the host before boot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	q := newQEMU(t, dataDir)
	spec := vm.Spec{
		ID: "vmfs1", Kernel: kernel, Initrd: backendtest.GuestInitramfs(t, modules), CPU: 1, MemoryBytes: 256 << 20,
		Cmdline:    "console=ttyS0 panic=-1 ip=10.233.0.2:::255.255.255.0::eth0:off tfgrid.mounts=one:/mnt/one,two:/srv/two",
		Interfaces: []vm.Interface{{NetNS: ns, Bridge: bridge}},
		Shares:     []vm.Share{{Source: one, Tag: "one"}, {Source: two, Tag: "two"}},
	}
	rec, err := q.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := newQEMU(t, dataDir).Delete(ctx, spec.ID); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if len(rec.Shares) != 2 || rec.Shares[0].Tag != "one" || rec.Shares[1].Source != two {
		t.Fatalf("record shares %+v", rec.Shares)
	}
	if err := backendtest.Eventually(ns, netip.Addr{}, netip.AddrPortFrom(guest, 80), backendtest.GuestReply, bootTimeout); err != nil {
		console, _ := os.ReadFile(rec.ConsoleLog)
		t.Fatalf("guest does not answer: %v\nconsole:\n%s", err, console)
	}
	console := string(consoleUntil(t, rec.ConsoleLog, "GUEST-READY"))
	for _, want := range []string{"GUEST-MOUNTED one /mnt/one", "GUEST-MOUNTED two /srv/two"} {
		if !strings.Contains(console, want) {
			t.Fatalf("console lacks %q:\n%s", want, console)
		}
	}

	// guest → host: what the guest wrote at boot is in the host directories.
	for _, sh := range spec.Shares {
		got, err := os.ReadFile(filepath.Join(sh.Source, backendtest.GuestShareFile))
		if want := backendtest.GuestShareMarker + " " + sh.Tag + "\n"; err != nil || string(got) != want {
			t.Errorf("host %s/%s: %q (%v), want %q", sh.Source, backendtest.GuestShareFile, got, err, want)
		}
	}
	// host → guest: a file written before boot, and one written now, read through the guest.
	now := fmt.Sprintf("written by the host at %d\n", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(two, "while-running"), []byte(now), 0o644); err != nil {
		t.Fatal(err)
	}
	web := netip.AddrPortFrom(guest, backendtest.GuestHTTPPort)
	for path, want := range map[string]string{"/mnt/one/before-boot": "written by the host before boot\n", "/srv/two/while-running": now} {
		got, err := backendtest.HTTPGet(ns, web, path, 5*time.Second)
		if err != nil || !strings.HasPrefix(got, "HTTP/1.") || !strings.Contains(got, " 200 ") || !strings.HasSuffix(got, "\r\n\r\n"+want) {
			t.Errorf("GET %s from the guest: %q (%v), want the host's %q", path, got, err, want)
		}
	}

	// QEMU and every daemon's sandbox map the guest's memory, a memfd.
	daemons, sandboxes := sharePids(t, rec.Shares)
	daemonPids := append(daemons, sandboxes...)
	for _, pid := range append([]int{rec.Pid}, sandboxes...) {
		if maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid)); err != nil || !strings.Contains(string(maps), "/memfd:memory-backend-memfd") {
			t.Errorf("pid %d does not map the guest memory memfd (%v)", pid, err)
		}
	}

	// An agent restart finds the machine and its daemons; a daemon that dies breaks the machine.
	q2 := newQEMU(t, dataDir)
	assertStatus(t, q2, spec.ID, vm.StatusRunning)
	if err := syscall.Kill(rec.Shares[1].Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for st, err := q2.State(ctx, spec.ID); err != nil || st.Status != vm.StatusBroken; st, err = q2.State(ctx, spec.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("state after a share daemon died: %+v %v, want %s", st, err, vm.StatusBroken)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := q2.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	for _, pid := range append([]int{rec.Pid}, daemonPids...) {
		cmdline, err := os.ReadFile(filepathProc(pid))
		if err == nil && (strings.Contains(string(cmdline), rec.PidFile) || strings.HasPrefix(string(cmdline), "tfz-vmfs1-fs")) {
			t.Errorf("pid %d (%q) still runs after delete", pid, cmdline)
		}
	}
	for _, path := range []string{rec.Shares[0].Socket, rec.Shares[1].Socket, rec.Dir} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after delete (%v)", path, err)
		}
	}
	for _, sh := range spec.Shares {
		if _, err := os.Stat(filepath.Join(sh.Source, backendtest.GuestShareFile)); err != nil {
			t.Errorf("delete took the guest's file from the host directory %s: %v", sh.Source, err)
		}
	}
}

// sharePids are the shares' daemons and the sandboxed children they fork (which serve the guest).
func sharePids(t *testing.T, daemons []vm.ShareDaemon) (pids, sandboxes []int) {
	t.Helper()
	for _, d := range daemons {
		pids = append(pids, d.Pid)
		children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", d.Pid, d.Pid))
		if err != nil {
			t.Fatalf("virtiofsd %s: %v", d.Tag, err)
		}
		fields := strings.Fields(string(children))
		if len(fields) != 1 {
			t.Fatalf("virtiofsd %s pid %d has children %q, want its sandbox", d.Tag, d.Pid, fields)
		}
		child, _ := strconv.Atoi(fields[0])
		sandboxes = append(sandboxes, child)
	}
	return pids, sandboxes
}

// Bad shares are refused with ErrInvalidSpec, naming the field and its value.
func TestSpecValidateShares(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	if err := os.WriteFile(kernel, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := vm.Spec{ID: "vm1", Kernel: kernel, CPU: 1, MemoryBytes: 128 << 20, Shares: []vm.Share{{Source: dir, Tag: "data_1"}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good spec: %v", err)
	}
	comma := filepath.Join(dir, "a,b")
	if err := os.Mkdir(comma, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		shares []vm.Share
		want   string
	}{
		"empty tag":      {[]vm.Share{{Source: dir}}, `shares[0].tag ""`},
		"long tag":       {[]vm.Share{{Source: dir, Tag: strings.Repeat("a", 37)}}, `shares[0].tag "aaaa`},
		"tag with comma": {[]vm.Share{{Source: dir, Tag: "a,b"}}, `shares[0].tag "a,b"`},
		"same tag":       {[]vm.Share{{Source: dir, Tag: "x"}, {Source: dir, Tag: "x"}}, `shares[1].tag "x": two shares have it`},
		"relative":       {[]vm.Share{{Source: "data", Tag: "x"}}, `shares[0].source "data": must be an absolute path`},
		"missing":        {[]vm.Share{{Source: "/no/such/dir", Tag: "x"}}, `shares[0].source "/no/such/dir"`},
		"a file":         {[]vm.Share{{Source: kernel, Tag: "x"}}, "not a directory"},
		"comma":          {[]vm.Share{{Source: comma, Tag: "x"}}, "must not contain a comma"},
		"too many":       {make([]vm.Share, 9), "9 shares: at most 8"},
	} {
		t.Run(name, func(t *testing.T) {
			s := good
			s.Shares = tc.shares
			if err := s.Validate(); !errors.Is(err, vm.ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want ErrInvalidSpec naming %q", err, tc.want)
			}
		})
	}
}

// A create with shares that fails is refused and leaves nothing behind, neither files nor daemons:
// without virtiofsd, and with a hypervisor that fails before it connects to the shares ("false"
// as the QEMU binary), which leaves their daemons waiting for it.
func TestQEMUCreateWithSharesFailure(t *testing.T) {
	backendtest.RequireRoot(t)
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	if err := os.WriteFile(kernel, []byte("not a kernel"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg  vm.Config
		want string
	}{
		"no virtiofsd":       {vm.Config{Virtiofsd: "/no/such/virtiofsd"}, `virtiofsd "/no/such/virtiofsd"`},
		"failing hypervisor": {vm.Config{Binary: "false"}, "exit status 1"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.DataDir = t.TempDir()
			q, err := vm.NewQEMU(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			spec := vm.Spec{ID: "vmfsbad", Kernel: kernel, CPU: 1, MemoryBytes: 128 << 20, Shares: []vm.Share{{Source: dir, Tag: "x"}}}
			if _, err := q.Create(context.Background(), spec); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("create: %v, want an error naming %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(tc.cfg.DataDir, "vms")); len(entries) != 0 {
				t.Errorf("a failed create left %v", entries)
			}
			cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			for _, path := range cmdlines {
				if cmdline, err := os.ReadFile(path); err == nil && strings.HasPrefix(string(cmdline), "tfz-vmfsbad-fs0\x00") {
					t.Errorf("%s: virtiofsd %q still runs after the failed create", path, cmdline)
				}
			}
		})
	}
}
