package keeper

import (
	"context"
	"errors"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

var (
	_ sctypes.ContractHooks             = (*Keeper)(nil)
	_ tfgridtypes.NodeAvailabilityHooks = (*Keeper)(nil)
)

// AfterContractCreated starts billing a new contract now and schedules its first settlement.
func (k *Keeper) AfterContractCreated(ctx context.Context, c sctypes.Contract) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := keeperutil.BlockTime(ctx)
	b := types.ContractBilling{
		ContractId: c.Id, LastSettled: now, NextDue: now + int64(params.SettlementInterval),
		StandardOverdraft: sdkmath.ZeroInt(), ExtraOverdraft: sdkmath.ZeroInt(), UnbilledNu: sdkmath.LegacyZeroDec(),
	}
	if nodeID := c.NodeID(); nodeID != 0 {
		clock, err := k.startNodeClock(ctx, nodeID)
		if err != nil {
			return err
		}
		b.OnlineClock, b.PoweredClock = clock.OnlineAt(now), clock.PoweredAt(now)
	}
	if err := k.Queue.Add(ctx, b.NextDue, c.Id); err != nil {
		return err
	}
	if err := k.chargeOwner(ctx, c, &b); err != nil {
		return err
	}
	return k.store(ctx, b)
}

// chargeOwner prices a new or changed contract's hourly ceiling onto its owner's load, keeps the
// owner's horizon at or after the contract's next settlement, and checks the owner's funds against
// both: more to pay for may bring the owner's settlements forward. Without a price yet the ceiling
// waits for the contract's first settlement.
func (k *Keeper) chargeOwner(ctx context.Context, c sctypes.Contract, b *types.ContractBilling) error {
	rd, err := k.newReads(ctx)
	if errors.Is(err, types.ErrNoPrice) {
		return nil
	} else if err != nil {
		return err
	}
	ceiling, err := k.hourlyCeiling(ctx, rd, c)
	if err != nil {
		return err
	}
	if err := k.setCeiling(ctx, c.TwinId, b, ceiling); err != nil {
		return err
	}
	l, err := k.loadOf(ctx, c.TwinId)
	if err != nil {
		return err
	}
	if err := k.extendHorizon(ctx, l, b.NextDue); err != nil {
		return err
	}
	owner, err := rd.account(ctx, c.TwinId)
	if err != nil {
		return err
	}
	return k.checkFunds(ctx, c.TwinId, k.spendable(ctx, owner))
}

// BeforeContractUpdated settles a node contract before its deployment changes.
func (k *Keeper) BeforeContractUpdated(ctx context.Context, c sctypes.Contract) error {
	return k.Settle(ctx, c.Id)
}

// AfterContractUpdated keeps the usage a node contract is charged for within its new reservation: a
// user who reserves less pays for less from now on, whatever the node reported before.
func (k *Keeper) AfterContractUpdated(ctx context.Context, c sctypes.Contract) error {
	nc := c.GetNodeContract()
	if nc == nil {
		return nil
	}
	b, err := k.Contracts.Get(ctx, c.Id)
	if err != nil {
		return keeperutil.NotFound(err, types.ErrContractNotFound, "contract %d", c.Id)
	}
	b.Usage, _ = types.ClampUsage(b.Usage, nc.Resources)
	if err := k.chargeOwner(ctx, c, &b); err != nil {
		return err
	}
	return k.store(ctx, b)
}

// BeforeContractDeleted settles a contract one last time, writes off what stays unpaid and drops its
// billing state, whatever the close path.
func (k *Keeper) BeforeContractDeleted(ctx context.Context, c sctypes.Contract, _ sctypes.DeleteCause) error {
	rd, err := k.newReads(ctx)
	if err != nil {
		return err
	}
	b, err := k.Contracts.Get(ctx, c.Id)
	if err != nil {
		return keeperutil.NotFound(err, types.ErrContractNotFound, "contract %d", c.Id)
	}
	owed, _, err := k.settlePeriod(ctx, rd, c, &b)
	if err != nil {
		return err
	}
	if err := k.setCeiling(ctx, c.TwinId, &b, sdkmath.ZeroInt()); err != nil {
		return err
	}
	if owed.IsPositive() {
		if err := keeperutil.Emit(ctx, &types.EventOverdraftWrittenOff{ContractId: c.Id, Amount: owed.String()}); err != nil {
			return err
		}
	}
	if err := k.Queue.Remove(ctx, b.NextDue, c.Id); err != nil {
		return err
	}
	return k.Contracts.Remove(ctx, c.Id)
}
