package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// EndBlocker brings forward the settlements of the twins whose funds ran short, settles the contracts
// that are due, then pays the farms whose payout is due, each in due
// order and at most max_settlements_per_block and max_payouts_per_block of them: the work per block
// never depends on how many contracts or farms exist.
func (k *Keeper) EndBlocker(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := keeperutil.BlockTime(ctx)
	if err := k.bringForward(ctx, now, params.MaxSettlementsPerBlock); err != nil {
		return err
	}
	if err := k.settleDue(ctx, params, now); err != nil {
		return err
	}
	return k.payDueFarms(ctx, params, now)
}

// settleDue settles the due contracts and distributes what they paid. A failing settlement is rolled
// back (its accrued shares too), reported, and retried one interval later, so one bad contract never
// halts the chain.
func (k *Keeper) settleDue(ctx context.Context, params types.Params, now int64) error {
	due, err := k.dueContracts(ctx, now, params.MaxSettlementsPerBlock)
	if err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	// Read once for the block: no settlement changes what it holds. Without a price no contract can
	// be settled: each is postponed as if its settlement had failed.
	rd, readsErr := k.newReads(ctx)
	if readsErr == nil {
		rd.batched = true
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, id := range due {
		// An earlier settlement of this block may have deleted it: a rent contract whose grace ran out
		// takes the renter's node contracts with it.
		if billed, err := k.Contracts.Has(ctx, id); err != nil {
			return err
		} else if !billed {
			continue
		}
		settleErr := readsErr
		if settleErr == nil {
			accrued := len(rd.accrued)
			cacheCtx, write := sdkCtx.CacheContext()
			if settleErr = k.settle(cacheCtx, rd, id); settleErr == nil {
				write()
				continue
			}
			rd.accrued = rd.accrued[:accrued]
		}
		if err := k.postpone(ctx, id, now+int64(params.SettlementInterval), settleErr); err != nil {
			return err
		}
	}
	if readsErr != nil {
		return nil
	}
	return k.distribute(ctx, rd)
}

// dueContracts lists up to limit contracts whose next settlement is due at or before now.
func (k *Keeper) dueContracts(ctx context.Context, now int64, limit uint32) ([]uint64, error) {
	due, err := k.Queue.Due(ctx, now, limit)
	ids := make([]uint64, len(due))
	for i, key := range due {
		ids[i] = key.K2()
	}
	return ids, err
}

// postpone reports a failed settlement and moves the contract to the back of the queue.
func (k *Keeper) postpone(ctx context.Context, id uint64, next int64, cause error) error {
	sdk.UnwrapSDKContext(ctx).Logger().Error("settlement failed", "module", types.ModuleName, "contract", id, "err", cause)
	b, err := k.Contracts.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := k.reschedule(ctx, &b, next); err != nil {
		return err
	}
	if err := k.extendOwnerHorizon(ctx, id, next); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventSettlementFailed{ContractId: id, Reason: cause.Error()})
}
