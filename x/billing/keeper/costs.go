package keeper

import (
	"context"
	"math"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// TwinCosts adds up the hourly cost of a twin's live contracts and projects when its spendable balance,
// less what it already owes, no longer covers them.
func (k *Keeper) TwinCosts(ctx context.Context, twinID uint64) (*types.QueryTwinCostsResponse, error) {
	rd, err := k.newReads(ctx)
	if err != nil {
		return nil, err
	}
	owner, err := rd.account(ctx, twinID)
	if err != nil {
		return nil, err
	}
	balance := k.spendable(ctx, owner)
	ids, err := k.contracts.TwinLiveContractIDs(ctx, twinID)
	if err != nil {
		return nil, err
	}
	now := keeperutil.BlockTime(ctx)
	hourly, owed := sdkmath.ZeroInt(), sdkmath.ZeroInt()
	for _, id := range ids {
		c, b, err := k.load(ctx, id)
		if err != nil {
			return nil, err
		}
		ch, err := k.chargeFor(ctx, rd, c, b, now, now, balance)
		if err != nil {
			return nil, err
		}
		hourly = hourly.Add(ch.hourly)
		owed = owed.Add(b.StandardOverdraft).Add(b.ExtraOverdraft)
	}
	resp := &types.QueryTwinCostsResponse{HourlyCost: hourly, Balance: balance, Contracts: uint32(len(ids))}
	if hourly.IsPositive() {
		left := sdkmath.MaxInt(balance.Sub(owed), sdkmath.ZeroInt())
		seconds := left.MulRaw(3600).Quo(hourly)
		// A huge balance against a tiny cost never runs out within an int64 of seconds.
		resp.RunsOutAt = math.MaxInt64
		if seconds.IsInt64() && seconds.Int64() < math.MaxInt64-now {
			resp.RunsOutAt = now + seconds.Int64()
		}
	}
	return resp, nil
}
