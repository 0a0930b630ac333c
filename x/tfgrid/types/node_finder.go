package types

import "strings"

// The node finder: which nodes a filtered Query/Nodes returns. Pure functions; the keeper gathers the
// facts (NodeUsage from the contract module, the farm) and pages through the nodes.

const (
	// MaxNodesPageSize is the most nodes a filtered Query/Nodes returns.
	MaxNodesPageSize = 100
	// MaxNodesScanned is the most nodes one filtered Query/Nodes examines; past it the query returns
	// what it found with a next key, so no query walks unbounded state.
	MaxNodesScanned = 1000
)

// NodeUsage is what contracts hold of a node, as the contract module reports it to the registry.
type NodeUsage struct {
	// Reserved is the sum of what the node's live node contracts reserve.
	Reserved Resources
	// RentContractID is the node's live rent contract, 0 when not rented.
	RentContractID uint64
	// HasNodeContracts is true when any live node contract runs on the node.
	HasNodeContracts bool
	// HasExtraFee is true when the farmer set an extra fee: the node can only be rented whole.
	HasExtraFee bool
}

// NodeFacts is what the finder knows of a node beyond the node itself.
type NodeFacts struct {
	Usage         NodeUsage
	FarmDedicated bool
	// FarmFreeIPs is the number of free public IPs of the node's farm.
	FarmFreeIPs uint64
}

// Free is the node's capacity less what its live contracts reserve.
func (f NodeFacts) Free(node Node) Resources { return node.Resources.Sub(f.Usage.Reserved) }

// Dedicated reports whether the node can only be rented whole.
func (f NodeFacts) Dedicated() bool { return f.FarmDedicated || f.Usage.HasExtraFee }

// Rented reports whether a rent contract holds the node.
func (f NodeFacts) Rented() bool { return f.Usage.RentContractID != 0 }

// Rentable reports whether a rent contract would be accepted on the node now: not rented, and
// without node contracts unless its farm is dedicated (the rule of x/smartcontract).
func (f NodeFacts) Rentable() bool {
	return !f.Rented() && (f.FarmDedicated || !f.Usage.HasNodeContracts)
}

// Availability is the node's entry in a Query/Nodes response.
func (f NodeFacts) Availability(node Node) NodeAvailability {
	return NodeAvailability{NodeId: node.Id, Free: f.Free(node), RentContractId: f.Usage.RentContractID}
}

// HasFilters reports whether the request filters on more than the farm: such a request pages
// through the nodes itself, with bounded pages and scans.
func (r *QueryNodesRequest) HasFilters() bool {
	return r.Country != "" || r.City != "" || r.Certification != NodeCertificationUnspecified ||
		r.PowerState != PowerStateUnspecified || r.OnlineWithin != 0 || r.Rent != NodeRentFilterUnspecified ||
		r.Dedicated || r.MinFreeIps != 0 || r.FreeWanted() != (Resources{})
}

// FreeWanted is the free capacity the request asks for.
func (r *QueryNodesRequest) FreeWanted() Resources {
	return Resources{Cru: r.FreeCru, Sru: r.FreeSru, Hru: r.FreeHru, Mru: r.FreeMru}
}

// ValidateFilters checks the request's enum filters and country code, so a typo is an error rather
// than no match.
func (r *QueryNodesRequest) ValidateFilters() error {
	if err := ValidateCountryFilter(r.Country); err != nil {
		return err
	}
	if _, ok := NodeCertification_name[int32(r.Certification)]; !ok {
		return ErrInvalidQuery.Wrapf("certification %d: not a node certification", r.Certification)
	}
	if _, ok := PowerState_name[int32(r.PowerState)]; !ok {
		return ErrInvalidQuery.Wrapf("power_state %d: not a power state", r.PowerState)
	}
	if _, ok := NodeRentFilter_name[int32(r.Rent)]; !ok {
		return ErrInvalidQuery.Wrapf("rent %d: not a rent filter", r.Rent)
	}
	return nil
}

// Matches reports whether a node with the given facts passes every filter of the request; now is
// the block time in unix seconds.
func (r *QueryNodesRequest) Matches(node Node, facts NodeFacts, now int64) bool {
	return r.matchesNode(node, now) && r.matchesFacts(node, facts)
}

// matchesNode applies the filters on the node's own fields.
func (r *QueryNodesRequest) matchesNode(node Node, now int64) bool {
	switch {
	case r.FarmId != 0 && node.FarmId != r.FarmId,
		r.Country != "" && !SameCountry(node.Location.Country, r.Country),
		r.City != "" && !strings.EqualFold(node.Location.City, r.City),
		r.Certification != NodeCertificationUnspecified && node.Certification != r.Certification,
		r.PowerState != PowerStateUnspecified && node.Power.State != r.PowerState:
		return false
	}
	return r.OnlineWithin == 0 || uptimeFresh(node.LastUptime.ReportedAt, now, r.OnlineWithin)
}

// uptimeFresh reports whether a report at reportedAt is at most within seconds old at now.
func uptimeFresh(reportedAt, now int64, within uint64) bool {
	if reportedAt <= 0 {
		return false // never reported
	}
	age := now - reportedAt
	return age <= 0 || uint64(age) <= within
}

// matchesFacts applies the filters on contracts and the farm.
func (r *QueryNodesRequest) matchesFacts(node Node, facts NodeFacts) bool {
	switch r.Rent {
	case NodeRentFilterRented:
		if !facts.Rented() {
			return false
		}
	case NodeRentFilterNotRented:
		if facts.Rented() {
			return false
		}
	case NodeRentFilterRentable:
		if !facts.Rentable() {
			return false
		}
	}
	if r.Dedicated && !facts.Dedicated() || facts.FarmFreeIPs < r.MinFreeIps {
		return false
	}
	want := r.FreeWanted()
	if want == (Resources{}) {
		return true
	}
	// A rented node's capacity is its renter's: it is free for nobody else.
	field, _, _ := FirstShortfall(facts.Free(node), want)
	return !facts.Rented() && field == ""
}
