package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// RegistryKeeper is the part of x/tfgrid the contract module reads and the IP table it writes.
type RegistryKeeper interface {
	TwinOfAccount(ctx context.Context, account string) (tfgridtypes.Twin, error)
	GetTwin(ctx context.Context, id uint64) (tfgridtypes.Twin, error)
	GetNode(ctx context.Context, id uint64) (tfgridtypes.Node, error)
	NodeOfAccount(ctx context.Context, account string) (tfgridtypes.Node, error)
	GetFarm(ctx context.Context, id uint64) (tfgridtypes.Farm, error)
	GetPricingPolicy(ctx context.Context, id uint64) (tfgridtypes.PricingPolicy, error)
	ReservePublicIPs(ctx context.Context, farmID uint64, n uint32, contractID uint64) ([]tfgridtypes.PublicIP, error)
	ReleasePublicIPs(ctx context.Context, farmID, contractID uint64, cidrs []string) error
	GetPublicIP(ctx context.Context, ip string) (tfgridtypes.PublicIP, error)
	SetPublicIPContract(ctx context.Context, ip tfgridtypes.PublicIP, contractID uint64) error
	WalkPublicIPs(ctx context.Context, fn func(tfgridtypes.PublicIP) error) error
}

// BankKeeper moves contract deposits in and out of the module account.
type BankKeeper interface {
	SendCoinsFromAccountToModule(ctx context.Context, sender sdk.AccAddress, module string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, module string, recipient sdk.AccAddress, amt sdk.Coins) error
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
}

// ContractHooks lets a higher module (x/billing) follow contracts without this module importing it.
type ContractHooks interface {
	// AfterContractCreated runs in the transaction that creates the contract.
	AfterContractCreated(ctx context.Context, c Contract) error
	// BeforeContractUpdated runs before a node contract's deployment changes, so billing can settle it first.
	BeforeContractUpdated(ctx context.Context, c Contract) error
	// AfterContractUpdated runs once a node contract holds its new deployment, reservation and cap.
	AfterContractUpdated(ctx context.Context, c Contract) error
	// BeforeContractDeleted runs before a contract leaves the store, on every close path, so billing
	// can settle it for the last time.
	BeforeContractDeleted(ctx context.Context, c Contract, cause DeleteCause) error
}
