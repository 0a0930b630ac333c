package keeper

import (
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	corestore "cosmossdk.io/core/store"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// Keeper owns the billing state: each live contract's settlement state and its place in the
// settlement queue, the farms' pending payouts, the TFT price samples, and the nodes' fee-free
// transaction allowances.
type Keeper struct {
	cdc          codec.BinaryCodec
	addressCodec address.Codec
	// authority is the account allowed to run governance-only messages (the gov module account).
	authority string
	denom     string
	// feeCollector receives the stakers' share, which x/distribution pays out to delegators.
	feeCollector string
	registry     types.RegistryKeeper
	contracts    types.ContractKeeper
	bank         types.BankKeeper

	Schema    collections.Schema
	Params    collections.Item[types.Params]
	Contracts collections.Map[uint64, types.ContractBilling]
	// Queue orders live contracts by next due time: (next_due, contract id).
	Queue dueQueue

	PriceSamples     collections.Map[uint64, types.PriceSample]
	PriceSeq         collections.Sequence // last sample seq
	PriceAverage     collections.Item[sdkmath.LegacyDec]
	FeederLastSample collections.Map[string, int64]
	FreeTxWindows    collections.Map[uint64, types.FreeTxWindow]

	// FarmPayouts are the farms' pending payouts (farm id → what and when), held in the module account.
	FarmPayouts collections.Map[uint64, types.FarmPayout]
	// PayoutQueue orders pending payouts by due time: (due, farm id).
	PayoutQueue dueQueue
	// NodeClocks counts each node's billable seconds (online, powered up): node id → clock.
	NodeClocks collections.Map[uint64, types.NodeClock]
	// TwinLoads are the owners' hourly ceilings and horizons (twin id → load), for the runway schedule.
	TwinLoads collections.Map[uint64, types.TwinLoad]
	// FundsShortTwins are the twins whose funds may not last until their contracts' scheduled
	// settlements (twin id → mark): EndBlock brings forward the settlements of their contracts not
	// settled since.
	FundsShortTwins collections.Map[uint64, types.FundsShortMark]
}

// NewKeeper builds the billing keeper; authority is the bech32 address of the gov module account and
// feeCollector the name of the fee collector module account.
func NewKeeper(
	storeService corestore.KVStoreService,
	cdc codec.BinaryCodec,
	addressCodec address.Codec,
	authority, denom, feeCollector string,
	registry types.RegistryKeeper,
	contracts types.ContractKeeper,
	bank types.BankKeeper,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid billing authority address %q: %w", authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc: cdc, addressCodec: addressCodec, authority: authority, denom: denom, feeCollector: feeCollector,
		registry: registry, contracts: contracts, bank: bank,
		Params: collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Contracts: collections.NewMap(sb, types.ContractsKey, "contracts", collections.Uint64Key,
			codec.CollValue[types.ContractBilling](cdc)),
		Queue: newDueQueue(sb, types.QueueKey, types.QueueFloorKey, "queue"),
		PriceSamples: collections.NewMap(sb, types.PriceSamplesKey, "price_samples", collections.Uint64Key,
			codec.CollValue[types.PriceSample](cdc)),
		PriceSeq:         collections.NewSequence(sb, types.PriceSeqKey, "price_seq"),
		PriceAverage:     collections.NewItem(sb, types.PriceAverageKey, "price_average", sdk.LegacyDecValue),
		FeederLastSample: collections.NewMap(sb, types.FeederLastSampleKey, "feeder_last_sample", collections.StringKey, collections.Int64Value),
		FreeTxWindows: collections.NewMap(sb, types.FreeTxWindowsKey, "free_tx_windows", collections.Uint64Key,
			codec.CollValue[types.FreeTxWindow](cdc)),
		FarmPayouts: collections.NewMap(sb, types.FarmPayoutsKey, "farm_payouts", collections.Uint64Key,
			codec.CollValue[types.FarmPayout](cdc)),
		PayoutQueue: newDueQueue(sb, types.PayoutQueueKey, types.PayoutQueueFloorKey, "payout_queue"),
		NodeClocks: collections.NewMap(sb, types.NodeClocksKey, "node_clocks", collections.Uint64Key,
			codec.CollValue[types.NodeClock](cdc)),
		TwinLoads: collections.NewMap(sb, types.TwinLoadsKey, "twin_loads", collections.Uint64Key,
			codec.CollValue[types.TwinLoad](cdc)),
		FundsShortTwins: collections.NewMap(sb, types.FundsShortTwinsKey, "funds_short_twins", collections.Uint64Key,
			codec.CollValue[types.FundsShortMark](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// AddressCodec returns the codec for account addresses.
func (k *Keeper) AddressCodec() address.Codec { return k.addressCodec }
