package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CancelContract deletes a contract at the request of its owner, or of its node's twin for a node
// contract. A rent contract cannot be cancelled while node contracts run on its node.
func (k *Keeper) CancelContract(ctx context.Context, msg *types.MsgCancelContract) error {
	c, err := k.GetContract(ctx, msg.ContractId)
	if err != nil {
		return err
	}
	cause, err := k.cancelCause(ctx, msg.Creator, c)
	if err != nil {
		return err
	}
	if rent := c.GetRentContract(); rent != nil {
		running, err := k.nodeContractsOf(ctx, rent.NodeId, c.TwinId)
		if err != nil {
			return err
		}
		if len(running) > 0 {
			ids := make([]uint64, len(running))
			for i, nc := range running {
				ids[i] = nc.Id
			}
			return types.ErrNodeHasActiveContracts.Wrapf("the renter still runs node contracts %v on node %d; cancel them first", ids, rent.NodeId)
		}
	}
	return k.removeContract(ctx, c, cause)
}

// CancelContractByAuthority deletes any contract by governance; a rent contract takes the node
// contracts on its node with it.
func (k *Keeper) CancelContractByAuthority(ctx context.Context, id uint64) error {
	c, err := k.GetContract(ctx, id)
	if err != nil {
		return err
	}
	return k.DeleteContract(ctx, c, types.DeleteCauseCanceledByAuthority)
}

// DeleteContract closes a live contract for the given cause. Deleting a rent contract first deletes
// the renter's node contracts on its node with the same cause; other twins' contracts (from before the
// farm became dedicated) stay. Billing calls it with DeleteCauseOutOfFunds.
func (k *Keeper) DeleteContract(ctx context.Context, c types.Contract, cause types.DeleteCause) error {
	if rent := c.GetRentContract(); rent != nil {
		if err := k.deleteNodeContracts(ctx, rent.NodeId, c.TwinId, cause); err != nil {
			return err
		}
	}
	return k.removeContract(ctx, c, cause)
}

// cancelCause checks who is cancelling: the owner, or the node twin of a node contract's node.
func (k *Keeper) cancelCause(ctx context.Context, signer string, c types.Contract) (types.DeleteCause, error) {
	twin, err := k.registry.TwinOfAccount(ctx, signer)
	if err != nil {
		return types.DeleteCauseUnspecified, err
	}
	if twin.Id == c.TwinId {
		return types.DeleteCauseCanceledByUser, nil
	}
	if nc := c.GetNodeContract(); nc != nil {
		node, err := k.registry.GetNode(ctx, nc.NodeId)
		if err == nil && node.TwinId == twin.Id {
			return types.DeleteCauseCanceledByNode, nil
		}
	}
	return types.DeleteCauseUnspecified, types.ErrNotContractOwner.Wrapf("%s (twin %d) neither owns contract %d nor is its node", signer, twin.Id, c.Id)
}

// anyOwner selects the node contracts of every twin.
const anyOwner = 0

// deleteNodeContracts closes the live node contracts on a node that a twin owns (anyOwner: all).
func (k *Keeper) deleteNodeContracts(ctx context.Context, nodeID, owner uint64, cause types.DeleteCause) error {
	contracts, err := k.nodeContractsOf(ctx, nodeID, owner)
	if err != nil {
		return err
	}
	for _, c := range contracts {
		if err := k.removeContract(ctx, c, cause); err != nil {
			return err
		}
	}
	return nil
}

// nodeContractsOf loads the live node contracts on a node that a twin owns (anyOwner: all).
func (k *Keeper) nodeContractsOf(ctx context.Context, nodeID, owner uint64) ([]types.Contract, error) {
	ids, err := k.nodeContractIDs(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	var contracts []types.Contract
	for _, id := range ids {
		c, err := k.GetContract(ctx, id)
		if err != nil {
			return nil, err
		}
		if owner == anyOwner || c.TwinId == owner {
			contracts = append(contracts, c)
		}
	}
	return contracts, nil
}

// NodeHasLiveContracts implements x/tfgrid's RegistryHooks: a node contract or a rent contract lives on the node.
func (k *Keeper) NodeHasLiveContracts(ctx context.Context, nodeID uint64) (bool, error) {
	ids, err := k.NodeLiveContractIDs(ctx, nodeID)
	return len(ids) > 0, err
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

// NodeLiveContractIDs lists the live node contracts of a node and then its rent contract, if any.
func (k *Keeper) NodeLiveContractIDs(ctx context.Context, nodeID uint64) ([]uint64, error) {
	ids, err := k.nodeContractIDs(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	rentID, found, err := k.NodeRentContractID(ctx, nodeID)
	if found {
		ids = append(ids, rentID)
	}
	return ids, err
}

// NodeRentContractID returns the live rent contract of a node, if any.
func (k *Keeper) NodeRentContractID(ctx context.Context, nodeID uint64) (uint64, bool, error) {
	id, err := k.RentContractByNode.Get(ctx, nodeID)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// NodeExtraFee is a node's extra monthly rent fee in mUSD, 0 when none is set.
func (k *Keeper) NodeExtraFee(ctx context.Context, nodeID uint64) (uint64, error) {
	fee, err := k.NodeExtraFees.Get(ctx, nodeID)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return fee, err
}

// TwinLiveContractIDs lists a twin's live contracts.
func (k *Keeper) TwinLiveContractIDs(ctx context.Context, twinID uint64) ([]uint64, error) {
	var ids []uint64
	err := k.ContractsByTwin.Walk(ctx, collections.NewPrefixedPairRange[uint64, uint64](twinID),
		func(key collections.Pair[uint64, uint64]) (bool, error) {
			ids = append(ids, key.K2())
			return false, nil
		})
	return ids, err
}

// WalkLiveContracts visits every live contract, for invariant checks.
func (k *Keeper) WalkLiveContracts(ctx context.Context, fn func(types.Contract) error) error {
	return k.Contracts.Walk(ctx, nil, func(_ uint64, c types.Contract) (bool, error) {
		return false, fn(c)
	})
}

// AfterNodeFarmChanged implements x/tfgrid's RegistryHooks: the extra fee was the old farmer's price, so
// a node that moves to another farm is no longer dedicated by it.
func (k *Keeper) AfterNodeFarmChanged(ctx context.Context, node tfgridtypes.Node) error {
	return k.NodeExtraFees.Remove(ctx, node.Id)
}
