// Package keeperutil holds the few helpers every tfgrid keeper uses the same way.
package keeperutil

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// NextID hands out the next id of a sequence that holds the last id issued, so ids start at 1.
func NextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	last, err := seq.Next(ctx)
	return last + 1, err
}

// Emit records a typed event on the transaction.
func Emit(ctx context.Context, ev proto.Message) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(ev)
}

// BlockTime is the current block time in unix seconds.
func BlockTime(ctx context.Context) int64 {
	return sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
}

// NotFound maps collections.ErrNotFound to a registered error that names the object; other errors
// pass through unchanged.
func NotFound(err error, notFoundErr *errorsmod.Error, format string, args ...any) error {
	if errors.Is(err, collections.ErrNotFound) {
		return notFoundErr.Wrapf(format, args...)
	}
	return err
}

// Values collects every value of a map in key order; pass the map's Iterate method.
func Values[K, V any](ctx context.Context, iterate func(context.Context, collections.Ranger[K]) (collections.Iterator[K, V], error)) ([]V, error) {
	iter, err := iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer iter.Close()
	return iter.Values()
}
