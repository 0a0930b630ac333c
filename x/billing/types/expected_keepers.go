package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// RegistryKeeper is the part of x/tfgrid billing reads: who pays, what a node offers, what things cost.
type RegistryKeeper interface {
	GetTwin(ctx context.Context, id uint64) (tfgridtypes.Twin, error)
	GetNode(ctx context.Context, id uint64) (tfgridtypes.Node, error)
	NodeOfAccount(ctx context.Context, account string) (tfgridtypes.Node, error)
	TwinIDOfAddress(ctx context.Context, addr sdk.AccAddress) (uint64, bool, error)
	GetFarm(ctx context.Context, id uint64) (tfgridtypes.Farm, error)
	GetPricingPolicy(ctx context.Context, id uint64) (tfgridtypes.PricingPolicy, error)
	TimestampDrift(ctx context.Context) (uint64, error)
}

// ContractKeeper is the part of x/smartcontract billing drives: contracts, their grace and deletion.
type ContractKeeper interface {
	GetContract(ctx context.Context, id uint64) (sctypes.Contract, error)
	NodeLiveContractIDs(ctx context.Context, nodeID uint64) ([]uint64, error)
	TwinLiveContractIDs(ctx context.Context, twinID uint64) ([]uint64, error)
	TwinLiveContractIDsFrom(ctx context.Context, twinID, fromID uint64, limit uint32) ([]uint64, error)
	WalkLiveContracts(ctx context.Context, fn func(sctypes.Contract) error) error
	NodeRentContractID(ctx context.Context, nodeID uint64) (uint64, bool, error)
	NodeExtraFee(ctx context.Context, nodeID uint64) (uint64, error)
	EnterGrace(ctx context.Context, id uint64) error
	LeaveGrace(ctx context.Context, id uint64) error
	DeleteContract(ctx context.Context, c sctypes.Contract, cause sctypes.DeleteCause) error
}

// BankKeeper takes payments from twins' accounts into the billing module account and pays farmers,
// the foundation and stakers out of it.
type BankKeeper interface {
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	LockedCoins(ctx context.Context, addr sdk.AccAddress) sdk.Coins
	SendCoinsFromAccountToModule(ctx context.Context, sender sdk.AccAddress, module string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, module string, recipient sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, sender, recipient string, amt sdk.Coins) error
}
