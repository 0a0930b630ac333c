package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// ReportUptime records the signer node's uptime; the hint must be close to block time so a node cannot
// back-date or pre-date reports, and the uptime cannot exceed the node's age on the chain.
func (k *Keeper) ReportUptime(ctx context.Context, msg *types.MsgReportUptime) error {
	node, err := k.NodeOfAccount(ctx, msg.Creator)
	if err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := keeperutil.BlockTime(ctx)
	if err := types.CheckTimestampHint(msg.TimestampHint, now, params.TimestampDrift); err != nil {
		return err
	}
	if err := types.CheckUptime(msg.Uptime, node, now, params.TimestampDrift); err != nil {
		return err
	}
	if k.availability != nil {
		if err := k.availability.BeforeNodeUptimeReport(ctx, node); err != nil {
			return err
		}
	}
	node.LastUptime = types.Uptime{ReportedAt: now, Uptime: msg.Uptime}
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodeUptimeReported{NodeId: node.Id, ReportedAt: now, Uptime: msg.Uptime})
}

// ChangePowerState records the power state the signer node reports.
func (k *Keeper) ChangePowerState(ctx context.Context, msg *types.MsgChangePowerState) error {
	if err := types.ValidatePowerState("state", msg.State); err != nil {
		return err
	}
	node, err := k.NodeOfAccount(ctx, msg.Creator)
	if err != nil {
		return err
	}
	if node.Power.State == msg.State {
		return nil
	}
	if k.availability != nil {
		if err := k.availability.BeforeNodePowerStateChange(ctx, node, msg.State); err != nil {
			return err
		}
	}
	node.Power.State, node.Power.Since = msg.State, keeperutil.BlockTime(ctx)
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodePowerStateChanged{NodeId: node.Id, FarmId: node.FarmId, State: msg.State})
}

// ChangePowerTarget sets the power target of a node of the signer's farm; a node with live contracts
// cannot be told to power down.
func (k *Keeper) ChangePowerTarget(ctx context.Context, msg *types.MsgChangePowerTarget) error {
	if err := types.ValidatePowerState("target", msg.Target); err != nil {
		return err
	}
	node, err := k.GetNode(ctx, msg.NodeId)
	if err != nil {
		return err
	}
	if _, err := k.farmOfFarmer(ctx, msg.Creator, node.FarmId); err != nil {
		return err
	}
	if node.Power.Target == msg.Target {
		return nil
	}
	if msg.Target == types.PowerStateDown {
		if err := k.checkNoLiveContracts(ctx, node.Id, "power it down"); err != nil {
			return err
		}
	}
	node.Power.Target = msg.Target
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodePowerTargetChanged{NodeId: node.Id, FarmId: node.FarmId, Target: msg.Target})
}

// checkNoLiveContracts refuses an action on a node that runs live contracts.
func (k *Keeper) checkNoLiveContracts(ctx context.Context, nodeID uint64, action string) error {
	if k.hooks == nil {
		return nil
	}
	live, err := k.hooks.NodeHasLiveContracts(ctx, nodeID)
	if err != nil {
		return err
	}
	if live {
		return types.ErrNodeHasActiveContracts.Wrapf("node %d has live contracts; cancel them to %s", nodeID, action)
	}
	return nil
}
