package types

// Twins: relays, e2e keys: stateless validation (see validate.go).

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

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
