package keeper

import (
	"context"
	"math/big"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// charge is what a contract owes for one settlement period, before the owner's debt is added.
type charge struct {
	// standard is the discounted utft of resources, IPs, NU or the name; it is split between farmer,
	// foundation and stakers.
	standard sdkmath.Int
	// extra is the utft of a dedicated node's extra fee, 100 % to the farmer.
	extra sdkmath.Int
	level types.DiscountLevel
	// farmID is the farm of the contract's node, whose payout the farmer share accrues to; 0 for a
	// name contract.
	farmID uint64
	// hourly is the utft the contract costs per hour now (standard with discount, plus extra).
	hourly sdkmath.Int
	// clocks are the node's clock readings at the end of the period, for the next settlement.
	clocks clockReadings
}

// clockReadings are a node's billing clocks read at one time.
type clockReadings struct{ online, powered uint64 }

// rates are a contract's undiscounted costs in cost units: per hour while billable, plus one-off NU.
type rates struct {
	standardPerHour *big.Rat // resources (while billable) and IPs (always)
	extraPerHour    *big.Rat
	// resourcePerHour is the part of standardPerHour that stops while the node is offline or down.
	resourcePerHour *big.Rat
	multiplier      sdkmath.LegacyDec // certified-node markup
	farmID          uint64
	clocks          clockReadings
}

// chargeFor prices a contract's period [from, to] and its unbilled NU at the current price, with the
// discount the owner's spendable balance earns.
func (k *Keeper) chargeFor(ctx context.Context, rd *reads, c sctypes.Contract, b types.ContractBilling, from, to int64, balance sdkmath.Int) (charge, error) {
	price := rd.price
	r, billable, err := k.ratesOf(ctx, rd, c, b, from, to, false)
	if err != nil {
		return charge{}, err
	}
	level, discount := types.Discount(balance, types.MonthlyCost(r.standardPerHour, price), rd.params.DiscountLevels)
	mult := types.RatOfDec(discount.Mul(r.multiplier))

	elapsed := uint64(to - from)
	// Fixed charges (IPs, name) run the whole period; resources only the billable seconds.
	fixedPerHour := new(big.Rat).Sub(r.standardPerHour, r.resourcePerHour)
	standard := new(big.Rat).Add(types.PerSeconds(fixedPerHour, elapsed), types.PerSeconds(r.resourcePerHour, billable))
	standard.Add(standard, types.RatOfDec(b.UnbilledNu))
	standard.Mul(standard, mult)
	extra := types.PerSeconds(r.extraPerHour, billable)
	hourly := hourlyRate(r, mult)
	return charge{
		standard: types.ToUTFT(standard, price),
		extra:    types.ToUTFT(extra, price),
		level:    level,
		farmID:   r.farmID,
		hourly:   types.ToUTFT(hourly, price),
		clocks:   r.clocks,
	}, nil
}

// hourlyRate is what rates cost an hour, the standard part times mult.
func hourlyRate(r rates, mult *big.Rat) *big.Rat {
	return new(big.Rat).Add(new(big.Rat).Mul(r.standardPerHour, mult), r.extraPerHour)
}

// ratesOf reads what a contract is priced on, and how many seconds of [from, to] its resources are
// billable. asIfUnrented prices a node contract's resources even on a rented node (its ceiling).
func (k *Keeper) ratesOf(ctx context.Context, rd *reads, c sctypes.Contract, b types.ContractBilling, from, to int64,
	asIfUnrented bool,
) (rates, uint64, error) {
	r := rates{extraPerHour: new(big.Rat), resourcePerHour: new(big.Rat), multiplier: sdkmath.LegacyOneDec()}
	if name := c.GetNameContract(); name != nil {
		policy, err := rd.policy(ctx, defaultPricingPolicyID)
		if err != nil {
			return r, 0, err
		}
		r.standardPerHour = types.NameCost(policy.UniqueName, 3600)
		return r, 0, nil
	}
	node, err := rd.node(ctx, c.NodeID())
	if err != nil {
		return r, 0, err
	}
	policyID, err := rd.farmPolicy(ctx, node.FarmId)
	if err != nil {
		return r, 0, err
	}
	policy, err := rd.policy(ctx, policyID)
	if err != nil {
		return r, 0, err
	}
	r.farmID = node.FarmId
	clock, err := rd.clock(ctx, node)
	if err != nil {
		return r, 0, err
	}
	r.clocks = clockReadings{online: clock.OnlineAt(to), powered: clock.PoweredAt(to)}
	if node.Certification == tfgridtypes.NodeCertificationCertified {
		r.multiplier = rd.params.CertifiedMultiplier
	}
	if nc := c.GetNodeContract(); nc != nil {
		return k.nodeContractRates(ctx, r, policy, node, nc, b, from, to, asIfUnrented)
	}
	return k.rentContractRates(ctx, r, policy, node, b, from, to)
}

func (k *Keeper) nodeContractRates(ctx context.Context, r rates, policy tfgridtypes.PricingPolicy, node tfgridtypes.Node,
	nc *sctypes.NodeContract, b types.ContractBilling, from, to int64, asIfUnrented bool,
) (rates, uint64, error) {
	rented := false
	if !asIfUnrented {
		var err error
		if _, rented, err = k.contracts.NodeRentContractID(ctx, node.Id); err != nil {
			return r, 0, err
		}
	}
	// On a rented node the renter pays for the machine; node contracts pay only their IPs and NU.
	if !rented {
		u := b.Usage
		r.resourcePerHour = types.ResourceCost(policy.Cu, policy.Su, types.Capacity{Cru: u.Cru, Sru: u.Sru, Hru: u.Hru, Mru: u.Mru}, 3600)
	}
	r.standardPerHour = new(big.Rat).Add(r.resourcePerHour, types.IPCost(policy.Ipu, uint32(len(nc.PublicIps)), 3600))
	// Resources are billable while the node was online: its clock's advance since the last settlement.
	return r, types.Elapsed(r.clocks.online, b.OnlineClock, uint64(to-from)), nil
}

func (k *Keeper) rentContractRates(ctx context.Context, r rates, policy tfgridtypes.PricingPolicy, node tfgridtypes.Node,
	b types.ContractBilling, from, to int64,
) (rates, uint64, error) {
	res := node.Resources
	full := types.ResourceCost(policy.Cu, policy.Su, types.Capacity{Cru: res.Cru, Sru: res.Sru, Hru: res.Hru, Mru: res.Mru}, 3600)
	payable := big.NewRat(int64(100-policy.DedicatedNodeDiscountPercent), 100)
	r.resourcePerHour = full.Mul(full, payable)
	r.standardPerHour = r.resourcePerHour
	fee, err := k.contracts.NodeExtraFee(ctx, node.Id)
	if err != nil {
		return r, 0, err
	}
	r.extraPerHour = types.ExtraFeeCost(fee, 3600)
	// The machine is billable while it was powered up: the clock's advance since the last settlement.
	return r, types.Elapsed(r.clocks.powered, b.PoweredClock, uint64(to-from)), nil
}

// defaultPricingPolicyID prices name contracts, which belong to no farm.
const defaultPricingPolicyID = 1
