// Package veth plugs workloads into bridges: a veth pair with one end on a bridge and the other,
// addressed and routed, inside the workload's network namespace.
package veth

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// Plug describes one veth pair.
type Plug struct {
	// BridgeNS is the path of the namespace holding Bridge ("" is the agent's own).
	BridgeNS, Bridge, HostLink string
	// WorkloadNS is the path of the workload's namespace, IfName its end's name there.
	WorkloadNS, IfName string
	// MAC of the workload's end; nil lets the kernel choose.
	MAC     net.HardwareAddr
	Address netip.Prefix
	// Routed is sent via Gateway (0.0.0.0/0 for a default route).
	Routed  netip.Prefix
	Gateway netip.Addr
}

// Connect creates the pair, configures the workload's end and brings both up; a failure
// removes the pair again (deleting one end deletes both).
func (p Plug) Connect() error {
	h, err := netnsutil.Handle(p.BridgeNS)
	if err != nil {
		return err
	}
	defer h.Close()
	bridge, err := h.LinkByName(p.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", p.Bridge, err)
	}
	workloadNS, err := netnsutil.Fd(p.WorkloadNS)
	if err != nil {
		return err
	}
	defer workloadNS.Close()
	pair := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: p.HostLink, MasterIndex: bridge.Attrs().Index},
		PeerName:         p.IfName,
		PeerHardwareAddr: p.MAC,
		PeerNamespace:    netlink.NsFd(workloadNS),
	}
	if err := h.LinkAdd(pair); err != nil {
		return fmt.Errorf("veth %s/%s: create: %w", p.HostLink, p.IfName, err)
	}
	err = p.configureWorkloadEnd()
	if err == nil {
		if err = h.LinkSetUp(pair); err != nil {
			err = fmt.Errorf("veth %s: up: %w", p.HostLink, err)
		}
	}
	if err != nil {
		_ = h.LinkDel(pair)
	}
	return err
}

func (p Plug) configureWorkloadEnd() error {
	h, err := netnsutil.Handle(p.WorkloadNS)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(p.IfName)
	if err != nil {
		return fmt.Errorf("interface %s in %s: %w", p.IfName, p.WorkloadNS, err)
	}
	if err := h.AddrAdd(link, &netlink.Addr{IPNet: IPNet(p.Address)}); err != nil {
		return fmt.Errorf("interface %s: address %s: %w", p.IfName, p.Address, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("interface %s: up: %w", p.IfName, err)
	}
	route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: IPNet(p.Routed), Gw: p.Gateway.AsSlice()}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("interface %s: route %s via %s: %w", p.IfName, p.Routed, p.Gateway, err)
	}
	return nil
}

// Remove deletes the link name in the namespace at ns (a veth's peer goes with it); a link that
// is already gone is not an error.
func Remove(ns, name string) error {
	h, err := netnsutil.Handle(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if _, notFound := err.(netlink.LinkNotFoundError); notFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("link %s: delete: %w", name, err)
	}
	return nil
}

// StableMAC derives a MAC address from seed: the same after every restart, so neighbours' ARP
// caches stay right when a link is recreated; locally administered and unicast.
func StableMAC(seed string) net.HardwareAddr {
	sum := sha256.Sum256([]byte(seed))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}

// IPNet converts a prefix (address and length) for netlink.
func IPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
