package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Keeper owns the contracts and their indexes; the farm IP table it reserves from lives in x/tfgrid.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	// authority is the account allowed to run governance-only messages (the gov module account).
	authority string
	// denom is the currency of the contract deposits.
	denom    string
	registry types.RegistryKeeper
	bank     types.BankKeeper
	hooks    types.ContractHooks

	Schema      collections.Schema
	Params      collections.Item[types.Params]
	ContractSeq collections.Sequence // last contract id handed out
	// Contracts holds the live contracts; deleted ones leave only a tombstone.
	Contracts  collections.Map[uint64, types.Contract]
	Tombstones collections.Map[uint64, types.Tombstone]

	// The indexes are plain collections written only by insertContract and removeContract: a oneof
	// does not fit collections' generic indexes, which index every value.
	// ContractByNodeHash is also the list of a node's live node contracts (one key per contract,
	// not two: creating a contract then writes one node-keyed entry, on the node's branch of the tree).
	ContractByNodeHash collections.Map[collections.Pair[uint64, string], uint64]
	RentContractByNode collections.Map[uint64, uint64]
	NameContractByName collections.Map[string, uint64]
	ContractsByTwin    collections.KeySet[collections.Pair[uint64, uint64]]
	// NodeContractsByNodeTwin lists the live node contracts of a (node, twin): a rent contract's
	// cancel and grace find the renter's contracts without loading the other twins' ones.
	NodeContractsByNodeTwin collections.KeySet[collections.Triple[uint64, uint64, uint64]]
	// ContractsInGrace lists the live contracts in their grace period, for the contracts-in-grace query.
	ContractsInGrace collections.KeySet[uint64]
	// TwinContractHistory lists every contract a twin has had, live or deleted: an entry is written with
	// the contract and stays with its tombstone, for the contracts-by-twin query's include_deleted.
	TwinContractHistory collections.KeySet[collections.Pair[uint64, uint64]]

	// NodeExtraFees is the monthly extra fee of dedicated nodes, in mUSD.
	NodeExtraFees collections.Map[uint64, uint64]
	// NodeReserved is, per node with live node contracts, the sum of what they reserve: the free capacity
	// a new reservation must fit in, and the floor below which the node may not shrink.
	NodeReserved collections.Map[uint64, tfgridtypes.Resources]
}

// NewKeeper builds the contract keeper; authority is the bech32 address of the gov module account.
func NewKeeper(
	storeService corestore.KVStoreService,
	cdc codec.BinaryCodec,
	addressCodec address.Codec,
	authority, denom string,
	registry types.RegistryKeeper,
	bank types.BankKeeper,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid smartcontract authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	u64 := collections.Uint64Key
	k := &Keeper{
		cdc:          cdc,
		addressCodec: addressCodec,
		authority:    authority,
		denom:        denom,
		registry:     registry,
		bank:         bank,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		ContractSeq:  collections.NewSequence(sb, types.ContractSeqKey, "contract_seq"),
		Contracts:    collections.NewMap(sb, types.ContractsKey, "contracts", u64, codec.CollValue[types.Contract](cdc)),
		Tombstones:   collections.NewMap(sb, types.TombstonesKey, "tombstones", u64, codec.CollValue[types.Tombstone](cdc)),
		ContractByNodeHash: collections.NewMap(sb, types.ContractByNodeHashKey, "contract_by_node_hash",
			collections.PairKeyCodec(u64, collections.StringKey), collections.Uint64Value),
		RentContractByNode: collections.NewMap(sb, types.RentContractByNodeKey, "rent_contract_by_node", u64, collections.Uint64Value),
		NameContractByName: collections.NewMap(sb, types.NameContractByNameKey, "name_contract_by_name",
			collections.StringKey, collections.Uint64Value),
		ContractsByTwin: collections.NewKeySet(sb, types.ContractsByTwinKey, "contracts_by_twin",
			collections.PairKeyCodec(u64, u64)),
		NodeContractsByNodeTwin: collections.NewKeySet(sb, types.NodeContractsByNodeTwinKey, "node_contracts_by_node_twin",
			collections.TripleKeyCodec(u64, u64, u64)),
		ContractsInGrace: collections.NewKeySet(sb, types.ContractsInGraceKey, "contracts_in_grace", u64),
		TwinContractHistory: collections.NewKeySet(sb, types.TwinContractHistoryKey, "twin_contract_history",
			collections.PairKeyCodec(u64, u64)),
		NodeExtraFees: collections.NewMap(sb, types.NodeExtraFeesKey, "node_extra_fees", u64, collections.Uint64Value),
		NodeReserved: collections.NewMap(sb, types.NodeReservedKey, "node_reserved", u64,
			codec.CollValue[tfgridtypes.Resources](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetHooks installs the billing module's hooks; it may be called once.
func (k *Keeper) SetHooks(h types.ContractHooks) {
	if k.hooks != nil {
		panic("smartcontract hooks already set")
	}
	k.hooks = h
}
