package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// SetDedicatedNodeExtraFee sets the monthly extra fee of renting a node of the signer's farm; a fee > 0
// makes the node dedicated, 0 makes it shared again. Only while nothing runs on the node, so no
// deployment is caught by a change of rules.
func (k *Keeper) SetDedicatedNodeExtraFee(ctx context.Context, msg *types.MsgSetDedicatedNodeExtraFee) error {
	node, err := k.registry.GetNode(ctx, msg.NodeId)
	if err != nil {
		return err
	}
	farm, err := k.registry.GetFarm(ctx, node.FarmId)
	if err != nil {
		return err
	}
	twin, err := k.registry.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return err
	}
	if twin.Id != farm.TwinId {
		return types.ErrNotFarmer.Wrapf("%s (twin %d) does not own farm %d of node %d", msg.Creator, twin.Id, farm.Id, node.Id)
	}
	live, err := k.NodeHasLiveContracts(ctx, node.Id)
	if err != nil {
		return err
	}
	if live {
		return types.ErrNodeHasActiveContracts.Wrapf("node %d has live contracts; its extra fee can change only when it has none", node.Id)
	}
	if msg.ExtraFee == 0 {
		err = k.NodeExtraFees.Remove(ctx, node.Id)
	} else {
		err = k.NodeExtraFees.Set(ctx, node.Id, msg.ExtraFee)
	}
	if err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodeExtraFeeSet{NodeId: node.Id, ExtraFee: msg.ExtraFee})
}
