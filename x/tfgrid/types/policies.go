package types

import (
	"cmp"
	"slices"

	"cosmossdk.io/core/address"
)

// Validate checks a pricing policy's name, discount and accounts.
func (p PricingPolicy) Validate(ac address.Codec) error {
	if err := ValidatePricingPolicyName(p.Name); err != nil {
		return err
	}
	if err := ValidatePercent("dedicated_node_discount_percent", p.DedicatedNodeDiscountPercent); err != nil {
		return err
	}
	accounts := [][2]string{{"foundation_account", p.FoundationAccount}, {"certified_sales_account", p.CertifiedSalesAccount}}
	for _, a := range accounts {
		if _, err := ac.StringToBytes(a[1]); err != nil {
			return ErrInvalidPricingPolicy.Wrapf("%s %q: %s", a[0], a[1], err)
		}
	}
	return nil
}

// Validate checks a farming policy's name and certifications.
func (p FarmingPolicy) Validate() error {
	if err := ValidateFarmingPolicyName(p.Name); err != nil {
		return err
	}
	if p.MinimalUptime > 100 {
		return ErrInvalidFarmingPolicy.Wrapf("minimal_uptime %d: a percentage, at most 100", p.MinimalUptime)
	}
	if p.PolicyEnd < 0 {
		return ErrInvalidFarmingPolicy.Wrapf("policy_end %d: a unix time, or 0 for never", p.PolicyEnd)
	}
	if err := ValidateNodeCertification(p.NodeCertification); err != nil {
		return err
	}
	return ValidateFarmCertification(p.FarmCertification)
}

// Expired reports whether the policy has ended at unix time now.
func (p FarmingPolicy) Expired(now int64) bool {
	return p.PolicyEnd != 0 && now >= p.PolicyEnd
}

// Consume grants the attached policy to a node if the limits still admit it, and takes the node's
// capacity from the remaining budget. Nil limits admit nothing.
func (l *FarmingPolicyLimits) Consume(r Resources, cert NodeCertification, now int64) (uint64, bool) {
	if l == nil || l.NodeCount == 0 || (l.End != 0 && now >= l.End) {
		return 0, false
	}
	if l.NodeCertification && cert != NodeCertificationCertified {
		return 0, false
	}
	cu, su := NodeCU(r.Cru, r.Mru, r.Sru), NodeSU(r.Hru, r.Sru)
	if cu > l.Cu || su > l.Su {
		return 0, false
	}
	l.Cu, l.Su, l.NodeCount = l.Cu-cu, l.Su-su, l.NodeCount-1
	return l.FarmingPolicyId, true
}

// BestDefaultFarmingPolicy picks, among live default policies whose certification requirements the node
// and farm meet, the most demanding one (farm certification first, then node certification, then the
// highest id, so a newer policy replaces an older one of the same level).
func BestDefaultFarmingPolicy(defaults []FarmingPolicy, nodeCert NodeCertification, farmCert FarmCertification, now int64) (uint64, bool) {
	candidates := slices.DeleteFunc(slices.Clone(defaults), func(p FarmingPolicy) bool {
		return !p.IsDefault || p.Expired(now) || p.NodeCertification > nodeCert || p.FarmCertification > farmCert
	})
	if len(candidates) == 0 {
		return 0, false
	}
	best := slices.MaxFunc(candidates, func(a, b FarmingPolicy) int {
		return cmp.Or(cmp.Compare(a.FarmCertification, b.FarmCertification),
			cmp.Compare(a.NodeCertification, b.NodeCertification), cmp.Compare(a.Id, b.Id))
	})
	return best.Id, true
}
