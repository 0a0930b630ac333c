package network

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/crypto/curve25519"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/veth"
)

// Attach connects a machine to its twin's network: a veth pair with one end on the network's
// bridge and the other, named spec.IfName, in the machine's namespace with spec.IP and a route
// through the network's gateway; for a virtual machine (spec.Tap) only the address is taken and
// the VM backend plugs its tap in. The address must be a free host address of the node's subnet.
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
	bridgeNS := netnsutil.Path(names.NetNS)
	if a, ok := r.Machines[spec.ID]; ok {
		if a.IP != spec.IP || a.NetNS != spec.NetNS || a.Tap != spec.Tap {
			return Attachment{}, fmt.Errorf("machine %s on network %q: %w: already attached at %s in %q", spec.ID, spec.Network, ErrConflict, a.IP, a.NetNS)
		}
		a.BridgeNS, a.Bridge, a.Subnet = bridgeNS, names.Bridge, r.Spec.Subnet // records made before these fields
		return a, nil
	}
	a := Attachment{ID: spec.ID, NetNS: spec.NetNS, IfName: spec.IfName, HostLink: hostLinkOf(spec.ID), IP: spec.IP, Gateway: gateway,
		Tap: spec.Tap, BridgeNS: bridgeNS, Bridge: names.Bridge, Subnet: r.Spec.Subnet}
	if spec.Tap {
		r.Machines[spec.ID] = a
		return a, m.save(names, r)
	}
	routed := netip.MustParsePrefix("0.0.0.0/0")
	if !spec.DefaultRoute {
		routed = r.Spec.IPRange.Masked()
	}
	plug := veth.Plug{
		BridgeNS: bridgeNS, Bridge: names.Bridge, HostLink: a.HostLink,
		WorkloadNS: a.NetNS, IfName: a.IfName, MAC: MAC(spec.ID),
		Address: netip.PrefixFrom(spec.IP, r.Spec.Subnet.Bits()), Routed: routed, Gateway: gateway,
	}
	if err := plug.Connect(); err != nil {
		return Attachment{}, fmt.Errorf("machine %s on network %q: %w", spec.ID, spec.Network, err)
	}
	r.Machines[spec.ID] = a
	if err := m.save(names, r); err != nil {
		_ = veth.Remove(netnsutil.Path(names.NetNS), a.HostLink)
		return Attachment{}, err
	}
	return a, nil
}

// MAC is the address of machine id's interface in its network, derived from the id: a machine
// recreated with a new link keeps it, so the other machines' ARP caches stay right.
func MAC(id string) net.HardwareAddr { return backend.MAC("private/" + id) }

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
	if err := veth.Remove(netnsutil.Path(names.NetNS), a.HostLink); err != nil {
		return fmt.Errorf("machine %s on network %q: %w", id, network, err)
	}
	delete(r.Machines, id)
	return m.save(names, r)
}

// publicKey is the base64 WireGuard public key of a private key.
func publicKey(private []byte) string {
	pub, err := curve25519.X25519(private, curve25519.Basepoint)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(pub)
}

func ipNetToPrefix(n *net.IPNet) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addr.Unmap(), ones), true
}

// MachineNS creates the network namespace of machine id (tfz-<id> under /var/run/netns) and
// returns its path; an existing one is kept. The machine's container joins it, and its links
// (private network, public IP) are made in it before the container starts, so they survive the
// container being recreated.
func MachineNS(id string) (string, error) {
	if err := backend.ValidateID(id); err != nil {
		return "", fmt.Errorf("machine namespace: %w: %w", ErrInvalidSpec, err)
	}
	return netnsutil.Create(backend.Name(id))
}

// DeleteMachineNS removes machine id's network namespace with every link left in it; one that is
// gone is not an error.
func DeleteMachineNS(id string) error {
	if err := backend.ValidateID(id); err != nil {
		return fmt.Errorf("machine namespace: %w: %w", ErrInvalidSpec, err)
	}
	return netnsutil.Delete(backend.Name(id))
}

// MachineNSPath is the path of machine id's network namespace.
func MachineNSPath(id string) string { return netnsutil.Path(backend.Name(id)) }

// NetNSPath is the path of twin's network name's namespace (where its bridge and machines' subnet
// are): a process dialling from it reaches the network's machines.
func NetNSPath(twin uint32, name string) string { return netnsutil.Path(NamesOf(twin, name).NetNS) }
