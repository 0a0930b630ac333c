package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the contract module; its module account holds the contract deposits.
	ModuleName = "smartcontract"
	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. They are consensus state: never renumber them.
var (
	ParamsKey             = collections.NewPrefix(0)
	ContractSeqKey        = collections.NewPrefix(1)
	ContractsKey          = collections.NewPrefix(2)
	TombstonesKey         = collections.NewPrefix(3)
	ContractByNodeHashKey = collections.NewPrefix(4)
	// 5 held active_node_contracts, folded into contract_by_node_hash: never reuse it.
	RentContractByNodeKey = collections.NewPrefix(6)
	NameContractByNameKey = collections.NewPrefix(7)
	ContractsByTwinKey    = collections.NewPrefix(8)
	NodeExtraFeesKey      = collections.NewPrefix(9)
	NodeReservedKey       = collections.NewPrefix(10)
	// NodeContractsByNodeTwinKey indexes live node contracts by (node, twin, contract).
	NodeContractsByNodeTwinKey = collections.NewPrefix(11)
	// ContractsInGraceKey lists the live contracts in their grace period. 12-13 are taken on other branches.
	ContractsInGraceKey = collections.NewPrefix(14)
	// TwinContractHistoryKey indexes every contract of a twin, live or tombstoned, by (twin, contract).
	TwinContractHistoryKey = collections.NewPrefix(15)
)
