package image

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/mountinfo"
)

// A container's root is an overlay: the image's base as the read-only lower layer and a directory
// of its own as the upper layer. Compared to copying the base, it starts instantly, stores an
// image once however many containers use it, and no container can change another's files or the
// base. The upper layer outlives a container restart (stop, grow a disk, start) until UnmountRootfs.

// MountRootfs mounts container id's root over img and returns its path. Mounting an already
// mounted root returns the same path, so the engine can call it again after an agent restart.
func (s *Store) MountRootfs(img Image, id string) (string, error) {
	if err := backend.ValidateID(id); err != nil {
		return "", err
	}
	dir := s.containerDir(id)
	rootfs := filepath.Join(dir, "rootfs")
	mounted, err := mountinfo.IsMountPoint(rootfs)
	if err != nil || mounted {
		return rootfs, err
	}
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work, rootfs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", img.Rootfs, upper, work)
	if err := unix.Mount("overlay", rootfs, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("mount overlay root for %s on image %s: %w", backend.Name(id), img.Digest, err)
	}
	return rootfs, nil
}

// UnmountRootfs unmounts container id's root and removes its upper layer. A root that is not
// there is not an error; a root still in use (its container still runs) is, and keeps its files.
func (s *Store) UnmountRootfs(id string) error {
	if err := backend.ValidateID(id); err != nil {
		return err
	}
	dir := s.containerDir(id)
	rootfs := filepath.Join(dir, "rootfs")
	mounted, err := mountinfo.IsMountPoint(rootfs)
	if err != nil {
		return err
	}
	if mounted {
		if err := unix.Unmount(rootfs, 0); err != nil {
			return fmt.Errorf("unmount root of %s: %w", backend.Name(id), err)
		}
	}
	return os.RemoveAll(dir)
}

func (s *Store) containerDir(id string) string {
	return filepath.Join(s.dir, "containers", backend.Name(id))
}
