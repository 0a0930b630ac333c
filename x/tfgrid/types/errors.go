package types

import (
	"google.golang.org/grpc/codes"

	errorsmod "cosmossdk.io/errors"
)

// Registered errors of the x/tfgrid module.
//
// The codes are part of the public API (clients match on codespace + code):
// never renumber or reuse them; append new errors at the end. Code 1 is
// reserved by cosmossdk.io/errors, so codes start at 2.
var (
	// Twins.
	ErrInvalidRelay  = errorsmod.Register(ModuleName, 2, "invalid relay url")
	ErrTooManyRelays = errorsmod.Register(ModuleName, 3, "too many relays")
	ErrInvalidE2EKey = errorsmod.Register(ModuleName, 4, "invalid e2e key")
	ErrInvalidPubKey = errorsmod.Register(ModuleName, 5, "invalid public key")
	ErrTwinExists    = errorsmod.Register(ModuleName, 6, "twin already exists")
	ErrTwinNotFound  = errorsmod.RegisterWithGRPCCode(ModuleName, 7, codes.NotFound, "twin not found")

	// Farms and public IPs.
	ErrInvalidFarmName    = errorsmod.Register(ModuleName, 8, "invalid farm name")
	ErrFarmNameTaken      = errorsmod.Register(ModuleName, 9, "farm name already taken")
	ErrFarmNotFound       = errorsmod.RegisterWithGRPCCode(ModuleName, 10, codes.NotFound, "farm not found")
	ErrNotFarmer          = errorsmod.Register(ModuleName, 11, "signer is not the farmer")
	ErrInvalidPublicIP    = errorsmod.Register(ModuleName, 12, "invalid public ip")
	ErrInvalidGateway     = errorsmod.Register(ModuleName, 13, "invalid gateway")
	ErrPublicIPExists     = errorsmod.Register(ModuleName, 14, "public ip already exists")
	ErrPublicIPNotFound   = errorsmod.RegisterWithGRPCCode(ModuleName, 15, codes.NotFound, "public ip not found")
	ErrPublicIPInUse      = errorsmod.Register(ModuleName, 16, "public ip in use")
	ErrTooManyPublicIPs   = errorsmod.Register(ModuleName, 17, "too many public ips")
	ErrNodeTwinNotAllowed = errorsmod.Register(ModuleName, 18, "node twin not allowed")

	// Nodes.
	ErrNodeNotFound           = errorsmod.RegisterWithGRPCCode(ModuleName, 19, codes.NotFound, "node not found")
	ErrNodeExists             = errorsmod.Register(ModuleName, 20, "node already exists")
	ErrNotNodeTwin            = errorsmod.Register(ModuleName, 21, "signer is not the node twin")
	ErrInvalidCRU             = errorsmod.Register(ModuleName, 22, "invalid cru")
	ErrInvalidMRU             = errorsmod.Register(ModuleName, 23, "invalid mru")
	ErrInvalidStorage         = errorsmod.Register(ModuleName, 24, "invalid storage")
	ErrInvalidInterfaceName   = errorsmod.Register(ModuleName, 25, "invalid interface name")
	ErrInvalidMAC             = errorsmod.Register(ModuleName, 26, "invalid mac address")
	ErrInvalidInterfaceIP     = errorsmod.Register(ModuleName, 27, "invalid interface ip")
	ErrTooManyInterfaces      = errorsmod.Register(ModuleName, 28, "too many interfaces")
	ErrInvalidCity            = errorsmod.Register(ModuleName, 29, "invalid city")
	ErrInvalidCountry         = errorsmod.Register(ModuleName, 30, "invalid country")
	ErrInvalidLatitude        = errorsmod.Register(ModuleName, 31, "invalid latitude")
	ErrInvalidLongitude       = errorsmod.Register(ModuleName, 32, "invalid longitude")
	ErrInvalidSerialNumber    = errorsmod.Register(ModuleName, 33, "invalid serial number")
	ErrInvalidPublicConfig    = errorsmod.Register(ModuleName, 34, "invalid public config")
	ErrInvalidDomain          = errorsmod.Register(ModuleName, 35, "invalid domain")
	ErrInvalidTimestampHint   = errorsmod.Register(ModuleName, 36, "invalid timestamp hint")
	ErrNodeHasActiveContracts = errorsmod.Register(ModuleName, 37, "node has active contracts")
	ErrInvalidPowerState      = errorsmod.Register(ModuleName, 38, "invalid power state")

	// Pricing and farming policies.
	ErrPricingPolicyNotFound  = errorsmod.RegisterWithGRPCCode(ModuleName, 39, codes.NotFound, "pricing policy not found")
	ErrPricingPolicyNameTaken = errorsmod.Register(ModuleName, 40, "pricing policy name already taken")
	ErrInvalidPricingPolicy   = errorsmod.Register(ModuleName, 41, "invalid pricing policy")
	ErrFarmingPolicyNotFound  = errorsmod.RegisterWithGRPCCode(ModuleName, 42, codes.NotFound, "farming policy not found")
	ErrFarmingPolicyImmutable = errorsmod.Register(ModuleName, 43, "farming policy is immutable")
	ErrFarmingPolicyExpired   = errorsmod.Register(ModuleName, 44, "farming policy expired")
	ErrInvalidFarmingPolicy   = errorsmod.Register(ModuleName, 45, "invalid farming policy")
	ErrNoFarmingPolicy        = errorsmod.Register(ModuleName, 46, "no matching farming policy")

	// Certification, params, genesis.
	ErrInvalidCertification = errorsmod.Register(ModuleName, 47, "invalid certification")
	ErrNotCertifier         = errorsmod.Register(ModuleName, 48, "signer is not a certifier")
	ErrInvalidParams        = errorsmod.Register(ModuleName, 49, "invalid params")
	ErrInvalidGenesis       = errorsmod.Register(ModuleName, 50, "invalid genesis")
	ErrNotEnoughPublicIPs   = errorsmod.Register(ModuleName, 51, "not enough free public ips")
	ErrInvariantBroken      = errorsmod.Register(ModuleName, 52, "invariant broken")
	ErrInvalidLinkRate      = errorsmod.Register(ModuleName, 53, "invalid link rate")
	ErrCapacityReserved     = errorsmod.Register(ModuleName, 54, "capacity reserved by live contracts")
	ErrInvalidUptime        = errorsmod.Register(ModuleName, 55, "invalid uptime")
	ErrInvalidQuery         = errorsmod.RegisterWithGRPCCode(ModuleName, 56, codes.InvalidArgument, "invalid query")
)
