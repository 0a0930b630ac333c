package keeper

// Reads of contracts by node and by twin that other modules (billing, the registry hooks) use.

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// NodeLiveContractIDs lists the live node contracts of a node and then its rent contract, if any.
func (k *Keeper) NodeLiveContractIDs(ctx context.Context, nodeID uint64) ([]uint64, error) {
	ids, err := k.nodeContractIDs(ctx, nodeID)
	if err != nil {
		return nil, err
	}
	rentID, found, err := k.NodeRentContractID(ctx, nodeID)
	if found {
		ids = append(ids, rentID)
	}
	return ids, err
}

// NodeRentContractID returns the live rent contract of a node, if any.
func (k *Keeper) NodeRentContractID(ctx context.Context, nodeID uint64) (uint64, bool, error) {
	id, err := k.RentContractByNode.Get(ctx, nodeID)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// NodeExtraFee is a node's extra monthly rent fee in mUSD, 0 when none is set.
func (k *Keeper) NodeExtraFee(ctx context.Context, nodeID uint64) (uint64, error) {
	fee, err := k.NodeExtraFees.Get(ctx, nodeID)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return fee, err
}

// TwinLiveContractIDs lists a twin's live contracts.
func (k *Keeper) TwinLiveContractIDs(ctx context.Context, twinID uint64) ([]uint64, error) {
	var ids []uint64
	err := k.ContractsByTwin.Walk(ctx, collections.NewPrefixedPairRange[uint64, uint64](twinID),
		func(key collections.Pair[uint64, uint64]) (bool, error) {
			ids = append(ids, key.K2())
			return false, nil
		})
	return ids, err
}

// TwinLiveContractIDsFrom lists up to limit live contracts of a twin, in id order from fromID on.
func (k *Keeper) TwinLiveContractIDsFrom(ctx context.Context, twinID, fromID uint64, limit uint32) ([]uint64, error) {
	var ids []uint64
	rng := collections.NewPrefixedPairRange[uint64, uint64](twinID).StartInclusive(fromID)
	err := k.ContractsByTwin.Walk(ctx, rng, func(key collections.Pair[uint64, uint64]) (bool, error) {
		ids = append(ids, key.K2())
		return uint32(len(ids)) >= limit, nil
	})
	return ids, err
}

// WalkLiveContracts visits every live contract, for invariant checks.
func (k *Keeper) WalkLiveContracts(ctx context.Context, fn func(types.Contract) error) error {
	return k.Contracts.Walk(ctx, nil, func(_ uint64, c types.Contract) (bool, error) {
		return false, fn(c)
	})
}
