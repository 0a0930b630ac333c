package disk_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/mountinfo"
)

const mib = 1 << 20

// newDisk creates a disk and makes sure the test leaves nothing behind, even when it fails.
func newDisk(t *testing.T, id string, size uint64) (*disk.Manager, disk.Disk) {
	t.Helper()
	backendtest.RequireRoot(t)
	mgr, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := mgr.Create(context.Background(), id, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mgr.Delete(context.Background(), id); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return mgr, d
}

func TestCreateAllocatesExactlyAndEnforcesTheSize(t *testing.T) {
	_, d := newDisk(t, "vol1", 64*mib)
	var st syscall.Stat_t
	if err := syscall.Stat(d.File, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 64*mib || st.Blocks*512 < 64*mib {
		t.Fatalf("file is %d bytes with %d allocated, want exactly %d allocated (not sparse)", st.Size, st.Blocks*512, 64*mib)
	}
	if mounted, err := mountinfo.IsMountPoint(d.MountPoint); err != nil || !mounted {
		t.Fatalf("%s mounted = %v, %v", d.MountPoint, mounted, err)
	}
	if !strings.HasPrefix(d.LoopDevice, "/dev/loop") || !strings.HasPrefix(filepath.Base(d.File), "tfz-") {
		t.Fatalf("disk %+v: want a loop device and a tfz- file", d)
	}
	err := os.WriteFile(filepath.Join(d.MountPoint, "fill"), make([]byte, 70*mib), 0o600)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing 70 MiB into a 64 MiB disk: %v, want no space left", err)
	}
}

func TestGrowKeepsDataAndShrinkIsRefused(t *testing.T) {
	mgr, d := newDisk(t, "grow", 64*mib)
	ctx := context.Background()
	data := bytes.Repeat([]byte("tfgrid"), 1<<20)
	if err := os.WriteFile(filepath.Join(d.MountPoint, "keep"), data, 0o600); err != nil {
		t.Fatal(err)
	}

	grown, err := mgr.Grow(ctx, "grow", 128*mib)
	if err != nil {
		t.Fatal(err)
	}
	if grown.Size != 128*mib {
		t.Fatalf("grown size %d, want %d", grown.Size, 128*mib)
	}
	if got, err := os.ReadFile(filepath.Join(grown.MountPoint, "keep")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data after grow: %d bytes, %v; want the %d bytes written before", len(got), err, len(data))
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(grown.MountPoint, &fs); err != nil {
		t.Fatal(err)
	}
	if total := fs.Blocks * uint64(fs.Bsize); total < 100*mib {
		t.Fatalf("filesystem is %d bytes after growing to 128 MiB", total)
	}

	_, err = mgr.Grow(ctx, "grow", 64*mib)
	if !errors.Is(err, disk.ErrShrink) || !strings.Contains(err.Error(), "tfz-grow") {
		t.Fatalf("shrink: %v, want ErrShrink naming the disk", err)
	}
	if after, err := mgr.Get("grow"); err != nil || after.Size != 128*mib {
		t.Fatalf("after refused shrink: %+v, %v", after, err)
	}
}

// A disk still mounted elsewhere (as a container holds it) is neither grown nor deleted.
func TestGrowAndDeleteRefuseADiskInUse(t *testing.T) {
	mgr, d := newDisk(t, "busy", 32*mib)
	ctx := context.Background()
	other := t.TempDir()
	if err := unix.Mount(d.MountPoint, other, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	unmountOther := func() { _ = unix.Unmount(other, 0) }
	t.Cleanup(unmountOther)

	if _, err := mgr.Grow(ctx, "busy", 64*mib); !errors.Is(err, disk.ErrInUse) {
		t.Fatalf("grow while in use: %v, want ErrInUse", err)
	}
	if err := mgr.Delete(ctx, "busy"); !errors.Is(err, disk.ErrInUse) {
		t.Fatalf("delete while in use: %v, want ErrInUse", err)
	}
	after, err := mgr.Get("busy")
	if err != nil || after.Size != 32*mib || after.LoopDevice == "" {
		t.Fatalf("after refusals: %+v, %v; want the disk unchanged and attached", after, err)
	}
	if mounted, _ := mountinfo.IsMountPoint(d.MountPoint); !mounted {
		t.Fatal("the refused grow left the disk unmounted")
	}
	unmountOther()
	if _, err := mgr.Grow(ctx, "busy", 64*mib); err != nil {
		t.Fatalf("grow once released: %v", err)
	}
}

func TestDeleteRemovesEverythingAndIsIdempotent(t *testing.T) {
	backendtest.RequireRoot(t)
	mgr, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := mgr.Create(ctx, "gone", 16*mib)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Delete(ctx, "gone") })
	if err := mgr.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	backendtest.AssertDiskGone(t, d.File, d.MountPoint)
	if err := mgr.Delete(ctx, "gone"); err != nil {
		t.Fatalf("delete again: %v, want nil", err)
	}
	if _, err := mgr.Get("gone"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("get deleted: %v, want ErrNotFound", err)
	}
}

// After a reboot the file is there but its loop device and mount are not; Mount brings them back.
func TestMountReattachesAfterReboot(t *testing.T) {
	mgr, d := newDisk(t, "reboot", 16*mib)
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(d.MountPoint, "before"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Unmount(d.MountPoint, 0); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("losetup", "-d", d.LoopDevice).CombinedOutput(); err != nil {
		t.Fatalf("losetup -d: %v: %s", err, out)
	}
	back, err := mgr.Mount(ctx, "reboot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(back.MountPoint, "before")); err != nil {
		t.Fatalf("data after remount: %v", err)
	}
}

// A virtual machine's disk is unmounted and detached on the node (the guest mounts it), keeps its
// data and mounts again afterwards; Unmount is idempotent.
func TestUnmountForAVirtualMachine(t *testing.T) {
	mgr, d := newDisk(t, "vmdisk", 16*mib)
	if err := os.WriteFile(filepath.Join(d.MountPoint, "kept"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := mgr.Unmount("vmdisk")
		if err != nil {
			t.Fatal(err)
		}
		if got.File != d.File || got.LoopDevice != "" {
			t.Fatalf("unmounted disk %+v: want file %s and no loop device", got, d.File)
		}
		if mounted, err := mountinfo.IsMountPoint(d.MountPoint); err != nil || mounted {
			t.Fatalf("%s still mounted (%v)", d.MountPoint, err)
		}
		if now, err := mgr.Get("vmdisk"); err != nil || now.LoopDevice != "" {
			t.Fatalf("after unmount: %+v, %v: want no loop device", now, err)
		}
	}
	back, err := mgr.Mount(context.Background(), "vmdisk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(back.MountPoint, "kept")); err != nil {
		t.Fatalf("data after unmount and mount: %v", err)
	}
	if _, err := mgr.Unmount("missing"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("unmount of a missing disk: %v, want ErrNotFound", err)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	dataDir := t.TempDir()
	mgr, err := disk.New(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		id   string
		size uint64
		want string
	}{
		{"ok", 1 * mib, "disk size 1048576 bytes: must be a multiple of 4096 and at least 16777216"},
		{"ok", 16*mib + 1, "disk size 16777217 bytes"},
		{"Bad/ID", 16 * mib, `disk id "Bad/ID"`},
	} {
		if _, err := mgr.Create(ctx, tc.id, tc.size); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create %q %d: %v, want %q", tc.id, tc.size, err, tc.want)
		}
	}
	if _, err := mgr.Grow(ctx, "missing", 32*mib); !errors.Is(err, disk.ErrNotFound) {
		t.Errorf("grow a missing disk: %v, want ErrNotFound", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dataDir, "disks")); len(entries) != 0 {
		t.Errorf("bad input left files: %v", entries)
	}
}
