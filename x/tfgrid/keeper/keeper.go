package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Keeper owns the registry state: twins, farms and their public IPs, nodes, and policies.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	// authority is the account allowed to run governance-only messages (the gov module account).
	authority     string
	accountKeeper types.AccountKeeper
	hooks         types.RegistryHooks
	availability  types.NodeAvailabilityHooks

	Schema collections.Schema
	Params collections.Item[types.Params]

	// Each sequence holds the last id handed out (0 = none yet), so ids start at 1.
	TwinSeq          collections.Sequence
	FarmSeq          collections.Sequence
	NodeSeq          collections.Sequence
	PricingPolicySeq collections.Sequence
	FarmingPolicySeq collections.Sequence

	Twins *collections.IndexedMap[uint64, types.Twin, TwinIndexes]
	Farms *collections.IndexedMap[uint64, types.Farm, FarmIndexes]
	// PublicIPs is keyed by the bare IPv4 address, which makes an address unique on the whole chain.
	PublicIPs *collections.IndexedMap[string, types.PublicIP, PublicIPIndexes]
	// PublicIPCountByFarm and FarmsByPublicIPCount count each farm's public IPs, written only by
	// insertPublicIP and removePublicIP: adding an IP and lowering max_farm_public_ips read one key.
	PublicIPCountByFarm  collections.Map[uint64, uint64]
	FarmsByPublicIPCount collections.KeySet[collections.Pair[uint64, uint64]]
	// AllowedNodeTwins holds (farm id, twin id): the node twins a farmer lets into a farm.
	AllowedNodeTwins collections.KeySet[collections.Pair[uint64, uint64]]
	Nodes            *collections.IndexedMap[uint64, types.Node, NodeIndexes]
	PricingPolicies  *collections.IndexedMap[uint64, types.PricingPolicy, PricingPolicyIndexes]
	FarmingPolicies  collections.Map[uint64, types.FarmingPolicy]
}

// TwinIndexes finds a twin by its account.
type TwinIndexes struct {
	Account *indexes.Unique[sdk.AccAddress, uint64, types.Twin]
}

// IndexesList implements collections.Indexes.
func (i TwinIndexes) IndexesList() []collections.Index[uint64, types.Twin] {
	return []collections.Index[uint64, types.Twin]{i.Account}
}

// FarmIndexes finds a farm by its unique name and lists a twin's farms.
type FarmIndexes struct {
	Name *indexes.Unique[string, uint64, types.Farm]
	Twin *indexes.Multi[uint64, uint64, types.Farm]
}

// IndexesList implements collections.Indexes.
func (i FarmIndexes) IndexesList() []collections.Index[uint64, types.Farm] {
	return []collections.Index[uint64, types.Farm]{i.Name, i.Twin}
}

// PublicIPIndexes lists a farm's public IPs, and its free ones in address order.
type PublicIPIndexes struct {
	Farm farmIPIndex
	Free *FreeIPIndex
}

// IndexesList implements collections.Indexes.
func (i PublicIPIndexes) IndexesList() []collections.Index[string, types.PublicIP] {
	return []collections.Index[string, types.PublicIP]{i.Farm, i.Free}
}

// NodeIndexes finds a node by its twin and lists a farm's nodes.
type NodeIndexes struct {
	Twin *indexes.Unique[uint64, uint64, types.Node]
	Farm *indexes.Multi[uint64, uint64, types.Node]
}

// IndexesList implements collections.Indexes.
func (i NodeIndexes) IndexesList() []collections.Index[uint64, types.Node] {
	return []collections.Index[uint64, types.Node]{i.Twin, i.Farm}
}

// PricingPolicyIndexes finds a pricing policy by its unique name.
type PricingPolicyIndexes struct {
	Name *indexes.Unique[string, uint64, types.PricingPolicy]
}

// IndexesList implements collections.Indexes.
func (i PricingPolicyIndexes) IndexesList() []collections.Index[uint64, types.PricingPolicy] {
	return []collections.Index[uint64, types.PricingPolicy]{i.Name}
}

// NewKeeper builds the registry keeper; authority is the bech32 address of the gov module account.
func NewKeeper(
	storeService corestore.KVStoreService,
	cdc codec.BinaryCodec,
	addressCodec address.Codec,
	authority string,
	accountKeeper types.AccountKeeper,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid tfgrid authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:              cdc,
		addressCodec:     addressCodec,
		authority:        authority,
		accountKeeper:    accountKeeper,
		Params:           collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		TwinSeq:          collections.NewSequence(sb, types.TwinSeqKey, "twin_seq"),
		FarmSeq:          collections.NewSequence(sb, types.FarmSeqKey, "farm_seq"),
		NodeSeq:          collections.NewSequence(sb, types.NodeSeqKey, "node_seq"),
		PricingPolicySeq: collections.NewSequence(sb, types.PricingPolicySeqKey, "pricing_policy_seq"),
		FarmingPolicySeq: collections.NewSequence(sb, types.FarmingPolicySeqKey, "farming_policy_seq"),
		Twins: collections.NewIndexedMap(sb, types.TwinsKey, "twins", collections.Uint64Key,
			codec.CollValue[types.Twin](cdc), TwinIndexes{
				Account: indexes.NewUnique(sb, types.TwinsByAccountKey, "twins_by_account",
					sdk.AccAddressKey, collections.Uint64Key,
					func(_ uint64, t types.Twin) (sdk.AccAddress, error) { return addressCodec.StringToBytes(t.Account) }),
			}),
		Farms: collections.NewIndexedMap(sb, types.FarmsKey, "farms", collections.Uint64Key,
			codec.CollValue[types.Farm](cdc), FarmIndexes{
				Name: indexes.NewUnique(sb, types.FarmsByNameKey, "farms_by_name",
					collections.StringKey, collections.Uint64Key,
					func(_ uint64, f types.Farm) (string, error) { return types.FarmNameKey(f.Name), nil }),
				Twin: indexes.NewMulti(sb, types.FarmsByTwinKey, "farms_by_twin",
					collections.Uint64Key, collections.Uint64Key,
					func(_ uint64, f types.Farm) (uint64, error) { return f.TwinId, nil }),
			}),
		PublicIPs: collections.NewIndexedMap(sb, types.PublicIPsKey, "public_ips", collections.StringKey,
			codec.CollValue[types.PublicIP](cdc), PublicIPIndexes{
				Farm: farmIPIndex{indexes.NewMulti(sb, types.PublicIPsByFarmKey, "public_ips_by_farm",
					collections.Uint64Key, collections.StringKey,
					func(_ string, ip types.PublicIP) (uint64, error) { return ip.FarmId, nil })},
				Free: NewFreeIPIndex(sb, types.FreePublicIPsByFarmKey),
			}),
		PublicIPCountByFarm: collections.NewMap(sb, types.PublicIPCountByFarmKey, "public_ip_count_by_farm",
			collections.Uint64Key, collections.Uint64Value),
		FarmsByPublicIPCount: collections.NewKeySet(sb, types.FarmsByPublicIPCountKey, "farms_by_public_ip_count",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
		AllowedNodeTwins: collections.NewKeySet(sb, types.AllowedNodeTwinsKey, "allowed_node_twins",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
		Nodes: collections.NewIndexedMap(sb, types.NodesKey, "nodes", collections.Uint64Key,
			codec.CollValue[types.Node](cdc), NodeIndexes{
				Twin: indexes.NewUnique(sb, types.NodesByTwinKey, "nodes_by_twin",
					collections.Uint64Key, collections.Uint64Key,
					func(_ uint64, n types.Node) (uint64, error) { return n.TwinId, nil }),
				Farm: indexes.NewMulti(sb, types.NodesByFarmKey, "nodes_by_farm",
					collections.Uint64Key, collections.Uint64Key,
					func(_ uint64, n types.Node) (uint64, error) { return n.FarmId, nil }),
			}),
		PricingPolicies: collections.NewIndexedMap(sb, types.PricingPoliciesKey, "pricing_policies",
			collections.Uint64Key, codec.CollValue[types.PricingPolicy](cdc), PricingPolicyIndexes{
				Name: indexes.NewUnique(sb, types.PricingPoliciesByName, "pricing_policies_by_name",
					collections.StringKey, collections.Uint64Key,
					func(_ uint64, p types.PricingPolicy) (string, error) { return p.Name, nil }),
			}),
		FarmingPolicies: collections.NewMap(sb, types.FarmingPoliciesKey, "farming_policies",
			collections.Uint64Key, codec.CollValue[types.FarmingPolicy](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetHooks installs the contract module's hooks; it may be called once.
func (k *Keeper) SetHooks(h types.RegistryHooks) {
	if k.hooks != nil {
		panic("tfgrid hooks already set")
	}
	k.hooks = h
}

// SetAvailabilityHooks installs the billing module's hooks; it may be called once.
func (k *Keeper) SetAvailabilityHooks(h types.NodeAvailabilityHooks) {
	if k.availability != nil {
		panic("tfgrid availability hooks already set")
	}
	k.availability = h
}

// TimestampDrift is how far node-reported timestamps may be from block time.
func (k *Keeper) TimestampDrift(ctx context.Context) (uint64, error) {
	p, err := k.Params.Get(ctx)
	return p.TimestampDrift, err
}

// Authority returns the address allowed to run governance-only messages.
func (k *Keeper) Authority() string { return k.authority }

// AddressCodec returns the codec for account addresses.
func (k *Keeper) AddressCodec() address.Codec { return k.addressCodec }
