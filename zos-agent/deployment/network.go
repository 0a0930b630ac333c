package deployment

import (
	"fmt"
)

// Network is a private network of the twin, with WireGuard to reach it (type "network").
type Network struct {
	// IPRange is the whole network, e.g. 10.1.0.0/16.
	IPRange string `json:"ip_range"`
	// Subnet is this node's part of it, e.g. 10.1.3.0/24.
	Subnet              string           `json:"subnet"`
	WireGuardPrivateKey string           `json:"wireguard_private_key"`
	WireGuardListenPort uint16           `json:"wireguard_listen_port"`
	Peers               []Peer           `json:"peers"`
	Mycelium            *NetworkMycelium `json:"mycelium"`
}

// Peer is another node (or a user's access point) of the network.
type Peer struct {
	Subnet             string   `json:"subnet"`
	WireGuardPublicKey string   `json:"wireguard_public_key"`
	AllowedIPs         []string `json:"allowed_ips"`
	// Endpoint is host:port, empty when the peer connects to us.
	Endpoint string `json:"endpoint"`
}

// NetworkMycelium puts the network on the mycelium overlay.
type NetworkMycelium struct {
	// HexKey is 32 bytes in hex.
	HexKey string `json:"hex_key"`
	// Peers must be empty: custom mycelium peers are not supported.
	Peers []string `json:"peers"`
}

func (n *Network) validate(name string) error {
	ipRange, err := checkPrefix(name, "ip_range", n.IPRange)
	if err != nil {
		return err
	}
	subnet, err := checkPrefix(name, "subnet", n.Subnet)
	if err != nil {
		return err
	}
	if subnet.Bits() < ipRange.Bits() || !ipRange.Masked().Contains(subnet.Addr()) {
		return workloadErr(name, "subnet", n.Subnet, ErrInvalidValue, "is not inside ip_range %s", n.IPRange)
	}
	if err := checkWireGuardKey(name, "wireguard_private_key", n.WireGuardPrivateKey); err != nil {
		return err
	}
	if n.WireGuardListenPort == 0 {
		return workloadErr(name, "wireguard_listen_port", n.WireGuardListenPort, ErrBelowMinimum, "must be a port from 1 to 65535")
	}
	for i, peer := range n.Peers {
		if err := peer.validate(name, fmt.Sprintf("peers[%d]", i)); err != nil {
			return err
		}
	}
	if n.Mycelium != nil {
		if err := checkHexBytes(name, "mycelium.hex_key", n.Mycelium.HexKey, 32); err != nil {
			return err
		}
		if len(n.Mycelium.Peers) != 0 {
			return workloadErr(name, "mycelium.peers", nil, ErrInvalidValue, "must be empty: custom mycelium peers are not supported")
		}
	}
	return nil
}

func (p *Peer) validate(name, field string) error {
	if _, err := checkPrefix(name, field+".subnet", p.Subnet); err != nil {
		return err
	}
	if err := checkWireGuardKey(name, field+".wireguard_public_key", p.WireGuardPublicKey); err != nil {
		return err
	}
	if len(p.AllowedIPs) == 0 {
		return workloadErr(name, field+".allowed_ips", nil, ErrMissing, "needs at least one address range")
	}
	for i, allowed := range p.AllowedIPs {
		if _, err := checkPrefix(name, fmt.Sprintf("%s.allowed_ips[%d]", field, i), allowed); err != nil {
			return err
		}
	}
	if p.Endpoint != "" {
		if _, err := checkHostPort(name, field+".endpoint", p.Endpoint, false); err != nil {
			return err
		}
	}
	return nil
}

// capacity: a network takes nothing the contract reserves (its traffic is billed as NRU).
func (n *Network) capacity() Capacity { return Capacity{} }

// PublicIP is a public address for a machine from the contract's reserved IPs (type "ip").
type PublicIP struct {
	V4 bool `json:"v4"`
	V6 bool `json:"v6"`
}

func (p *PublicIP) validate(name string) error {
	if !p.V4 && !p.V6 {
		return workloadErr(name, "v4", p.V4, ErrInvalidValue, "and v6 are both false; ask for at least one")
	}
	return nil
}

// capacity: an IPv4 address is one of the contract's reserved public IPs; IPv6 is free.
func (p *PublicIP) capacity() Capacity {
	if p.V4 {
		return Capacity{IPv4: 1}
	}
	return Capacity{}
}
