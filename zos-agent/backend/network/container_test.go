package network

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

// A real busybox container (runc) joins the network through the namespace Attach configured and
// reaches another machine on the bridge and the user's laptop through WireGuard.
func TestContainerOnPrivateNetwork(t *testing.T) {
	n := newTestNode(t)
	nodeKey, _ := wgKey(t)
	laptopKey, laptopPublic := wgKey(t)
	spec := Spec{Twin: twinBase + 5, Name: "apps", IPRange: netip.MustParsePrefix("10.20.0.0/16"), Subnet: netip.MustParsePrefix("10.20.1.0/24"),
		PrivateKey: nodeKey, ListenPort: 51860, Peers: []Peer{{PublicKey: laptopPublic, AllowedIPs: []netip.Prefix{laptopWG.Masked()}}}}
	info := n.ensure(t, "d1-apps", spec)
	other := n.machine(t, "peer1", twinBase+5, "apps", "10.20.1.3")
	backendtest.Serve(t, other, netip.MustParseAddrPort("10.20.1.3:8080"), "from-the-bridge")
	n.startLaptop(t, laptopKey, info.PublicKey, spec.ListenPort, spec.IPRange)
	backendtest.Serve(t, n.laptop, netip.AddrPortFrom(laptopWG.Addr(), 9000), "from-the-laptop")

	containerNS := n.machine(t, "c1", twinBase+5, "apps", "10.20.1.2")
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
	rootfs, err := images.MountRootfs(img, "c1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { images.UnmountRootfs("c1") })
	script := "/bin/busybox nc 10.20.1.3 8080; echo; " +
		"until /bin/busybox nc 10.20.99.2 9000; do sleep 0.2; done; echo; echo done; sleep 60"
	t.Cleanup(func() { driver.Delete(context.Background(), "c1") })
	rec, err := driver.Create(context.Background(), container.Spec{
		ID: "c1", Rootfs: rootfs, Args: []string{"/bin/sh", "-c", script}, CPU: 1, MemoryBytes: 64 << 20, Pids: 32, NetNS: containerNS,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		log, _ := os.ReadFile(rec.Log)
		if strings.Contains(string(log), "done") {
			if !strings.Contains(string(log), "from-the-bridge") || !strings.Contains(string(log), "from-the-laptop") {
				t.Fatalf("container log:\n%s", log)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container did not finish in 30 s:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := driver.Delete(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
}
