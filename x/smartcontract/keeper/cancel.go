package keeper

import (
	"context"

	"cosmossdk.io/collections"

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
		running, found, err := k.firstNodeContractOf(ctx, rent.NodeId, c.TwinId)
		if err != nil {
			return err
		}
		if found {
			return types.ErrNodeHasActiveContracts.Wrapf("the renter still runs node contract %d on node %d; cancel its node contracts first", running, rent.NodeId)
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

// nodeContractsOf loads the live node contracts on a node that a twin owns (anyOwner: all), reading
// only those: the (node, twin) index skips the other twins' contracts.
func (k *Keeper) nodeContractsOf(ctx context.Context, nodeID, owner uint64) ([]types.Contract, error) {
	var contracts []types.Contract
	err := k.NodeContractsByNodeTwin.Walk(ctx, nodeTwinRange(nodeID, owner), func(key collections.Triple[uint64, uint64, uint64]) (bool, error) {
		c, err := k.GetContract(ctx, key.K3())
		contracts = append(contracts, c)
		return err != nil, err
	})
	return contracts, err
}

// firstNodeContractOf finds one live node contract on a node that a twin owns (anyOwner: any twin),
// reading a single index entry.
func (k *Keeper) firstNodeContractOf(ctx context.Context, nodeID, owner uint64) (id uint64, found bool, err error) {
	err = k.NodeContractsByNodeTwin.Walk(ctx, nodeTwinRange(nodeID, owner), func(key collections.Triple[uint64, uint64, uint64]) (bool, error) {
		id, found = key.K3(), true
		return true, nil
	})
	return id, found, err
}

// nodeTwinRange selects a node's entries of the (node, twin) index, of one twin or (anyOwner) all.
func nodeTwinRange(nodeID, owner uint64) collections.Ranger[collections.Triple[uint64, uint64, uint64]] {
	if owner == anyOwner {
		return collections.NewPrefixedTripleRange[uint64, uint64, uint64](nodeID)
	}
	return collections.NewSuperPrefixedTripleRange[uint64, uint64, uint64](nodeID, owner)
}
