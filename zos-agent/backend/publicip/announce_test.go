package publicip

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

func TestGratuitousARPFrame(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}
	ip := netip.MustParseAddr("203.0.113.10")
	head := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x08, 0x06, // Ethernet, ARP
		0x00, 0x01, 0x08, 0x00, 6, 4} // Ethernet, IPv4, address lengths
	sender := []byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 203, 0, 113, 10}
	for name, tc := range map[string]struct {
		op   uint16
		want []byte
	}{
		"request (RFC 5227 announcement)": {arpRequest, frame(head, []byte{0, 1}, sender, make([]byte, 6), []byte{203, 0, 113, 10})},
		"reply (target is the sender)":    {arpReply, frame(head, []byte{0, 2}, sender, sender)},
	} {
		t.Run(name, func(t *testing.T) {
			if got := gratuitousARP(mac, ip, tc.op); !bytes.Equal(got, tc.want) {
				t.Errorf("frame\n got %x\nwant %x", got, tc.want)
			}
		})
	}
}

func frame(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// A farm IP that moves to a new workload (a new MAC): the router's entry for it, still REACHABLE
// with the previous holder's MAC, points at the new MAC once the workload is connected, for a
// virtual machine (whose tap does not exist yet) and for a container.
func TestConnectAnnouncesTheNewMACToTheRouter(t *testing.T) {
	f := newFarm(t)
	h, err := netnsutil.Handle(f.Router)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	farmLink, err := h.LinkByName("farm0")
	if err != nil {
		t.Fatal(err)
	}
	previous := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	for _, spec := range []Spec{
		{ID: "vm1", IP: netip.MustParsePrefix("203.0.113.14/24"), Tap: true},
		{ID: "web1", NetNS: backendtest.NetNS(t, "wl"), IP: netip.MustParsePrefix("203.0.113.15/24")},
	} {
		ip := spec.IP.Addr().AsSlice()
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: farmLink.Attrs().Index, Family: unix.AF_INET, State: netlink.NUD_REACHABLE,
			IP: ip, HardwareAddr: previous}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.Create(spec); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.m.Delete(spec.ID) })
		var got net.HardwareAddr
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			neighs, err := h.NeighList(farmLink.Attrs().Index, unix.AF_INET)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range neighs {
				if n.IP.Equal(ip) {
					got = n.HardwareAddr
				}
			}
			if got.String() == MAC(spec.ID).String() {
				break
			}
		}
		if got.String() != MAC(spec.ID).String() {
			t.Errorf("%s: the router's entry for %s is at %s, want the workload's MAC %s", spec.ID, spec.IP.Addr(), got, MAC(spec.ID))
		}
	}
}
