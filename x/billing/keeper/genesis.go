package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// InitGenesis loads the billing state, rebuilds the settlement and payout queues and the twins' loads
// (a twin whose funds ran short in the exported block is found again at its next send or settlement),
// and checks that exactly the live
// contracts are billed (the contract module is initialised first).
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, b := range gs.Contracts {
		b.HourlyCeiling = types.OrZero(b.HourlyCeiling)
		if err := k.Queue.Add(ctx, b.NextDue, b.ContractId); err != nil {
			return err
		}
		if err := k.store(ctx, b); err != nil {
			return err
		}
	}
	if err := k.RebuildTwinLoads(ctx); err != nil {
		return err
	}
	var last uint64
	for _, s := range gs.PriceSamples {
		if err := k.PriceSamples.Set(ctx, s.Seq, s); err != nil {
			return err
		}
		last = max(last, s.Seq)
	}
	if err := k.PriceSeq.Set(ctx, last); err != nil {
		return err
	}
	if _, err := k.refreshAverage(ctx, last, gs.Params.PriceWindow); err != nil {
		return err
	}
	for _, f := range gs.FeederLastSamples {
		if err := k.FeederLastSample.Set(ctx, f.Feeder, f.Time); err != nil {
			return err
		}
	}
	for _, w := range gs.FreeTxWindows {
		if err := k.FreeTxWindows.Set(ctx, w.NodeId, w); err != nil {
			return err
		}
	}
	for _, p := range gs.FarmPayouts {
		if err := k.PayoutQueue.Add(ctx, p.Due, p.FarmId); err != nil {
			return err
		}
		if err := k.FarmPayouts.Set(ctx, p.FarmId, p); err != nil {
			return err
		}
	}
	for _, c := range gs.NodeClocks {
		if err := k.NodeClocks.Set(ctx, c.NodeId, c); err != nil {
			return err
		}
	}
	if err := k.CheckInvariants(ctx); err != nil {
		return types.ErrInvalidGenesis.Wrap(err.Error())
	}
	return nil
}

// ExportGenesis writes the billing state out; the queues are derived from next_due and due.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	gs := &types.GenesisState{}
	var err error
	if gs.Params, err = k.Params.Get(ctx); err != nil {
		return nil, err
	}
	if gs.Contracts, err = keeperutil.Values(ctx, k.Contracts.Iterate); err != nil {
		return nil, err
	}
	if gs.PriceSamples, err = keeperutil.Values(ctx, k.PriceSamples.Iterate); err != nil {
		return nil, err
	}
	if gs.FreeTxWindows, err = keeperutil.Values(ctx, k.FreeTxWindows.Iterate); err != nil {
		return nil, err
	}
	if gs.FarmPayouts, err = keeperutil.Values(ctx, k.FarmPayouts.Iterate); err != nil {
		return nil, err
	}
	if gs.NodeClocks, err = keeperutil.Values(ctx, k.NodeClocks.Iterate); err != nil {
		return nil, err
	}
	err = k.FeederLastSample.Walk(ctx, nil, func(feeder string, t int64) (bool, error) {
		gs.FeederLastSamples = append(gs.FeederLastSamples, types.FeederLastSample{Feeder: feeder, Time: t})
		return false, nil
	})
	return gs, err
}
