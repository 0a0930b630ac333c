package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	"github.com/tfgrid/tfgrid/internal/keeperutil"
	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// UseFreeNodeTx counts one fee-free transaction of the node whose twin account signed it and reports
// whether it is within the node's hourly allowance and gas bound. Accounts without a node get no free
// transactions; any other failure to look the node up (a malformed signer, a store error) is returned.
func (k *Keeper) UseFreeNodeTx(ctx context.Context, signer string, gasLimit uint64) (bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	if gasLimit > params.MaxFreeNodeTxGas {
		return false, nil
	}
	node, err := k.registry.NodeOfAccount(ctx, signer)
	if errors.Is(err, tfgridtypes.ErrTwinNotFound) || errors.Is(err, tfgridtypes.ErrNodeNotFound) {
		return false, nil // not a node: the transaction pays its fee as usual
	}
	if err != nil {
		return false, err
	}
	hour := keeperutil.BlockTime(ctx) / 3600 * 3600
	w, err := k.FreeTxWindows.Get(ctx, node.Id)
	switch {
	case errors.Is(err, collections.ErrNotFound) || (err == nil && w.HourStart != hour):
		w = types.FreeTxWindow{NodeId: node.Id, HourStart: hour}
	case err != nil:
		return false, err
	}
	if w.Count >= params.FreeNodeTxsPerHour {
		return false, nil
	}
	w.Count++
	return true, k.FreeTxWindows.Set(ctx, node.Id, w)
}
