package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// StakingHooks checks a twin's runway after it delegates: delegated utft leaves its spendable balance
// without a bank send, so the send restriction does not see it.
type StakingHooks struct{ k *Keeper }

var _ stakingtypes.StakingHooks = StakingHooks{}

// StakingHooks returns the hooks to register with x/staking.
func (k *Keeper) StakingHooks() StakingHooks { return StakingHooks{k} }

// AfterDelegationModified runs once the delegated coins have left the delegator's balance.
func (h StakingHooks) AfterDelegationModified(ctx context.Context, delAddr sdk.AccAddress, _ sdk.ValAddress) error {
	return h.k.checkAccountFunds(ctx, delAddr, sdkmath.ZeroInt())
}

func (StakingHooks) AfterValidatorCreated(context.Context, sdk.ValAddress) error   { return nil }
func (StakingHooks) BeforeValidatorModified(context.Context, sdk.ValAddress) error { return nil }
func (StakingHooks) AfterValidatorRemoved(context.Context, sdk.ConsAddress, sdk.ValAddress) error {
	return nil
}
func (StakingHooks) AfterValidatorBonded(context.Context, sdk.ConsAddress, sdk.ValAddress) error {
	return nil
}
func (StakingHooks) AfterValidatorBeginUnbonding(context.Context, sdk.ConsAddress, sdk.ValAddress) error {
	return nil
}
func (StakingHooks) BeforeDelegationCreated(context.Context, sdk.AccAddress, sdk.ValAddress) error {
	return nil
}
func (StakingHooks) BeforeDelegationSharesModified(context.Context, sdk.AccAddress, sdk.ValAddress) error {
	return nil
}
func (StakingHooks) BeforeDelegationRemoved(context.Context, sdk.AccAddress, sdk.ValAddress) error {
	return nil
}
func (StakingHooks) BeforeValidatorSlashed(context.Context, sdk.ValAddress, sdkmath.LegacyDec) error {
	return nil
}
func (StakingHooks) AfterUnbondingInitiated(context.Context, uint64) error { return nil }
