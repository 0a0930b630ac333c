package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// A node's own transactions never settle its contracts: they only move its billing clock, in O(1)
// whatever the number of contracts on the node. Each contract keeps the clock's readings at its last
// settlement, and the next settlement charges resources for the clock's advance since then.

// nodeClock is a node's billing clock, or a new one started now from the registry's view of the node.
func (k *Keeper) nodeClock(ctx context.Context, node tfgridtypes.Node, offlineAfter uint64) (types.NodeClock, error) {
	c, err := k.NodeClocks.Get(ctx, node.Id)
	if errors.Is(err, collections.ErrNotFound) {
		return types.NewNodeClock(node.Id, keeperutil.BlockTime(ctx), node.LastUptime.ReportedAt, offlineAfter,
			node.Power.State == tfgridtypes.PowerStateUp), nil
	}
	return c, err
}

// startNodeClock makes sure a node that gets a contract has a stored clock, and returns it.
func (k *Keeper) startNodeClock(ctx context.Context, nodeID uint64) (types.NodeClock, error) {
	node, err := k.registry.GetNode(ctx, nodeID)
	if err != nil {
		return types.NodeClock{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.NodeClock{}, err
	}
	c, err := k.nodeClock(ctx, node, params.NodeOfflineAfter)
	if err != nil {
		return c, err
	}
	return c, k.NodeClocks.Set(ctx, nodeID, c)
}

// BeforeNodeUptimeReport moves the node's clock to now: the time since its previous report counts as
// online only up to that report + node_offline_after, and from now it is online for that long again.
func (k *Keeper) BeforeNodeUptimeReport(ctx context.Context, node tfgridtypes.Node) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	c, err := k.nodeClock(ctx, node, params.NodeOfflineAfter)
	if err != nil {
		return err
	}
	return k.NodeClocks.Set(ctx, node.Id, c.Reported(keeperutil.BlockTime(ctx), params.NodeOfflineAfter))
}

// BeforeNodePowerStateChange moves the node's clock to now under the power state that held so far.
func (k *Keeper) BeforeNodePowerStateChange(ctx context.Context, node tfgridtypes.Node, to tfgridtypes.PowerState) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	c, err := k.nodeClock(ctx, node, params.NodeOfflineAfter)
	if err != nil {
		return err
	}
	return k.NodeClocks.Set(ctx, node.Id, c.PoweredChanged(keeperutil.BlockTime(ctx), to == tfgridtypes.PowerStateUp))
}
