package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the registry module.
	ModuleName = "tfgrid"
	// StoreKey is the module's KV store key.
	StoreKey = ModuleName
)

// Collection prefixes. They are consensus state: never renumber them.
var (
	ParamsKey             = collections.NewPrefix(0)
	TwinSeqKey            = collections.NewPrefix(1)
	TwinsKey              = collections.NewPrefix(2)
	TwinsByAccountKey     = collections.NewPrefix(3)
	FarmSeqKey            = collections.NewPrefix(4)
	FarmsKey              = collections.NewPrefix(5)
	FarmsByNameKey        = collections.NewPrefix(6)
	PublicIPsKey          = collections.NewPrefix(7)
	PublicIPsByFarmKey    = collections.NewPrefix(8)
	AllowedNodeTwinsKey   = collections.NewPrefix(9)
	NodeSeqKey            = collections.NewPrefix(10)
	NodesKey              = collections.NewPrefix(11)
	NodesByTwinKey        = collections.NewPrefix(12)
	NodesByFarmKey        = collections.NewPrefix(13)
	PricingPolicySeqKey   = collections.NewPrefix(14)
	PricingPoliciesKey    = collections.NewPrefix(15)
	PricingPoliciesByName = collections.NewPrefix(16)
	FarmingPolicySeqKey   = collections.NewPrefix(17)
	FarmingPoliciesKey    = collections.NewPrefix(18)
	// FreePublicIPsByFarmKey holds each farm's free IP addresses as one sorted list.
	FreePublicIPsByFarmKey = collections.NewPrefix(19)
	// PublicIPCountByFarmKey holds each farm's number of public IPs (no entry when zero).
	PublicIPCountByFarmKey = collections.NewPrefix(20)
	// FarmsByPublicIPCountKey orders the farms by their number of public IPs: the largest is the last.
	FarmsByPublicIPCountKey = collections.NewPrefix(21)
	// FarmsByTwinKey lists each twin's farms.
	FarmsByTwinKey = collections.NewPrefix(22)
)
