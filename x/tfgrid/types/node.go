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

// FirstShortfall names the first resource of have that is below need (cru, sru, hru, mru order), with
// both values; "" when have covers need.
func FirstShortfall(have, need Resources) (field string, got, want uint64) {
	for _, f := range have.Fields(need) {
		if f.A < f.B {
			return f.Name, f.A, f.B
		}
	}
	return "", 0, 0
}

// ResourceField is one resource of two capacities side by side.
type ResourceField struct {
	Name string
	A, B uint64
}

// Fields pairs each resource of r with the same resource of other, in the order cru, sru, hru, mru.
func (r Resources) Fields(other Resources) []ResourceField {
	return []ResourceField{{"cru", r.Cru, other.Cru}, {"sru", r.Sru, other.Sru}, {"hru", r.Hru, other.Hru}, {"mru", r.Mru, other.Mru}}
}

// Add is the sum of two capacities; ok is false when a resource overflows.
func (r Resources) Add(other Resources) (sum Resources, ok bool) {
	var c1, c2, c3, c4 uint64
	sum.Cru, c1 = bits.Add64(r.Cru, other.Cru, 0)
	sum.Sru, c2 = bits.Add64(r.Sru, other.Sru, 0)
	sum.Hru, c3 = bits.Add64(r.Hru, other.Hru, 0)
	sum.Mru, c4 = bits.Add64(r.Mru, other.Mru, 0)
	return sum, c1|c2|c3|c4 == 0
}

// Sub is r less other, each resource at least 0.
func (r Resources) Sub(other Resources) Resources {
	sub := func(a, b uint64) uint64 { return a - min(a, b) }
	return Resources{Cru: sub(r.Cru, other.Cru), Sru: sub(r.Sru, other.Sru), Hru: sub(r.Hru, other.Hru), Mru: sub(r.Mru, other.Mru)}
}

// ResourcesChangedMoreThan1Percent reports whether any capacity moved by more than 1 % of its old value,
// which costs a certified node its certification.
func ResourcesChangedMoreThan1Percent(old, updated Resources) bool {
	for _, p := range old.Fields(updated) {
		diff := max(p.A, p.B) - min(p.A, p.B)
		// diff/old > 1/100  <=>  100*diff > old, computed in 128 bits.
		hi, lo := bits.Mul64(diff, 100)
		if hi > 0 || lo > p.A {
			return true
		}
	}
	return false
}
