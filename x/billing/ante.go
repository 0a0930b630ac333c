package billing

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// FreeNodeTxCounter decides whether a node's transaction is fee-free; the billing keeper implements it.
type FreeNodeTxCounter interface {
	UseFreeNodeTx(ctx context.Context, signer string, gasLimit uint64) (bool, error)
}

// FreeNodeTxDecorator wraps the SDK's fee decorator: a transaction made only of consumption and uptime
// reports, signed by a registered node's twin, within the node's hourly allowance and the gas bound,
// skips it (no fee, no minimum gas price); every other transaction goes through it unchanged. A node
// never drains its farmer's TFT by doing its job.
type FreeNodeTxDecorator struct {
	fees    sdk.AnteDecorator
	counter FreeNodeTxCounter
}

// NewFreeNodeTxDecorator wraps fees, normally ante.NewDeductFeeDecorator(...).
func NewFreeNodeTxDecorator(fees sdk.AnteDecorator, counter FreeNodeTxCounter) FreeNodeTxDecorator {
	return FreeNodeTxDecorator{fees: fees, counter: counter}
}

// AnteHandle implements sdk.AnteDecorator.
func (d FreeNodeTxDecorator) AnteHandle(ctx sdk.Context, tx sdk.Tx, simulate bool, next sdk.AnteHandler) (sdk.Context, error) {
	signer, ok := reportOnlySigner(tx)
	feeTx, isFeeTx := tx.(sdk.FeeTx)
	if ok && isFeeTx && feeTx.GetFee().IsZero() {
		free, err := d.counter.UseFreeNodeTx(ctx, signer, feeTx.GetGas())
		if err != nil {
			return ctx, err
		}
		if free {
			return next(ctx, tx, simulate)
		}
	}
	return d.fees.AnteHandle(ctx, tx, simulate, next)
}

// reportOnlySigner returns the one signer of a transaction whose messages are all consumption or
// uptime reports.
func reportOnlySigner(tx sdk.Tx) (string, bool) {
	msgs := tx.GetMsgs()
	if len(msgs) == 0 {
		return "", false
	}
	var signer string
	for _, m := range msgs {
		var creator string
		switch msg := m.(type) {
		case *types.MsgReportConsumption:
			creator = msg.Creator
		case *tfgridtypes.MsgReportUptime:
			creator = msg.Creator
		default:
			return "", false
		}
		if signer != "" && creator != signer {
			return "", false
		}
		signer = creator
	}
	return signer, true
}
