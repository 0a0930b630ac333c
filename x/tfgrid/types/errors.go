package types

import (
	"google.golang.org/grpc/codes"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
)

// Errors is the module's error table: code, kind (gRPC status) and description of every error,
// in the order of the README's error table (TestErrorTableInREADME).
var Errors = grpcerr.NewRegistry(ModuleName)

// Registered errors of the x/tfgrid module.
//
// The codes are part of the public API (clients match on codespace + code):
// never renumber or reuse them; append new errors at the end. Code 1 is
// reserved by cosmossdk.io/errors, so codes start at 2.
var (
	// Twins.
	ErrInvalidRelay  = Errors.Register(2, codes.InvalidArgument, "invalid relay url")
	ErrTooManyRelays = Errors.Register(3, codes.InvalidArgument, "too many relays")
	ErrInvalidE2EKey = Errors.Register(4, codes.InvalidArgument, "invalid e2e key")
	ErrInvalidPubKey = Errors.Register(5, codes.InvalidArgument, "invalid public key")
	ErrTwinExists    = Errors.Register(6, codes.AlreadyExists, "twin already exists")
	ErrTwinNotFound  = Errors.Register(7, codes.NotFound, "twin not found")

	// Farms and public IPs.
	ErrInvalidFarmName    = Errors.Register(8, codes.InvalidArgument, "invalid farm name")
	ErrFarmNameTaken      = Errors.Register(9, codes.AlreadyExists, "farm name already taken")
	ErrFarmNotFound       = Errors.Register(10, codes.NotFound, "farm not found")
	ErrNotFarmer          = Errors.Register(11, codes.PermissionDenied, "signer is not the farmer")
	ErrInvalidPublicIP    = Errors.Register(12, codes.InvalidArgument, "invalid public ip")
	ErrInvalidGateway     = Errors.Register(13, codes.InvalidArgument, "invalid gateway")
	ErrPublicIPExists     = Errors.Register(14, codes.AlreadyExists, "public ip already exists")
	ErrPublicIPNotFound   = Errors.Register(15, codes.NotFound, "public ip not found")
	ErrPublicIPInUse      = Errors.Register(16, codes.FailedPrecondition, "public ip in use")
	ErrTooManyPublicIPs   = Errors.Register(17, codes.InvalidArgument, "too many public ips")
	ErrNodeTwinNotAllowed = Errors.Register(18, codes.PermissionDenied, "node twin not allowed")

	// Nodes.
	ErrNodeNotFound           = Errors.Register(19, codes.NotFound, "node not found")
	ErrNodeExists             = Errors.Register(20, codes.AlreadyExists, "node already exists")
	ErrNotNodeTwin            = Errors.Register(21, codes.PermissionDenied, "signer is not the node twin")
	ErrInvalidCRU             = Errors.Register(22, codes.InvalidArgument, "invalid cru")
	ErrInvalidMRU             = Errors.Register(23, codes.InvalidArgument, "invalid mru")
	ErrInvalidStorage         = Errors.Register(24, codes.InvalidArgument, "invalid storage")
	ErrInvalidInterfaceName   = Errors.Register(25, codes.InvalidArgument, "invalid interface name")
	ErrInvalidMAC             = Errors.Register(26, codes.InvalidArgument, "invalid mac address")
	ErrInvalidInterfaceIP     = Errors.Register(27, codes.InvalidArgument, "invalid interface ip")
	ErrTooManyInterfaces      = Errors.Register(28, codes.InvalidArgument, "too many interfaces")
	ErrInvalidCity            = Errors.Register(29, codes.InvalidArgument, "invalid city")
	ErrInvalidCountry         = Errors.Register(30, codes.InvalidArgument, "invalid country")
	ErrInvalidLatitude        = Errors.Register(31, codes.InvalidArgument, "invalid latitude")
	ErrInvalidLongitude       = Errors.Register(32, codes.InvalidArgument, "invalid longitude")
	ErrInvalidSerialNumber    = Errors.Register(33, codes.InvalidArgument, "invalid serial number")
	ErrInvalidPublicConfig    = Errors.Register(34, codes.InvalidArgument, "invalid public config")
	ErrInvalidDomain          = Errors.Register(35, codes.InvalidArgument, "invalid domain")
	ErrInvalidTimestampHint   = Errors.Register(36, codes.InvalidArgument, "invalid timestamp hint")
	ErrNodeHasActiveContracts = Errors.Register(37, codes.FailedPrecondition, "node has active contracts")
	ErrInvalidPowerState      = Errors.Register(38, codes.InvalidArgument, "invalid power state")

	// Pricing and farming policies.
	ErrPricingPolicyNotFound  = Errors.Register(39, codes.NotFound, "pricing policy not found")
	ErrPricingPolicyNameTaken = Errors.Register(40, codes.AlreadyExists, "pricing policy name already taken")
	ErrInvalidPricingPolicy   = Errors.Register(41, codes.InvalidArgument, "invalid pricing policy")
	ErrFarmingPolicyNotFound  = Errors.Register(42, codes.NotFound, "farming policy not found")
	ErrFarmingPolicyImmutable = Errors.Register(43, codes.FailedPrecondition, "farming policy is immutable")
	ErrFarmingPolicyExpired   = Errors.Register(44, codes.FailedPrecondition, "farming policy expired")
	ErrInvalidFarmingPolicy   = Errors.Register(45, codes.InvalidArgument, "invalid farming policy")
	ErrNoFarmingPolicy        = Errors.Register(46, codes.FailedPrecondition, "no matching farming policy")

	// Certification, params, genesis.
	ErrInvalidCertification = Errors.Register(47, codes.InvalidArgument, "invalid certification")
	ErrNotCertifier         = Errors.Register(48, codes.PermissionDenied, "signer is not a certifier")
	ErrInvalidParams        = Errors.Register(49, codes.InvalidArgument, "invalid params")
	ErrInvalidGenesis       = Errors.Register(50, codes.InvalidArgument, "invalid genesis")
	ErrNotEnoughPublicIPs   = Errors.Register(51, codes.ResourceExhausted, "not enough free public ips")
	ErrInvariantBroken      = Errors.Register(52, codes.Internal, "invariant broken")
	ErrInvalidLinkRate      = Errors.Register(53, codes.InvalidArgument, "invalid link rate")
	ErrCapacityReserved     = Errors.Register(54, codes.FailedPrecondition, "capacity reserved by live contracts")
	ErrInvalidUptime        = Errors.Register(55, codes.InvalidArgument, "invalid uptime")
	ErrInvalidQuery         = Errors.Register(56, codes.InvalidArgument, "invalid query")
)
