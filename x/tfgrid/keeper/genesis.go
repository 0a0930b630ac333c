package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// InitGenesis loads a validated genesis state into the store.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, t := range gs.Twins {
		if err := k.Twins.Set(ctx, t.Id, t); err != nil {
			return err
		}
	}
	for _, f := range gs.Farms {
		if err := k.Farms.Set(ctx, f.Id, f); err != nil {
			return err
		}
	}
	for _, ip := range gs.PublicIps {
		addr, _, _ := types.ParsePublicIP(ip.Ip, ip.Gateway) // validated above
		if err := k.insertPublicIP(ctx, addr.String(), ip); err != nil {
			return err
		}
	}
	for _, a := range gs.AllowedNodeTwins {
		if err := k.AllowedNodeTwins.Set(ctx, collections.Join(a.FarmId, a.TwinId)); err != nil {
			return err
		}
	}
	for _, n := range gs.Nodes {
		if err := k.Nodes.Set(ctx, n.Id, n); err != nil {
			return err
		}
	}
	for _, p := range gs.PricingPolicies {
		if err := k.PricingPolicies.Set(ctx, p.Id, p); err != nil {
			return err
		}
	}
	for _, p := range gs.FarmingPolicies {
		if err := k.FarmingPolicies.Set(ctx, p.Id, p); err != nil {
			return err
		}
	}
	// Sequences hold the last id issued.
	seqs := []struct {
		seq  collections.Sequence
		next uint64
	}{
		{k.TwinSeq, gs.NextTwinId}, {k.FarmSeq, gs.NextFarmId}, {k.NodeSeq, gs.NextNodeId},
		{k.PricingPolicySeq, gs.NextPricingPolicyId}, {k.FarmingPolicySeq, gs.NextFarmingPolicyId},
	}
	for _, s := range seqs {
		if err := s.seq.Set(ctx, s.next-1); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis writes the whole registry out.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	var gs types.GenesisState
	var err error
	if gs.Params, err = k.Params.Get(ctx); err != nil {
		return nil, err
	}
	if gs.Twins, err = keeperutil.Values(ctx, k.Twins.Iterate); err != nil {
		return nil, err
	}
	if gs.Farms, err = keeperutil.Values(ctx, k.Farms.Iterate); err != nil {
		return nil, err
	}
	if gs.PublicIps, err = keeperutil.Values(ctx, k.PublicIPs.Iterate); err != nil {
		return nil, err
	}
	if gs.Nodes, err = keeperutil.Values(ctx, k.Nodes.Iterate); err != nil {
		return nil, err
	}
	if gs.PricingPolicies, err = keeperutil.Values(ctx, k.PricingPolicies.Iterate); err != nil {
		return nil, err
	}
	if gs.FarmingPolicies, err = keeperutil.Values(ctx, k.FarmingPolicies.Iterate); err != nil {
		return nil, err
	}
	err = k.AllowedNodeTwins.Walk(ctx, nil, func(key collections.Pair[uint64, uint64]) (bool, error) {
		gs.AllowedNodeTwins = append(gs.AllowedNodeTwins, types.FarmNodeTwin{FarmId: key.K1(), TwinId: key.K2()})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	nexts := []struct {
		seq  collections.Sequence
		next *uint64
	}{
		{k.TwinSeq, &gs.NextTwinId}, {k.FarmSeq, &gs.NextFarmId}, {k.NodeSeq, &gs.NextNodeId},
		{k.PricingPolicySeq, &gs.NextPricingPolicyId}, {k.FarmingPolicySeq, &gs.NextFarmingPolicyId},
	}
	for _, n := range nexts {
		last, err := n.seq.Peek(ctx)
		if err != nil {
			return nil, err
		}
		*n.next = last + 1
	}
	return &gs, nil
}
