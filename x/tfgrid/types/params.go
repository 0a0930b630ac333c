package types

import "cosmossdk.io/core/address"

// Defaults of the registry's params.
const (
	DefaultMaxFarmPublicIPs uint32 = 256
	DefaultTimestampDrift   uint64 = 60
	DefaultMaxNodeCRU       uint64 = 4096
	DefaultMaxNodeMRU              = 64 * TiB
	DefaultMaxNodeStorage          = 1024 * TiB
	// DefaultMaxLinkRate is 100 Gbit/s in bytes per second.
	DefaultMaxLinkRate uint64 = 12_500_000_000
	// maxMaxFarmPublicIPs bounds the param, since adding an IP counts the farm's IPs.
	maxMaxFarmPublicIPs uint32 = 4096
)

// DefaultParams returns the registry's default params.
func DefaultParams() Params {
	return Params{
		MaxFarmPublicIps: DefaultMaxFarmPublicIPs, TimestampDrift: DefaultTimestampDrift,
		MaxNodeCru: DefaultMaxNodeCRU, MaxNodeMru: DefaultMaxNodeMRU, MaxNodeStorage: DefaultMaxNodeStorage,
		MaxLinkRate: DefaultMaxLinkRate,
	}
}

// CheckNodeCapacity refuses a node description above the bounds: what a node declares is only its word,
// so it must at least be physically plausible.
func (p Params) CheckNodeCapacity(r Resources, linkRate uint64) error {
	if r.Cru > p.MaxNodeCru {
		return ErrInvalidCRU.Wrapf("cru %d: at most max_node_cru %d", r.Cru, p.MaxNodeCru)
	}
	if r.Mru > p.MaxNodeMru {
		return ErrInvalidMRU.Wrapf("mru %d bytes: at most max_node_mru %d", r.Mru, p.MaxNodeMru)
	}
	for _, s := range []struct {
		name  string
		bytes uint64
	}{{"sru", r.Sru}, {"hru", r.Hru}} {
		if s.bytes > p.MaxNodeStorage {
			return ErrInvalidStorage.Wrapf("%s %d bytes: at most max_node_storage %d", s.name, s.bytes, p.MaxNodeStorage)
		}
	}
	if linkRate > p.MaxLinkRate {
		return ErrInvalidLinkRate.Wrapf("link_rate %d B/s: at most max_link_rate %d", linkRate, p.MaxLinkRate)
	}
	return nil
}

// Validate checks every param.
func (p Params) Validate(ac address.Codec) error {
	if p.MaxFarmPublicIps == 0 || p.MaxFarmPublicIps > maxMaxFarmPublicIPs {
		return ErrInvalidParams.Wrapf("max_farm_public_ips %d: want 1..%d", p.MaxFarmPublicIps, maxMaxFarmPublicIPs)
	}
	if p.TimestampDrift == 0 || p.TimestampDrift > 3600 {
		return ErrInvalidParams.Wrapf("timestamp_drift %d: want 1..3600 seconds", p.TimestampDrift)
	}
	if p.MaxNodeCru == 0 {
		return ErrInvalidParams.Wrapf("max_node_cru %d: want at least 1", p.MaxNodeCru)
	}
	if p.MaxNodeMru < MinNodeMRU {
		return ErrInvalidParams.Wrapf("max_node_mru %d: want at least %d (2 GiB)", p.MaxNodeMru, MinNodeMRU)
	}
	if p.MaxNodeStorage < MinNodeStorage {
		return ErrInvalidParams.Wrapf("max_node_storage %d: want at least %d (100 GiB)", p.MaxNodeStorage, MinNodeStorage)
	}
	if p.MaxLinkRate == 0 {
		return ErrInvalidParams.Wrapf("max_link_rate %d: want at least 1 byte per second", p.MaxLinkRate)
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
