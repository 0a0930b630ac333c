package publicip

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// A farm IP moves between workloads, and every workload has its own MAC: the farm's router may
// still hold the previous holder's MAC for the IP, as REACHABLE for up to 45 s and then through
// its DELAY and PROBE states, and sends everything for the IP to a MAC that is gone. Nothing in the
// new workload corrects it: a guest that only answers sends nothing by itself. So the manager
// announces the IP's new MAC (gratuitous ARP, as a host taking over an address does) when it
// connects a workload: a router updates an entry it already has (Linux does at any arp_accept)
// and creates none.

// announce broadcasts gratuitous ARP for ip at mac on the public bridge: a request and a reply,
// since some routers heed only one kind. It is sent from the bridge itself, so it leaves by the
// uplink (and reaches every port) whether or not the workload's own link exists yet.
func (m *Manager) announce(mac net.HardwareAddr, ip netip.Addr) error {
	return netnsutil.Do(m.cfg.UplinkNS, func() error {
		br, err := net.InterfaceByName(m.bridge)
		if err != nil {
			return fmt.Errorf("announce %s at %s: bridge %s: %w", ip, mac, m.bridge, err)
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0) // send only: binds no protocol
		if err != nil {
			return fmt.Errorf("announce %s at %s: packet socket: %w", ip, mac, err)
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: br.Index, Halen: 6}
		copy(to.Addr[:], broadcast)
		for _, op := range []uint16{arpRequest, arpReply} {
			if err := unix.Sendto(fd, gratuitousARP(mac, ip, op), 0, to); err != nil {
				return fmt.Errorf("announce %s at %s on %s: %w", ip, mac, m.bridge, err)
			}
		}
		return nil
	})
}

const (
	arpRequest = 1
	arpReply   = 2
)

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// gratuitousARP is the Ethernet frame of an ARP message (op arpRequest or arpReply) from mac, to
// everyone, in which ip says it is at mac: sender and target address are both ip. The request's
// target hardware address is zero (RFC 5227's announcement); the reply's is mac, which Linux
// requires of a gratuitous reply.
func gratuitousARP(mac net.HardwareAddr, ip netip.Addr, op uint16) []byte {
	ip4 := ip.As4()
	f := make([]byte, 0, 42)
	f = append(f, broadcast...)
	f = append(f, mac...)
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_ARP)
	f = binary.BigEndian.AppendUint16(f, 1) // hardware: Ethernet
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_IP)
	f = append(f, 6, 4)
	f = binary.BigEndian.AppendUint16(f, op)
	f = append(f, mac...)
	f = append(f, ip4[:]...)
	if op == arpReply {
		f = append(f, mac...)
	} else {
		f = append(f, make([]byte, 6)...)
	}
	return append(f, ip4[:]...)
}
