package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// NodeReservedCapacity implements x/tfgrid's RegistryHooks: what the node's live contracts reserve.
func (k *Keeper) NodeReservedCapacity(ctx context.Context, nodeID uint64) (tfgridtypes.Resources, error) {
	reserved, err := k.NodeReserved.Get(ctx, nodeID)
	if errors.Is(err, collections.ErrNotFound) {
		return tfgridtypes.Resources{}, nil
	}
	return reserved, err
}

// checkFree refuses a reservation that does not fit in the node's capacity less what its other live
// contracts reserve; released is what the contract itself holds now (zero for a new contract).
func (k *Keeper) checkFree(ctx context.Context, contractID uint64, node tfgridtypes.Node, want, released tfgridtypes.Resources) error {
	reserved, err := k.NodeReservedCapacity(ctx, node.Id)
	if err != nil {
		return err
	}
	free := node.Resources.Sub(reserved.Sub(released))
	if field, has, need := tfgridtypes.FirstShortfall(free, want); field != "" {
		return types.ErrInsufficientCapacity.Wrapf("contract %d: node %d has %s %d free, %d requested", contractID, node.Id, field, has, need)
	}
	return nil
}

// moveReservation replaces a node's share held by one contract: release what it held, add what it holds
// now. It keeps NodeReserved in step on create, update and every close path.
func (k *Keeper) moveReservation(ctx context.Context, nodeID uint64, released, added tfgridtypes.Resources) error {
	reserved, err := k.NodeReservedCapacity(ctx, nodeID)
	if err != nil {
		return err
	}
	if field, has, need := tfgridtypes.FirstShortfall(reserved, released); field != "" {
		return types.ErrInvariantBroken.Wrapf("node %d reserves %s %d, a contract releases %d", nodeID, field, has, need)
	}
	total, ok := reserved.Sub(released).Add(added)
	if !ok {
		return types.ErrInsufficientCapacity.Wrapf("node %d: reservations overflow", nodeID)
	}
	if total == (tfgridtypes.Resources{}) {
		return k.NodeReserved.Remove(ctx, nodeID)
	}
	return k.NodeReserved.Set(ctx, nodeID, total)
}

// NodeUsage implements x/tfgrid's RegistryHooks for the node finder, from per-node state only: the
// reserved total, the rent index, the first key of the node's contract index and its extra fee.
func (k *Keeper) NodeUsage(ctx context.Context, nodeID uint64) (tfgridtypes.NodeUsage, error) {
	reserved, err := k.NodeReservedCapacity(ctx, nodeID)
	if err != nil {
		return tfgridtypes.NodeUsage{}, err
	}
	rentID, _, err := k.NodeRentContractID(ctx, nodeID)
	if err != nil {
		return tfgridtypes.NodeUsage{}, err
	}
	_, hasContracts, err := k.firstNodeContractOf(ctx, nodeID, anyOwner)
	if err != nil {
		return tfgridtypes.NodeUsage{}, err
	}
	extraFee, err := k.NodeExtraFees.Has(ctx, nodeID)
	if err != nil {
		return tfgridtypes.NodeUsage{}, err
	}
	return tfgridtypes.NodeUsage{Reserved: reserved, RentContractID: rentID, HasNodeContracts: hasContracts, HasExtraFee: extraFee}, nil
}
