package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// Settle charges a live contract for the time since it was last settled and moves it through grace:
// paid up → out of grace; short of funds → into grace (debt kept as overdraft); in grace longer than
// grace_period → deleted with cause out of funds.
func (k *Keeper) Settle(ctx context.Context, id uint64) error {
	rd, err := k.newReads(ctx)
	if err != nil {
		return err
	}
	return k.settle(ctx, rd, id)
}

// settle is Settle with the reads of the block or message it runs in.
func (k *Keeper) settle(ctx context.Context, rd *reads, id uint64) error {
	params := rd.params
	c, b, err := k.load(ctx, id)
	if err != nil {
		return err
	}
	owed, left, err := k.settlePeriod(ctx, rd, c, &b)
	if err != nil {
		return err
	}
	now := keeperutil.BlockTime(ctx)
	spacing, err := k.spacing(ctx, params, c.TwinId, left, now)
	if err != nil {
		return err
	}
	next := now + spacing
	switch {
	case owed.IsPositive() && c.State == sctypes.ContractStateGracePeriod:
		deadline := c.GraceSince + int64(params.GracePeriod)
		if now >= deadline {
			if err := k.store(ctx, b); err != nil {
				return err
			}
			return k.contracts.DeleteContract(ctx, c, sctypes.DeleteCauseOutOfFunds)
		}
		next = min(next, deadline)
	case owed.IsPositive():
		if err := k.contracts.EnterGrace(ctx, id); err != nil {
			return err
		}
		next = min(next, now+int64(params.GracePeriod))
	case c.State == sctypes.ContractStateGracePeriod:
		if err := k.contracts.LeaveGrace(ctx, id); err != nil {
			return err
		}
		if rent := c.GetRentContract(); rent != nil {
			if err := k.reschedule(ctx, &b, next); err != nil {
				return err
			}
			return k.settleRentedNodeContracts(ctx, rd, id, rent.NodeId)
		}
	}
	return k.reschedule(ctx, &b, next)
}

// settleRentedNodeContracts settles the node contracts on the node of a rent contract that just left
// grace: LeaveGrace took the renter's out with it, so each that still owes goes back into grace, and
// one that grace was holding only for the rent contract's sake leaves it.
func (k *Keeper) settleRentedNodeContracts(ctx context.Context, rd *reads, rentID, nodeID uint64) error {
	ids, err := k.contracts.NodeLiveContractIDs(ctx, nodeID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == rentID {
			continue
		}
		if err := k.settle(ctx, rd, id); err != nil {
			return err
		}
	}
	return nil
}

// settlePeriod charges [last_settled, now], pays what the owner can, and returns what stays owed and
// what the owner can still spend. The owner's spendable balance is read once: it sets the discount and
// caps the payment. The contract's hourly ceiling is priced anew.
func (k *Keeper) settlePeriod(ctx context.Context, rd *reads, c sctypes.Contract, b *types.ContractBilling) (owed, left sdkmath.Int, err error) {
	now := keeperutil.BlockTime(ctx)
	from := min(b.LastSettled, now)
	owner, err := rd.account(ctx, c.TwinId)
	if err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, err
	}
	spendable := k.spendable(ctx, owner)
	ch, err := k.chargeFor(ctx, rd, c, *b, from, now, spendable)
	if err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, err
	}
	if err := k.applySpendingCap(ctx, c, &ch, from, now); err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, err
	}
	extraDue, standardDue := b.ExtraOverdraft.Add(ch.extra), b.StandardOverdraft.Add(ch.standard)
	paidExtra, paidStandard, share, err := k.pay(ctx, rd, owner, spendable, ch.farmID, extraDue, standardDue)
	if err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, err
	}
	b.ExtraOverdraft, b.StandardOverdraft = extraDue.Sub(paidExtra), standardDue.Sub(paidStandard)
	b.LastSettled, b.UnbilledNu = now, sdkmath.LegacyZeroDec()
	b.OnlineClock, b.PoweredClock = ch.clocks.online, ch.clocks.powered
	owed = b.ExtraOverdraft.Add(b.StandardOverdraft)
	amount, paid := ch.standard.Add(ch.extra), paidExtra.Add(paidStandard)
	if amount.IsPositive() || paid.IsPositive() {
		emitSettled(ctx, &types.EventContractSettled{
			ContractId: c.Id, PeriodStart: from, PeriodEnd: now, Amount: amount.String(), DiscountLevel: ch.level,
			Paid: paid.String(), FarmId: share.farmID, FarmerAmount: share.farmer.String(),
			FoundationAmount: share.foundation.String(), StakingAmount: share.staking.String(),
		})
	}
	if owed.IsPositive() {
		if err := keeperutil.Emit(ctx, &types.EventContractOverdrawn{ContractId: c.Id, Paid: paid.String(), Overdraft: owed.String()}); err != nil {
			return sdkmath.Int{}, sdkmath.Int{}, err
		}
	}
	if !rd.batched {
		if err := k.distribute(ctx, rd); err != nil {
			return sdkmath.Int{}, sdkmath.Int{}, err
		}
	}
	ceiling, err := k.hourlyCeiling(ctx, rd, c)
	if err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, err
	}
	if err := k.setCeiling(ctx, c.TwinId, b, ceiling); err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, err
	}
	return owed, spendable.Sub(paid), nil
}

// applySpendingCap holds a node contract's charge for [from, to] to its max_utft_per_hour × the hours
// settled; what the period would cost above that is dropped and evented, never owed.
func (k *Keeper) applySpendingCap(ctx context.Context, c sctypes.Contract, ch *charge, from, to int64) error {
	nc := c.GetNodeContract()
	if nc == nil || nc.MaxUtftPerHour == 0 {
		return nil
	}
	computed := ch.standard.Add(ch.extra)
	allowed := types.CappedCharge(computed, nc.MaxUtftPerHour, uint64(to-from))
	if allowed.Equal(computed) {
		return nil
	}
	ch.standard = sdkmath.MinInt(ch.standard, allowed)
	ch.extra = allowed.Sub(ch.standard)
	return keeperutil.Emit(ctx, &types.EventChargeCapped{
		ContractId: c.Id, PeriodStart: from, PeriodEnd: to, Computed: computed.String(), Charged: allowed.String(),
		Dropped: computed.Sub(allowed).String(), MaxUtftPerHour: nc.MaxUtftPerHour,
	})
}

// pay takes what the owner can spend, the extra fee first, in one transfer into the billing module
// account, and splits it: the extra fee 100 % to the farm; the standard part by the share params (a
// name contract's farmer share to the foundation). The split is accrued on rd for distribute.
func (k *Keeper) pay(ctx context.Context, rd *reads, owner sdk.AccAddress, spendable sdkmath.Int, farmID uint64,
	extraDue, standardDue sdkmath.Int,
) (sdkmath.Int, sdkmath.Int, accrual, error) {
	paidExtra := sdkmath.MinInt(extraDue, spendable)
	paidStandard := sdkmath.MinInt(standardDue, spendable.Sub(paidExtra))
	farmerShare, foundationShare, stakingShare := types.Split(paidStandard, rd.params.FarmerSharePercent, rd.params.StakingSharePercent)
	if farmID == 0 {
		foundationShare, farmerShare = foundationShare.Add(farmerShare), sdkmath.ZeroInt()
	}
	share := accrual{farmID: farmID, farmer: paidExtra.Add(farmerShare), foundation: foundationShare, staking: stakingShare}
	paid := paidExtra.Add(paidStandard)
	if !paid.IsPositive() {
		return paidExtra, paidStandard, share, nil
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, owner, types.ModuleName, k.coins(paid)); err != nil {
		return sdkmath.Int{}, sdkmath.Int{}, accrual{}, err
	}
	rd.accrued = append(rd.accrued, share)
	return paidExtra, paidStandard, share, nil
}

func (k *Keeper) coins(amount sdkmath.Int) sdk.Coins {
	return sdk.NewCoins(sdk.NewCoin(k.denom, amount))
}

// spendable is an account's spendable utft: its balance of the denom less what vesting locks, read
// without walking its other balances (bank's SpendableCoins reads them all).
func (k *Keeper) spendable(ctx context.Context, addr sdk.AccAddress) sdkmath.Int {
	balance := k.bank.GetBalance(ctx, addr, k.denom).Amount
	locked := k.bank.LockedCoins(ctx, addr).AmountOf(k.denom)
	return sdkmath.MaxInt(balance.Sub(locked), sdkmath.ZeroInt())
}

// load reads a contract and its billing state.
func (k *Keeper) load(ctx context.Context, id uint64) (sctypes.Contract, types.ContractBilling, error) {
	c, err := k.contracts.GetContract(ctx, id)
	if err != nil {
		return c, types.ContractBilling{}, err
	}
	b, err := k.Contracts.Get(ctx, id)
	return c, b, keeperutil.NotFound(err, types.ErrContractNotFound, "contract %d", id)
}

// reschedule stores a contract's billing state with a new due time, keeping the queue in step.
func (k *Keeper) reschedule(ctx context.Context, b *types.ContractBilling, next int64) error {
	if err := k.Queue.Remove(ctx, b.NextDue, b.ContractId); err != nil {
		return err
	}
	b.NextDue = next
	if err := k.Queue.Add(ctx, next, b.ContractId); err != nil {
		return err
	}
	return k.store(ctx, *b)
}

func (k *Keeper) store(ctx context.Context, b types.ContractBilling) error {
	return k.Contracts.Set(ctx, b.ContractId, b)
}
