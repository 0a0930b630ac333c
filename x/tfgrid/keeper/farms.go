package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// DefaultPricingPolicyID is the policy every new farm starts with.
const DefaultPricingPolicyID = 1

// CreateFarm registers a farm owned by the signer's twin, with its initial public IPs. The farm and its
// IPs are stored together or not at all: a bad or duplicate IP in the list leaves nothing behind.
func (k *Keeper) CreateFarm(ctx context.Context, msg *types.MsgCreateFarm) (uint64, error) {
	cacheCtx, write := sdk.UnwrapSDKContext(ctx).CacheContext()
	id, err := k.createFarm(cacheCtx, msg)
	if err != nil {
		return 0, err
	}
	write()
	return id, nil
}

func (k *Keeper) createFarm(ctx context.Context, msg *types.MsgCreateFarm) (uint64, error) {
	twin, err := k.TwinOfAccount(ctx, msg.Creator)
	if err != nil {
		return 0, err
	}
	if err := k.checkFarmName(ctx, 0, msg.Name); err != nil {
		return 0, err
	}
	if _, err := k.GetPricingPolicy(ctx, DefaultPricingPolicyID); err != nil {
		return 0, err
	}
	id, err := keeperutil.NextID(ctx, k.FarmSeq)
	if err != nil {
		return 0, err
	}
	farm := types.Farm{
		Id:              id,
		Name:            msg.Name,
		TwinId:          twin.Id,
		PricingPolicyId: DefaultPricingPolicyID,
		Certification:   types.FarmCertificationNotCertified,
	}
	if err := k.Farms.Set(ctx, id, farm); err != nil {
		return 0, err
	}
	if err := keeperutil.Emit(ctx, &types.EventFarmCreated{FarmId: id, Name: farm.Name, TwinId: twin.Id}); err != nil {
		return 0, err
	}
	for _, ip := range msg.PublicIps {
		if err := k.addPublicIP(ctx, id, ip.Ip, ip.Gateway); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// UpdateFarm renames a farm.
func (k *Keeper) UpdateFarm(ctx context.Context, msg *types.MsgUpdateFarm) error {
	farm, err := k.farmOfFarmer(ctx, msg.Creator, msg.FarmId)
	if err != nil {
		return err
	}
	if farm.Name == msg.Name {
		return nil
	}
	if err := k.checkFarmName(ctx, farm.Id, msg.Name); err != nil {
		return err
	}
	farm.Name = msg.Name
	if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmUpdated{FarmId: farm.Id, Name: farm.Name})
}

// AllowNodeTwin lets a twin register a node into the farm.
func (k *Keeper) AllowNodeTwin(ctx context.Context, msg *types.MsgAllowNodeTwin) error {
	farm, err := k.farmOfFarmer(ctx, msg.Creator, msg.FarmId)
	if err != nil {
		return err
	}
	if _, err := k.GetTwin(ctx, msg.TwinId); err != nil {
		return err
	}
	key := collections.Join(farm.Id, msg.TwinId)
	if has, err := k.AllowedNodeTwins.Has(ctx, key); err != nil || has {
		return err
	}
	if err := k.AllowedNodeTwins.Set(ctx, key); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmNodeTwinAllowed{FarmId: farm.Id, TwinId: msg.TwinId})
}

// DisallowNodeTwin withdraws a twin's permission to register into the farm; nodes already there stay.
func (k *Keeper) DisallowNodeTwin(ctx context.Context, msg *types.MsgDisallowNodeTwin) error {
	farm, err := k.farmOfFarmer(ctx, msg.Creator, msg.FarmId)
	if err != nil {
		return err
	}
	key := collections.Join(farm.Id, msg.TwinId)
	has, err := k.AllowedNodeTwins.Has(ctx, key)
	if err != nil {
		return err
	}
	if !has {
		return types.ErrNodeTwinNotAllowed.Wrapf("twin %d is not allowed in farm %d", msg.TwinId, farm.Id)
	}
	if err := k.AllowedNodeTwins.Remove(ctx, key); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmNodeTwinDisallowed{FarmId: farm.Id, TwinId: msg.TwinId})
}

// SetFarmOpenRegistration opens the farm to any node twin, or closes it to all but the allowed ones.
func (k *Keeper) SetFarmOpenRegistration(ctx context.Context, msg *types.MsgSetFarmOpenRegistration) error {
	farm, err := k.farmOfFarmer(ctx, msg.Creator, msg.FarmId)
	if err != nil {
		return err
	}
	if farm.OpenNodeRegistration == msg.Open {
		return nil
	}
	farm.OpenNodeRegistration = msg.Open
	if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmOpenRegistrationSet{FarmId: farm.Id, Open: farm.OpenNodeRegistration})
}

// SetFarmCertification sets a farm's certification (authority only, checked by the caller).
func (k *Keeper) SetFarmCertification(ctx context.Context, farmID uint64, cert types.FarmCertification) error {
	if err := types.ValidateFarmCertification(cert); err != nil {
		return err
	}
	farm, err := k.GetFarm(ctx, farmID)
	if err != nil {
		return err
	}
	farm.Certification = cert
	if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmCertificationSet{FarmId: farm.Id, Certification: cert})
}

// SetFarmDedicated marks a farm dedicated or not (authority only, checked by the caller).
func (k *Keeper) SetFarmDedicated(ctx context.Context, farmID uint64, dedicated bool) error {
	farm, err := k.GetFarm(ctx, farmID)
	if err != nil {
		return err
	}
	farm.Dedicated = dedicated
	if err := k.Farms.Set(ctx, farm.Id, farm); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventFarmDedicatedSet{FarmId: farm.Id, Dedicated: dedicated})
}

// GetFarm loads a farm by id.
func (k *Keeper) GetFarm(ctx context.Context, id uint64) (types.Farm, error) {
	farm, err := k.Farms.Get(ctx, id)
	return farm, keeperutil.NotFound(err, types.ErrFarmNotFound, "farm %d", id)
}

// IsFarmer reports whether the account's twin owns the farm.
func (k *Keeper) IsFarmer(ctx context.Context, account string, farm types.Farm) (bool, error) {
	twin, err := k.TwinOfAccount(ctx, account)
	if err != nil {
		return false, err
	}
	return twin.Id == farm.TwinId, nil
}

// farmOfFarmer loads a farm and checks that the signer's twin owns it.
func (k *Keeper) farmOfFarmer(ctx context.Context, signer string, farmID uint64) (types.Farm, error) {
	farm, err := k.GetFarm(ctx, farmID)
	if err != nil {
		return farm, err
	}
	ok, err := k.IsFarmer(ctx, signer, farm)
	if err != nil {
		return farm, err
	}
	if !ok {
		return farm, types.ErrNotFarmer.Wrapf("%s does not own farm %d (farmer twin %d)", signer, farm.Id, farm.TwinId)
	}
	return farm, nil
}

// checkFarmName validates a name and checks that no farm other than farmID holds it, in any letter case.
func (k *Keeper) checkFarmName(ctx context.Context, farmID uint64, name string) error {
	if err := types.ValidateFarmName(name); err != nil {
		return err
	}
	owner, err := k.Farms.Indexes.Name.MatchExact(ctx, types.FarmNameKey(name))
	switch {
	case errors.Is(err, collections.ErrNotFound):
		return nil
	case err != nil:
		return err
	case owner != farmID:
		return types.ErrFarmNameTaken.Wrapf("farm name %q is taken by farm %d (names are unique in any letter case)", name, owner)
	}
	return nil
}
