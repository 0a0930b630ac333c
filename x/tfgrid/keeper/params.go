package keeper

import (
	"context"
	"slices"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// SetParams validates and stores the registry's params (authority checked by the caller).
func (k *Keeper) SetParams(ctx context.Context, params types.Params) error {
	if err := params.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.checkMaxFarmPublicIPs(ctx, params.MaxFarmPublicIps); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, params); err != nil {
		return err
	}
	return keeperutil.Emit(ctx, &types.EventParamsUpdated{Params: &params})
}

// checkCertifier accepts the governance authority or an account listed in node_certifiers.
func (k *Keeper) checkCertifier(ctx context.Context, signer string) error {
	if sdk.ValidateAuthority(sdk.UnwrapSDKContext(ctx), k.authority, signer) == nil {
		return nil
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(params.NodeCertifiers, signer) {
		return types.ErrNotCertifier.Wrapf("%s is neither the authority nor a node certifier", signer)
	}
	return nil
}

// checkMaxFarmPublicIPs refuses a max_farm_public_ips below the number of IPs a farm already holds: the
// registry (and its genesis export, which checks the cap) must stay valid. It reads only the farm with
// the most IPs.
func (k *Keeper) checkMaxFarmPublicIPs(ctx context.Context, maxIPs uint32) error {
	farmID, n, err := k.farmWithMostIPs(ctx)
	if err != nil {
		return err
	}
	if n > uint64(maxIPs) {
		return types.ErrInvalidParams.Wrapf("max_farm_public_ips %d: farm %d holds %d public IPs; remove some first", maxIPs, farmID, n)
	}
	return nil
}
