package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"github.com/cosmos/gogoproto/proto"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// nextID hands out the next id of a sequence that holds the last id issued.
func nextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	last, err := seq.Next(ctx)
	return last + 1, err
}

// emit records a typed event on the transaction.
func emit(ctx context.Context, ev proto.Message) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev)
}

// blockTime is the current block time in unix seconds.
func blockTime(ctx context.Context) int64 {
	return sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
}

// notFound maps collections.ErrNotFound to a registered error that names the object.
func notFound(err error, notFoundErr error, format string, args ...any) error {
	if errors.Is(err, collections.ErrNotFound) {
		return errorsmod.Wrapf(notFoundErr, format, args...)
	}
	return err
}
