package types

import (
	"google.golang.org/grpc/codes"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
)

// Errors is the module's error table: code, kind (gRPC status) and description of every error,
// in the order of the README's error table (TestErrorTableInREADME).
var Errors = grpcerr.NewRegistry(ModuleName)

// Registered errors of the contract module. Codes are public API: never renumber or reuse them.
var (
	ErrContractNotFound       = Errors.Register(2, codes.NotFound, "contract not found")
	ErrNotContractOwner       = Errors.Register(3, codes.PermissionDenied, "signer does not own the contract")
	ErrInvalidDeploymentHash  = Errors.Register(4, codes.InvalidArgument, "invalid deployment hash")
	ErrDeploymentDataTooLarge = Errors.Register(5, codes.InvalidArgument, "deployment data too large")
	ErrContractNotUnique      = Errors.Register(6, codes.AlreadyExists, "deployment hash already has a contract on the node")
	ErrNodeNotAvailable       = Errors.Register(7, codes.FailedPrecondition, "node not available to deploy")
	ErrInvalidName            = Errors.Register(8, codes.InvalidArgument, "invalid name")
	ErrNameTaken              = Errors.Register(9, codes.AlreadyExists, "name already taken")
	ErrNodeRented             = Errors.Register(10, codes.FailedPrecondition, "node already rented")
	ErrNodeHasActiveContracts = Errors.Register(11, codes.FailedPrecondition, "node has active contracts")
	ErrContractInGrace        = Errors.Register(12, codes.FailedPrecondition, "contract is in grace period")
	ErrNotNodeContract        = Errors.Register(13, codes.InvalidArgument, "not a node contract")
	ErrNotFarmer              = Errors.Register(14, codes.PermissionDenied, "signer is not the farmer")
	ErrPublicIPInUse          = Errors.Register(15, codes.FailedPrecondition, "public ip held by a live contract")
	ErrInvalidParams          = Errors.Register(16, codes.InvalidArgument, "invalid params")
	ErrInvalidGenesis         = Errors.Register(17, codes.InvalidArgument, "invalid genesis")
	ErrInvariantBroken        = Errors.Register(18, codes.Internal, "invariant broken")
	ErrInvalidContractState   = Errors.Register(19, codes.FailedPrecondition, "invalid contract state")
	ErrInsufficientCapacity   = Errors.Register(20, codes.ResourceExhausted, "node has not enough free capacity")
)
