package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CreatePricingPolicy adds a pricing policy under the next id (authority checked by the caller).
func (k *Keeper) CreatePricingPolicy(ctx context.Context, policy types.PricingPolicy) (uint64, error) {
	// Take the id only once the policy is known to be valid, so a refused policy uses up no id.
	last, err := k.PricingPolicySeq.Peek(ctx)
	if err != nil {
		return 0, err
	}
	id := last + 1
	policy.Id = id
	if err := k.storePricingPolicy(ctx, policy); err != nil {
		return 0, err
	}
	if err := k.PricingPolicySeq.Set(ctx, id); err != nil {
		return 0, err
	}
	return id, keeperutil.Emit(ctx, &types.EventPricingPolicyCreated{PricingPolicyId: id, Name: policy.Name})
}

// UpdatePricingPolicy replaces an existing pricing policy (authority checked by the caller).
func (k *Keeper) UpdatePricingPolicy(ctx context.Context, policy types.PricingPolicy) error {
	if _, err := k.GetPricingPolicy(ctx, policy.Id); err != nil {
		return err
	}
	if err := k.storePricingPolicy(ctx, policy); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventPricingPolicyUpdated{PricingPolicyId: policy.Id, Name: policy.Name})
}

// GetPricingPolicy loads a pricing policy by id.
func (k *Keeper) GetPricingPolicy(ctx context.Context, id uint64) (types.PricingPolicy, error) {
	p, err := k.PricingPolicies.Get(ctx, id)
	return p, keeperutil.NotFound(err, types.ErrPricingPolicyNotFound, "pricing policy %d", id)
}

// storePricingPolicy validates a policy and checks that its name is not used by another policy.
func (k *Keeper) storePricingPolicy(ctx context.Context, policy types.PricingPolicy) error {
	if err := policy.Validate(k.addressCodec); err != nil {
		return err
	}
	owner, err := k.PricingPolicies.Indexes.Name.MatchExact(ctx, policy.Name)
	switch {
	case err == nil && owner != policy.Id:
		return types.ErrPricingPolicyNameTaken.Wrapf("pricing policy name %q is taken by policy %d", policy.Name, owner)
	case err != nil && !errors.Is(err, collections.ErrNotFound):
		return err
	}
	return k.PricingPolicies.Set(ctx, policy.Id, policy)
}
