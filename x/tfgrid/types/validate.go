package types

// Stateless validation of user input for the x/tfgrid module.
//
// Every function here is pure: it works on primitive Go values only, touches no
// state and is deterministic. Every returned error is one of the registered
// module errors (see errors.go), wrapped with a message naming the offending
// field and value, so callers can both match with errors.Is and show a useful
// message to the user.

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
