package types

import (
	"google.golang.org/grpc/codes"

	"github.com/tfgrid/tfgrid/internal/grpcerr"
)

// Errors is the module's error table: code, kind (gRPC status) and description of every error,
// in the order of the README's error table (TestErrorTableInREADME).
var Errors = grpcerr.NewRegistry(ModuleName)

// Registered errors of the billing module. Codes are public API: never renumber or reuse them.
var (
	ErrContractNotFound = Errors.Register(2, codes.NotFound, "contract has no billing state")
	ErrNotPriceFeeder   = Errors.Register(3, codes.PermissionDenied, "signer is not a price feeder")
	ErrPriceTooSoon     = Errors.Register(4, codes.FailedPrecondition, "price sample too soon")
	ErrInvalidPrice     = Errors.Register(5, codes.InvalidArgument, "invalid price")
	ErrNotNodeContract  = Errors.Register(6, codes.PermissionDenied, "report for a contract of another node")
	ErrInvalidReport    = Errors.Register(7, codes.InvalidArgument, "invalid consumption report")
	ErrInvalidParams    = Errors.Register(8, codes.InvalidArgument, "invalid params")
	ErrInvalidGenesis   = Errors.Register(9, codes.InvalidArgument, "invalid genesis")
	ErrNoPrice          = Errors.Register(10, codes.FailedPrecondition, "no tft price")
	ErrInvariantBroken  = Errors.Register(11, codes.Internal, "invariant broken")
	ErrTwinNotFound     = Errors.Register(12, codes.NotFound, "twin not found")
)
