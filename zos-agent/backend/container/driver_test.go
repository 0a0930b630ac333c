package container_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

const mib = 1 << 20

// Capability bits that must never reach a workload.
const (
	capNetAdmin = 12
	capSysAdmin = 21
)

type fixture struct {
	dataDir string
	driver  *container.Driver
	disks   *disk.Manager
	images  *image.Store
	img     image.Image
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	backendtest.RequireRoot(t)
	f := &fixture{dataDir: t.TempDir()}
	var err error
	if f.driver, err = container.New(f.dataDir); err != nil {
		t.Fatal(err)
	}
	if f.disks, err = disk.New(f.dataDir); err != nil {
		t.Fatal(err)
	}
	if f.images, err = image.Open(f.dataDir); err != nil {
		t.Fatal(err)
	}
	if f.img, err = f.images.Import(backendtest.WriteRootfsTar(t, t.TempDir()), "busybox"); err != nil {
		t.Fatal(err)
	}
	return f
}

// rootfs gives container id its overlay root, unmounted when the test ends.
func (f *fixture) rootfs(t *testing.T, id string) string {
	t.Helper()
	t.Cleanup(func() {
		if err := f.images.UnmountRootfs(id); err != nil {
			t.Errorf("cleanup rootfs: %v", err)
		}
	})
	rootfs, err := f.images.MountRootfs(f.img, id)
	if err != nil {
		t.Fatal(err)
	}
	return rootfs
}

// create starts a container and deletes it when the test ends, even when the test fails.
func (f *fixture) create(t *testing.T, spec container.Spec) container.Record {
	t.Helper()
	t.Cleanup(func() {
		if err := f.driver.Delete(context.Background(), spec.ID); err != nil {
			t.Errorf("cleanup container: %v", err)
		}
	})
	rec, err := f.driver.Create(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (f *fixture) spec(t *testing.T, id string, script string) container.Spec {
	return container.Spec{
		ID: id, Rootfs: f.rootfs(t, id), Args: []string{"/bin/sh", "-c", script},
		Env: []string{"GREETING=hello"}, CPU: 1, MemoryBytes: 128 * mib, Pids: 64,
	}
}

func TestContainerLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d, err := f.disks.Create(ctx, "lifecycle-data", 64*mib)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.disks.Delete(ctx, "lifecycle-data"); err != nil {
			t.Errorf("cleanup disk: %v", err)
		}
	})
	spec := f.spec(t, "lifecycle", `cat /proc/self/status; echo "net=$(ls /sys/class/net)"; echo "env=$GREETING";
dd if=/dev/zero of=/data/fill bs=1M count=100; echo "dd-exit=$?"; exec sleep 1000`)
	spec.Mounts = []container.Mount{{Source: d.MountPoint, Destination: "/data"}}
	rec := f.create(t, spec)

	if rec.ID != "tfz-lifecycle" || rec.CgroupsPath != f.driver.CgroupsPath("lifecycle") || !strings.HasPrefix(rec.CgroupsPath, "/tfz/tfz-") || rec.Pid <= 0 {
		t.Fatalf("record %+v", rec)
	}
	log := waitForLog(t, rec.Log, "dd-exit=")
	if !strings.Contains(log, "No space left on device") {
		t.Fatalf("writing 100 MiB into the 64 MiB volume did not fail with no space left:\n%s", log)
	}
	if !strings.Contains(log, "net=lo\n") || !strings.Contains(log, "env=hello\n") {
		t.Fatalf("want only loopback in a new net namespace and the spec's env:\n%s", log)
	}
	assertNoAdminCapabilities(t, log)

	cgroup := func(controller, file string) string {
		return readTrimmed(t, filepath.Join("/sys/fs/cgroup", controller, rec.CgroupsPath, file))
	}
	if got := cgroup("memory", "memory.limit_in_bytes"); got != strconv.Itoa(128*mib) {
		t.Fatalf("memory limit %s, want %d", got, 128*mib)
	}
	if got := cgroup("pids", "pids.max"); got != "64" {
		t.Fatalf("pids.max %s, want 64", got)
	}
	if got := cgroup("cpu", "cpu.cfs_quota_us"); got != "100000" {
		t.Fatalf("cfs quota %s, want 100000 (1 CPU)", got)
	}
	stats, err := f.driver.Stats(ctx, "lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	if stats.MemoryLimitBytes != 128*mib || stats.MemoryBytes == 0 || stats.Pids == 0 {
		t.Fatalf("stats %+v: want the 128 MiB limit, some memory use and a process", stats)
	}
	list, err := f.driver.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "tfz-lifecycle" || list[0].Status != container.StatusRunning {
		t.Fatalf("list = %+v, %v; want the one running container", list, err)
	}

	if err := f.driver.Pause(ctx, "lifecycle"); err != nil {
		t.Fatal(err)
	}
	assertStatus(t, f.driver, "lifecycle", container.StatusPaused)
	if got := cgroup("freezer", "freezer.state"); got != "FROZEN" {
		t.Fatalf("freezer state %s after pause, want FROZEN", got)
	}
	if err := f.driver.Resume(ctx, "lifecycle"); err != nil {
		t.Fatal(err)
	}
	assertStatus(t, f.driver, "lifecycle", container.StatusRunning)
	if got := cgroup("freezer", "freezer.state"); got != "THAWED" {
		t.Fatalf("freezer state %s after resume, want THAWED", got)
	}

	// As after an agent restart: a new driver over the same data dir finds the container.
	restarted, err := container.New(f.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := restarted.State(ctx, "lifecycle")
	if err != nil || st.Pid != rec.Pid || st.Status != container.StatusRunning {
		t.Fatalf("restarted driver sees %+v, %v; want pid %d running", st, err, rec.Pid)
	}
	// Growing the volume under a running container is refused; the container keeps it.
	if _, err := f.disks.Grow(ctx, "lifecycle-data", 128*mib); !errors.Is(err, disk.ErrInUse) {
		t.Fatalf("grow a volume a running container uses: %v, want ErrInUse", err)
	}

	if err := restarted.Delete(ctx, "lifecycle"); err != nil {
		t.Fatal(err)
	}
	assertContainerGone(t, f.driver, rec)
	if err := restarted.Delete(ctx, "lifecycle"); err != nil {
		t.Fatalf("delete again: %v, want nil", err)
	}
	// With the machine stopped, the volume grows and keeps its data, then goes away whole.
	grown, err := f.disks.Grow(ctx, "lifecycle-data", 128*mib)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(grown.MountPoint, "fill")); err != nil || fi.Size() == 0 {
		t.Fatalf("volume data after grow: %v, %v", fi, err)
	}
	if err := f.disks.Delete(ctx, "lifecycle-data"); err != nil {
		t.Fatal(err)
	}
	backendtest.AssertDiskGone(t, d.File, d.MountPoint)
}

func TestDeletePausedContainer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.create(t, f.spec(t, "paused", "exec sleep 1000"))
	if err := f.driver.Pause(ctx, "paused"); err != nil {
		t.Fatal(err)
	}
	if err := f.driver.Delete(ctx, "paused"); err != nil {
		t.Fatal(err)
	}
	assertContainerGone(t, f.driver, rec)
}

func TestCreateRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.spec(t, "refusals", "exec sleep 1000")
	for _, tc := range []struct {
		change func(*container.Spec)
		want   string
	}{
		{func(s *container.Spec) { s.ID = "Bad ID" }, `container id "Bad ID"`},
		{func(s *container.Spec) { s.Rootfs = "relative" }, `rootfs "relative": must be an absolute path`},
		{func(s *container.Spec) { s.Rootfs = "/no/such/rootfs" }, `rootfs "/no/such/rootfs"`},
		{func(s *container.Spec) { s.Args = nil }, "args []: need at least the program to run"},
		{func(s *container.Spec) { s.Env = []string{"NOVALUE"} }, `env "NOVALUE": must be KEY=value`},
		{func(s *container.Spec) { s.WorkDir = "tmp" }, `workdir "tmp"`},
		{func(s *container.Spec) { s.CPU = 0 }, "cpu 0: must be at least 1"},
		{func(s *container.Spec) { s.MemoryBytes = 1024 }, "memory 1024 bytes"},
		{func(s *container.Spec) { s.Pids = 0 }, "pids 0"},
		{func(s *container.Spec) { s.Mounts = []container.Mount{{Source: "/no/such/dir", Destination: "/data"}} }, `mount source "/no/such/dir"`},
		{func(s *container.Spec) { s.Mounts = []container.Mount{{Source: "/tmp", Destination: "/"}} }, `mount destination "/"`},
		{func(s *container.Spec) { s.NetNS = "/no/such/netns" }, `netns "/no/such/netns"`},
	} {
		spec := good
		tc.change(&spec)
		if _, err := f.driver.Create(ctx, spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create with a bad field: %v, want %q", err, tc.want)
		}
	}
	// runc itself refuses: a program that is not in the image. Nothing is left behind.
	missing := good
	missing.Args = []string{"/bin/no-such-program"}
	if _, err := f.driver.Create(ctx, missing); err == nil || !strings.Contains(err.Error(), "no-such-program") {
		t.Fatalf("create with a missing program: %v, want an error naming it", err)
	}
	assertContainerGone(t, f.driver, container.Record{ID: "tfz-refusals", CgroupsPath: f.driver.CgroupsPath("refusals"),
		Bundle: filepath.Join(f.dataDir, "containers", "tfz-refusals")})

	f.create(t, good)
	if _, err := f.driver.Create(ctx, good); !errors.Is(err, container.ErrExists) {
		t.Fatalf("create twice: %v, want ErrExists", err)
	}
	if _, err := f.driver.State(ctx, "never-created"); !errors.Is(err, container.ErrNotFound) {
		t.Fatalf("state of an unknown container: %v, want ErrNotFound", err)
	}
}

func waitForLog(t *testing.T, path, marker string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), marker) {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the container log after 30 s:\n%s", marker, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func assertNoAdminCapabilities(t *testing.T, status string) {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			if caps&(1<<capNetAdmin) != 0 || caps&(1<<capSysAdmin) != 0 || caps == 0 {
				t.Fatalf("effective capabilities %x: want some, but not CAP_NET_ADMIN or CAP_SYS_ADMIN", caps)
			}
			return
		}
	}
	t.Fatalf("no CapEff line in the container's output:\n%s", status)
}

func assertStatus(t *testing.T, d *container.Driver, id, want string) {
	t.Helper()
	st, err := d.State(context.Background(), id)
	if err != nil || st.Status != want {
		t.Fatalf("state of %s = %+v, %v; want %s", id, st, err, want)
	}
}

// assertContainerGone checks the machine, not the driver: no process, cgroup, bundle or runc state.
func assertContainerGone(t *testing.T, d *container.Driver, rec container.Record) {
	t.Helper()
	if rec.Pid > 0 {
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(rec.Pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if err := syscall.Kill(rec.Pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists (%v)", rec.Pid, err)
		}
	}
	hierarchies, err := filepath.Glob("/sys/fs/cgroup/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hierarchies {
		if p := filepath.Join(h, rec.CgroupsPath); !isGone(p) {
			t.Errorf("cgroup %s still exists", p)
		}
		// The shared parent goes with its last container; other packages' tests (the engine's, the
		// agent's end-to-end) may have containers in it at the same time.
		if p := filepath.Join(h, filepath.Dir(rec.CgroupsPath)); !isGone(p) && !hasSubdir(p) {
			t.Errorf("empty cgroup parent %s left behind", p)
		}
	}
	if _, err := os.Stat(rec.Bundle); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bundle %s still exists (%v)", rec.Bundle, err)
	}
	if _, err := d.State(context.Background(), strings.TrimPrefix(rec.ID, "tfz-")); !errors.Is(err, container.ErrNotFound) {
		t.Errorf("runc still knows %s: %v", rec.ID, err)
	}
}

func isGone(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

func hasSubdir(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			return true
		}
	}
	return false
}

func readTrimmed(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
