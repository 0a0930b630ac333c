// Package backendtest builds what the backend tests need on the real machine: a busybox root
// filesystem (from Debian's busybox-static, at test time: no binary is committed) as a rootfs
// tarball and as an OCI image layout, and a check that the tests run as root.
package backendtest

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// RequireRoot fails the test unless it runs as root: containers, loop devices and mounts need it.
func RequireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the backend tests run real containers, loop devices and mounts: run them as root")
	}
}

// busyboxPath is where Debian's busybox-static installs the statically linked binary.
const busyboxPath = "/bin/busybox"

// applets get a symlink in the image; the tests' scripts use only these.
var applets = []string{"sh", "sleep", "dd", "echo", "cat", "ls", "mkdir", "df", "sync", "rm", "true", "nc"}

// RootfsTar writes a busybox root filesystem tarball and returns its bytes.
func RootfsTar(t *testing.T) []byte {
	t.Helper()
	bin, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatalf("read %s (install Debian's busybox-static): %v", busyboxPath, err)
	}
	if f, err := elf.NewFile(bytes.NewReader(bin)); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatalf("%s is dynamically linked; the image needs Debian's busybox-static", busyboxPath)
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []string{"bin", "dev", "proc", "sys", "tmp", "etc", "data", "root"}
	for _, d := range dirs {
		must(t, tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755}))
	}
	must(t, tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}))
	_, err = tw.Write(bin)
	must(t, err)
	for _, a := range applets {
		must(t, tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}))
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// WriteRootfsTar writes the busybox rootfs tarball into dir and returns its path.
func WriteRootfsTar(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "busybox-rootfs.tar")
	must(t, os.WriteFile(path, RootfsTar(t), 0o600))
	return path
}

// WriteOCILayout writes an OCI image layout holding one busybox image named name (in the index's
// ref.name annotation) whose entrypoint is /bin/sh, and returns the image.
func WriteOCILayout(t *testing.T, dir, name string) v1.Image {
	t.Helper()
	rootfs := RootfsTar(t)
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs)), nil
	})
	must(t, err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	must(t, err)
	cfg, err := img.ConfigFile()
	must(t, err)
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Entrypoint = []string{"/bin/sh"}
	cfg.Config.Env = []string{"PATH=/bin", "FROM_IMAGE=yes"}
	img, err = mutate.ConfigFile(img, cfg)
	must(t, err)
	p, err := layout.Write(dir, empty.Index)
	must(t, err)
	must(t, p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": name})))
	return img
}

// TarDir writes the tree under dir as a tar file at out.
func TarDir(t *testing.T, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	must(t, err)
	defer f.Close()
	tw := tar.NewWriter(f)
	must(t, tw.AddFS(os.DirFS(dir)))
	must(t, tw.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// AssertDiskGone fails unless a disk's file, mount point, mount and loop device are all gone.
func AssertDiskGone(t *testing.T, file, mountPoint string) {
	t.Helper()
	out, err := exec.Command("losetup", "--associated", file).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("loop device still backed by %s: %s %v", file, out, err)
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil || bytes.Contains(mounts, []byte(" "+mountPoint+" ")) {
		t.Errorf("%s still mounted (%v)", mountPoint, err)
	}
	for _, p := range []string{file, mountPoint} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (%v)", p, err)
		}
	}
}
