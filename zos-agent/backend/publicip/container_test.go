package publicip

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

// A real busybox container (runc) with a public IP serves HTTP to the internet; after Delete the
// IP answers nothing while the container still runs.
func TestContainerServesHTTPOnItsPublicIP(t *testing.T) {
	f := newFarm(t)
	ns := backendtest.NetNS(t, "web")
	if _, err := f.m.Create(Spec{ID: "web", NetNS: ns, IP: netip.MustParsePrefix("203.0.113.30/24")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.m.Delete("web") })

	dataDir := t.TempDir()
	driver, err := container.New(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	images, err := image.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.Import(backendtest.WriteRootfsTar(t, t.TempDir()), "busybox")
	if err != nil {
		t.Fatal(err)
	}
	rootfs, err := images.MountRootfs(img, "web")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { images.UnmountRootfs("web") })
	script := "mkdir -p /tmp/www && echo public-web > /tmp/www/index.html && exec /bin/busybox httpd -f -p 80 -h /tmp/www"
	t.Cleanup(func() { driver.Delete(context.Background(), "web") })
	if _, err := driver.Create(context.Background(), container.Spec{
		ID: "web", Rootfs: rootfs, Args: []string{"/bin/sh", "-c", script}, CPU: 1, MemoryBytes: 64 << 20, Pids: 32, NetNS: ns,
	}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		body, err := backendtest.HTTPGet(f.internet, "http://203.0.113.30/", time.Second)
		if err == nil && strings.TrimSpace(body) == "public-web" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("internet to the container's public IP: %q %v", body, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := f.m.Delete("web"); err != nil {
		t.Fatal(err)
	}
	if body, err := backendtest.HTTPGet(f.internet, "http://203.0.113.30/", 2*time.Second); err == nil {
		t.Fatalf("public IP still answers after delete: %q", body)
	}
}
