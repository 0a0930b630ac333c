// Package disk gives workloads real disks: an ext4 filesystem in a file of exactly the requested
// size, fully allocated (not sparse, so the node's disk capacity is really set aside), attached to
// a loop device and mounted where a container can bind it.
package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/mountinfo"
)

var (
	// ErrNotFound: no disk file with this id.
	ErrNotFound = errors.New("disk does not exist")
	// ErrExists: a disk with this id already exists.
	ErrExists = errors.New("disk already exists")
	// ErrShrink: a disk never gets smaller; its filesystem holds the workload's data.
	ErrShrink = errors.New("shrinking a disk is refused")
	// ErrInUse: the filesystem is still mounted somewhere else (a running container).
	ErrInUse = errors.New("disk is in use: stop the machine using it first")
)

// Size limits: ext4 in a file needs a few MiB for its metadata, and block-aligned sizes keep the
// file, the loop device and the filesystem the same size.
const (
	MinSize   = 16 << 20
	sizeAlign = 4096
)

// Manager keeps disks under <data dir>/disks: tfz-<id>.img (the filesystem) and tfz-<id>/ (its
// mount point).
type Manager struct {
	dir string
}

// Disk is what the engine records about a disk.
type Disk struct {
	ID         string `json:"id"` // without the prefix
	File       string `json:"file"`
	Size       uint64 `json:"size"`
	LoopDevice string `json:"loop_device"`
	MountPoint string `json:"mount_point"`
}

// New prepares a manager over dataDir.
func New(dataDir string) (*Manager, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "disks"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &Manager{dir: dir}, nil
}

// ValidateSize reports a size a disk cannot have, naming it.
func ValidateSize(size uint64) error {
	if size < MinSize || size%sizeAlign != 0 {
		return fmt.Errorf("disk size %d bytes: must be a multiple of %d and at least %d", size, sizeAlign, MinSize)
	}
	return nil
}

func (m *Manager) file(id string) string       { return filepath.Join(m.dir, backend.Name(id)+".img") }
func (m *Manager) mountPoint(id string) string { return filepath.Join(m.dir, backend.Name(id)) }

// Create allocates exactly size bytes, makes an ext4 filesystem with no reserved blocks (the
// workload gets all of it) and mounts it. On failure nothing is left.
func (m *Manager) Create(ctx context.Context, id string, size uint64) (Disk, error) {
	if err := backend.ValidateID(id); err != nil {
		return Disk{}, fmt.Errorf("disk %w", err)
	}
	if err := ValidateSize(size); err != nil {
		return Disk{}, err
	}
	file := m.file(id)
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Disk{}, fmt.Errorf("disk %s: %w", backend.Name(id), ErrExists)
	}
	if err != nil {
		return Disk{}, err
	}
	d, err := m.format(ctx, f, id, size)
	if err != nil {
		if cleanupErr := m.Delete(ctx, id); cleanupErr != nil {
			err = errors.Join(err, fmt.Errorf("clean up: %w", cleanupErr))
		}
		return Disk{}, fmt.Errorf("create disk %s: %w", backend.Name(id), err)
	}
	return d, nil
}

func (m *Manager) format(ctx context.Context, f *os.File, id string, size uint64) (Disk, error) {
	if err := allocate(f, size); err != nil {
		return Disk{}, err
	}
	// nodiscard: discarding would punch holes into the file and give back the space just allocated.
	if err := run(ctx, "mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", "-L", backend.Name(id), m.file(id)); err != nil {
		return Disk{}, err
	}
	return m.Mount(ctx, id)
}

// Mount attaches the disk's file to a loop device and mounts it, unless that is already done, and
// returns its state. After a node reboot (loop devices and mounts gone) it brings the disk back.
func (m *Manager) Mount(ctx context.Context, id string) (Disk, error) {
	d, err := m.Get(id)
	if err != nil {
		return Disk{}, err
	}
	if d.LoopDevice == "" {
		out, err := output(ctx, "losetup", "--find", "--show", d.File)
		if err != nil {
			return Disk{}, err
		}
		d.LoopDevice = strings.TrimSpace(out)
	}
	mounted, err := mountinfo.IsMountPoint(d.MountPoint)
	if err != nil || mounted {
		return d, err
	}
	if err := os.MkdirAll(d.MountPoint, 0o755); err != nil {
		return Disk{}, err
	}
	if err := unix.Mount(d.LoopDevice, d.MountPoint, "ext4", unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return Disk{}, fmt.Errorf("mount %s on %s: %w", d.LoopDevice, d.MountPoint, err)
	}
	return d, nil
}

// Unmount unmounts the disk and detaches its loop device, for a virtual machine that takes its
// file as a virtio disk: the guest's filesystem must not be mounted on the node too. A disk still
// mounted elsewhere (a container) is ErrInUse and stays as it was.
func (m *Manager) Unmount(id string) (Disk, error) {
	d, err := m.Get(id)
	if err != nil {
		return Disk{}, err
	}
	if err := m.release(d); err != nil {
		return Disk{}, err
	}
	d.LoopDevice = ""
	return d, nil
}

// Get reports a disk's current state: its size and, when attached, its loop device.
func (m *Manager) Get(id string) (Disk, error) {
	if err := backend.ValidateID(id); err != nil {
		return Disk{}, fmt.Errorf("disk %w", err)
	}
	file := m.file(id)
	fi, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return Disk{}, fmt.Errorf("disk %s: %w", backend.Name(id), ErrNotFound)
	}
	if err != nil {
		return Disk{}, err
	}
	loops, err := loopDevicesOf(file)
	if err != nil {
		return Disk{}, err
	}
	d := Disk{ID: id, File: file, Size: uint64(fi.Size()), MountPoint: m.mountPoint(id)}
	if len(loops) > 0 {
		d.LoopDevice = loops[0]
	}
	return d, nil
}

// Grow makes the disk size bytes, keeping its data. This kernel refuses to resize a mounted ext4,
// so the disk is unmounted, grown offline and mounted again: whatever uses it (a container) must
// be stopped first, or Grow fails with ErrInUse and changes nothing. A smaller size is refused.
func (m *Manager) Grow(ctx context.Context, id string, size uint64) (Disk, error) {
	d, err := m.Get(id)
	if err != nil {
		return Disk{}, err
	}
	switch {
	case size < d.Size:
		return Disk{}, fmt.Errorf("disk %s: size %d is below its current %d bytes: %w", backend.Name(id), size, d.Size, ErrShrink)
	case size == d.Size:
		return m.Mount(ctx, id)
	}
	if err := ValidateSize(size); err != nil {
		return Disk{}, err
	}
	if err := m.release(d); err != nil {
		return Disk{}, err
	}
	if err := growFile(ctx, d.File, size); err != nil {
		return Disk{}, fmt.Errorf("grow disk %s to %d bytes: %w", backend.Name(id), size, err)
	}
	return m.Mount(ctx, id)
}

// growFile extends the file, fully allocated, and then its filesystem. resize2fs wants a freshly
// checked filesystem, so e2fsck runs first.
func growFile(ctx context.Context, file string, size uint64) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := allocate(f, size); err != nil {
		return err
	}
	// e2fsck -p exits 1 when it fixed something, which still leaves a clean filesystem.
	if err := run(ctx, "e2fsck", "-f", "-p", file); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			return err
		}
	}
	return run(ctx, "resize2fs", file)
}

// allocate makes f exactly size bytes, every one of them allocated on disk, and closes it.
func allocate(f *os.File, size uint64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, int64(size))
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("allocate %d bytes for %s: %w", size, f.Name(), err)
	}
	return nil
}

// release unmounts the disk and detaches its loop devices, refusing (and changing nothing) while
// its filesystem is mounted anywhere else.
func (m *Manager) release(d Disk) error {
	mounted, err := mountinfo.IsMountPoint(d.MountPoint)
	if err != nil {
		return err
	}
	loops, err := loopDevicesOf(d.File)
	if err != nil {
		return err
	}
	if mounted {
		if err := unix.Unmount(d.MountPoint, 0); err != nil {
			if errors.Is(err, unix.EBUSY) {
				return fmt.Errorf("disk %s: unmount %s: %w", backend.Name(d.ID), d.MountPoint, ErrInUse)
			}
			return fmt.Errorf("disk %s: unmount %s: %w", backend.Name(d.ID), d.MountPoint, err)
		}
	}
	for _, loop := range loops {
		if err := exclusive(loop); err != nil {
			if mounted {
				err = errors.Join(err, m.remount(d, loop))
			}
			return fmt.Errorf("disk %s: %w", backend.Name(d.ID), err)
		}
		if err := detach(loop); err != nil {
			return fmt.Errorf("disk %s: %w", backend.Name(d.ID), err)
		}
	}
	return nil
}

func (m *Manager) remount(d Disk, loop string) error {
	return unix.Mount(loop, d.MountPoint, "ext4", unix.MS_NOSUID|unix.MS_NODEV, "")
}

// exclusive fails with ErrInUse while a filesystem on the device is mounted in any mount namespace:
// the kernel refuses an exclusive open of a block device that holds a mounted filesystem.
func exclusive(dev string) error {
	fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("%s is still mounted elsewhere: %w", dev, ErrInUse)
	}
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func detach(loop string) error {
	fd, err := unix.Open(loop, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetInt(fd, unix.LOOP_CLR_FD, 0); err != nil && !errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("detach %s: %w", loop, err)
	}
	return nil
}

// Delete unmounts the disk, detaches its loop device and removes its file and mount point.
// Deleting a disk that is already (partly) gone is not an error, so crash recovery can call it
// blindly; a disk still used by a container is ErrInUse and stays whole.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if err := backend.ValidateID(id); err != nil {
		return fmt.Errorf("disk %w", err)
	}
	d := Disk{ID: id, File: m.file(id), MountPoint: m.mountPoint(id)}
	if err := m.release(d); err != nil {
		return err
	}
	// The file goes last: a disk whose file is gone is gone (Get), nothing of it is left behind.
	if err := os.Remove(d.MountPoint); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Remove(d.File); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// loopDevicesOf lists the loop devices whose backing file is file, from sysfs.
func loopDevicesOf(file string) ([]string, error) {
	backing, err := filepath.Glob("/sys/block/loop*/loop/backing_file")
	if err != nil {
		return nil, err
	}
	var devs []string
	for _, b := range backing {
		data, err := os.ReadFile(b)
		if errors.Is(err, os.ErrNotExist) {
			continue // detached meanwhile
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(string(data)) == file {
			devs = append(devs, "/dev/"+filepath.Base(filepath.Dir(filepath.Dir(b))))
		}
	}
	return devs, nil
}

func run(ctx context.Context, name string, args ...string) error {
	_, err := output(ctx, name, args...)
	return err
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
