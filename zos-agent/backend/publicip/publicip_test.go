package publicip

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
)

var (
	farmGateway = netip.MustParsePrefix("203.0.113.1/24")
)

// farm is the test's farm network (backendtest.Farm) with a Manager on its uplink.
type farm struct {
	*backendtest.Farm
	m *Manager
}

func newFarm(t *testing.T) *farm {
	f := &farm{Farm: backendtest.NewFarm(t, farmGateway)}
	m, err := New(Config{DataDir: t.TempDir(), UplinkNS: f.Uplink, Interface: backendtest.FarmUplinkInterface, Gateway: farmGateway.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Uninstall(); err != nil {
			t.Errorf("uninstall: %v", err)
		}
	})
	f.m = m
	return f
}

func TestPublicIPReachableNoSpoofingGoneAfterDelete(t *testing.T) {
	f := newFarm(t)
	workload := backendtest.NetNS(t, "wl")
	rec, err := f.m.Create(Spec{ID: "web1", NetNS: workload, IP: netip.MustParsePrefix("203.0.113.10/24")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.m.Delete("web1") })
	if rec.MAC != MAC("web1").String() || rec.HostLink != HostLink("web1") || rec.Gateway != farmGateway.Addr() {
		t.Fatalf("record %+v", rec)
	}
	again, err := f.m.Create(Spec{ID: "web1", NetNS: workload, IP: netip.MustParsePrefix("203.0.113.10/24")})
	if err != nil || again != rec {
		t.Fatalf("create again: %+v %v", again, err)
	}

	public := netip.MustParseAddrPort("203.0.113.10:80")
	backendtest.Serve(t, workload, public, "public hello")
	if err := backendtest.Eventually(f.Internet, netip.Addr{}, public, "public hello", 5*time.Second); err != nil {
		t.Fatalf("internet to workload: %v", err)
	}
	outside := netip.AddrPortFrom(f.InternetAddr, 8080)
	backendtest.Serve(t, f.Internet, outside, "internet hello")
	if err := backendtest.Eventually(workload, netip.Addr{}, outside, "internet hello", 5*time.Second); err != nil {
		t.Fatalf("workload to internet: %v", err)
	}

	// The workload takes a second address of the farm's block: nothing it sends from it, and no
	// ARP answer for it, gets past the bridge.
	spoofed := netip.MustParsePrefix("203.0.113.11/24")
	backendtest.Address(t, workload, "pub", spoofed)
	if got, err := backendtest.Fetch(workload, spoofed.Addr(), outside, 2*time.Second); err == nil {
		t.Errorf("workload reached the internet from a spoofed source: %q", got)
	}
	backendtest.Serve(t, workload, netip.AddrPortFrom(spoofed.Addr(), 80), "stolen")
	if got, err := backendtest.Fetch(f.Internet, netip.Addr{}, netip.AddrPortFrom(spoofed.Addr(), 80), 2*time.Second); err == nil {
		t.Errorf("the internet reached an address the workload does not own: %q", got)
	}
	if got, err := backendtest.Fetch(workload, rec.IP.Addr(), outside, 2*time.Second); err != nil || got != "internet hello" {
		t.Errorf("own source after the spoofing attempts: %q %v", got, err)
	}

	if n, err := f.m.filter.rulesOf("web1"); err != nil || n == 0 {
		t.Fatalf("rules of web1: %d %v", n, err)
	}
	if err := f.m.Delete("web1"); err != nil {
		t.Fatal(err)
	}
	if got, err := backendtest.Fetch(f.Internet, netip.Addr{}, public, 2*time.Second); err == nil {
		t.Errorf("public IP answers after delete: %q", got)
	}
	if n, err := f.m.filter.rulesOf("web1"); err != nil || n != 0 {
		t.Errorf("rules of web1 after delete: %d %v", n, err)
	}
	backendtest.AssertNoLink(t, f.Uplink, rec.HostLink)
	backendtest.AssertNoLink(t, workload, "pub")
	if list, err := f.m.List(); err != nil || len(list) != 0 {
		t.Errorf("list after delete: %+v %v", list, err)
	}
	if err := f.m.Delete("web1"); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

// During the grace period the workload's public link is cut: not even a TCP handshake completes
// (its kernel would complete one while its processes are frozen); restored, it answers again.
func TestCutAndRestoreThePublicPath(t *testing.T) {
	f := newFarm(t)
	workload := backendtest.NetNS(t, "wl")
	if _, err := f.m.Create(Spec{ID: "grace1", NetNS: workload, IP: netip.MustParsePrefix("203.0.113.12/24")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.m.Delete("grace1") })
	public := netip.MustParseAddrPort("203.0.113.12:80")
	backendtest.Serve(t, workload, public, "hello")
	if err := backendtest.Eventually(f.Internet, netip.Addr{}, public, "hello", 5*time.Second); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	for range 2 { // idempotent
		if err := f.m.Cut("grace1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := backendtest.Connect(f.Internet, public, 2*time.Second); err == nil {
		t.Fatal("a TCP handshake with the cut public IP completed")
	}
	if err := f.m.Restore("grace1"); err != nil {
		t.Fatal(err)
	}
	if err := backendtest.Eventually(f.Internet, netip.Addr{}, public, "hello", 5*time.Second); err != nil {
		t.Fatalf("after restore: %v", err)
	}
	if err := f.m.Cut("no-such-workload"); err != nil {
		t.Errorf("cut of a workload without a public IP: %v", err)
	}
}

// A virtual machine's public IP: rules on the tap the VM backend will make (named HostLink), no
// veth; a reboot that emptied nftables gets its rules back from Create.
func TestTapForAVirtualMachine(t *testing.T) {
	f := newFarm(t)
	spec := Spec{ID: "vm1", IP: netip.MustParsePrefix("203.0.113.13/24"), Tap: true}
	rec, err := f.m.Create(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.m.Delete("vm1") })
	if !rec.Tap || rec.NetNS != "" || rec.HostLink != HostLink("vm1") || f.m.UplinkNS() != f.Uplink {
		t.Fatalf("record %+v (uplink %q)", rec, f.m.UplinkNS())
	}
	backendtest.AssertNoLink(t, f.Uplink, rec.HostLink)
	if n, err := f.m.filter.rulesOf("vm1"); err != nil || n == 0 {
		t.Fatalf("rules of vm1: %d %v", n, err)
	}
	if err := f.m.filter.revoke("vm1"); err != nil { // as a reboot does
		t.Fatal(err)
	}
	if again, err := f.m.Create(spec); err != nil || again != rec {
		t.Fatalf("create again: %+v %v", again, err)
	}
	if n, err := f.m.filter.rulesOf("vm1"); err != nil || n == 0 {
		t.Fatalf("rules of vm1 after create again: %d %v", n, err)
	}
	withNS := spec
	withNS.NetNS = backendtest.NetNS(t, "wl")
	if _, err := f.m.Create(withNS); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("a tap with a namespace: %v, want ErrInvalidSpec", err)
	}
}

func TestCreateRefusesBadSpecsAndTakenIPs(t *testing.T) {
	f := newFarm(t)
	ns := backendtest.NetNS(t, "wl")
	if _, err := f.m.Create(Spec{ID: "a", NetNS: ns, IP: netip.MustParsePrefix("203.0.113.20/24")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.m.Delete("a") })
	other := backendtest.NetNS(t, "wl2")
	for name, c := range map[string]struct {
		spec Spec
		want error
	}{
		"taken ip":        {Spec{ID: "b", NetNS: other, IP: netip.MustParsePrefix("203.0.113.20/24")}, ErrIPTaken},
		"second ip":       {Spec{ID: "a", NetNS: ns, IP: netip.MustParsePrefix("203.0.113.22/24")}, ErrExists},
		"not v4":          {Spec{ID: "b", NetNS: other, IP: netip.MustParsePrefix("2001:db8::1/64")}, ErrInvalidSpec},
		"network address": {Spec{ID: "b", NetNS: other, IP: netip.MustParsePrefix("203.0.113.0/24")}, ErrInvalidSpec},
		"gateway outside": {Spec{ID: "b", NetNS: other, IP: netip.MustParsePrefix("198.18.0.5/24")}, ErrInvalidSpec},
		"bad id":          {Spec{ID: "B/1", NetNS: other, IP: netip.MustParsePrefix("203.0.113.21/24")}, ErrInvalidSpec},
		"no netns":        {Spec{ID: "b", IP: netip.MustParsePrefix("203.0.113.21/24")}, ErrInvalidSpec},
	} {
		if _, err := f.m.Create(c.spec); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if list, err := f.m.List(); err != nil || len(list) != 1 {
		t.Errorf("a refused create changed the list: %+v %v", list, err)
	}
	backendtest.AssertNoLink(t, f.Uplink, HostLink("b"))
	if n, err := f.m.filter.rulesOf("b"); err != nil || n != 0 {
		t.Errorf("a refused create left rules: %d %v", n, err)
	}
}

func TestMACIsStableLocalUnicast(t *testing.T) {
	a, b := MAC("web1"), MAC("web1")
	if a.String() != b.String() || a.String() == MAC("web2").String() {
		t.Fatalf("MAC not derived from the id: %s %s %s", a, b, MAC("web2"))
	}
	if a[0]&0x01 != 0 || a[0]&0x02 == 0 {
		t.Fatalf("MAC %s is not locally administered unicast", a)
	}
}
