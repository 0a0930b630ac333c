package types

import "cosmossdk.io/core/address"

// Defaults of the registry's params.
const (
	DefaultMaxFarmPublicIPs uint32 = 256
	DefaultTimestampDrift   uint64 = 60
	// maxMaxFarmPublicIPs bounds the param, since adding an IP counts the farm's IPs.
	maxMaxFarmPublicIPs uint32 = 4096
)

// DefaultParams returns the registry's default params.
func DefaultParams() Params {
	return Params{MaxFarmPublicIps: DefaultMaxFarmPublicIPs, TimestampDrift: DefaultTimestampDrift}
}

// Validate checks every param.
func (p Params) Validate(ac address.Codec) error {
	if p.MaxFarmPublicIps == 0 || p.MaxFarmPublicIps > maxMaxFarmPublicIPs {
		return ErrInvalidParams.Wrapf("max_farm_public_ips %d: want 1..%d", p.MaxFarmPublicIps, maxMaxFarmPublicIPs)
	}
	if p.TimestampDrift == 0 || p.TimestampDrift > 3600 {
		return ErrInvalidParams.Wrapf("timestamp_drift %d: want 1..3600 seconds", p.TimestampDrift)
	}
	seen := make(map[string]bool, len(p.NodeCertifiers))
	for i, c := range p.NodeCertifiers {
		if _, err := ac.StringToBytes(c); err != nil {
			return ErrInvalidParams.Wrapf("node_certifiers[%d] %q: %s", i, c, err)
		}
		if seen[c] {
			return ErrInvalidParams.Wrapf("node_certifiers[%d] %q: duplicate", i, c)
		}
		seen[c] = true
	}
	return nil
}
