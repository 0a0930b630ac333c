package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A virtual machine image is an image whose root holds a kernel, as Zero-OS's VM flists do: the
// engine boots it with QEMU instead of running it in a container.
const (
	VMKernel = "boot/vmlinuz"    // a bzImage; its presence makes the image a VM image
	VMInitrd = "boot/initrd.img" // optional
)

// ErrBadVMImage: an image holds a kernel the node will not boot.
var ErrBadVMImage = errors.New("bad virtual machine image")

// VMBoot is what a VM image boots: files of its read-only base (the guest gets neither the base
// nor an overlay; its writable storage is its zmounts).
type VMBoot struct {
	Kernel string
	Initrd string // empty: the image has none
}

// VMBoot reports whether img is a virtual machine image and what it boots. The kernel and initrd
// must be regular files reached without a symbolic link: QEMU opens them on the node, where an
// image's link could point at any of the node's files.
func (img Image) VMBoot() (VMBoot, bool, error) {
	kernel, found, err := regularFileIn(img.Rootfs, VMKernel)
	if err != nil {
		return VMBoot{}, false, fmt.Errorf("image %s: %w", img.Digest, err)
	}
	if !found {
		return VMBoot{}, false, nil
	}
	initrd, _, err := regularFileIn(img.Rootfs, VMInitrd)
	if err != nil {
		return VMBoot{}, false, fmt.Errorf("image %s: %w", img.Digest, err)
	}
	return VMBoot{Kernel: kernel, Initrd: initrd}, true, nil
}

// regularFileIn returns root/rel when it is a regular file and no component of rel is a
// symbolic link; a missing file is not found, anything else there is ErrBadVMImage.
func regularFileIn(root, rel string) (string, bool, error) {
	path := root
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		path = filepath.Join(path, part)
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		last := i == len(parts)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", false, fmt.Errorf("%w: %s is a symbolic link: a VM image's boot files must be regular files", ErrBadVMImage, strings.Join(parts[:i+1], "/"))
		case last && !fi.Mode().IsRegular():
			return "", false, fmt.Errorf("%w: %s is not a regular file", ErrBadVMImage, rel)
		case !last && !fi.IsDir():
			return "", false, fmt.Errorf("%w: %s is not a directory", ErrBadVMImage, strings.Join(parts[:i+1], "/"))
		}
	}
	return path, true, nil
}
