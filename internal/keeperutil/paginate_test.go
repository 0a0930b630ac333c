package keeperutil_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
)

func TestCheckPageRequest(t *testing.T) {
	for _, ok := range []*query.PageRequest{nil, {}, {Key: []byte{1}, Limit: 10}, {Offset: 5, Limit: keeperutil.MaxPageLimit}} {
		require.NoError(t, keeperutil.CheckPageRequest(ok), "%v", ok)
	}
	for want, bad := range map[string]*query.PageRequest{
		"key and offset 3 both set":         {Key: []byte{1}, Offset: 3},
		"limit 1001 above the maximum 1000": {Limit: keeperutil.MaxPageLimit + 1},
	} {
		err := keeperutil.CheckPageRequest(bad)
		require.ErrorIs(t, err, sdkerrors.ErrInvalidRequest)
		require.ErrorContains(t, err, want)
	}
}
