package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the billing module.
	ModuleName = "billing"
	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. They are consensus state: never renumber them.
var (
	ParamsKey           = collections.NewPrefix(0)
	ContractsKey        = collections.NewPrefix(1)
	QueueKey            = collections.NewPrefix(2)
	PriceSamplesKey     = collections.NewPrefix(3)
	PriceSeqKey         = collections.NewPrefix(4)
	PriceAverageKey     = collections.NewPrefix(5)
	FeederLastSampleKey = collections.NewPrefix(6)
	FreeTxWindowsKey    = collections.NewPrefix(7)
	NodeClocksKey       = collections.NewPrefix(8)
	FarmPayoutsKey      = collections.NewPrefix(9)
	PayoutQueueKey      = collections.NewPrefix(10)
	TwinLoadsKey        = collections.NewPrefix(11)
	FundsShortTwinsKey  = collections.NewPrefix(12)
	QueueFloorKey       = collections.NewPrefix(13)
	PayoutQueueFloorKey = collections.NewPrefix(14)
)
