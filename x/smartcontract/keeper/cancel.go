package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
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
