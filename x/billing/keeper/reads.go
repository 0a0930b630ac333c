package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// reads holds what settlements read and never change, so that a block's settlements read each once:
// params, the price, pricing policies, nodes, their billing clocks, farms' pricing policies and twins' accounts (as bytes:
// no bech32 decode per transfer). A settlement changes none of them — deleting a contract frees its
// farm's IPs, which no settlement reads — so one reads serves a whole EndBlock. Whether a node is
// rented does change (a rent contract can run out of grace) and is never cached.
//
// It also carries the shares its settlements accrued and did not yet move out of the billing module
// account. EndBlock's reads are batched: distribute moves a whole block's shares once at its end.
// Every other reads (a message's, a hook's) distributes each settlement's shares as it ends, so no
// settle path can leave shares behind.
type reads struct {
	k            *Keeper
	params       types.Params
	price        sdkmath.LegacyDec
	foundation   sdk.AccAddress
	policies     map[uint64]tfgridtypes.PricingPolicy
	nodes        map[uint64]tfgridtypes.Node
	farmPolicies map[uint64]uint64         // farm id → pricing policy id
	accounts     map[uint64]sdk.AccAddress // twin id → account
	accrued      []accrual
	batched      bool
	clocks       map[uint64]types.NodeClock
}

// newReads reads the params and the price; the rest is read on first use.
func (k *Keeper) newReads(ctx context.Context) (*reads, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	price, err := k.Price(ctx, params)
	if err != nil {
		return nil, err
	}
	foundation, err := k.addressCodec.StringToBytes(params.FoundationAccount)
	if err != nil {
		return nil, err
	}
	return &reads{
		k: k, params: params, price: price, foundation: foundation,
		policies: map[uint64]tfgridtypes.PricingPolicy{}, nodes: map[uint64]tfgridtypes.Node{},
		farmPolicies: map[uint64]uint64{}, accounts: map[uint64]sdk.AccAddress{},
		clocks: map[uint64]types.NodeClock{},
	}, nil
}

func (r *reads) policy(ctx context.Context, id uint64) (tfgridtypes.PricingPolicy, error) {
	return cached(r.policies, id, func() (tfgridtypes.PricingPolicy, error) { return r.k.registry.GetPricingPolicy(ctx, id) })
}

func (r *reads) node(ctx context.Context, id uint64) (tfgridtypes.Node, error) {
	return cached(r.nodes, id, func() (tfgridtypes.Node, error) { return r.k.registry.GetNode(ctx, id) })
}

// clock is a node's billing clock: only the node's own transactions move it, never a settlement.
func (r *reads) clock(ctx context.Context, node tfgridtypes.Node) (types.NodeClock, error) {
	return cached(r.clocks, node.Id, func() (types.NodeClock, error) { return r.k.nodeClock(ctx, node, r.params.NodeOfflineAfter) })
}

// farmPolicy is the id of a farm's pricing policy.
func (r *reads) farmPolicy(ctx context.Context, id uint64) (uint64, error) {
	return cached(r.farmPolicies, id, func() (uint64, error) {
		farm, err := r.k.registry.GetFarm(ctx, id)
		return farm.PricingPolicyId, err
	})
}

// account is a twin's account address.
func (r *reads) account(ctx context.Context, twinID uint64) (sdk.AccAddress, error) {
	return cached(r.accounts, twinID, func() (sdk.AccAddress, error) {
		twin, err := r.k.registry.GetTwin(ctx, twinID)
		if err != nil {
			return nil, err
		}
		return r.k.addressCodec.StringToBytes(twin.Account)
	})
}

// cached returns m[id], reading and keeping it on a miss; a failed read is not kept.
func cached[V any](m map[uint64]V, id uint64, read func() (V, error)) (V, error) {
	if v, ok := m[id]; ok {
		return v, nil
	}
	v, err := read()
	if err == nil {
		m[id] = v
	}
	return v, err
}
