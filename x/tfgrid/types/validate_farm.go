package types

// Farms and their public IPv4 addresses: stateless validation (see validate.go).

import (
	"fmt"
	"net/netip"
	"strings"
)

// ValidateFarmName checks a farm name: 3..40 characters of [A-Za-z0-9_-].
func ValidateFarmName(name string) error {
	if r := validateIdentifier(name, MinFarmNameLength, MaxFarmNameLength); r != "" {
		return ErrInvalidFarmName.Wrapf("name %q: %s", name, r)
	}
	return nil
}

// FarmNameKey is the form under which farm names are unique: lower case, so DEMO-FARM and demo-farm
// cannot both exist.
func FarmNameKey(name string) string { return strings.ToLower(name) }

// validateIdentifier checks that s has min..max bytes, all in [A-Za-z0-9_-].
func validateIdentifier(s string, minLen, maxLen int) string {
	if len(s) < minLen || len(s) > maxLen {
		return fmt.Sprintf("length %d, must be %d..%d", len(s), minLen, maxLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return fmt.Sprintf("invalid character %q at %d, allowed [A-Za-z0-9_-]", c, i)
		}
	}
	return ""
}

// ParsePublicIP validates a farm public IP and its gateway.
//
// ip is an IPv4 CIDR `a.b.c.d/len` (the host address with the prefix length of
// its subnet) and gateway a plain IPv4 address. Both must be public unicast
// addresses (see ipv4NotPublic). The gateway must lie inside the ip's subnet
// and differ from the ip. For prefix lengths <= 30, neither the ip nor the
// gateway may be the subnet's network or broadcast address (/31 and /32 have
// no such addresses; a /32 can never hold a distinct gateway).
//
// It returns the canonical host address, the chain-wide uniqueness key of a
// public IP, and the prefix with the host address kept (not masked), e.g.
// 185.69.166.10/24. Errors are ErrInvalidPublicIP or ErrInvalidGateway.
func ParsePublicIP(ip, gateway string) (addr netip.Addr, prefix netip.Prefix, err error) {
	addr, prefix, gwBad, reason := parsePublicIPv4(ip, gateway)
	switch {
	case reason == "":
		return addr, prefix, nil
	case gwBad:
		return netip.Addr{}, netip.Prefix{}, ErrInvalidGateway.Wrapf("gateway %q (ip %q): %s", gateway, ip, reason)
	default:
		return netip.Addr{}, netip.Prefix{}, ErrInvalidPublicIP.Wrapf("ip %q: %s", ip, reason)
	}
}

// parsePublicIPv4 implements ParsePublicIP. On failure it reports whether the
// gateway (rather than the ip) is at fault and why.
func parsePublicIPv4(ip, gateway string) (addr netip.Addr, prefix netip.Prefix, gwBad bool, reason string) {
	prefix, err := netip.ParsePrefix(ip)
	if err != nil {
		return addr, prefix, false, "not a valid cidr a.b.c.d/len"
	}
	addr = prefix.Addr()
	if !addr.Is4() {
		return addr, prefix, false, "not an ipv4 address"
	}
	if r := ipv4NotPublic(addr); r != "" {
		return addr, prefix, false, r
	}
	if r := networkOrBroadcast(addr, prefix); r != "" {
		return addr, prefix, false, r
	}

	gw, err := netip.ParseAddr(gateway)
	if err != nil || !gw.Is4() {
		return addr, prefix, true, "not a plain ipv4 address"
	}
	if r := ipv4NotPublic(gw); r != "" {
		return addr, prefix, true, r
	}
	if gw == addr {
		return addr, prefix, true, "equals the ip"
	}
	if !prefix.Contains(gw) {
		return addr, prefix, true, fmt.Sprintf("outside subnet %s", prefix.Masked())
	}
	if r := networkOrBroadcast(gw, prefix); r != "" {
		return addr, prefix, true, r
	}
	return addr, prefix, false, ""
}

// networkOrBroadcast reports whether a is the network or broadcast address of
// the IPv4 prefix p, for prefix lengths <= 30.
func networkOrBroadcast(a netip.Addr, p netip.Prefix) string {
	if p.Bits() > 30 {
		return ""
	}
	network := p.Masked().Addr()
	if a == network {
		return fmt.Sprintf("is the network address of %s", p.Masked())
	}
	n := network.As4()
	hostBits := 32 - p.Bits()
	v := uint32(n[0])<<24 | uint32(n[1])<<16 | uint32(n[2])<<8 | uint32(n[3])
	v |= uint32(1)<<hostBits - 1
	if a == netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) {
		return fmt.Sprintf("is the broadcast address of %s", p.Masked())
	}
	return ""
}

// nonPublicIPv4 lists the IPv4 ranges that are not public unicast, with the
// reason reported to the user. 0.0.0.0 (unspecified) falls in 0.0.0.0/8 and
// 255.255.255.255 (limited broadcast) in 240.0.0.0/4.
var nonPublicIPv4 = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified / \"this network\" address (0.0.0.0/8)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (10.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade nat address (100.64.0.0/10)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address (169.254.0.0/16)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (172.16.0.0/12)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "ietf protocol assignment address (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address (192.0.2.0/24)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (192.168.0.0/16)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address (198.18.0.0/15)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address (198.51.100.0/24)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address (203.0.113.0/24)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address (224.0.0.0/4)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast address (240.0.0.0/4)"},
}

// ipv4NotPublic returns why the IPv4 address a is not public unicast, or "".
func ipv4NotPublic(a netip.Addr) string {
	for _, r := range nonPublicIPv4 {
		if r.prefix.Contains(a) {
			return "not public: " + r.reason
		}
	}
	return ""
}

// CanonicalIPv4 accepts an IPv4 address either bare (a.b.c.d) or in CIDR form
// (a.b.c.d/len) and returns the bare canonical address, i.e. the uniqueness key
// returned by ParsePublicIP. It does not check that the address is public.
func CanonicalIPv4(s string) (string, error) {
	var (
		addr netip.Addr
		err  error
	)
	if strings.Contains(s, "/") {
		var p netip.Prefix
		p, err = netip.ParsePrefix(s)
		addr = p.Addr()
	} else {
		addr, err = netip.ParseAddr(s)
	}
	if err != nil || !addr.Is4() {
		return "", ErrInvalidPublicIP.Wrapf("ip %q: not an ipv4 address or cidr", s)
	}
	return addr.String(), nil
}
