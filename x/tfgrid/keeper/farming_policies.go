package keeper

import (
	"context"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CreateFarmingPolicy adds a farming policy under the next id (authority checked by the caller).
func (k *Keeper) CreateFarmingPolicy(ctx context.Context, policy types.FarmingPolicy) (uint64, error) {
	if err := policy.Validate(); err != nil {
		return 0, err
	}
	id, err := keeperutil.NextID(ctx, k.FarmingPolicySeq)
	if err != nil {
		return 0, err
	}
	policy.Id, policy.PolicyCreated = id, keeperutil.BlockTime(ctx)
	if err := k.FarmingPolicies.Set(ctx, id, policy); err != nil {
		return 0, err
	}
	return id, keeperutil.Emit(ctx, &types.EventFarmingPolicyCreated{FarmingPolicyId: id, Name: policy.Name})
}

// UpdateFarmingPolicy replaces a farming policy unless it is immutable (authority checked by the caller).
func (k *Keeper) UpdateFarmingPolicy(ctx context.Context, policy types.FarmingPolicy) error {
	current, err := k.GetFarmingPolicy(ctx, policy.Id)
	if err != nil {
		return err
	}
	if current.Immutable {
		return types.ErrFarmingPolicyImmutable.Wrapf("farming policy %d is immutable", policy.Id)
	}
	if err := policy.Validate(); err != nil {
		return err
	}
	policy.PolicyCreated = current.PolicyCreated
	if err := k.FarmingPolicies.Set(ctx, policy.Id, policy); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmingPolicyUpdated{FarmingPolicyId: policy.Id, Name: policy.Name})
}

// GetFarmingPolicy loads a farming policy by id.
func (k *Keeper) GetFarmingPolicy(ctx context.Context, id uint64) (types.FarmingPolicy, error) {
	p, err := k.FarmingPolicies.Get(ctx, id)
	return p, keeperutil.NotFound(err, types.ErrFarmingPolicyNotFound, "farming policy %d", id)
}

// AttachPolicyToFarm gives a farm a farming policy with limits, or removes it when limits is nil, and
// re-resolves the farm's nodes that hold a default policy (authority checked by the caller).
func (k *Keeper) AttachPolicyToFarm(ctx context.Context, farmID uint64, limits *types.FarmingPolicyLimits) error {
	farm, err := k.GetFarm(ctx, farmID)
	if err != nil {
		return err
	}
	if limits != nil {
		// Work on a copy: granting the policy to nodes consumes the limits, which must not write through
		// to the caller's message.
		l := *limits
		limits = &l
		policy, err := k.GetFarmingPolicy(ctx, limits.FarmingPolicyId)
		if err != nil {
			return err
		}
		if policy.Expired(keeperutil.BlockTime(ctx)) {
			return types.ErrFarmingPolicyExpired.Wrapf("farming policy %d ended at %d", policy.Id, policy.PolicyEnd)
		}
		farm.Certification = policy.FarmCertification
	}
	farm.FarmingPolicyLimits = limits
	if err := keeperutil.Emit(ctx, &types.EventFarmFarmingPolicyAttached{FarmId: farm.Id, Limits: limits}); err != nil {
		return err
	}
	nodeIDs, err := k.farmNodeIDs(ctx, farm.Id)
	if err != nil {
		return err
	}
	for _, id := range nodeIDs {
		node, err := k.GetNode(ctx, id)
		if err != nil {
			return err
		}
		if err := k.reassignDefaultFarmingPolicy(ctx, &farm, &node); err != nil {
			return err
		}
	}
	return k.Farms.Set(ctx, farm.Id, farm)
}

// SetNodeCertification sets a node's certification and re-resolves its farming policy if it holds a
// default one (signer checked by the caller).
func (k *Keeper) SetNodeCertification(ctx context.Context, nodeID uint64, cert types.NodeCertification) error {
	if err := types.ValidateNodeCertification(cert); err != nil {
		return err
	}
	node, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return err
	}
	farm, err := k.GetFarm(ctx, node.FarmId)
	if err != nil {
		return err
	}
	node.Certification = cert
	if err := keeperutil.Emit(ctx, &types.EventNodeCertificationSet{NodeId: node.Id, Certification: cert}); err != nil {
		return err
	}
	if err := k.reassignDefaultFarmingPolicy(ctx, &farm, &node); err != nil {
		return err
	}
	return k.Farms.Set(ctx, farm.Id, farm)
}

// reassignDefaultFarmingPolicy re-resolves and stores the node's policy when its current one is a
// default policy; a policy granted through farm limits is kept.
func (k *Keeper) reassignDefaultFarmingPolicy(ctx context.Context, farm *types.Farm, node *types.Node) error {
	current, err := k.GetFarmingPolicy(ctx, node.FarmingPolicyId)
	if err != nil {
		return err
	}
	if current.IsDefault {
		if err := k.assignFarmingPolicy(ctx, farm, node); err != nil {
			return err
		}
	}
	return k.Nodes.Set(ctx, node.Id, *node)
}

// assignFarmingPolicy resolves the node's farming policy: the farm's attached policy while its limits
// admit the node (consuming them), otherwise the best default policy the node and farm qualify for.
// The caller stores the node and the farm.
func (k *Keeper) assignFarmingPolicy(ctx context.Context, farm *types.Farm, node *types.Node) error {
	now := keeperutil.BlockTime(ctx)
	policyID, ok := farm.FarmingPolicyLimits.Consume(node.Resources, node.Certification, now)
	if !ok {
		var defaults []types.FarmingPolicy
		err := k.FarmingPolicies.Walk(ctx, nil, func(_ uint64, p types.FarmingPolicy) (bool, error) {
			if p.IsDefault {
				defaults = append(defaults, p)
			}
			return false, nil
		})
		if err != nil {
			return err
		}
		policyID, ok = types.BestDefaultFarmingPolicy(defaults, node.Certification, farm.Certification, now)
		if !ok {
			return types.ErrNoFarmingPolicy.Wrapf("no farming policy fits node %d (%s) in farm %d (%s)", node.Id, node.Certification, farm.Id, farm.Certification)
		}
	}
	if policyID == node.FarmingPolicyId {
		return nil
	}
	node.FarmingPolicyId = policyID
	return keeperutil.Emit(ctx, &types.EventNodeFarmingPolicySet{NodeId: node.Id, FarmingPolicyId: policyID})
}

// farmNodeIDs lists the ids of a farm's nodes.
func (k *Keeper) farmNodeIDs(ctx context.Context, farmID uint64) ([]uint64, error) {
	iter, err := k.Nodes.Indexes.Farm.MatchExact(ctx, farmID)
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	return iter.PrimaryKeys()
}
