package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// EnterGrace puts a live contract in its grace period (billing calls it when the owner cannot pay);
// a rent contract takes the node contracts on its node with it.
func (k *Keeper) EnterGrace(ctx context.Context, id uint64) error {
	return k.setGrace(ctx, id, true)
}

// LeaveGrace ends a contract's grace period once its debt is paid; node contracts on a rented node stay
// in grace while the rent contract does, and follow it out.
func (k *Keeper) LeaveGrace(ctx context.Context, id uint64) error {
	return k.setGrace(ctx, id, false)
}

func (k *Keeper) setGrace(ctx context.Context, id uint64, grace bool) error {
	c, err := k.GetContract(ctx, id)
	if err != nil {
		return err
	}
	if rent := c.GetRentContract(); rent != nil {
		// The renter's node contracts follow the rent contract in and out of grace.
		nodeContracts, err := k.nodeContractsOf(ctx, rent.NodeId, c.TwinId)
		if err != nil {
			return err
		}
		for _, nc := range nodeContracts {
			if err := k.switchGrace(ctx, nc, grace); err != nil {
				return err
			}
		}
	} else if nc := c.GetNodeContract(); nc != nil && !grace {
		inGrace, err := k.rentInGrace(ctx, nc.NodeId, c.TwinId)
		if err != nil || inGrace {
			return err
		}
	}
	return k.switchGrace(ctx, c, grace)
}

// switchGrace moves one contract in or out of grace and announces it; a contract already there is left alone.
func (k *Keeper) switchGrace(ctx context.Context, c types.Contract, grace bool) error {
	if (c.State == types.ContractStateGracePeriod) == grace {
		return nil
	}
	if grace {
		c.State, c.GraceSince = types.ContractStateGracePeriod, keeperutil.BlockTime(ctx)
	} else {
		c.State, c.GraceSince = types.ContractStateCreated, 0
	}
	if err := k.Contracts.Set(ctx, c.Id, c); err != nil {
		return err
	}
	if err := k.indexGrace(ctx, c); err != nil {
		return err
	}
	if grace {
		return keeperutil.Emit(ctx, &types.EventContractGracePeriodStarted{ContractId: c.Id, NodeId: c.NodeID(), TwinId: c.TwinId, Since: c.GraceSince})
	}
	return keeperutil.Emit(ctx, &types.EventContractGracePeriodEnded{ContractId: c.Id, NodeId: c.NodeID(), TwinId: c.TwinId})
}

// rentInGrace reports whether the node's rent contract, if the twin holds it, is in grace: only the
// renter's own node contracts follow its rent contract's grace.
func (k *Keeper) rentInGrace(ctx context.Context, nodeID, twinID uint64) (bool, error) {
	rentID, found, err := k.NodeRentContractID(ctx, nodeID)
	if !found || err != nil {
		return false, err
	}
	rent, err := k.GetContract(ctx, rentID)
	return rent.TwinId == twinID && rent.State == types.ContractStateGracePeriod, err
}

// indexGrace keeps a live contract's entry in the contracts_in_grace index in step with its state.
func (k *Keeper) indexGrace(ctx context.Context, c types.Contract) error {
	if c.State == types.ContractStateGracePeriod {
		return k.ContractsInGrace.Set(ctx, c.Id)
	}
	return k.ContractsInGrace.Remove(ctx, c.Id)
}
