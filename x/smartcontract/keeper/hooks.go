package keeper

// Registry hooks: x/tfgrid asks through the RegistryHooks interface it declares whether a node may go,
// and tells this module when a node was deleted or moved to another farm.

import (
	"context"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// NodeHasLiveContracts implements x/tfgrid's RegistryHooks: a node contract or a rent contract lives on the node.
// It reads at most two keys, whatever the number of contracts on the node.
func (k *Keeper) NodeHasLiveContracts(ctx context.Context, nodeID uint64) (bool, error) {
	if _, rented, err := k.NodeRentContractID(ctx, nodeID); err != nil || rented {
		return rented, err
	}
	_, found, err := k.firstNodeContractOf(ctx, nodeID, anyOwner)
	return found, err
}

// AfterNodeDeleted implements x/tfgrid's RegistryHooks: a deleted node takes its contracts with it.
func (k *Keeper) AfterNodeDeleted(ctx context.Context, node tfgridtypes.Node) error {
	nodeID := node.Id
	if err := k.deleteNodeContracts(ctx, nodeID, anyOwner, types.DeleteCauseNodeDeleted); err != nil {
		return err
	}
	rentID, found, err := k.NodeRentContractID(ctx, nodeID)
	if err != nil {
		return err
	}
	if found {
		rent, err := k.GetContract(ctx, rentID)
		if err != nil {
			return err
		}
		if err := k.removeContract(ctx, rent, types.DeleteCauseNodeDeleted); err != nil {
			return err
		}
	}
	return k.NodeExtraFees.Remove(ctx, nodeID)
}

// AfterNodeFarmChanged implements x/tfgrid's RegistryHooks: the extra fee was the old farmer's price, so
// a node that moves to another farm is no longer dedicated by it.
func (k *Keeper) AfterNodeFarmChanged(ctx context.Context, node tfgridtypes.Node) error {
	return k.NodeExtraFees.Remove(ctx, node.Id)
}
