package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// CreateNode registers the signer's twin as a node of a farm that lets it in.
func (k *Keeper) CreateNode(ctx context.Context, msg *types.MsgCreateNode) (uint64, error) {
	twin, err := k.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return 0, err
	}
	if existing, err := k.Nodes.Indexes.Twin.MatchExact(ctx, twin.Id); err == nil {
		return 0, types.ErrNodeExists.Wrapf("twin %d already registered node %d", twin.Id, existing)
	} else if !errors.Is(err, collections.ErrNotFound) {
		return 0, err
	}
	desc := types.NodeDescription{Resources: msg.Resources, Location: msg.Location, Interfaces: msg.Interfaces, SerialNumber: msg.SerialNumber}
	if err := desc.Validate(); err != nil {
		return 0, err
	}
	if err := k.checkNodeCapacity(ctx, 0, msg.Resources, msg.LinkRate); err != nil {
		return 0, err
	}
	farm, err := k.farmAdmittingTwin(ctx, msg.FarmId, twin.Id)
	if err != nil {
		return 0, err
	}
	// The id is taken only once the node got a farming policy, so a refused node uses up no id.
	last, err := k.NodeSeq.Peek(ctx)
	if err != nil {
		return 0, err
	}
	id := last + 1
	now := keeperutil.BlockTime(ctx)
	node := types.Node{
		Id:            id,
		FarmId:        farm.Id,
		TwinId:        twin.Id,
		Resources:     msg.Resources,
		Location:      msg.Location,
		Interfaces:    msg.Interfaces,
		Certification: types.NodeCertificationDIY,
		SecureBoot:    msg.SecureBoot,
		Virtualized:   msg.Virtualized,
		SerialNumber:  msg.SerialNumber,
		LinkRate:      msg.LinkRate,
		Created:       now,
		Power:         types.Power{State: types.PowerStateUp, Target: types.PowerStateUp, Since: now},
	}
	if err := k.assignFarmingPolicy(ctx, &farm, &node); err != nil {
		return 0, err
	}
	if err := k.NodeSeq.Set(ctx, id); err != nil {
		return 0, err
	}
	if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
		return 0, err
	}
	if err := k.Nodes.Set(ctx, id, node); err != nil {
		return 0, err
	}
	return id, keeperutil.Emit(ctx, &types.EventNodeCreated{NodeId: id, FarmId: farm.Id, TwinId: twin.Id})
}

// UpdateNode replaces a node's description; a certified node whose capacity changes by more than 1 %
// loses its certification, and a new farm must let the node's twin in.
func (k *Keeper) UpdateNode(ctx context.Context, msg *types.MsgUpdateNode) error {
	node, err := k.nodeOfNodeTwin(ctx, msg.Creator, msg.NodeId)
	if err != nil {
		return err
	}
	desc := types.NodeDescription{Resources: msg.Resources, Location: msg.Location, Interfaces: msg.Interfaces, SerialNumber: msg.SerialNumber}
	if err := desc.Validate(); err != nil {
		return err
	}
	if err := k.checkNodeCapacity(ctx, node.Id, msg.Resources, msg.LinkRate); err != nil {
		return err
	}
	// A new farm must admit the twin; check it before anything is changed or emitted.
	moving := msg.FarmId != 0 && msg.FarmId != node.FarmId
	var farm types.Farm
	if moving {
		if err := k.checkNoLiveContracts(ctx, node.Id, fmt.Sprintf("move it to farm %d", msg.FarmId)); err != nil {
			return err
		}
		if farm, err = k.farmAdmittingTwin(ctx, msg.FarmId, node.TwinId); err != nil {
			return err
		}
	}
	lostCertification := node.Certification == types.NodeCertificationCertified &&
		types.ResourcesChangedMoreThan1Percent(node.Resources, msg.Resources)
	if lostCertification {
		node.Certification = types.NodeCertificationDIY
		if err := keeperutil.Emit(ctx, &types.EventNodeCertificationSet{NodeId: node.Id, Certification: node.Certification}); err != nil {
			return err
		}
	}
	node.Resources, node.Location, node.Interfaces = msg.Resources, msg.Location, msg.Interfaces
	node.SecureBoot, node.Virtualized, node.SerialNumber = msg.SecureBoot, msg.Virtualized, msg.SerialNumber
	node.LinkRate = msg.LinkRate
	switch {
	case moving:
		node.FarmId = farm.Id
		if k.hooks != nil {
			if err := k.hooks.AfterNodeFarmChanged(ctx, node); err != nil {
				return err
			}
		}
		if err := k.assignFarmingPolicy(ctx, &farm, &node); err != nil {
			return err
		}
		if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
			return err
		}
	case lostCertification:
		// Like any certification change, a node holding a default policy gets the one that fits it now.
		if farm, err = k.GetFarm(ctx, node.FarmId); err != nil {
			return err
		}
		if err := k.reassignDefaultFarmingPolicy(ctx, &farm, &node); err != nil {
			return err
		}
		if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
			return err
		}
	}
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodeUpdated{NodeId: node.Id, FarmId: node.FarmId})
}

// SetNodePublicConfig sets or clears the public config of a node of the signer's farm.
func (k *Keeper) SetNodePublicConfig(ctx context.Context, msg *types.MsgSetNodePublicConfig) error {
	node, err := k.GetNode(ctx, msg.NodeId)
	if err != nil {
		return err
	}
	if _, err := k.farmOfFarmer(ctx, msg.Creator, node.FarmId); err != nil {
		return err
	}
	cfg := msg.PublicConfig
	if cfg != nil && *cfg == (types.PublicConfig{}) {
		cfg = nil // an empty config clears it, like no config
	}
	if cfg != nil {
		if err := cfg.Validate(); err != nil {
			return err
		}
	}
	node.PublicConfig = cfg
	if err := k.Nodes.Set(ctx, node.Id, node); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodePublicConfigSet{NodeId: node.Id, PublicConfig: node.PublicConfig})
}

// DeleteNode removes a node; its own twin or its farmer may do it. Contracts on the node are closed by
// the hooks in the same transaction.
func (k *Keeper) DeleteNode(ctx context.Context, msg *types.MsgDeleteNode) error {
	node, err := k.GetNode(ctx, msg.NodeId)
	if err != nil {
		return err
	}
	twin, err := k.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return err
	}
	if twin.Id != node.TwinId {
		farm, err := k.GetFarm(ctx, node.FarmId)
		if err != nil {
			return err
		}
		if farm.TwinId != twin.Id {
			return types.ErrNotNodeTwin.Wrapf("%s is neither node %d's twin nor its farmer", msg.Creator, node.Id)
		}
	}
	if k.hooks != nil {
		if err := k.hooks.AfterNodeDeleted(ctx, node); err != nil {
			return err
		}
	}
	if err := k.Nodes.Remove(ctx, node.Id); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventNodeDeleted{NodeId: node.Id, FarmId: node.FarmId, TwinId: node.TwinId})
}

// checkNodeCapacity bounds what a node declares by the params and, for a registered node (nodeID > 0),
// refuses to shrink it below what its live contracts reserve.
func (k *Keeper) checkNodeCapacity(ctx context.Context, nodeID uint64, res types.Resources, linkRate uint64) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := params.CheckNodeCapacity(res, linkRate); err != nil {
		return err
	}
	if nodeID == 0 || k.hooks == nil {
		return nil
	}
	reserved, err := k.hooks.NodeReservedCapacity(ctx, nodeID)
	if err != nil {
		return err
	}
	if field, has, want := types.FirstShortfall(res, reserved); field != "" {
		return types.ErrCapacityReserved.Wrapf("node %d: %s %d is below the %d its live contracts reserve", nodeID, field, has, want)
	}
	return nil
}

// GetNode loads a node by id.
func (k *Keeper) GetNode(ctx context.Context, id uint64) (types.Node, error) {
	node, err := k.Nodes.Get(ctx, id)
	return node, keeperutil.NotFound(err, types.ErrNodeNotFound, "node %d", id)
}

// NodeOfAccount loads the node registered by an account's twin.
func (k *Keeper) NodeOfAccount(ctx context.Context, account string) (types.Node, error) {
	twin, err := k.TwinOfAccount(ctx, account)
	if err != nil {
		return types.Node{}, err
	}
	id, err := k.Nodes.Indexes.Twin.MatchExact(ctx, twin.Id)
	if err != nil {
		return types.Node{}, keeperutil.NotFound(err, types.ErrNodeNotFound, "twin %d (%s) has no node", twin.Id, account)
	}
	return k.GetNode(ctx, id)
}

// nodeOfNodeTwin loads a node and checks that the signer is the node's own twin.
func (k *Keeper) nodeOfNodeTwin(ctx context.Context, signer string, nodeID uint64) (types.Node, error) {
	node, err := k.GetNode(ctx, nodeID)
	if err != nil {
		return node, err
	}
	twin, err := k.TwinOfAccount(ctx, signer)
	if err != nil {
		return node, err
	}
	if twin.Id != node.TwinId {
		return node, types.ErrNotNodeTwin.Wrapf("%s (twin %d) is not the twin of node %d (twin %d)", signer, twin.Id, node.Id, node.TwinId)
	}
	return node, nil
}

// farmAdmittingTwin loads a farm and checks that it lets the twin register a node: the farm is open
// or the farmer allowed that twin.
func (k *Keeper) farmAdmittingTwin(ctx context.Context, farmID, twinID uint64) (types.Farm, error) {
	farm, err := k.GetFarm(ctx, farmID)
	if err != nil || farm.OpenNodeRegistration {
		return farm, err
	}
	allowed, err := k.AllowedNodeTwins.Has(ctx, collections.Join(farm.Id, twinID))
	if err != nil {
		return farm, err
	}
	if !allowed {
		return farm, types.ErrNodeTwinNotAllowed.Wrapf("farm %d does not allow twin %d to register a node", farm.Id, twinID)
	}
	return farm, nil
}
