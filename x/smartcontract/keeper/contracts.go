package keeper

import (
	"context"
	"errors"
	"slices"

	"cosmossdk.io/collections"

	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// CreateNodeContract reserves capacity on a node for a deployment, with public IPs of the node's farm.
func (k *Keeper) CreateNodeContract(ctx context.Context, msg *types.MsgCreateNodeContract) (uint64, error) {
	twin, err := k.registry.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	if err := types.ValidateDeploymentHash(msg.DeploymentHash); err != nil {
		return 0, err
	}
	if err := types.ValidateDeploymentData(msg.DeploymentData, params.MaxDeploymentDataBytes); err != nil {
		return 0, err
	}
	node, err := k.registry.GetNode(ctx, msg.NodeId)
	if err != nil {
		return 0, err
	}
	if node.Power.Target == tfgridtypes.PowerStateDown || node.Power.State == tfgridtypes.PowerStateDown {
		return 0, types.ErrNodeNotAvailable.Wrapf("node %d is powered down (state %s, target %s)", node.Id, node.Power.State, node.Power.Target)
	}
	if err := k.checkDeployable(ctx, node, twin.Id); err != nil {
		return 0, err
	}
	if err := k.checkHashFree(ctx, node.Id, msg.DeploymentHash, 0); err != nil {
		return 0, err
	}
	id, err := k.nextContractID(ctx)
	if err != nil {
		return 0, err
	}
	if err := k.checkFree(ctx, id, node, msg.Resources, tfgridtypes.Resources{}); err != nil {
		return 0, err
	}
	nc := &types.NodeContract{
		NodeId: node.Id, DeploymentHash: msg.DeploymentHash, DeploymentData: msg.DeploymentData, PublicIpsCount: msg.PublicIpsCount,
		Resources: msg.Resources, MaxUtftPerHour: msg.MaxUtftPerHour,
	}
	if err := k.reserveIPs(ctx, id, node.FarmId, nc); err != nil {
		return 0, err
	}
	return id, k.createContract(ctx, id, twin, params, &types.Contract_NodeContract{NodeContract: nc})
}

// CreateNameContract reserves a unique gateway name.
func (k *Keeper) CreateNameContract(ctx context.Context, msg *types.MsgCreateNameContract) (uint64, error) {
	twin, err := k.registry.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return 0, err
	}
	if err := types.ValidateName(msg.Name); err != nil {
		return 0, err
	}
	if owner, err := k.NameContractByName.Get(ctx, msg.Name); err == nil {
		return 0, types.ErrNameTaken.Wrapf("name %q is held by contract %d", msg.Name, owner)
	} else if !errors.Is(err, collections.ErrNotFound) {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	id, err := k.nextContractID(ctx)
	if err != nil {
		return 0, err
	}
	return id, k.createContract(ctx, id, twin, params, &types.Contract_NameContract{NameContract: &types.NameContract{Name: msg.Name}})
}

// CreateRentContract rents a whole node. A powered-down node may be rented (it is woken up); a node
// running someone's node contracts may not, unless its farm is dedicated.
func (k *Keeper) CreateRentContract(ctx context.Context, msg *types.MsgCreateRentContract) (uint64, error) {
	twin, err := k.registry.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return 0, err
	}
	node, err := k.registry.GetNode(ctx, msg.NodeId)
	if err != nil {
		return 0, err
	}
	if renter, err := k.RentContractByNode.Get(ctx, node.Id); err == nil {
		return 0, types.ErrNodeRented.Wrapf("node %d is rented by contract %d", node.Id, renter)
	} else if !errors.Is(err, collections.ErrNotFound) {
		return 0, err
	}
	farm, err := k.registry.GetFarm(ctx, node.FarmId)
	if err != nil {
		return 0, err
	}
	if !farm.Dedicated {
		if err := k.checkNoNodeContracts(ctx, node.Id); err != nil {
			return 0, err
		}
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	id, err := k.nextContractID(ctx)
	if err != nil {
		return 0, err
	}
	return id, k.createContract(ctx, id, twin, params, &types.Contract_RentContract{RentContract: &types.RentContract{NodeId: node.Id}})
}

// nextContractID is the id the next contract will get. It is taken (the sequence advanced) only by
// createContract, once every check passed, so a refused contract uses up no id.
func (k *Keeper) nextContractID(ctx context.Context) (uint64, error) {
	last, err := k.ContractSeq.Peek(ctx)
	return last + 1, err
}

// createContract takes the id, locks the deposit, stores the contract with its indexes and announces it.
func (k *Keeper) createContract(ctx context.Context, id uint64, twin tfgridtypes.Twin, params types.Params, kind types.IsContractKind) error {
	owner, err := k.addressCodec.StringToBytes(twin.Account)
	if err != nil {
		return err
	}
	if err := k.lockDeposit(ctx, owner, params.ContractDeposit); err != nil {
		return err
	}
	if err := k.ContractSeq.Set(ctx, id); err != nil {
		return err
	}
	c := types.Contract{
		Id: id, TwinId: twin.Id, State: types.ContractStateCreated, CreatedAt: keeperutil.BlockTime(ctx),
		Deposit: params.ContractDeposit, Kind: kind,
	}
	if err := k.insertContract(ctx, c); err != nil {
		return err
	}
	if k.hooks != nil {
		if err := k.hooks.AfterContractCreated(ctx, c); err != nil {
			return err
		}
	}
	ev := &types.EventContractCreated{ContractId: id, TwinId: twin.Id, Kind: c.ContractKind(), NodeId: c.NodeID(), Deposit: c.Deposit.String()}
	switch kind := c.Kind.(type) {
	case *types.Contract_NodeContract:
		nc := kind.NodeContract
		ev.DeploymentHash, ev.Resources, ev.MaxUtftPerHour = nc.DeploymentHash, &nc.Resources, nc.MaxUtftPerHour
	case *types.Contract_NameContract:
		ev.Name = kind.NameContract.Name
	}
	return keeperutil.Emit(ctx, ev)
}

// UpdateNodeContract replaces a node contract's deployment hash, data, reservation and spending cap.
func (k *Keeper) UpdateNodeContract(ctx context.Context, msg *types.MsgUpdateNodeContract) error {
	c, err := k.ownedContract(ctx, msg.Creator, msg.ContractId)
	if err != nil {
		return err
	}
	if k.hooks != nil {
		// Billing settles the contract first, which may move it into grace: read it again afterwards.
		if err := k.hooks.BeforeContractUpdated(ctx, c); err != nil {
			return err
		}
		if c, err = k.GetContract(ctx, c.Id); err != nil {
			return err
		}
	}
	nc := c.GetNodeContract()
	if nc == nil {
		return types.ErrNotNodeContract.Wrapf("contract %d is a %s contract", c.Id, c.ContractKind())
	}
	if c.State == types.ContractStateGracePeriod {
		return types.ErrContractInGrace.Wrapf("contract %d is in grace since %d; pay it before updating", c.Id, c.GraceSince)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := types.ValidateDeploymentHash(msg.DeploymentHash); err != nil {
		return err
	}
	if err := types.ValidateDeploymentData(msg.DeploymentData, params.MaxDeploymentDataBytes); err != nil {
		return err
	}
	if err := k.checkHashFree(ctx, nc.NodeId, msg.DeploymentHash, c.Id); err != nil {
		return err
	}
	node, err := k.registry.GetNode(ctx, nc.NodeId)
	if err != nil {
		return err
	}
	if err := k.checkFree(ctx, c.Id, node, msg.Resources, nc.Resources); err != nil {
		return err
	}
	if err := k.ContractByNodeHash.Remove(ctx, collections.Join(nc.NodeId, nc.DeploymentHash)); err != nil {
		return err
	}
	if err := k.moveReservation(ctx, nc.NodeId, nc.Resources, msg.Resources); err != nil {
		return err
	}
	nc.DeploymentHash, nc.DeploymentData = msg.DeploymentHash, msg.DeploymentData
	nc.Resources, nc.MaxUtftPerHour = msg.Resources, msg.MaxUtftPerHour
	if err := k.ContractByNodeHash.Set(ctx, collections.Join(nc.NodeId, nc.DeploymentHash), c.Id); err != nil {
		return err
	}
	if err := k.Contracts.Set(ctx, c.Id, c); err != nil {
		return err
	}
	if k.hooks != nil {
		if err := k.hooks.AfterContractUpdated(ctx, c); err != nil {
			return err
		}
	}
	return keeperutil.Emit(ctx, &types.EventContractUpdated{
		ContractId: c.Id, NodeId: nc.NodeId, DeploymentHash: nc.DeploymentHash, Resources: &nc.Resources, MaxUtftPerHour: nc.MaxUtftPerHour,
	})
}

// GetContract loads a live contract.
func (k *Keeper) GetContract(ctx context.Context, id uint64) (types.Contract, error) {
	c, err := k.Contracts.Get(ctx, id)
	return c, keeperutil.NotFound(err, types.ErrContractNotFound, "contract %d", id)
}

// liveOrDeletedContract loads a live contract, or the view of a deleted one's tombstone and when it
// was deleted.
func (k *Keeper) liveOrDeletedContract(ctx context.Context, id uint64) (types.Contract, int64, error) {
	c, err := k.Contracts.Get(ctx, id)
	if !errors.Is(err, collections.ErrNotFound) {
		return c, 0, err
	}
	tomb, err := k.Tombstones.Get(ctx, id)
	if err != nil {
		return types.Contract{}, 0, keeperutil.NotFound(err, types.ErrContractNotFound, "contract %d never existed", id)
	}
	return tomb.ContractView(), tomb.DeletedAt, nil
}

// ownedContract loads a live contract and checks that the signer's twin owns it.
func (k *Keeper) ownedContract(ctx context.Context, signer string, id uint64) (types.Contract, error) {
	c, err := k.GetContract(ctx, id)
	if err != nil {
		return c, err
	}
	twin, err := k.registry.TwinOfAccount(ctx, signer)
	if err != nil {
		return c, err
	}
	if twin.Id != c.TwinId {
		return c, types.ErrNotContractOwner.Wrapf("%s (twin %d) does not own contract %d (twin %d)", signer, twin.Id, c.Id, c.TwinId)
	}
	return c, nil
}

// checkHashFree refuses a (node, hash) pair that a live contract other than self already holds.
func (k *Keeper) checkHashFree(ctx context.Context, nodeID uint64, hash string, self uint64) error {
	holder, err := k.ContractByNodeHash.Get(ctx, collections.Join(nodeID, hash))
	switch {
	case errors.Is(err, collections.ErrNotFound):
		return nil
	case err != nil:
		return err
	case holder != self:
		return types.ErrContractNotUnique.Wrapf("node %d already has contract %d for deployment %s", nodeID, holder, hash)
	}
	return nil
}

// checkDeployable applies the rent and dedication rules: on a rented node only the renter deploys; a
// dedicated node (dedicated farm or extra fee) must be rented first.
func (k *Keeper) checkDeployable(ctx context.Context, node tfgridtypes.Node, twinID uint64) error {
	renterID, err := k.RentContractByNode.Get(ctx, node.Id)
	switch {
	case err == nil:
		rent, err := k.GetContract(ctx, renterID)
		if err != nil {
			return err
		}
		if rent.TwinId != twinID {
			return types.ErrNodeNotAvailable.Wrapf("node %d is rented by twin %d (contract %d)", node.Id, rent.TwinId, renterID)
		}
		return nil
	case !errors.Is(err, collections.ErrNotFound):
		return err
	}
	dedicated, err := k.isDedicated(ctx, node)
	if err != nil {
		return err
	}
	if dedicated {
		return types.ErrNodeNotAvailable.Wrapf("node %d is dedicated: rent it first", node.Id)
	}
	return nil
}

// isDedicated reports whether a node can only be used whole: its farm is dedicated or it has an extra fee.
func (k *Keeper) isDedicated(ctx context.Context, node tfgridtypes.Node) (bool, error) {
	farm, err := k.registry.GetFarm(ctx, node.FarmId)
	if err != nil || farm.Dedicated {
		return farm.Dedicated, err
	}
	return k.NodeExtraFees.Has(ctx, node.Id)
}

// checkNoNodeContracts refuses when any live node contract runs on the node; it stops at the first.
func (k *Keeper) checkNoNodeContracts(ctx context.Context, nodeID uint64) error {
	id, found, err := k.firstNodeContractOf(ctx, nodeID, anyOwner)
	if err != nil {
		return err
	}
	if found {
		return types.ErrNodeHasActiveContracts.Wrapf("node %d runs node contract %d", nodeID, id)
	}
	return nil
}

// nodeContractIDs lists the live node contracts of a node, lowest id first.
func (k *Keeper) nodeContractIDs(ctx context.Context, nodeID uint64) ([]uint64, error) {
	var ids []uint64
	err := k.ContractByNodeHash.Walk(ctx, collections.NewPrefixedPairRange[uint64, string](nodeID),
		func(_ collections.Pair[uint64, string], id uint64) (bool, error) {
			ids = append(ids, id)
			return false, nil
		})
	slices.Sort(ids)
	return ids, err
}
