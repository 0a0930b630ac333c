package deployment

import (
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/netip"
	"regexp"
	"strconv"
)

// Workload names: Zero-OS's rule (36 is the virtio-fs tag limit a name ends up in).
const (
	MaxNameLength = 36
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// checkName checks a workload name, or a field that refers to one.
func checkName(workload, field, name string) error {
	if name == "" {
		return workloadErr(workload, field, nil, ErrMissing, "is required")
	}
	if len(name) > MaxNameLength || !namePattern.MatchString(name) {
		return workloadErr(workload, field, name, ErrInvalidName,
			"is not a workload name (1 to %d of a-z, A-Z, 0-9, _)", MaxNameLength)
	}
	return nil
}

// checkRequired refuses an empty string.
func checkRequired(workload, field, value string) error {
	if value == "" {
		return workloadErr(workload, field, nil, ErrMissing, "is required")
	}
	return nil
}

// checkPositive refuses a zero size or count.
func checkPositive(workload, field string, value uint64) error {
	if value == 0 {
		return workloadErr(workload, field, value, ErrBelowMinimum, "must be greater than 0")
	}
	return nil
}

// checkPrefix parses an address with its prefix length (host bits may be set: 10.1.3.2/24).
func checkPrefix(workload, field, value string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(value)
	if err != nil {
		return netip.Prefix{}, workloadErr(workload, field, value, ErrInvalidValue, "is not an address with a prefix length (CIDR)")
	}
	return p, nil
}

// checkWireGuardKey checks a WireGuard key: standard base64 of 32 bytes.
func checkWireGuardKey(workload, field, value string) error {
	if value == "" {
		return workloadErr(workload, field, nil, ErrMissing, "is required")
	}
	if key, err := base64.StdEncoding.DecodeString(value); err != nil || len(key) != 32 {
		return workloadErr(workload, field, value, ErrInvalidValue, "is not a WireGuard key (base64 of 32 bytes)")
	}
	return nil
}

// checkHexBytes checks a hex string of exactly size bytes.
func checkHexBytes(workload, field, value string, size int) error {
	if b, err := hex.DecodeString(value); err != nil || len(b) != size {
		return workloadErr(workload, field, value, ErrInvalidValue, "is not %d bytes in hex", size)
	}
	return nil
}

// checkHostPort checks "host:port" with a numeric port in 1..65535; ipOnly demands an IP host.
func checkHostPort(workload, field, value string, ipOnly bool) (host string, err error) {
	host, port, splitErr := net.SplitHostPort(value)
	n, portErr := strconv.ParseUint(port, 10, 16)
	_, ipErr := netip.ParseAddr(host)
	if splitErr != nil || portErr != nil || n == 0 || host == "" || (ipOnly && ipErr != nil) {
		what := "host:port"
		if ipOnly {
			what = "ip:port"
		}
		return "", workloadErr(workload, field, value, ErrInvalidValue, "is not %s (port 1 to 65535)", what)
	}
	return host, nil
}
