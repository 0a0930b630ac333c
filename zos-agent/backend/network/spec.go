package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
)

// Errors callers can test for; every returned error names the field and value involved.
var (
	ErrInvalidSpec = errors.New("invalid network spec")
	ErrNotFound    = errors.New("network not found")
	ErrConflict    = errors.New("conflicts with the existing network")
	ErrIPTaken     = errors.New("address already used by another machine")
	ErrInUse       = errors.New("network still has machines attached")
	ErrPortTaken   = errors.New("WireGuard listen port already used by another network")
)

// Spec is a twin's private network on this node (the "network" workload).
type Spec struct {
	Twin uint32
	Name string
	// IPRange is the whole network (all nodes), Subnet this node's part of it.
	IPRange netip.Prefix
	Subnet  netip.Prefix
	// PrivateKey is the node's WireGuard key for this network, base64.
	PrivateKey string
	ListenPort uint16
	Peers      []Peer
}

// Peer is another node of the network, or a user's access point.
type Peer struct {
	// PublicKey is base64.
	PublicKey string
	// Endpoint is ip:port or host:port, empty when the peer connects to us.
	Endpoint   string
	AllowedIPs []netip.Prefix
}

// resolvedPeer is a Peer in the form the device takes.
type resolvedPeer struct {
	publicKey  []byte
	endpoint   string
	allowedIPs []netip.Prefix
}

var networkNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// check validates s and returns its private key and peers in device form.
func (s Spec) check() ([]byte, []resolvedPeer, error) {
	if s.Twin == 0 {
		return nil, nil, fmt.Errorf("twin 0: %w: must be a twin id", ErrInvalidSpec)
	}
	if !networkNamePattern.MatchString(s.Name) {
		return nil, nil, fmt.Errorf("name %q: %w: must be 1 to 64 of a-z, A-Z, 0-9, '_', '-'", s.Name, ErrInvalidSpec)
	}
	if !s.IPRange.IsValid() || !s.IPRange.Addr().Is4() {
		return nil, nil, fmt.Errorf("ip_range %q: %w: must be an IPv4 prefix", s.IPRange, ErrInvalidSpec)
	}
	if !s.Subnet.IsValid() || !s.Subnet.Addr().Is4() || s.Subnet.Bits() < s.IPRange.Bits() ||
		!s.IPRange.Masked().Contains(s.Subnet.Addr()) || s.Subnet.Bits() > 30 {
		return nil, nil, fmt.Errorf("subnet %q: %w: must be an IPv4 prefix of /30 or wider inside ip_range %s", s.Subnet, ErrInvalidSpec, s.IPRange)
	}
	if s.ListenPort == 0 {
		return nil, nil, fmt.Errorf("wireguard_listen_port 0: %w: must be a port from 1 to 65535", ErrInvalidSpec)
	}
	key, err := decodeKey("wireguard_private_key", s.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	peers := make([]resolvedPeer, 0, len(s.Peers))
	for i, p := range s.Peers {
		rp, err := p.resolve(fmt.Sprintf("peers[%d]", i))
		if err != nil {
			return nil, nil, err
		}
		peers = append(peers, rp)
	}
	return key, peers, nil
}

func (p Peer) resolve(field string) (resolvedPeer, error) {
	key, err := decodeKey(field+".wireguard_public_key", p.PublicKey)
	if err != nil {
		return resolvedPeer{}, err
	}
	if len(p.AllowedIPs) == 0 {
		return resolvedPeer{}, fmt.Errorf("%s.allowed_ips: %w: needs at least one prefix", field, ErrInvalidSpec)
	}
	allowed := make([]netip.Prefix, 0, len(p.AllowedIPs))
	for i, a := range p.AllowedIPs {
		if !a.IsValid() {
			return resolvedPeer{}, fmt.Errorf("%s.allowed_ips[%d] %q: %w: not a prefix", field, i, a, ErrInvalidSpec)
		}
		allowed = append(allowed, a.Masked())
	}
	rp := resolvedPeer{publicKey: key, allowedIPs: allowed}
	if p.Endpoint != "" {
		addr, err := net.ResolveUDPAddr("udp", p.Endpoint)
		if err != nil {
			return resolvedPeer{}, fmt.Errorf("%s.endpoint %q: %w: %v", field, p.Endpoint, ErrInvalidSpec, err)
		}
		rp.endpoint = addr.String()
	}
	return rp, nil
}

// sameNetwork says whether two specs of one (twin, name) describe the same network apart from
// its peers, which a later deployment may change.
func (s Spec) sameNetwork(o Spec) error {
	switch {
	case s.IPRange != o.IPRange:
		return fmt.Errorf("ip_range %s: %w (which has %s)", o.IPRange, ErrConflict, s.IPRange)
	case s.Subnet != o.Subnet:
		return fmt.Errorf("subnet %s: %w (which has %s)", o.Subnet, ErrConflict, s.Subnet)
	case s.PrivateKey != o.PrivateKey:
		return fmt.Errorf("wireguard_private_key: %w (which has another key)", ErrConflict)
	case s.ListenPort != o.ListenPort:
		return fmt.Errorf("wireguard_listen_port %d: %w (which has %d)", o.ListenPort, ErrConflict, s.ListenPort)
	}
	return nil
}

// gateway is the node's address in its subnet (the first host), held by the bridge.
func (s Spec) gateway() netip.Prefix {
	return netip.PrefixFrom(s.Subnet.Masked().Addr().Next(), s.Subnet.Bits())
}

// peerRoutes are the prefixes routed through WireGuard: every peer's allowed IPs except the
// node's own subnet, which is on the bridge.
func peerRoutes(subnet netip.Prefix, peers []resolvedPeer) []netip.Prefix {
	var routes []netip.Prefix
	for _, p := range peers {
		for _, a := range p.allowedIPs {
			if a.Overlaps(subnet) || slices.Contains(routes, a) {
				continue
			}
			routes = append(routes, a)
		}
	}
	return routes
}

// AttachSpec connects a machine (its network namespace) to a network at an address.
type AttachSpec struct {
	// ID is the machine's workload id (backend.ValidateID).
	ID      string
	Twin    uint32
	Network string
	// NetNS is the path of the machine's network namespace (a container's or a test's); empty for
	// a virtual machine (Tap).
	NetNS string
	IP    netip.Addr
	// IfName is the interface's name inside the machine, "eth0" when empty.
	IfName string
	// DefaultRoute routes everything through the network's gateway; otherwise only the network's
	// ip_range is (a machine with a public IP has its default route there).
	DefaultRoute bool
	// Tap: the machine is a virtual machine. Attach makes no veth and only takes the address; the
	// VM backend puts a tap named Attachment.HostLink into Attachment.Bridge and the guest sets
	// the address itself.
	Tap bool
}

var ifNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)

func (a AttachSpec) check(subnet netip.Prefix, gateway netip.Addr) error {
	if err := backend.ValidateID(a.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if a.NetNS == "" && !a.Tap {
		return fmt.Errorf("netns %q: %w: the machine's network namespace path is required", a.NetNS, ErrInvalidSpec)
	}
	if a.NetNS != "" && a.Tap {
		return fmt.Errorf("netns %q: %w: a virtual machine's tap has no namespace of its own", a.NetNS, ErrInvalidSpec)
	}
	if a.IfName != "" && !ifNamePattern.MatchString(a.IfName) {
		return fmt.Errorf("interface name %q: %w: must be 1 to 15 of a-z, A-Z, 0-9, '_', '.', '-'", a.IfName, ErrInvalidSpec)
	}
	return checkHostAddress(a.IP, subnet, gateway)
}

// checkHostAddress accepts ip when it is a usable host address of subnet other than the gateway.
func checkHostAddress(ip netip.Addr, subnet netip.Prefix, gateway netip.Addr) error {
	network := subnet.Masked().Addr()
	switch {
	case !ip.IsValid() || !subnet.Contains(ip):
		return fmt.Errorf("ip %q: %w: not inside the node's subnet %s", ip, ErrInvalidSpec, subnet)
	case ip == network:
		return fmt.Errorf("ip %s: %w: the network address of subnet %s", ip, ErrInvalidSpec, subnet)
	case ip == broadcast(subnet):
		return fmt.Errorf("ip %s: %w: the broadcast address of subnet %s", ip, ErrInvalidSpec, subnet)
	case ip == gateway:
		return fmt.Errorf("ip %s: %w: the node's gateway in subnet %s", ip, ErrInvalidSpec, subnet)
	}
	return nil
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	hostBits := 32 - p.Bits()
	for i := 3; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		a[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	return netip.AddrFrom4(a)
}
