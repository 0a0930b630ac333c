package backendtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

// A virtual machine guest for the tests: Debian's cloud kernel, unpacked (not installed) from its
// .deb once per test binary, and an initramfs of busybox-static and the kernel's virtio modules
// built by the test.

var (
	kernelOnce     sync.Once
	kernelCacheDir string
	kernelPath     string
	kernelModules  string // lib/modules/<version>/kernel of the unpacked package
	kernelErr      error
)

// MainWithGuest runs a test binary whose tests use GuestKernel (call it from TestMain) and
// removes what GuestKernel unpacked when they are done.
func MainWithGuest(m *testing.M) {
	code := m.Run()
	if kernelCacheDir != "" {
		os.RemoveAll(kernelCacheDir)
	}
	os.Exit(code)
}

// GuestKernel returns Debian's cloud kernel and its module tree, unpacked (not installed) once per
// test binary into a temporary directory that MainWithGuest removes. It takes the .deb from apt's
// archive cache when there is one, else downloads it with apt-get download.
func GuestKernel(t *testing.T) (kernel, modules string) {
	t.Helper()
	kernelOnce.Do(func() {
		kernelCacheDir, kernelErr = os.MkdirTemp("", "tfz-guest-kernel-")
		if kernelErr == nil {
			kernelPath, kernelModules, kernelErr = unpackCloudKernel(kernelCacheDir)
		}
	})
	if kernelErr != nil {
		t.Fatalf("Debian cloud kernel: %v", kernelErr)
	}
	return kernelPath, kernelModules
}

func unpackCloudKernel(dir string) (string, string, error) {
	debs, _ := filepath.Glob("/var/cache/apt/archives/linux-image-*-cloud-amd64_*_amd64.deb")
	if len(debs) == 0 {
		out, err := exec.Command("apt-cache", "depends", "linux-image-cloud-amd64").CombinedOutput()
		if err != nil {
			return "", "", fmt.Errorf("apt-cache depends linux-image-cloud-amd64: %w: %s", err, out)
		}
		var pkg string
		for _, line := range strings.Split(string(out), "\n") {
			if dep, ok := strings.CutPrefix(strings.TrimSpace(line), "Depends: "); ok && strings.HasPrefix(dep, "linux-image-") {
				pkg = dep
				break
			}
		}
		if pkg == "" {
			return "", "", fmt.Errorf("linux-image-cloud-amd64 names no kernel package: %s", out)
		}
		cmd := exec.Command("apt-get", "download", pkg)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("apt-get download %s: %w: %s", pkg, err, out)
		}
		debs, _ = filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
		if len(debs) == 0 {
			return "", "", fmt.Errorf("apt-get download %s left no .deb", pkg)
		}
	}
	root := filepath.Join(dir, "root")
	if out, err := exec.Command("dpkg-deb", "-x", debs[len(debs)-1], root).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[len(debs)-1], err, out)
	}
	kernels, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	modules, _ := filepath.Glob(filepath.Join(root, "lib", "modules", "*", "kernel"))
	if len(kernels) != 1 || len(modules) != 1 {
		return "", "", fmt.Errorf("%s holds kernels %q and module trees %q, want one of each", debs[len(debs)-1], kernels, modules)
	}
	return kernels[0], modules[0], nil
}

// virtioModules are the modules the cloud kernel needs for virtio-pci network and block devices,
// dependencies first; a module built into the kernel is simply not found and skipped.
var virtioModules = []string{
	"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
	"failover", "net_failover", "virtio_net", "virtio_blk",
}

// virtiofsModules are what virtio-fs needs on top of virtioModules; the guest loads them only when
// its command line names shares, so a guest without them boots as fast as before.
var virtiofsModules = []string{"fuse", "virtiofs"}

// GuestReply is what the guest's TCP server sends to every client; GuestDiskMarker is what it
// writes at the start of its first virtio disk.
const (
	GuestReply      = "tfz-vm-hello\n"
	GuestDiskMarker = "tfz-vm-disk-written"
)

// The guest mounts the virtio-fs shares its command line names (tfgrid.mounts=<tag>:<path>,...,
// the agent's guest contract), writes GuestShareFile holding "GuestShareMarker <tag>" into each and
// then serves its whole root on HTTP port GuestHTTPPort, so a test reads the shares' files at
// http://<guest>:GuestHTTPPort/<path>/<file>.
const (
	GuestShareFile   = "written-by-guest"
	GuestShareMarker = "tfz-vm-share-written"
	GuestHTTPPort    = 8080
)

// guestInit configures its cards from the kernel command line's ip= entries (the kernel's format,
// ip=<address>::<gateway>:<netmask>::<card>:off, one per card), writes GuestDiskMarker to
// /dev/vda (and tries to on the read-only /dev/vdb), mounts its virtio-fs shares (above), prints
// the CPUs and memory it sees, then serves GuestReply on TCP port 80 forever.
func guestInit() string {
	return `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ` + strings.Join(virtioModules, " ") + `; do
	[ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
# wait for /dev/vda only when the machine has a virtio block device (virtio device id 2)
if grep -qx 0x0002 /sys/bus/virtio/devices/*/device 2>/dev/null; then
	i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
fi
[ -b /dev/vda ] && printf '` + GuestDiskMarker + `' | dd of=/dev/vda conv=fsync 2>/dev/null && echo GUEST-DISK-WRITTEN
[ -b /dev/vdb ] && echo GUEST-HAS-VDB
[ -b /dev/vdb ] && printf '` + GuestDiskMarker + `' | dd of=/dev/vdb conv=fsync 2>/dev/null && echo GUEST-WROTE-READ-ONLY-DISK
ip link set lo up
for arg in $(cat /proc/cmdline); do
	case "$arg" in ip=*)
		echo "${arg#ip=}" > /tmp/ip
		IFS=: read addr server gw mask host dev auto < /tmp/ip
		ifconfig "$dev" "$addr" netmask "$mask" up
		[ -n "$gw" ] && route add default gw "$gw" dev "$dev"
		echo "GUEST-IP $dev $addr $mask gw $gw"
	esac
done
for arg in $(cat /proc/cmdline); do
	case "$arg" in tfgrid.mounts=*)
		for m in ` + strings.Join(virtiofsModules, " ") + `; do
			[ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
		done
		for m in $(echo "${arg#tfgrid.mounts=}" | tr , ' '); do
			tag=${m%%:*}; dir=${m#*:}
			mkdir -p "$dir" && mount -t virtiofs "$tag" "$dir" && echo "GUEST-MOUNTED $tag $dir" &&
				echo "` + GuestShareMarker + ` $tag" > "$dir/` + GuestShareFile + `"
		done
		httpd -p ` + fmt.Sprint(GuestHTTPPort) + ` -h /
	esac
done
printf '#!/bin/sh\nprintf "` + strings.TrimSuffix(GuestReply, "\n") + `\\n"\n' > /bin/hello
chmod +x /bin/hello
nc -ll -p 80 -e /bin/hello &
echo "GUEST-CPUS=$(grep -c ^processor /proc/cpuinfo)"
echo "GUEST-MEMORY-KB=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)"
echo GUEST-READY
while true; do sleep 3600; done
`
}

// GuestInitramfs writes a gzipped newc cpio archive with busybox, the test guest's init and the
// virtio modules of modules (GuestKernel's), and returns its path.
func GuestInitramfs(t *testing.T, modules string) string {
	t.Helper()
	busybox, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatalf("read /bin/busybox (install Debian's busybox-static): %v", err)
	}
	var archive cpioWriter
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"} {
		archive.dir(d)
	}
	archive.file("bin/busybox", busybox, 0o755)
	archive.file("init", []byte(guestInit()), 0o755)
	moduleFiles := map[string]string{}
	err = filepath.WalkDir(modules, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(d.Name(), ".ko") {
			moduleFiles[strings.TrimSuffix(d.Name(), ".ko")] = path
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range slices.Concat(virtioModules, virtiofsModules) {
		path, ok := moduleFiles[m]
		if !ok {
			continue // built into the kernel
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		archive.file("lib/modules/"+m+".ko", data, 0o644)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(archive.finish()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "initramfs.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// cpioWriter builds a cpio archive in the "newc" format, the one the kernel unpacks as an
// initramfs.
type cpioWriter struct {
	buf   bytes.Buffer
	inode int
}

func (w *cpioWriter) dir(name string) { w.entry(name, nil, 0o040755) }

func (w *cpioWriter) file(name string, data []byte, perm int) { w.entry(name, data, 0o100000|perm) }

func (w *cpioWriter) entry(name string, data []byte, mode int) {
	w.inode++
	fmt.Fprintf(&w.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		w.inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	w.buf.WriteString(name + "\x00")
	w.pad()
	w.buf.Write(data)
	w.pad()
}

func (w *cpioWriter) pad() {
	for w.buf.Len()%4 != 0 {
		w.buf.WriteByte(0)
	}
}

func (w *cpioWriter) finish() []byte {
	w.entry("TRAILER!!!", nil, 0)
	return w.buf.Bytes()
}

// WriteVMImage writes a rootfs tarball holding a VM image's boot files (image.VMKernel and, when
// given, image.VMInitrd) and returns its path.
func WriteVMImage(t *testing.T, kernel, initrd []byte) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "boot/", Typeflag: tar.TypeDir, Mode: 0o755}))
	for name, data := range map[string][]byte{image.VMKernel: kernel, image.VMInitrd: initrd} {
		if data == nil {
			continue
		}
		must(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}))
		_, err := tw.Write(data)
		must(t, err)
	}
	must(t, tw.Close())
	path := filepath.Join(t.TempDir(), "vm-image.tar")
	must(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

// WriteGuestImage writes the test guest (GuestKernel, GuestInitramfs) as a VM image tarball and
// returns its path.
func WriteGuestImage(t *testing.T) string {
	t.Helper()
	kernel, modules := GuestKernel(t)
	kernelData, err := os.ReadFile(kernel)
	must(t, err)
	initrd, err := os.ReadFile(GuestInitramfs(t, modules))
	must(t, err)
	return WriteVMImage(t, kernelData, initrd)
}
