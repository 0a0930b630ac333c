package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKeeper is the part of x/auth the registry reads: a twin's public key is the key its account
// signed with.
type AccountKeeper interface {
	GetAccount(ctx context.Context, addr sdk.AccAddress) sdk.AccountI
}

// RegistryHooks lets a higher module (x/smartcontract) take part in registry decisions without the
// registry importing it.
type RegistryHooks interface {
	// NodeHasLiveContracts reports whether any contract that is not deleted runs on the node.
	NodeHasLiveContracts(ctx context.Context, nodeID uint64) (bool, error)
	// AfterNodeDeleted runs in the same transaction as a node's deletion, before it leaves the store.
	AfterNodeDeleted(ctx context.Context, node Node) error
	// AfterNodeFarmChanged runs when a node (without live contracts) moves to another farm.
	AfterNodeFarmChanged(ctx context.Context, node Node) error
	// NodeReservedCapacity is the sum of what the node's live contracts reserve; the node may not
	// declare less.
	NodeReservedCapacity(ctx context.Context, nodeID uint64) (Resources, error)
	// NodeUsage is what contracts hold of the node, for the node finder. It must read per-node state
	// only (never walk contracts): the finder calls it for every node it examines.
	NodeUsage(ctx context.Context, nodeID uint64) (NodeUsage, error)
}

// NodeAvailabilityHooks tells billing when what it charges a node's contracts for changes: a power
// state change or an uptime report. Implementations must be O(1) in the node's contracts: these run
// inside the node's own, fee-free transactions.
type NodeAvailabilityHooks interface {
	// BeforeNodePowerStateChange runs before a node's reported power state changes to the given one.
	BeforeNodePowerStateChange(ctx context.Context, node Node, to PowerState) error
	// BeforeNodeUptimeReport runs before a node's uptime report is stored, with its previous report.
	BeforeNodeUptimeReport(ctx context.Context, node Node) error
}
