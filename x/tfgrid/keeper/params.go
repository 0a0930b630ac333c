package keeper

import (
	"context"
	"slices"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// SetParams validates and stores the registry's params (authority checked by the caller).
func (k *Keeper) SetParams(ctx context.Context, params types.Params) error {
	if err := params.Validate(k.addressCodec); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, params); err != nil {
		return err
	}
	return emit(ctx, &types.EventParamsUpdated{Params: &params})
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
