package keeperutil

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"
)

// MaxPageLimit bounds the items one page of a list query may ask for.
const MaxPageLimit = 1000

// CheckPageRequest refuses pagination misuse with ErrInvalidRequest (InvalidArgument, REST 400)
// naming the fields, instead of the SDK's plain error (Unknown, 500) or an unbounded page.
func CheckPageRequest(p *query.PageRequest) error {
	if p == nil {
		return nil
	}
	if len(p.Key) > 0 && p.Offset > 0 {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidRequest, "pagination: key and offset %d both set; set one", p.Offset)
	}
	if p.Limit > MaxPageLimit {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidRequest, "pagination: limit %d above the maximum %d", p.Limit, MaxPageLimit)
	}
	return nil
}

// Paginate is query.CollectionPaginate after CheckPageRequest.
func Paginate[K, V any, C query.Collection[K, V], T any](
	ctx context.Context, coll C, p *query.PageRequest, transform func(K, V) (T, error),
	opts ...func(*query.CollectionsPaginateOptions[K]),
) ([]T, *query.PageResponse, error) {
	if err := CheckPageRequest(p); err != nil {
		return nil, nil, err
	}
	return query.CollectionPaginate(ctx, coll, p, transform, opts...)
}
