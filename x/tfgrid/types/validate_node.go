package types

// Nodes: interfaces, location, serial number, resources: stateless validation (see validate.go).

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
