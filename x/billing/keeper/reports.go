package keeper

import (
	"context"
	"errors"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// ReportConsumption applies a node's usage reports. Every report must be about a node contract of the
// signer's node; reports about contracts that no longer exist are skipped. Each contract is first
// settled at its previous usage; the new usage, clamped to what the contract reserves, applies from now
// and the report's NU is added to what the next settlement charges. A node is not trusted with money:
// its network use is bounded by the window and its link rate, the window by the contract's age.
func (k *Keeper) ReportConsumption(ctx context.Context, msg *types.MsgReportConsumption) error {
	node, err := k.registry.NodeOfAccount(ctx, msg.Creator)
	if err != nil {
		return err
	}
	drift, err := k.registry.TimestampDrift(ctx)
	if err != nil {
		return err
	}
	for i, r := range msg.Reports {
		if err := types.ValidateReport(i, r, node, keeperutil.BlockTime(ctx), drift); err != nil {
			return err
		}
		if err := k.applyReport(ctx, node, r); err != nil {
			return err
		}
	}
	return nil
}

func (k *Keeper) applyReport(ctx context.Context, node tfgridtypes.Node, r types.ConsumptionReport) error {
	c, err := k.contracts.GetContract(ctx, r.ContractId)
	if err != nil {
		return k.skipReport(ctx, err, node.Id, r.ContractId)
	}
	nc := c.GetNodeContract()
	if nc == nil || nc.NodeId != node.Id {
		return types.ErrNotNodeContract.Wrapf("contract %d is not a node contract on node %d", c.Id, node.Id)
	}
	b, err := k.Contracts.Get(ctx, c.Id)
	if err != nil {
		return err
	}
	if err := types.CheckReportTime(r, c.CreatedAt, b.LastReport); err != nil {
		return err
	}
	if err := k.Settle(ctx, c.Id); err != nil {
		return err
	}
	// The settlement may have deleted the contract (grace ran out).
	b, err = k.Contracts.Get(ctx, c.Id)
	if err != nil {
		return k.skipReport(ctx, keeperutil.NotFound(err, types.ErrContractNotFound, "contract %d", c.Id), node.Id, r.ContractId)
	}
	farm, err := k.registry.GetFarm(ctx, node.FarmId)
	if err != nil {
		return err
	}
	policy, err := k.registry.GetPricingPolicy(ctx, farm.PricingPolicyId)
	if err != nil {
		return err
	}
	usage, clamps := types.ClampUsage(r.Claimed(), nc.Resources)
	if err := k.recordClamps(ctx, &b, node.Id, clamps); err != nil {
		return err
	}
	b.Usage = usage
	b.UnbilledNu = b.UnbilledNu.Add(types.NUCost(policy.Nu, r.Nru))
	report := r
	b.LastReport = &report
	if err := k.store(ctx, b); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventConsumptionReported{ContractId: c.Id, NodeId: node.Id, Report: &report})
}

// recordClamps counts and announces a report that claimed more than the contract reserves: the user
// and explorers see what the node claimed next to what was charged.
func (k *Keeper) recordClamps(ctx context.Context, b *types.ContractBilling, nodeID uint64, clamps []types.Clamp) error {
	if len(clamps) == 0 {
		return nil
	}
	b.ClampedReports++
	for _, cl := range clamps {
		err := keeperutil.Emit(ctx, &types.EventReportClamped{
			ContractId: b.ContractId, NodeId: nodeID, Field: cl.Field, Reported: cl.Reported, Charged: cl.Charged,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// skipReport records that a report's contract is gone; any other error aborts the message.
func (k *Keeper) skipReport(ctx context.Context, err error, nodeID, contractID uint64) error {
	if !errors.Is(err, sctypes.ErrContractNotFound) && !errors.Is(err, types.ErrContractNotFound) {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventConsumptionReportSkipped{ContractId: contractID, NodeId: nodeID})
}
