package types

import "math/bits"

// NodeDescription is what a node says about itself, shared by MsgCreateNode and MsgUpdateNode.
type NodeDescription struct {
	Resources    Resources
	Location     Location
	Interfaces   []Interface
	SerialNumber string
}

// Validate checks every field of a node description.
func (d NodeDescription) Validate() error {
	r := d.Resources
	if err := ValidateNodeResources(r.Cru, r.Sru, r.Hru, r.Mru); err != nil {
		return err
	}
	l := d.Location
	if err := ValidateLocation(l.City, l.Country, l.Latitude, l.Longitude); err != nil {
		return err
	}
	if err := ValidateInterfaceCount(len(d.Interfaces)); err != nil {
		return err
	}
	seen := make(map[string]bool, len(d.Interfaces))
	for i, itf := range d.Interfaces {
		if err := ValidateInterface(i, itf.Name, itf.Mac, itf.Ips); err != nil {
			return err
		}
		if seen[itf.Name] {
			return ErrInvalidInterfaceName.Wrapf("interfaces[%d] %q: duplicate name", i, itf.Name)
		}
		seen[itf.Name] = true
	}
	return ValidateSerialNumber(d.SerialNumber)
}

// Validate checks a node's public config.
func (c *PublicConfig) Validate() error {
	return ValidatePublicConfig(c.Ipv4, c.Gw4, c.Ipv6, c.Gw6, c.Domain)
}

// ResourcesChangedMoreThan1Percent reports whether any capacity moved by more than 1 % of its old value,
// which costs a certified node its certification.
func ResourcesChangedMoreThan1Percent(old, updated Resources) bool {
	pairs := [][2]uint64{{old.Cru, updated.Cru}, {old.Sru, updated.Sru}, {old.Hru, updated.Hru}, {old.Mru, updated.Mru}}
	for _, p := range pairs {
		diff := max(p[0], p[1]) - min(p[0], p[1])
		// diff/old > 1/100  <=>  100*diff > old, computed in 128 bits.
		hi, lo := bits.Mul64(diff, 100)
		if hi > 0 || lo > p[0] {
			return true
		}
	}
	return false
}
