package image_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

// An image is a VM image when its root holds boot/vmlinuz; its boot files must be regular files
// reached without a symbolic link (QEMU opens them on the node).
func TestVMBoot(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("node file"), 0o600); err != nil {
		t.Fatal(err)
	}
	type entry struct{ path, kind string } // kind: file, dir, link (to outside)
	for name, tc := range map[string]struct {
		entries    []entry
		vm, initrd bool
		err        error
	}{
		"container image":       {entries: []entry{{"bin/sh", "file"}}},
		"kernel only":           {entries: []entry{{"boot/vmlinuz", "file"}}, vm: true},
		"kernel and initrd":     {entries: []entry{{"boot/vmlinuz", "file"}, {"boot/initrd.img", "file"}}, vm: true, initrd: true},
		"kernel is a link":      {entries: []entry{{"boot", "dir"}, {"boot/vmlinuz", "link"}}, err: image.ErrBadVMImage},
		"boot is a link":        {entries: []entry{{"boot", "link"}}, err: image.ErrBadVMImage},
		"initrd is a link":      {entries: []entry{{"boot/vmlinuz", "file"}, {"boot/initrd.img", "link"}}, err: image.ErrBadVMImage},
		"kernel is a directory": {entries: []entry{{"boot/vmlinuz", "dir"}}, err: image.ErrBadVMImage},
		"boot is a file":        {entries: []entry{{"boot", "file"}}, err: image.ErrBadVMImage},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for _, e := range tc.entries {
				path := filepath.Join(root, e.path)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				var err error
				switch e.kind {
				case "file":
					err = os.WriteFile(path, []byte("x"), 0o644)
				case "dir":
					err = os.Mkdir(path, 0o755)
				case "link":
					err = os.Symlink(outside, path)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			boot, vm, err := image.Image{Digest: "sha256:test", Rootfs: root}.VMBoot()
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if vm != tc.vm || (boot.Kernel != "") != tc.vm || (boot.Initrd != "") != tc.initrd {
				t.Fatalf("VMBoot = %+v, %v; want vm %v, initrd %v", boot, vm, tc.vm, tc.initrd)
			}
			if tc.vm && boot.Kernel != filepath.Join(root, image.VMKernel) {
				t.Fatalf("kernel %s", boot.Kernel)
			}
		})
	}
}
