package types

// A node's public config (IPv6, domain): stateless validation (see validate.go).

import (
	"fmt"
	"net/netip"
)

// nonPublicIPv6 lists ranges inside 2000::/3 that are not usable public
// unicast addresses.
var nonPublicIPv6 = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking address (2001:2::/48)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address (2001:db8::/32)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation address (3fff::/20)"},
}

var globalUnicastIPv6 = netip.MustParsePrefix("2000::/3")

// ipv6NotPublic returns why the IPv6 address a is not global unicast, or "".
// Global unicast means inside 2000::/3 (which excludes loopback, link-local,
// unique-local, multicast and IPv4-mapped addresses), minus the
// documentation and benchmarking ranges.
func ipv6NotPublic(a netip.Addr) string {
	if !globalUnicastIPv6.Contains(a) {
		return "not global unicast (outside 2000::/3)"
	}
	for _, r := range nonPublicIPv6 {
		if r.prefix.Contains(a) {
			return "not public: " + r.reason
		}
	}
	return ""
}

// ValidateIPv6Config checks the IPv6 part of a node public config: ip is an
// IPv6 CIDR (host address and prefix length), gateway a plain IPv6 address;
// both global unicast (see ipv6NotPublic), gateway inside the ip's subnet and
// different from it. Errors are ErrInvalidPublicConfig naming "ipv6" or "gw6".
func ValidateIPv6Config(ip, gateway string) error {
	if gwBad, reason := checkIPv6Config(ip, gateway); reason != "" {
		if gwBad {
			return ErrInvalidPublicConfig.Wrapf("gw6 %q (ipv6 %q): %s", gateway, ip, reason)
		}
		return ErrInvalidPublicConfig.Wrapf("ipv6 %q: %s", ip, reason)
	}
	return nil
}

func checkIPv6Config(ip, gateway string) (gwBad bool, reason string) {
	prefix, err := netip.ParsePrefix(ip)
	if err != nil {
		return false, "not a valid ipv6 cidr"
	}
	addr := prefix.Addr()
	if !addr.Is6() || addr.Is4In6() {
		return false, "not an ipv6 address"
	}
	if r := ipv6NotPublic(addr); r != "" {
		return false, r
	}
	gw, err := netip.ParseAddr(gateway)
	if err != nil || !gw.Is6() || gw.Is4In6() || gw.Zone() != "" {
		return true, "not a plain ipv6 address"
	}
	if r := ipv6NotPublic(gw); r != "" {
		return true, r
	}
	if gw == addr {
		return true, "equals the ip"
	}
	if !prefix.Contains(gw) {
		return true, fmt.Sprintf("outside subnet %s", prefix.Masked())
	}
	return false, ""
}

// ValidatePublicConfig checks a node public config. ipv4 and gw4 are required
// and validated like ParsePublicIP; ipv6 and gw6 must be both empty or both
// valid (ValidateIPv6Config); domain is empty or a DNS name (validateDNSName,
// at most 253 bytes). IP errors are ErrInvalidPublicConfig naming the field;
// domain errors are ErrInvalidDomain.
func ValidatePublicConfig(ipv4, gw4, ipv6, gw6, domain string) error {
	if ipv4 == "" {
		return ErrInvalidPublicConfig.Wrap("ipv4: required")
	}
	if gw4 == "" {
		return ErrInvalidPublicConfig.Wrap("gw4: required")
	}
	if _, _, gwBad, reason := parsePublicIPv4(ipv4, gw4); reason != "" {
		if gwBad {
			return ErrInvalidPublicConfig.Wrapf("gw4 %q (ipv4 %q): %s", gw4, ipv4, reason)
		}
		return ErrInvalidPublicConfig.Wrapf("ipv4 %q: %s", ipv4, reason)
	}
	switch {
	case ipv6 == "" && gw6 == "":
	case ipv6 == "":
		return ErrInvalidPublicConfig.Wrapf("ipv6: required when gw6 %q is set", gw6)
	case gw6 == "":
		return ErrInvalidPublicConfig.Wrapf("gw6: required when ipv6 %q is set", ipv6)
	default:
		if err := ValidateIPv6Config(ipv6, gw6); err != nil {
			return err
		}
	}
	if domain != "" {
		if r := validateDNSName(domain, MaxDNSNameLength); r != "" {
			return ErrInvalidDomain.Wrapf("domain %q: %s", domain, r)
		}
	}
	return nil
}
