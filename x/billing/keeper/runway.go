package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// The runway schedule. A scheduled settlement exists to collect what a contract costs before its
// owner's funds run out; an owner whose funds last for days needs no hourly settlement. Each twin's
// TwinLoad keeps the most its live contracts can cost an hour (their ceilings) and how far ahead they
// are scheduled (horizon). A contract is next settled after half its owner's runway, between
// settlement_interval and max_settlement_interval. Whatever shortens a runway faster than the schedule
// assumes — the owner sending or delegating funds away, a new or larger contract — is checked against
// the horizon at once, and a twin whose funds may not last until then has its contracts brought
// forward to the next EndBlock.

// loadOf is a twin's load; a twin without one has nothing charged.
func (k *Keeper) loadOf(ctx context.Context, twinID uint64) (types.TwinLoad, error) {
	l, err := k.TwinLoads.Get(ctx, twinID)
	if errors.Is(err, collections.ErrNotFound) {
		return types.TwinLoad{TwinId: twinID, HourlyCeiling: sdkmath.ZeroInt()}, nil
	}
	return l, err
}

func (k *Keeper) storeLoad(ctx context.Context, l types.TwinLoad) error {
	if !l.HourlyCeiling.IsPositive() {
		return k.TwinLoads.Remove(ctx, l.TwinId)
	}
	return k.TwinLoads.Set(ctx, l.TwinId, l)
}

// setCeiling records a contract's new hourly ceiling on it and on its owner's load.
func (k *Keeper) setCeiling(ctx context.Context, twinID uint64, b *types.ContractBilling, ceiling sdkmath.Int) error {
	old := types.OrZero(b.HourlyCeiling)
	b.HourlyCeiling = ceiling
	if old.Equal(ceiling) {
		return nil
	}
	l, err := k.loadOf(ctx, twinID)
	if err != nil {
		return err
	}
	l.HourlyCeiling = l.HourlyCeiling.Sub(old).Add(ceiling)
	return k.storeLoad(ctx, l)
}

// spacing is the seconds until the next scheduled settlement of one of a twin's contracts, given what
// the twin can still spend; the twin's horizon moves out to the settlement.
func (k *Keeper) spacing(ctx context.Context, params types.Params, twinID uint64, funds sdkmath.Int, now int64) (int64, error) {
	l, err := k.loadOf(ctx, twinID)
	if err != nil {
		return 0, err
	}
	s := types.SettlementSpacing(funds, l.HourlyCeiling, params.SettlementInterval, params.MaxSettlementInterval)
	return s, k.extendHorizon(ctx, l, now+s)
}

// setHorizon sets a twin's horizon, once none of its charged contracts is due after it.
func (k *Keeper) setHorizon(ctx context.Context, twinID uint64, horizon int64) error {
	l, err := k.loadOf(ctx, twinID)
	if err != nil || !l.HourlyCeiling.IsPositive() {
		return err
	}
	l.Horizon = horizon
	return k.storeLoad(ctx, l)
}

// extendHorizon moves a twin's horizon out to a settlement scheduled at due.
func (k *Keeper) extendHorizon(ctx context.Context, l types.TwinLoad, due int64) error {
	if !l.HourlyCeiling.IsPositive() || l.Horizon >= due {
		return nil
	}
	l.Horizon = due
	return k.storeLoad(ctx, l)
}

// checkFunds marks a twin whose funds may run out before its contracts' horizon: EndBlock brings
// their settlements forward.
func (k *Keeper) checkFunds(ctx context.Context, twinID uint64, funds sdkmath.Int) error {
	l, err := k.loadOf(ctx, twinID)
	if err != nil {
		return err
	}
	now := keeperutil.BlockTime(ctx)
	if !types.FundsShort(funds, l.HourlyCeiling, now, l.Horizon) {
		return nil
	}
	// A new mark starts over: contracts settled before it did not see these funds.
	return k.FundsShortTwins.Set(ctx, twinID, types.FundsShortMark{MarkedAt: now})
}

// checkAccountFunds is checkFunds for an account that is about to spend out utft (0 when it already
// did): nothing for an account without a twin.
func (k *Keeper) checkAccountFunds(ctx context.Context, addr sdk.AccAddress, out sdkmath.Int) error {
	twinID, found, err := k.registry.TwinIDOfAddress(ctx, addr)
	if err != nil || !found {
		return err
	}
	if has, err := k.TwinLoads.Has(ctx, twinID); err != nil || !has {
		return err
	}
	return k.checkFunds(ctx, twinID, k.spendable(ctx, addr).Sub(out))
}

// SendRestriction is the bank send restriction that checks a twin's runway whenever utft leaves its
// account (a send, a fee, an IBC transfer): it never refuses a send. Payments to billing itself are
// what the schedule already counts.
func (k *Keeper) SendRestriction(ctx context.Context, from, to sdk.AccAddress, amt sdk.Coins) (sdk.AccAddress, error) {
	out := amt.AmountOf(k.denom)
	if !out.IsPositive() || to.Equals(k.ModuleAddress()) {
		return to, nil
	}
	return to, k.checkAccountFunds(ctx, from, out)
}

// bringForward makes due now the contracts of the twins whose funds ran short that were not settled
// since. It visits at most limit contracts per block, in twin and contract id order; a twin not done
// keeps its mark with where to resume.
func (k *Keeper) bringForward(ctx context.Context, now int64, limit uint32) error {
	type marked struct {
		twinID uint64
		mark   types.FundsShortMark
	}
	var marks []marked
	if err := k.FundsShortTwins.Walk(ctx, nil, func(id uint64, m types.FundsShortMark) (bool, error) {
		marks = append(marks, marked{id, m})
		return false, nil
	}); err != nil {
		return err
	}
	budget := limit
	for _, m := range marks {
		done, err := k.bringTwinForward(ctx, m.twinID, &m.mark, now, &budget)
		if err != nil {
			return err
		}
		if !done {
			return k.FundsShortTwins.Set(ctx, m.twinID, m.mark)
		}
		if err := k.FundsShortTwins.Remove(ctx, m.twinID); err != nil {
			return err
		}
		if err := k.setHorizon(ctx, m.twinID, max(m.mark.LatestDue, now)); err != nil {
			return err
		}
		if err := keeperutil.Emit(ctx, &types.EventSettlementsBroughtForward{TwinId: m.twinID}); err != nil {
			return err
		}
	}
	return nil
}

// bringTwinForward visits a marked twin's contracts from where its mark stands while the budget
// lasts, making due now those not settled since the mark; done when it visited the last.
func (k *Keeper) bringTwinForward(ctx context.Context, twinID uint64, m *types.FundsShortMark, now int64, budget *uint32) (bool, error) {
	if *budget == 0 {
		return false, nil
	}
	// One more than the budget tells whether the twin has contracts left after it.
	ids, err := k.contracts.TwinLiveContractIDsFrom(ctx, twinID, m.NextContract, *budget+1)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if *budget == 0 {
			m.NextContract = id
			return false, nil
		}
		*budget--
		b, err := k.Contracts.Get(ctx, id)
		if err != nil {
			return false, err
		}
		if b.NextDue > now && b.LastSettled <= m.MarkedAt {
			if err := k.reschedule(ctx, &b, now); err != nil {
				return false, err
			}
		}
		if types.OrZero(b.HourlyCeiling).IsPositive() {
			m.LatestDue = max(m.LatestDue, b.NextDue)
		}
	}
	return true, nil
}

// HourlyCeiling is hourlyCeiling with the current params and price, for states built outside
// transactions (the billing benchmark).
func (k *Keeper) HourlyCeiling(ctx context.Context, c sctypes.Contract) (sdkmath.Int, error) {
	rd, err := k.newReads(ctx)
	if err != nil {
		return sdkmath.Int{}, err
	}
	return k.hourlyCeiling(ctx, rd, c)
}

// RebuildTwinLoads derives every twin's load from its contracts' billing states (InitGenesis, and
// states built outside transactions).
func (k *Keeper) RebuildTwinLoads(ctx context.Context) error {
	if err := k.TwinLoads.Clear(ctx, nil); err != nil {
		return err
	}
	loads, err := k.derivedLoads(ctx)
	if err != nil {
		return err
	}
	for _, l := range loads {
		if err := k.storeLoad(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// hourlyCeiling is the most utft an hour a contract can cost at the current price, undiscounted: a
// node contract at its whole reservation, as if its node were not rented, held to its spending cap.
func (k *Keeper) hourlyCeiling(ctx context.Context, rd *reads, c sctypes.Contract) (sdkmath.Int, error) {
	var b types.ContractBilling
	nc := c.GetNodeContract()
	if nc != nil {
		res := nc.Resources
		b.Usage = types.Usage{Cru: res.Cru, Sru: res.Sru, Hru: res.Hru, Mru: res.Mru}
	}
	r, _, err := k.ratesOf(ctx, rd, c, b, 0, 0, true)
	if err != nil {
		return sdkmath.Int{}, err
	}
	ceiling := types.ToUTFT(hourlyRate(r, types.RatOfDec(r.multiplier)), rd.price)
	if nc != nil && nc.MaxUtftPerHour != 0 {
		ceiling = sdkmath.MinInt(ceiling, sdkmath.NewIntFromUint64(nc.MaxUtftPerHour))
	}
	return ceiling, nil
}

// extendOwnerHorizon is extendHorizon for the owner of a contract.
func (k *Keeper) extendOwnerHorizon(ctx context.Context, contractID uint64, due int64) error {
	c, err := k.contracts.GetContract(ctx, contractID)
	if err != nil {
		return err
	}
	l, err := k.loadOf(ctx, c.TwinId)
	if err != nil {
		return err
	}
	return k.extendHorizon(ctx, l, due)
}
