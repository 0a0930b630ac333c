package network

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/crypto/curve25519"

	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// Attach connects a machine to its twin's network: a veth pair with one end on the network's
// bridge and the other, named spec.IfName, in the machine's namespace with spec.IP and a route
// through the network's gateway. The address must be a free host address of the node's subnet.
// Attaching the same machine again with the same address is a no-op.
func (m *Manager) Attach(spec AttachSpec) (Attachment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := NamesOf(spec.Twin, spec.Network)
	r, found, err := m.load(names)
	if err != nil {
		return Attachment{}, err
	}
	if !found {
		return Attachment{}, fmt.Errorf("network %q of twin %d: %w", spec.Network, spec.Twin, ErrNotFound)
	}
	gateway := r.Spec.gateway().Addr()
	if err := spec.check(r.Spec.Subnet, gateway); err != nil {
		return Attachment{}, fmt.Errorf("machine %s on network %q: %w", spec.ID, spec.Network, err)
	}
	if spec.IfName == "" {
		spec.IfName = "eth0"
	}
	for id, a := range r.Machines {
		if a.IP == spec.IP && id != spec.ID {
			return Attachment{}, fmt.Errorf("ip %s on network %q: %w %s", spec.IP, spec.Network, ErrIPTaken, id)
		}
	}
	if a, ok := r.Machines[spec.ID]; ok {
		if a.IP != spec.IP || a.NetNS != spec.NetNS {
			return Attachment{}, fmt.Errorf("machine %s on network %q: %w: already attached at %s in %s", spec.ID, spec.Network, ErrConflict, a.IP, a.NetNS)
		}
		return a, nil
	}
	a := Attachment{ID: spec.ID, NetNS: spec.NetNS, IfName: spec.IfName, HostLink: hostLinkOf(spec.ID), IP: spec.IP, Gateway: gateway}
	routed := netip.MustParsePrefix("0.0.0.0/0")
	if !spec.DefaultRoute {
		routed = r.Spec.IPRange.Masked()
	}
	if err := connect(names, a, netip.PrefixFrom(spec.IP, r.Spec.Subnet.Bits()), routed); err != nil {
		return Attachment{}, fmt.Errorf("machine %s on network %q: %w", spec.ID, spec.Network, err)
	}
	r.Machines[spec.ID] = a
	if err := m.save(names, r); err != nil {
		_ = deleteHostLink(names, a.HostLink)
		return Attachment{}, err
	}
	return a, nil
}

// Detach removes a machine's link to the network; a machine or network that is already gone is
// not an error.
func (m *Manager) Detach(twin uint32, network, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := NamesOf(twin, network)
	r, found, err := m.load(names)
	if err != nil || !found {
		return err
	}
	a, ok := r.Machines[id]
	if !ok {
		return nil
	}
	if err := deleteHostLink(names, a.HostLink); err != nil {
		return fmt.Errorf("machine %s on network %q: %w", id, network, err)
	}
	delete(r.Machines, id)
	return m.save(names, r)
}

// connect creates the veth pair of a, its address and its route for routed via the gateway. A
// failure removes the pair again (deleting one end deletes both).
func connect(names Names, a Attachment, addr, routed netip.Prefix) error {
	h, err := netnsutil.Handle(netnsutil.Path(names.NetNS))
	if err != nil {
		return err
	}
	defer h.Close()
	bridge, err := h.LinkByName(names.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", names.Bridge, err)
	}
	machineNS, err := netnsutil.Fd(a.NetNS)
	if err != nil {
		return err
	}
	defer machineNS.Close()
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: a.HostLink, MasterIndex: bridge.Attrs().Index},
		PeerName:      a.IfName,
		PeerNamespace: netlink.NsFd(machineNS),
	}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth %s/%s: create: %w", a.HostLink, a.IfName, err)
	}
	err = configureMachineEnd(a, addr, routed)
	if err == nil {
		err = h.LinkSetUp(veth)
	}
	if err != nil {
		_ = h.LinkDel(veth)
		return err
	}
	return nil
}

func configureMachineEnd(a Attachment, addr, routed netip.Prefix) error {
	h, err := netnsutil.Handle(a.NetNS)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(a.IfName)
	if err != nil {
		return fmt.Errorf("interface %s in %s: %w", a.IfName, a.NetNS, err)
	}
	if err := h.AddrAdd(link, &netlink.Addr{IPNet: prefixToIPNet(addr)}); err != nil {
		return fmt.Errorf("interface %s: address %s: %w", a.IfName, addr, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("interface %s: up: %w", a.IfName, err)
	}
	route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: prefixToIPNet(routed), Gw: net.IP(a.Gateway.AsSlice())}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("interface %s: route %s via %s: %w", a.IfName, routed, a.Gateway, err)
	}
	return nil
}

func deleteHostLink(names Names, name string) error {
	h, err := netnsutil.Handle(netnsutil.Path(names.NetNS))
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if _, notFound := err.(netlink.LinkNotFoundError); notFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("veth %s: %w", name, err)
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("veth %s: delete: %w", name, err)
	}
	return nil
}

// publicKey is the base64 WireGuard public key of a private key.
func publicKey(private []byte) string {
	pub, err := curve25519.X25519(private, curve25519.Basepoint)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(pub)
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipNetToPrefix(n *net.IPNet) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr.Unmap(), ones), true
}
