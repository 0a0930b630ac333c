package network

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

var (
	nodeUplink   = netip.MustParsePrefix("192.0.2.1/24")
	laptopUplink = netip.MustParsePrefix("192.0.2.2/24")
	laptopWG     = netip.MustParsePrefix("10.20.99.2/32")
)

// twinBase offsets the tests' twin ids so this run's namespace and link names (derived from twin
// and network name) differ from any other run's on the machine.
var twinBase = uint32(time.Now().UnixNano()%100_000_000)*10 + 10

// wgKey makes a random WireGuard key pair, base64.
func wgKey(t *testing.T) (private, public string) {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	k[0] &= 248
	k[31] = k[31]&127 | 64
	return base64.StdEncoding.EncodeToString(k), publicKey(k)
}

// testNode is a node's uplink namespace with a "laptop" namespace next to it and a manager.
type testNode struct {
	uplink, laptop string
	m              *Manager
	cfg            Config
}

func newTestNode(t *testing.T) *testNode {
	backendtest.RequireRoot(t)
	n := &testNode{uplink: backendtest.NetNS(t, "node"), laptop: backendtest.NetNS(t, "laptop")}
	backendtest.Veth(t, n.uplink, "up0", nodeUplink, n.laptop, "up0", laptopUplink)
	n.cfg = Config{DataDir: t.TempDir(), UplinkNS: n.uplink}
	m, err := New(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.m = m
	return n
}

// ensure creates a network and releases it at cleanup (after the machines detached).
func (n *testNode) ensure(t *testing.T, user string, spec Spec) Info {
	t.Helper()
	info, err := n.m.Ensure(user, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.m.Release(user, spec.Twin, spec.Name); err != nil {
			t.Errorf("release %s: %v", user, err)
		}
	})
	return info
}

// machine makes a namespace standing in for a container and attaches it at ip.
func (n *testNode) machine(t *testing.T, id string, twin uint32, network string, ip string) string {
	t.Helper()
	ns := backendtest.NetNS(t, id)
	if _, err := n.m.Attach(AttachSpec{ID: id, Twin: twin, Network: network, NetNS: ns, IP: netip.MustParseAddr(ip)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.m.Detach(twin, network, id); err != nil {
			t.Errorf("detach %s: %v", id, err)
		}
	})
	return ns
}

// startLaptop runs a userspace WireGuard device in the laptop namespace with the laptop's key
// and the node as its only peer, as a user's wg-quick would.
func (n *testNode) startLaptop(t *testing.T, laptopKey, nodePublic string, port uint16, ipRange netip.Prefix) {
	t.Helper()
	name := "tfztl" + shortHash(fmt.Sprint(t.Name(), twinBase))
	stop, err := AccessPoint(n.laptop, name, laptopKey, nodePublic, netip.AddrPortFrom(nodeUplink.Addr(), port), ipRange)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	backendtest.Address(t, n.laptop, name, laptopWG)
	backendtest.Route(t, n.laptop, name, ipRange, netip.Addr{})
}

func TestPrivateNetworkMachinesWireGuardPeerAndTwinIsolation(t *testing.T) {
	n := newTestNode(t)
	nodeKey, _ := wgKey(t)
	laptopKey, laptopPublic := wgKey(t)
	spec := Spec{
		Twin: twinBase + 7, Name: "office", IPRange: netip.MustParsePrefix("10.20.0.0/16"), Subnet: netip.MustParsePrefix("10.20.1.0/24"),
		PrivateKey: nodeKey, ListenPort: 51820,
		Peers: []Peer{{PublicKey: laptopPublic, AllowedIPs: []netip.Prefix{laptopWG.Masked()}}},
	}
	info := n.ensure(t, "dep1-net", spec)
	shared := n.ensure(t, "dep2-net", spec)
	if shared.NetNS != info.NetNS || len(shared.Users) != 2 {
		t.Fatalf("second deployment's network %+v is not the first's %+v", shared, info)
	}

	m1 := n.machine(t, "m1", twinBase+7, "office", "10.20.1.2")
	m2 := n.machine(t, "m2", twinBase+7, "office", "10.20.1.3")
	server := netip.MustParseAddrPort("10.20.1.3:8080")
	backendtest.Serve(t, m2, server, "hello from m2")
	if err := backendtest.Eventually(m1, netip.Addr{}, server, "hello from m2", 5*time.Second); err != nil {
		t.Fatalf("machine to machine: %v", err)
	}

	n.startLaptop(t, laptopKey, info.PublicKey, spec.ListenPort, spec.IPRange)
	if err := backendtest.Eventually(n.laptop, netip.Addr{}, server, "hello from m2", 15*time.Second); err != nil {
		t.Fatalf("laptop through WireGuard: %v", err)
	}

	otherKey, _ := wgKey(t)
	other := Spec{Twin: twinBase + 8, Name: "office", IPRange: netip.MustParsePrefix("10.30.0.0/16"), Subnet: netip.MustParsePrefix("10.30.1.0/24"),
		PrivateKey: otherKey, ListenPort: 51821}
	otherInfo := n.ensure(t, "dep3-net", other)
	if otherInfo.NetNS == info.NetNS || otherInfo.WireGuard == info.WireGuard {
		t.Fatalf("twins 7 and 8 share names: %+v %+v", info, otherInfo)
	}
	m3 := n.machine(t, "m3", twinBase+8, "office", "10.30.1.2")
	otherServer := netip.MustParseAddrPort("10.30.1.2:8080")
	backendtest.Serve(t, m3, otherServer, "hello from m3")
	if got, err := backendtest.Fetch(m3, netip.Addr{}, otherServer, time.Second); err != nil || got != "hello from m3" {
		t.Fatalf("m3 to itself: %q %v", got, err)
	}
	for _, c := range []struct {
		from string
		to   netip.AddrPort
	}{{m1, otherServer}, {m3, server}} {
		if got, err := backendtest.Fetch(c.from, netip.Addr{}, c.to, 2*time.Second); err == nil {
			t.Errorf("a machine reached %s of another twin: %q", c.to, got)
		}
	}

	ports, err := n.m.ListenPorts()
	if err != nil || len(ports) != 2 || ports[0] != 51820 || ports[1] != 51821 {
		t.Errorf("listen ports %v %v", ports, err)
	}
}

func TestAttachRefusesBadAddresses(t *testing.T) {
	n := newTestNode(t)
	key, _ := wgKey(t)
	spec := Spec{Twin: twinBase + 7, Name: "lan", IPRange: netip.MustParsePrefix("10.40.0.0/16"), Subnet: netip.MustParsePrefix("10.40.2.0/24"), PrivateKey: key, ListenPort: 51830}
	n.ensure(t, "d1-lan", spec)
	ns := n.machine(t, "a1", twinBase+7, "lan", "10.40.2.10")
	for ip, want := range map[string]error{
		"10.40.3.10": ErrInvalidSpec, "10.40.2.0": ErrInvalidSpec, "10.40.2.255": ErrInvalidSpec,
		"10.40.2.1": ErrInvalidSpec, "10.40.2.10": ErrIPTaken,
	} {
		_, err := n.m.Attach(AttachSpec{ID: "a2", Twin: twinBase + 7, Network: "lan", NetNS: ns, IP: netip.MustParseAddr(ip)})
		if !errors.Is(err, want) {
			t.Errorf("attach at %s: %v, want %v", ip, err, want)
		}
	}
	if _, err := n.m.Attach(AttachSpec{ID: "a2", Twin: twinBase + 9, Network: "lan", NetNS: ns, IP: netip.MustParseAddr("10.40.2.11")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("attach to another twin's network: %v", err)
	}
	if err := n.m.Release("d1-lan", twinBase+7, "lan"); !errors.Is(err, ErrInUse) {
		t.Errorf("release with a machine attached: %v", err)
	}
	changed := spec
	changed.ListenPort = 51831
	if _, err := n.m.Ensure("d2-lan", changed); !errors.Is(err, ErrConflict) {
		t.Errorf("same network with another port: %v", err)
	}
	otherTwin := spec
	otherTwin.Twin = 8
	if _, err := n.m.Ensure("d4-lan", otherTwin); !errors.Is(err, ErrPortTaken) {
		t.Errorf("another network on the same port: %v", err)
	}
	if _, err := n.m.Attach(AttachSpec{ID: "a2", Twin: twinBase + 7, Network: "lan", NetNS: ns, IP: netip.MustParseAddr("10.40.2.11"), Tap: true}); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("a virtual machine's attachment with a namespace: %v", err)
	}
	if _, err := n.m.Attach(AttachSpec{ID: "v1", Twin: twinBase + 7, Network: "lan", IP: netip.MustParseAddr("10.40.2.10"), Tap: true}); !errors.Is(err, ErrIPTaken) {
		t.Errorf("a virtual machine at a taken address: %v", err)
	}
	machines, err := n.m.Machines(twinBase+7, "lan")
	if err != nil || len(machines) != 1 || machines[0].IP != netip.MustParseAddr("10.40.2.10") || machines[0].ID != "a1" {
		t.Errorf("machines: %+v %v", machines, err)
	}
	bad := spec
	bad.Subnet = netip.MustParsePrefix("10.50.0.0/24")
	if _, err := n.m.Ensure("d3-lan", bad); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("subnet outside ip_range: %v", err)
	}
	bad = spec
	bad.PrivateKey = "short"
	if _, err := n.m.Ensure("d3-lan", bad); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("bad key: %v", err)
	}
}

// Deleting the last user removes the namespace, the WireGuard link and its UAPI socket; a new
// manager over the same records after an agent restart brings the WireGuard device back.
func TestReleaseRemovesEverythingAndRestartRestores(t *testing.T) {
	n := newTestNode(t)
	key, _ := wgKey(t)
	laptopKey, laptopPublic := wgKey(t)
	spec := Spec{Twin: twinBase + 3, Name: "lab", IPRange: netip.MustParsePrefix("10.20.0.0/16"), Subnet: netip.MustParsePrefix("10.20.5.0/24"), PrivateKey: key, ListenPort: 51840,
		Peers: []Peer{{PublicKey: laptopPublic, AllowedIPs: []netip.Prefix{laptopWG.Masked()}}}}
	info, err := n.m.Ensure("d1-lab", spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.m.Release("d1-lab", twinBase+3, "lab") })
	if _, err := os.Stat(UAPISocket(info.WireGuard)); err != nil {
		t.Fatalf("UAPI socket: %v", err)
	}

	// The agent stops: its WireGuard device (and TUN link) goes, the namespace stays.
	for _, wg := range n.m.devices {
		wg.close()
	}
	restarted, err := New(n.cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.m = restarted
	machine := n.machine(t, "r1", twinBase+3, "lab", "10.20.5.2")
	server := netip.MustParseAddrPort("10.20.5.2:8080")
	backendtest.Serve(t, machine, server, "restored")
	n.startLaptop(t, laptopKey, info.PublicKey, spec.ListenPort, spec.IPRange)
	if err := backendtest.Eventually(n.laptop, netip.Addr{}, server, "restored", 15*time.Second); err != nil {
		t.Fatalf("laptop after restart: %v", err)
	}

	if err := n.m.Detach(twinBase+3, "lab", "r1"); err != nil {
		t.Fatal(err)
	}
	backendtest.AssertNoLink(t, machine, "eth0")
	if err := n.m.Release("d1-lab", twinBase+3, "lab"); err != nil {
		t.Fatal(err)
	}
	backendtest.AssertNetNSGone(t, info.NetNS)
	backendtest.AssertNoLink(t, n.uplink, info.WireGuard)
	if _, err := os.Stat(UAPISocket(info.WireGuard)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("UAPI socket left: %v", err)
	}
	if len(n.m.devices) != 0 {
		t.Errorf("devices still running: %v", n.m.devices)
	}
	if err := n.m.Release("d1-lab", twinBase+3, "lab"); err != nil {
		t.Errorf("second release: %v", err)
	}
	if _, err := os.Stat(netnsutil.Path(info.NetNS)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace back after a second release: %v", err)
	}
}

// The WireGuard device's goroutines (encryption, receive, UAPI listener) all stop on release.
func TestReleaseStopsTheDevicesGoroutines(t *testing.T) {
	n := newTestNode(t)
	key, _ := wgKey(t)
	spec := Spec{Twin: twinBase + 4, Name: "g", IPRange: netip.MustParsePrefix("10.60.0.0/16"), Subnet: netip.MustParsePrefix("10.60.1.0/24"), PrivateKey: key, ListenPort: 51850}
	before := runtime.NumGoroutine()
	if _, err := n.m.Ensure("d1-g", spec); err != nil {
		t.Fatal(err)
	}
	running := runtime.NumGoroutine()
	if running <= before {
		t.Fatalf("no goroutines started for the device: %d before, %d after", before, running)
	}
	if err := n.m.Release("d1-g", twinBase+4, "g"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the network, %d after its release:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
