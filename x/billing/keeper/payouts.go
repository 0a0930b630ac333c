package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// accrual is how one settlement's payment, already in the billing module account, is owed onward.
type accrual struct {
	// farmID is the farm whose payout farmer accrues to; 0 when the payment has no farm (a name contract).
	farmID                      uint64
	farmer, foundation, staking sdkmath.Int
}

// ModuleAddress is the billing module account: it holds what owners paid until the foundation's and
// stakers' shares leave it at the end of the block or message, and the farms' pending payouts.
func (k *Keeper) ModuleAddress() sdk.AccAddress { return authtypes.NewModuleAddress(types.ModuleName) }

// distribute settles what the settlements run with rd accrued: the farmer shares are added to their
// farms' pending payouts (one write per farm), the foundation's and the stakers' shares leave the
// module account in one transfer each. EndBlock runs it once after its settlements, every other
// settlement right after itself, so between blocks and transactions the module account holds exactly
// the pending payouts.
func (k *Keeper) distribute(ctx context.Context, rd *reads) error {
	accrued := rd.accrued
	rd.accrued = nil
	foundation, staking := sdkmath.ZeroInt(), sdkmath.ZeroInt()
	farms := map[uint64]sdkmath.Int{}
	var order []uint64 // farms in first-accrual order: deterministic
	for _, a := range accrued {
		foundation, staking = foundation.Add(a.foundation), staking.Add(a.staking)
		if !a.farmer.IsPositive() {
			continue
		}
		if _, seen := farms[a.farmID]; !seen {
			order = append(order, a.farmID)
			farms[a.farmID] = sdkmath.ZeroInt()
		}
		farms[a.farmID] = farms[a.farmID].Add(a.farmer)
	}
	due := keeperutil.BlockTime(ctx) + int64(rd.params.PayoutInterval)
	for _, id := range order {
		if err := k.accrueToFarm(ctx, id, farms[id], due); err != nil {
			return err
		}
	}
	if !foundation.IsPositive() && !staking.IsPositive() {
		return nil
	}
	if foundation.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, rd.foundation, k.coins(foundation)); err != nil {
			return err
		}
	}
	if staking.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.feeCollector, k.coins(staking)); err != nil {
			return err
		}
	}
	return keeperutil.Emit(ctx, &types.EventSharesDistributed{
		Foundation: rd.params.FoundationAccount, FoundationAmount: foundation.String(), StakingAmount: staking.String(),
	})
}

// accrueToFarm adds amount to a farm's pending payout; a farm with nothing pending is scheduled for
// payout at due.
func (k *Keeper) accrueToFarm(ctx context.Context, farmID uint64, amount sdkmath.Int, due int64) error {
	p, err := k.FarmPayouts.Get(ctx, farmID)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		p = types.FarmPayout{FarmId: farmID, Amount: sdkmath.ZeroInt(), Due: due}
		if err := k.PayoutQueue.Add(ctx, due, farmID); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	p.Amount = p.Amount.Add(amount)
	return k.FarmPayouts.Set(ctx, farmID, p)
}

// payDueFarms pays the farms whose payout is due, in due order, at most max_payouts_per_block. A
// payout that fails (the farm or its twin is gone, the farmer's account cannot receive) is rolled
// back, logged and retried one payout interval later; the utft stays pending.
func (k *Keeper) payDueFarms(ctx context.Context, params types.Params, now int64) error {
	due, err := k.PayoutQueue.Due(ctx, now, params.MaxPayoutsPerBlock)
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, key := range due {
		cacheCtx, write := sdkCtx.CacheContext()
		if payErr := k.payFarm(cacheCtx, key); payErr != nil {
			sdkCtx.Logger().Error("farm payout failed", "module", types.ModuleName, "farm", key.K2(), "err", payErr)
			if err := k.postponePayout(ctx, key, now+int64(params.PayoutInterval)); err != nil {
				return err
			}
			continue
		}
		write()
	}
	return nil
}

// payFarm pays a farm's pending payout to its farmer's account and clears it.
func (k *Keeper) payFarm(ctx context.Context, key collections.Pair[int64, uint64]) error {
	farmID := key.K2()
	p, err := k.FarmPayouts.Get(ctx, farmID)
	if err != nil {
		return err
	}
	farm, err := k.registry.GetFarm(ctx, farmID)
	if err != nil {
		return err
	}
	twin, err := k.registry.GetTwin(ctx, farm.TwinId)
	if err != nil {
		return err
	}
	farmer, err := k.addressCodec.StringToBytes(twin.Account)
	if err != nil {
		return err
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, farmer, k.coins(p.Amount)); err != nil {
		return err
	}
	if err := k.PayoutQueue.Remove(ctx, key.K1(), key.K2()); err != nil {
		return err
	}
	if err := k.FarmPayouts.Remove(ctx, farmID); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmPayout{FarmId: farmID, Farmer: twin.Account, Amount: p.Amount.String()})
}

// postponePayout moves a farm's payout that could not be made to next.
func (k *Keeper) postponePayout(ctx context.Context, key collections.Pair[int64, uint64], next int64) error {
	p, err := k.FarmPayouts.Get(ctx, key.K2())
	if err != nil {
		return err
	}
	if err := k.PayoutQueue.Remove(ctx, key.K1(), key.K2()); err != nil {
		return err
	}
	p.Due = next
	if err := k.PayoutQueue.Add(ctx, next, p.FarmId); err != nil {
		return err
	}
	return k.FarmPayouts.Set(ctx, p.FarmId, p)
}
