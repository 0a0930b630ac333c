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
// settled at its previous usage; the new usage applies from now and the report's NU is added to what
// the next settlement charges.
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
		if err := types.ValidateReport(i, r, node.Resources, keeperutil.BlockTime(ctx), drift); err != nil {
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
	if b.LastReport != nil && r.Timestamp <= b.LastReport.Timestamp {
		return types.ErrInvalidReport.Wrapf("contract %d: timestamp %d is not after the previous report's %d", c.Id, r.Timestamp, b.LastReport.Timestamp)
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
	b.Usage = types.Usage{Cru: r.Cru, Sru: r.Sru, Hru: r.Hru, Mru: r.Mru}
	b.UnbilledNu = b.UnbilledNu.Add(types.NUCost(policy.Nu, r.Nru))
	report := r
	b.LastReport = &report
	if err := k.store(ctx, b); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventConsumptionReported{ContractId: c.Id, NodeId: node.Id, Report: &report})
}

// skipReport records that a report's contract is gone; any other error aborts the message.
func (k *Keeper) skipReport(ctx context.Context, err error, nodeID, contractID uint64) error {
	if !errors.Is(err, sctypes.ErrContractNotFound) && !errors.Is(err, types.ErrContractNotFound) {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventConsumptionReportSkipped{ContractId: contractID, NodeId: nodeID})
}
