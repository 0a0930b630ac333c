package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// InitGenesis loads the contracts, rebuilds their indexes, and checks them against the registry (twins,
// nodes, farm IPs) and the module account, which are initialised before this module.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(types.MaxDeploymentDataBytesCap); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, c := range gs.Contracts {
		if err := k.checkReferences(ctx, c); err != nil {
			return err
		}
		if err := k.insertContract(ctx, c); err != nil {
			return err
		}
	}
	for _, t := range gs.Tombstones {
		if err := k.Tombstones.Set(ctx, t.Id, t); err != nil {
			return err
		}
		if err := k.TwinContractHistory.Set(ctx, collections.Join(t.TwinId, t.Id)); err != nil {
			return err
		}
	}
	for _, f := range gs.NodeExtraFees {
		if _, err := k.registry.GetNode(ctx, f.NodeId); err != nil {
			return types.ErrInvalidGenesis.Wrapf("extra fee of node %d: %s", f.NodeId, err)
		}
		if err := k.NodeExtraFees.Set(ctx, f.NodeId, f.ExtraFee); err != nil {
			return err
		}
	}
	if err := k.ContractSeq.Set(ctx, gs.NextContractId-1); err != nil {
		return err
	}
	if err := k.CheckInvariants(ctx); err != nil {
		return types.ErrInvalidGenesis.Wrap(err.Error())
	}
	return nil
}

// checkReferences checks that a contract's twin and node exist.
func (k *Keeper) checkReferences(ctx context.Context, c types.Contract) error {
	if _, err := k.registry.GetTwin(ctx, c.TwinId); err != nil {
		return types.ErrInvalidGenesis.Wrapf("contract %d: %s", c.Id, err)
	}
	if c.NodeID() != 0 {
		if _, err := k.registry.GetNode(ctx, c.NodeID()); err != nil {
			return types.ErrInvalidGenesis.Wrapf("contract %d: %s", c.Id, err)
		}
	}
	return nil
}

// ExportGenesis writes the contracts, tombstones and extra fees out; indexes are derived.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	gs := &types.GenesisState{}
	var err error
	if gs.Params, err = k.Params.Get(ctx); err != nil {
		return nil, err
	}
	if gs.Contracts, err = keeperutil.Values(ctx, k.Contracts.Iterate); err != nil {
		return nil, err
	}
	if gs.Tombstones, err = keeperutil.Values(ctx, k.Tombstones.Iterate); err != nil {
		return nil, err
	}
	err = k.NodeExtraFees.Walk(ctx, nil, func(node, fee uint64) (bool, error) {
		gs.NodeExtraFees = append(gs.NodeExtraFees, types.NodeExtraFee{NodeId: node, ExtraFee: fee})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	last, err := k.ContractSeq.Peek(ctx)
	gs.NextContractId = last + 1
	return gs, err
}
