package image_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/mountinfo"
)

func openStore(t *testing.T) *image.Store {
	t.Helper()
	store, err := image.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func TestImportRootfsTarResolvesByDigestOnly(t *testing.T) {
	backendtest.RequireRoot(t)
	store := openStore(t)
	tarPath := backendtest.WriteRootfsTar(t, t.TempDir())

	img, err := store.Import(tarPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if img.Kind != image.KindRootfs || !strings.HasPrefix(img.Digest, "sha256:") {
		t.Fatalf("imported %+v, want a rootfs image with a sha256 digest", img)
	}
	got, err := store.Resolve(img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	assertBusybox(t, got.Rootfs)
	if _, err := store.Resolve("busybox"); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("resolve an unnamed image by a name: %v, want ErrNotFound", err)
	}
}

func TestImportOCILayoutDirAndTarGiveOneImage(t *testing.T) {
	backendtest.RequireRoot(t)
	store := openStore(t)
	layoutDir := t.TempDir()
	want := backendtest.WriteOCILayout(t, layoutDir, "busybox:test")
	wantDigest, err := want.Digest()
	if err != nil {
		t.Fatal(err)
	}

	fromDir, err := store.Import(layoutDir, "")
	if err != nil {
		t.Fatal(err)
	}
	if fromDir.Digest != wantDigest.String() || fromDir.Name != "busybox:test" || fromDir.Kind != image.KindOCI {
		t.Fatalf("imported %+v, want OCI image %s named busybox:test", fromDir, wantDigest)
	}
	if strings.Join(fromDir.Entrypoint, " ") != "/bin/sh" || !slices.Contains(fromDir.Env, "FROM_IMAGE=yes") {
		t.Fatalf("image config not kept: entrypoint %q env %q", fromDir.Entrypoint, fromDir.Env)
	}
	// Unpacked once per digest: a marker left in the base survives a second import of the same image.
	marker := filepath.Join(fromDir.Rootfs, "marker")
	if err := os.WriteFile(marker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	layoutTar := filepath.Join(t.TempDir(), "layout.tar")
	backendtest.TarDir(t, layoutDir, layoutTar)
	fromTar, err := store.Import(layoutTar, "other-name")
	if err != nil {
		t.Fatal(err)
	}
	if fromTar.Digest != fromDir.Digest || fromTar.Rootfs != fromDir.Rootfs {
		t.Fatalf("tar import %+v differs from directory import %+v", fromTar, fromDir)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("second import unpacked the digest again: %v", err)
	}
	for _, ref := range []string{"busybox:test", "other-name", fromDir.Digest} {
		got, err := store.Resolve(ref)
		if err != nil || got.Digest != fromDir.Digest {
			t.Fatalf("resolve %q = %+v, %v; want digest %s", ref, got, err, fromDir.Digest)
		}
	}
	assertBusybox(t, fromDir.Rootfs)
}

func TestResolveErrors(t *testing.T) {
	store := openStore(t)
	missingDigest := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		ref, want string
		notFound  bool
	}{
		{"no-such-image", `image "no-such-image": image not found in the local store`, true},
		{missingDigest, missingDigest, true},
		{"sha256:abc", `image digest "sha256:abc": must be sha256: followed by 64 lowercase hex digits`, false},
		{"", `image name "": must be`, false},
		{"../etc", `image name "../etc"`, false},
	} {
		_, err := store.Resolve(tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, image.ErrNotFound) != tc.notFound {
			t.Errorf("resolve %q: %v; want an error containing %q (not found: %v)", tc.ref, err, tc.want, tc.notFound)
		}
	}
}

func TestImportRefusesWhatIsNoImage(t *testing.T) {
	store := openStore(t)
	dir := t.TempDir()
	notTar := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notTar, bytes.Repeat([]byte("not a tar archive "), 64), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Import(notTar, ""); err == nil || !strings.Contains(err.Error(), "not a tar archive") {
		t.Fatalf("import a text file: %v, want 'not a tar archive'", err)
	}
	if _, err := store.Import(dir, ""); err == nil || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Fatalf("import a plain directory: %v, want 'not an OCI image layout'", err)
	}
	if _, err := store.Import(notTar, "bad name"); err == nil || !strings.Contains(err.Error(), `image name "bad name"`) {
		t.Fatalf("import under a bad name: %v", err)
	}
}

// A hostile tarball cannot write outside the base, neither by ../ names nor through a symlink.
func TestImportConfinesTarEntries(t *testing.T) {
	backendtest.RequireRoot(t)
	store := openStore(t)
	outside := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(hdr *tar.Header, body string) {
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	write(&tar.Header{Name: "../../escaped", Typeflag: tar.TypeReg, Mode: 0o644}, "dot-dot")
	write(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside}, "")
	write(&tar.Header{Name: "link/through-symlink", Typeflag: tar.TypeReg, Mode: 0o644}, "symlink")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(t.TempDir(), "hostile.tar")
	if err := os.WriteFile(tarPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Import(tarPath, "")
	if err == nil || !strings.Contains(err.Error(), `tar entry "link/through-symlink"`) {
		t.Fatalf("import through a symlink: %v, want a refusal naming the entry", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("the tar wrote outside the base: %v", entries)
	}
}

func TestRootfsOverlayKeepsBaseReadOnly(t *testing.T) {
	backendtest.RequireRoot(t)
	store := openStore(t)
	img, err := store.Import(backendtest.WriteRootfsTar(t, t.TempDir()), "busybox")
	if err != nil {
		t.Fatal(err)
	}
	rootfs, err := store.MountRootfs(img, "overlay-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.UnmountRootfs("overlay-test") })
	if again, err := store.MountRootfs(img, "overlay-test"); err != nil || again != rootfs {
		t.Fatalf("mount again = %q, %v; want the same %q", again, err, rootfs)
	}
	assertBusybox(t, rootfs)
	if err := os.WriteFile(filepath.Join(rootfs, "tmp", "written"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(img.Rootfs, "tmp", "written")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a container write reached the base: %v", err)
	}
	if err := store.UnmountRootfs("overlay-test"); err != nil {
		t.Fatal(err)
	}
	if mounted, _ := mountinfo.IsMountPoint(rootfs); mounted {
		t.Fatalf("%s still mounted", rootfs)
	}
	if _, err := os.Stat(filepath.Dir(rootfs)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("container directory left: %v", err)
	}
	if err := store.UnmountRootfs("overlay-test"); err != nil {
		t.Fatalf("unmount twice: %v, want nil", err)
	}
}

func assertBusybox(t *testing.T, rootfs string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(rootfs, "bin", "busybox"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("bin/busybox in %s: %v, %v", rootfs, fi, err)
	}
	if target, err := os.Readlink(filepath.Join(rootfs, "bin", "sh")); err != nil || target != "busybox" {
		t.Fatalf("bin/sh -> %q, %v", target, err)
	}
}
