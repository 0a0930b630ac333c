package types

// Stateless validation of user input for the x/tfgrid module.
//
// Every function here is pure: it works on primitive Go values only, touches no
// state and is deterministic. Every returned error is one of the registered
// module errors (see errors.go), wrapped with a message naming the offending
// field and value, so callers can both match with errors.Is and show a useful
// message to the user.

import (
	"fmt"
	"math"
	"math/bits"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

const (
	// GiB is one gibibyte in bytes. Node resources (sru, hru, mru) are in bytes.
	GiB uint64 = 1 << 30
	// TiB is one tebibyte in bytes.
	TiB = 1024 * GiB

	// MaxRelays is the maximum number of relay URLs a twin may register.
	MaxRelays = 4
	// MaxRelayURLLength is the maximum length in bytes of one relay URL.
	MaxRelayURLLength = 255
	// MaxDNSNameLength is the maximum length in bytes of a DNS name (no trailing dot).
	MaxDNSNameLength = 253
	// MaxDNSLabelLength is the maximum length in bytes of one DNS label.
	MaxDNSLabelLength = 63

	// E2EKeyLength is the length of a compressed secp256k1 public key.
	E2EKeyLength = 33

	// MinFarmNameLength and MaxFarmNameLength bound a farm name.
	MinFarmNameLength = 3
	MaxFarmNameLength = 40

	// MinInterfaceNameLength and MaxInterfaceNameLength bound a network
	// interface name (15 = Linux IFNAMSIZ - 1).
	MinInterfaceNameLength = 2
	MaxInterfaceNameLength = 15
	// MaxInterfaces is the maximum number of interfaces a node may report.
	MaxInterfaces = 10
	// MaxInterfaceIPs is the maximum number of addresses per interface.
	MaxInterfaceIPs = 10

	// MinCityLength/MaxCityLength and MinCountryLength/MaxCountryLength bound
	// the location names, counted in characters (Unicode code points).
	MinCityLength    = 1
	MaxCityLength    = 58
	MinCountryLength = 2
	MaxCountryLength = 56
	// MaxCoordinateLength bounds the textual latitude / longitude.
	MaxCoordinateLength = 50
	// UnknownCoordinate is the literal accepted in place of a latitude or longitude.
	UnknownCoordinate = "Unknown"

	// MaxSerialNumberLength is the maximum length of a node serial number.
	MaxSerialNumberLength = 128

	// MinNodeMRU is the minimum memory of a node, in bytes.
	MinNodeMRU = 2 * GiB
	// MinNodeStorage is the minimum SSD or HDD capacity of a node, in bytes.
	MinNodeStorage = 100 * GiB

	// MinPolicyNameLength and MaxPolicyNameLength bound pricing- and
	// farming-policy names.
	MinPolicyNameLength = 3
	MaxPolicyNameLength = 64

	// MaxPercent is the largest value accepted by ValidatePercent.
	MaxPercent = 100
)

// ---------------------------------------------------------------------------
// Twins
// ---------------------------------------------------------------------------

// ValidateRelays checks the relay URLs of a twin.
//
// At most MaxRelays entries. Each entry must be exactly `ws://host[:port]` or
// `wss://host[:port]` (lowercase scheme) where host is a DNS name (see
// validateDNSName) or an IP literal (IPv6 in brackets, no zone) and port, if
// present, is a decimal number in 1..65535 without leading zeros. The URL is
// at most MaxRelayURLLength bytes and carries no user info, path (not even a
// lone "/"), query or fragment. Entries must be distinct; hosts are compared
// case-insensitively and IP literals in canonical form.
func ValidateRelays(relays []string) error {
	if len(relays) > MaxRelays {
		return ErrTooManyRelays.Wrapf("relays: %d entries, at most %d allowed", len(relays), MaxRelays)
	}
	seen := make(map[string]int, len(relays))
	for i, u := range relays {
		key, reason := parseRelayURLReason(u)
		if reason != "" {
			return ErrInvalidRelay.Wrapf("relays[%d] %q: %s", i, u, reason)
		}
		if j, dup := seen[key]; dup {
			return ErrInvalidRelay.Wrapf("relays[%d] %q: duplicate of relays[%d]", i, u, j)
		}
		seen[key] = i
	}
	return nil
}

// ParseRelayURL validates one relay URL (the rules of ValidateRelays) and
// returns its normal form: lowercase host, canonical IP literal. Relays compare
// URLs in this form, so the chain and the relay agree on what a URL names.
func ParseRelayURL(u string) (string, error) {
	key, reason := parseRelayURLReason(u)
	if reason != "" {
		return "", fmt.Errorf("relay URL %q: %s", u, reason)
	}
	return key, nil
}

func parseRelayURLReason(u string) (key, reason string) {
	if u == "" {
		return "", "empty url"
	}
	if len(u) > MaxRelayURLLength {
		return "", fmt.Sprintf("url is %d bytes, at most %d allowed", len(u), MaxRelayURLLength)
	}
	var scheme, rest string
	switch {
	case strings.HasPrefix(u, "wss://"):
		scheme, rest = "wss", u[len("wss://"):]
	case strings.HasPrefix(u, "ws://"):
		scheme, rest = "ws", u[len("ws://"):]
	default:
		return "", "scheme must be ws:// or wss://"
	}

	// The authority ends at the first '/', '?' or '#'; none of them may appear.
	// An '@' before that would introduce user info.
	if idx := strings.IndexAny(rest, "/?#@"); idx >= 0 {
		switch rest[idx] {
		case '/':
			return "", "path not allowed"
		case '?':
			return "", "query not allowed"
		case '#':
			return "", "fragment not allowed"
		default:
			return "", "user info not allowed"
		}
	}

	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "unterminated ipv6 literal"
		}
		host = rest[1:end]
		after := rest[end+1:]
		switch {
		case after == "":
		case after[0] == ':':
			port = after[1:]
			if port == "" {
				return "", "empty port"
			}
		default:
			return "", "unexpected characters after ipv6 literal"
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", fmt.Sprintf("invalid ipv6 literal %q", host)
		}
		host = "[" + addr.String() + "]"
	} else {
		if c := strings.Count(rest, ":"); c > 1 {
			return "", "ipv6 literal must be enclosed in brackets"
		} else if c == 1 {
			idx := strings.IndexByte(rest, ':')
			host, port = rest[:idx], rest[idx+1:]
			if port == "" {
				return "", "empty port"
			}
		}
		if host == "" {
			return "", "empty host"
		}
		if addr, err := netip.ParseAddr(host); err == nil && addr.Is4() {
			host = addr.String()
		} else {
			if r := validateDNSName(host, MaxDNSNameLength); r != "" {
				return "", "host " + r
			}
			host = strings.ToLower(host)
		}
	}

	if port != "" {
		if r := validatePort(port); r != "" {
			return "", r
		}
		return scheme + "://" + host + ":" + port, ""
	}
	return scheme + "://" + host, ""
}

// validatePort accepts a decimal port number in 1..65535 without sign or
// leading zeros.
func validatePort(p string) string {
	if len(p) > 5 || !isDigits(p) || p[0] == '0' {
		return fmt.Sprintf("invalid port %q", p)
	}
	n, _ := strconv.Atoi(p) // at most 5 digits: cannot fail
	if n < 1 || n > 65535 {
		return fmt.Sprintf("port %s out of range 1..65535", p)
	}
	return ""
}

// validateDNSName checks a host name: at most maxLen bytes, dot-separated
// labels of 1..63 characters from [A-Za-z0-9-] that neither start nor end with
// '-'. Empty labels (leading, trailing or double dots) are refused. The last
// label must not be all digits, so that something looking like a (malformed)
// IPv4 address such as "1.2.3.256" or "01.2.3.4" is not taken as a name.
// It returns the reason on failure and "" on success.
func validateDNSName(name string, maxLen int) string {
	if name == "" {
		return "is empty"
	}
	if len(name) > maxLen {
		return fmt.Sprintf("is %d bytes, at most %d allowed", len(name), maxLen)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return "has an empty label"
		}
		if len(l) > MaxDNSLabelLength {
			return fmt.Sprintf("label %q is %d bytes, at most %d allowed", l, len(l), MaxDNSLabelLength)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("label %q starts or ends with '-'", l)
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !isAlnum(c) && c != '-' {
				return fmt.Sprintf("label %q contains invalid character %q", l, c)
			}
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return "has an all-numeric last label (not a valid ip address either)"
	}
	return ""
}

// ValidateE2EKey checks the end-to-end encryption key of a twin. An empty key
// is accepted (no key). Otherwise it must be a compressed secp256k1 public key:
// 33 bytes, prefix 0x02 or 0x03, and an x coordinate on the curve.
func ValidateE2EKey(key []byte) error {
	if len(key) == 0 {
		return nil
	}
	if len(key) != E2EKeyLength {
		return ErrInvalidE2EKey.Wrapf("e2e key %x: %d bytes, want %d (compressed secp256k1)", key, len(key), E2EKeyLength)
	}
	if key[0] != secp256k1.PubKeyFormatCompressedEven && key[0] != secp256k1.PubKeyFormatCompressedOdd {
		return ErrInvalidE2EKey.Wrapf("e2e key %x: prefix 0x%02x, want 0x02 or 0x03", key, key[0])
	}
	if _, err := secp256k1.ParsePubKey(key); err != nil {
		return ErrInvalidE2EKey.Wrapf("e2e key %x: not a point on secp256k1", key)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Farms and public IPs
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Node public config
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Node interfaces, location, serial, resources
// ---------------------------------------------------------------------------

// ValidateInterfaceCount checks the number of interfaces of a node (at most
// MaxInterfaces).
func ValidateInterfaceCount(n int) error {
	if n < 0 || n > MaxInterfaces {
		return ErrTooManyInterfaces.Wrapf("interfaces: %d entries, at most %d allowed", n, MaxInterfaces)
	}
	return nil
}

// ValidateInterface checks interfaces[i] of a node:
//   - name: 2..15 characters of [A-Za-z0-9_.-], and not ".." (ErrInvalidInterfaceName);
//   - mac: a 48-bit MAC written as six colon-separated hex pairs
//     xx:xx:xx:xx:xx:xx, either case (ErrInvalidMAC);
//   - ips: at most MaxInterfaceIPs entries, each an IPv4 or IPv6 address,
//     optionally in CIDR form, without zone (ErrInvalidInterfaceIP).
func ValidateInterface(i int, name, mac string, ips []string) error {
	if len(name) < MinInterfaceNameLength || len(name) > MaxInterfaceNameLength {
		return ErrInvalidInterfaceName.Wrapf("interfaces[%d].name %q: length %d, must be %d..%d",
			i, name, len(name), MinInterfaceNameLength, MaxInterfaceNameLength)
	}
	for j := 0; j < len(name); j++ {
		c := name[j]
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return ErrInvalidInterfaceName.Wrapf("interfaces[%d].name %q: invalid character %q, allowed [A-Za-z0-9_.-]", i, name, c)
		}
	}
	if name == ".." {
		return ErrInvalidInterfaceName.Wrapf("interfaces[%d].name %q: reserved name", i, name)
	}

	if r := validateMAC(mac); r != "" {
		return ErrInvalidMAC.Wrapf("interfaces[%d].mac %q: %s", i, mac, r)
	}

	if len(ips) > MaxInterfaceIPs {
		return ErrInvalidInterfaceIP.Wrapf("interfaces[%d].ips: %d entries, at most %d allowed", i, len(ips), MaxInterfaceIPs)
	}
	for j, s := range ips {
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
		if err != nil || addr.Zone() != "" {
			return ErrInvalidInterfaceIP.Wrapf("interfaces[%d].ips[%d] %q: not an ip address or cidr", i, j, s)
		}
	}
	return nil
}

// validateMAC accepts exactly xx:xx:xx:xx:xx:xx (hex digits of either case).
func validateMAC(mac string) string {
	if len(mac) != 17 {
		return "want 17 characters xx:xx:xx:xx:xx:xx"
	}
	for k := 2; k < 17; k += 3 {
		if mac[k] != ':' {
			return "want colon-separated form xx:xx:xx:xx:xx:xx"
		}
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return "not a 48-bit mac address"
	}
	return ""
}

// ValidateLocation checks a node location.
//   - city: 1..58 characters, country: 2..56 characters (Unicode code points,
//     valid UTF-8). Allowed are letters of any script (with their combining
//     marks), spaces and the punctuation ' . -; at least one letter, no
//     leading or trailing space (ErrInvalidCity / ErrInvalidCountry).
//   - latitude / longitude: the literal "Unknown", or a plain decimal number
//     `[+-]digits[.digits]` (no exponent, NaN, Inf or hex form) of at most 50
//     characters, within [-90, 90] / [-180, 180] (ErrInvalidLatitude /
//     ErrInvalidLongitude).
func ValidateLocation(city, country, latitude, longitude string) error {
	if r := validatePlaceName(city, MinCityLength, MaxCityLength); r != "" {
		return ErrInvalidCity.Wrapf("city %q: %s", city, r)
	}
	if r := validatePlaceName(country, MinCountryLength, MaxCountryLength); r != "" {
		return ErrInvalidCountry.Wrapf("country %q: %s", country, r)
	}
	if r := validateCoordinate(latitude, 90); r != "" {
		return ErrInvalidLatitude.Wrapf("latitude %q: %s", latitude, r)
	}
	if r := validateCoordinate(longitude, 180); r != "" {
		return ErrInvalidLongitude.Wrapf("longitude %q: %s", longitude, r)
	}
	return nil
}

func validatePlaceName(s string, minLen, maxLen int) string {
	if !utf8.ValidString(s) {
		return "not valid utf-8"
	}
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen {
		return fmt.Sprintf("length %d characters, must be %d..%d", n, minLen, maxLen)
	}
	letters := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsMark(r) && letters > 0:
		case r == ' ' || r == '\'' || r == '.' || r == '-':
		default:
			return fmt.Sprintf("invalid character %q", r)
		}
	}
	if letters == 0 {
		return "contains no letter"
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return "leading or trailing space"
	}
	return ""
}

func validateCoordinate(s string, limit float64) string {
	if s == UnknownCoordinate {
		return ""
	}
	if s == "" {
		return "empty"
	}
	if len(s) > MaxCoordinateLength {
		return fmt.Sprintf("%d characters, at most %d allowed", len(s), MaxCoordinateLength)
	}
	num := s
	if num[0] == '+' || num[0] == '-' {
		num = num[1:]
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	if !isDigits(intPart) || (hasDot && !isDigits(frac)) {
		return "not a decimal number [+-]digits[.digits]"
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return "not a decimal number"
	}
	if v < -limit || v > limit {
		return fmt.Sprintf("out of range [%g, %g]", -limit, limit)
	}
	return ""
}

// ValidateSerialNumber checks a node serial number: empty, or at most 128
// printable ASCII characters (0x20..0x7e).
func ValidateSerialNumber(s string) error {
	if len(s) > MaxSerialNumberLength {
		return ErrInvalidSerialNumber.Wrapf("serial number %q: %d bytes, at most %d allowed", s, len(s), MaxSerialNumberLength)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ErrInvalidSerialNumber.Wrapf("serial number %q: non-printable or non-ascii byte 0x%02x at %d", s, s[i], i)
		}
	}
	return nil
}

// ValidateNodeResources checks the capacity a node reports. sru, hru and mru
// are in bytes, cru is a count of logical CPUs. Requires cru >= 1
// (ErrInvalidCRU), mru >= 2 GiB (ErrInvalidMRU) and sru >= 100 GiB or
// hru >= 100 GiB (ErrInvalidStorage; HDD-only nodes are allowed).
func ValidateNodeResources(cru, sru, hru, mru uint64) error {
	if cru < 1 {
		return ErrInvalidCRU.Wrapf("cru %d: at least 1 required", cru)
	}
	if mru < MinNodeMRU {
		return ErrInvalidMRU.Wrapf("mru %d bytes: at least %d (2 GiB) required", mru, MinNodeMRU)
	}
	if sru < MinNodeStorage && hru < MinNodeStorage {
		return ErrInvalidStorage.Wrapf("sru %d bytes, hru %d bytes: sru or hru must be at least %d (100 GiB)", sru, hru, MinNodeStorage)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------

// ValidatePricingPolicyName checks a pricing-policy name: 3..64 characters of
// [A-Za-z0-9_-].
func ValidatePricingPolicyName(name string) error {
	if r := validateIdentifier(name, MinPolicyNameLength, MaxPolicyNameLength); r != "" {
		return ErrInvalidPricingPolicy.Wrapf("name %q: %s", name, r)
	}
	return nil
}

// ValidateFarmingPolicyName checks a farming-policy name: 3..64 characters of
// [A-Za-z0-9_-].
func ValidateFarmingPolicyName(name string) error {
	if r := validateIdentifier(name, MinPolicyNameLength, MaxPolicyNameLength); r != "" {
		return ErrInvalidFarmingPolicy.Wrapf("name %q: %s", name, r)
	}
	return nil
}

// ValidatePercent checks that the pricing-policy field `field` is a
// percentage (at most 100).
func ValidatePercent(field string, v uint32) error {
	if v > MaxPercent {
		return ErrInvalidPricingPolicy.Wrapf("%s %d: must be at most %d", field, v, MaxPercent)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Uptime
// ---------------------------------------------------------------------------

// CheckTimestampHint checks that the timestamp hint of an uptime report (unix
// seconds) is within drift seconds of the block time: |hint - blockTime| <=
// drift. The difference is computed without overflow for any int64 inputs.
func CheckTimestampHint(hint, blockTime int64, drift uint64) error {
	var diff uint64
	// For a >= b, the true difference a-b lies in [0, 2^64-1], so the
	// wrapping uint64 subtraction yields it exactly.
	if hint >= blockTime {
		diff = uint64(hint) - uint64(blockTime)
	} else {
		diff = uint64(blockTime) - uint64(hint)
	}
	if diff > drift {
		return ErrInvalidTimestampHint.Wrapf("timestamp hint %d differs from block time %d by %d s, at most %d s allowed",
			hint, blockTime, diff, drift)
	}
	return nil
}

// CheckUptime bounds a node's uptime report by its age on the chain plus drift: an agent counts its
// uptime from when it started, which is before it registered by at most the drift.
func CheckUptime(uptime uint64, node Node, blockTime int64, drift uint64) error {
	age := uint64(max(blockTime-node.Created, 0))
	if limit, carry := bits.Add64(age, drift, 0); carry == 0 && uptime > limit {
		return ErrInvalidUptime.Wrapf("node %d: uptime %d s exceeds its age %d s + drift %d s", node.Id, uptime, age, drift)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Resource weights (farming-policy limits)
// ---------------------------------------------------------------------------

// NodeCU returns the compute units of a node used for farming-policy limits:
//
//	floor(min(2·cru, (mru_GiB − 1)/4, sru_GiB/50))
//
// where mru_GiB = mru/GiB and sru_GiB = sru/GiB are real numbers (mru and sru in
// bytes). Because floor is monotonic, floor(min(a, b, c)) = min(floor(a),
// floor(b), floor(c)), and each term is computed exactly in integers:
//
//	floor(2·cru)             = 2·cru (saturating at MaxUint64)
//	floor((mru/GiB − 1)/4)   = (mru − GiB) / (4·GiB), and 0 when mru < GiB
//	floor(sru/GiB / 50)      = sru / (50·GiB)
//
// None of these overflows. Unlike the original chain, the memory term is the
// real (mru − 1 GiB)/4 and ties are not special-cased.
func NodeCU(cru, mru, sru uint64) uint64 {
	cpu := uint64(math.MaxUint64)
	if cru <= math.MaxUint64/2 {
		cpu = 2 * cru
	}
	var mem uint64
	if mru >= GiB {
		mem = (mru - GiB) / (4 * GiB)
	}
	ssd := sru / (50 * GiB)
	return min(cpu, mem, ssd)
}

// NodeSU returns the storage units of a node used for farming-policy limits:
//
//	floor(hru_GiB/1200 + sru_GiB/250)
//
// with hru and sru in bytes. Over the common denominator lcm(1200, 250) = 6000:
//
//	hru/(1200·GiB) + sru/(250·GiB) = (5·hru + 24·sru) / (6000·GiB)
//
// so the result is the integer quotient (5·hru + 24·sru) / (6000·GiB). The
// numerator is computed in 128 bits (math/bits); it is at most
// 29·(2^64 − 1), so its high word (< 29) is below the divisor (≈ 6.4·10^12)
// and the 64-bit quotient is exact and cannot overflow.
func NodeSU(hru, sru uint64) uint64 {
	const divisor = 6000 * GiB
	h1, l1 := bits.Mul64(hru, 5)
	h2, l2 := bits.Mul64(sru, 24)
	lo, carry := bits.Add64(l1, l2, 0)
	hi, _ := bits.Add64(h1, h2, carry)
	q, _ := bits.Div64(hi, lo, divisor)
	return q
}

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
