package types

import (
	"google.golang.org/grpc/codes"

	errorsmod "cosmossdk.io/errors"
)

// Registered errors of the billing module. Codes are public API: never renumber or reuse them.
var (
	ErrContractNotFound = errorsmod.RegisterWithGRPCCode(ModuleName, 2, codes.NotFound, "contract has no billing state")
	ErrNotPriceFeeder   = errorsmod.Register(ModuleName, 3, "signer is not a price feeder")
	ErrPriceTooSoon     = errorsmod.Register(ModuleName, 4, "price sample too soon")
	ErrInvalidPrice     = errorsmod.Register(ModuleName, 5, "invalid price")
	ErrNotNodeContract  = errorsmod.Register(ModuleName, 6, "report for a contract of another node")
	ErrInvalidReport    = errorsmod.Register(ModuleName, 7, "invalid consumption report")
	ErrInvalidParams    = errorsmod.Register(ModuleName, 8, "invalid params")
	ErrInvalidGenesis   = errorsmod.Register(ModuleName, 9, "invalid genesis")
	ErrNoPrice          = errorsmod.Register(ModuleName, 10, "no tft price")
	ErrInvariantBroken  = errorsmod.Register(ModuleName, 11, "invariant broken")
	ErrTwinNotFound     = errorsmod.RegisterWithGRPCCode(ModuleName, 12, codes.NotFound, "twin not found")
)
