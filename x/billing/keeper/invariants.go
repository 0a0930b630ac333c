package keeper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// CheckInvariants verifies that no queued key is due before its queue's floor, that every live
// contract is billed and queued exactly once at its next due time, that nothing else is, that only contracts in grace owe money, that no node contract is
// charged for more usage than it reserves, that the module account holds exactly the pending
// farm payouts, and that every node or rent contract's node has a billing clock not behind the
// contract's readings. Tests, the simulation and
// InitGenesis run it; the chain itself never scans all contracts.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	if err := k.Queue.checkFloor(ctx, "settlement queue"); err != nil {
		return err
	}
	if err := k.PayoutQueue.checkFloor(ctx, "payout queue"); err != nil {
		return err
	}
	queued := map[uint64]int64{}
	err := k.Queue.Keys.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		if _, dup := queued[key.K2()]; dup {
			return true, broken("contract %d is queued twice", key.K2())
		}
		queued[key.K2()] = key.K1()
		return false, nil
	})
	if err != nil {
		return err
	}
	billed := 0
	err = k.Contracts.Walk(ctx, nil, func(id uint64, b types.ContractBilling) (bool, error) {
		billed++
		if due, ok := queued[id]; !ok || due != b.NextDue {
			return true, broken("contract %d is due at %d but queued at %d (queued: %t)", id, b.NextDue, due, ok)
		}
		c, err := k.contracts.GetContract(ctx, id)
		if err != nil {
			return true, broken("billing state of contract %d, which is not live: %s", id, err)
		}
		owes := b.StandardOverdraft.Add(b.ExtraOverdraft).IsPositive()
		if owes && c.State != sctypes.ContractStateGracePeriod {
			return true, broken("contract %d owes %s but is %s", id, b.StandardOverdraft.Add(b.ExtraOverdraft), c.State)
		}
		if nc := c.GetNodeContract(); nc != nil && !b.Usage.Within(nc.Resources) {
			return true, broken("contract %d is charged for usage %v above its reservation %v", id, b.Usage, nc.Resources)
		}
		return false, k.checkClockReadings(ctx, c, b)
	})
	if err != nil {
		return err
	}
	if billed != len(queued) {
		return broken("%d contracts queued, %d billed", len(queued), billed)
	}
	if err := k.checkPayouts(ctx); err != nil {
		return err
	}
	if err := k.checkEveryLiveContractBilled(ctx); err != nil {
		return err
	}
	return k.checkTwinLoads(ctx)
}

// derivedLoads adds the twins' loads up from their contracts' billing states, in twin id order: each
// twin's ceiling is the sum of its contracts' ceilings, its horizon the latest next_due of those
// with a positive ceiling. Twins with nothing charged have none.
func (k *Keeper) derivedLoads(ctx context.Context) ([]types.TwinLoad, error) {
	byTwin := map[uint64]*types.TwinLoad{}
	err := k.Contracts.Walk(ctx, nil, func(id uint64, b types.ContractBilling) (bool, error) {
		ceiling := types.OrZero(b.HourlyCeiling)
		if !ceiling.IsPositive() {
			return false, nil
		}
		c, err := k.contracts.GetContract(ctx, id)
		if errors.Is(err, sctypes.ErrContractNotFound) {
			return false, nil // billing of a contract that is not live: an invariant of its own
		} else if err != nil {
			return true, err
		}
		l, ok := byTwin[c.TwinId]
		if !ok {
			l = &types.TwinLoad{TwinId: c.TwinId, HourlyCeiling: sdkmath.ZeroInt()}
			byTwin[c.TwinId] = l
		}
		l.HourlyCeiling = l.HourlyCeiling.Add(ceiling)
		l.Horizon = max(l.Horizon, b.NextDue)
		return false, nil
	})
	loads := make([]types.TwinLoad, 0, len(byTwin))
	for _, l := range byTwin {
		loads = append(loads, *l)
	}
	slices.SortFunc(loads, func(a, b types.TwinLoad) int { return cmp.Compare(a.TwinId, b.TwinId) })
	return loads, err
}

// checkTwinLoads: every twin's load holds exactly the sum of its contracts' ceilings, and its horizon
// is at or after each of their next settlements (else a drain could go unseen until the later one).
func (k *Keeper) checkTwinLoads(ctx context.Context) error {
	want, err := k.derivedLoads(ctx)
	if err != nil {
		return err
	}
	stored, err := keeperutil.Values(ctx, k.TwinLoads.Iterate)
	if err != nil {
		return err
	}
	if len(stored) != len(want) {
		return broken("%d twin loads stored, %d twins have charged contracts", len(stored), len(want))
	}
	for i, l := range stored {
		w := want[i]
		if l.TwinId != w.TwinId || !l.HourlyCeiling.Equal(w.HourlyCeiling) || l.Horizon < w.Horizon {
			return broken("twin %d's load is %s utft/h until %d; its contracts add up to twin %d: %s utft/h, due until %d",
				l.TwinId, l.HourlyCeiling, l.Horizon, w.TwinId, w.HourlyCeiling, w.Horizon)
		}
	}
	return nil
}

// checkPayouts: every pending farm payout is positive and queued exactly once at its due time, nothing
// else is queued, and the billing module account holds exactly their sum (utft conservation: what
// owners paid and was not yet handed on).
func (k *Keeper) checkPayouts(ctx context.Context) error {
	queued := 0
	err := k.PayoutQueue.Keys.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
		queued++
		p, err := k.FarmPayouts.Get(ctx, key.K2())
		if err != nil || p.Due != key.K1() {
			return true, broken("farm %d is queued for payout at %d, its payout is due at %d (%v)", key.K2(), key.K1(), p.Due, err)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	pending, payouts := sdkmath.ZeroInt(), 0
	err = k.FarmPayouts.Walk(ctx, nil, func(farmID uint64, p types.FarmPayout) (bool, error) {
		payouts++
		if !p.Amount.IsPositive() {
			return true, broken("farm %d has a pending payout of %s", farmID, p.Amount)
		}
		pending = pending.Add(p.Amount)
		return false, nil
	})
	if err != nil {
		return err
	}
	if payouts != queued {
		return broken("%d farm payouts pending, %d queued", payouts, queued)
	}
	if held := k.bank.GetBalance(ctx, k.ModuleAddress(), k.denom).Amount; !held.Equal(pending) {
		return broken("the billing module account holds %s utft, the pending farm payouts add up to %s", held, pending)
	}
	return nil
}

// checkEveryLiveContractBilled: no live contract escapes billing.
func (k *Keeper) checkEveryLiveContractBilled(ctx context.Context) error {
	return k.contracts.WalkLiveContracts(ctx, func(c sctypes.Contract) error {
		if has, err := k.Contracts.Has(ctx, c.Id); err != nil || !has {
			if err != nil {
				return err
			}
			return broken("live contract %d has no billing state", c.Id)
		}
		return nil
	})
}

// checkClockReadings: a node or rent contract's node has a clock, and the contract never read it
// ahead of where it stands at the contract's last settlement (clocks only move forward).
func (k *Keeper) checkClockReadings(ctx context.Context, c sctypes.Contract, b types.ContractBilling) error {
	nodeID := c.NodeID()
	if nodeID == 0 {
		return nil
	}
	clock, err := k.NodeClocks.Get(ctx, nodeID)
	if err != nil {
		return broken("contract %d on node %d, which has no billing clock: %s", c.Id, nodeID, err)
	}
	if online, powered := clock.OnlineAt(b.LastSettled), clock.PoweredAt(b.LastSettled); b.OnlineClock > online || b.PoweredClock > powered {
		return broken("contract %d read node %d's clocks at %d/%d, ahead of their %d/%d at its last settlement",
			c.Id, nodeID, b.OnlineClock, b.PoweredClock, online, powered)
	}
	return nil
}

func broken(format string, args ...any) error {
	return types.ErrInvariantBroken.Wrap(fmt.Sprintf(format, args...))
}
