package types

import (
	"google.golang.org/grpc/codes"

	errorsmod "cosmossdk.io/errors"
)

// Registered errors of the contract module. Codes are public API: never renumber or reuse them.
var (
	ErrContractNotFound       = errorsmod.RegisterWithGRPCCode(ModuleName, 2, codes.NotFound, "contract not found")
	ErrNotContractOwner       = errorsmod.Register(ModuleName, 3, "signer does not own the contract")
	ErrInvalidDeploymentHash  = errorsmod.Register(ModuleName, 4, "invalid deployment hash")
	ErrDeploymentDataTooLarge = errorsmod.Register(ModuleName, 5, "deployment data too large")
	ErrContractNotUnique      = errorsmod.Register(ModuleName, 6, "deployment hash already has a contract on the node")
	ErrNodeNotAvailable       = errorsmod.Register(ModuleName, 7, "node not available to deploy")
	ErrInvalidName            = errorsmod.Register(ModuleName, 8, "invalid name")
	ErrNameTaken              = errorsmod.Register(ModuleName, 9, "name already taken")
	ErrNodeRented             = errorsmod.Register(ModuleName, 10, "node already rented")
	ErrNodeHasActiveContracts = errorsmod.Register(ModuleName, 11, "node has active contracts")
	ErrContractInGrace        = errorsmod.Register(ModuleName, 12, "contract is in grace period")
	ErrNotNodeContract        = errorsmod.Register(ModuleName, 13, "not a node contract")
	ErrNotFarmer              = errorsmod.Register(ModuleName, 14, "signer is not the farmer")
	ErrPublicIPInUse          = errorsmod.Register(ModuleName, 15, "public ip held by a live contract")
	ErrInvalidParams          = errorsmod.Register(ModuleName, 16, "invalid params")
	ErrInvalidGenesis         = errorsmod.Register(ModuleName, 17, "invalid genesis")
	ErrInvariantBroken        = errorsmod.Register(ModuleName, 18, "invariant broken")
	ErrInvalidContractState   = errorsmod.Register(ModuleName, 19, "invalid contract state")
	ErrInsufficientCapacity   = errorsmod.Register(ModuleName, 20, "node has not enough free capacity")
)
