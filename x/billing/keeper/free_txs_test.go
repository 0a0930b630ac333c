package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	protov2 "google.golang.org/protobuf/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/billing"
	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// hourStart is the start of the clock hour of a unix time.
func hourStart(t int64) int64 { return t / hour * hour }

func (f *fixture) useFree(signer string, gas uint64) bool {
	f.T.Helper()
	free, err := f.k.UseFreeNodeTx(f.Ctx, signer, gas)
	require.NoError(f.T, err)
	return free
}

func TestUseFreeNodeTxAllowance(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.FreeNodeTxsPerHour = 3 })
	w := f.NewWorld(0)
	other := f.NewNode(w.Farm)
	maxGas := f.params().MaxFreeNodeTxGas

	require.True(t, f.useFree(w.Node.Twin.Acc, maxGas), "gas exactly at the bound")
	require.False(t, f.useFree(w.Node.Twin.Acc, maxGas+1), "over the gas bound")
	require.True(t, f.useFree(w.Node.Twin.Acc, 1))
	require.True(t, f.useFree(w.Node.Twin.Acc, 1), "the over-gas tx did not use the allowance")
	require.False(t, f.useFree(w.Node.Twin.Acc, 1), "allowance used up")
	require.True(t, f.useFree(other.Twin.Acc, 1), "each node has its own allowance")
	win, err := f.k.FreeTxWindows.Get(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, types.FreeTxWindow{NodeId: w.Node.ID, HourStart: hourStart(f.now()), Count: 3}, win)

	// still the same clock hour: nothing
	f.advanceTo(hourStart(f.now()) + hour - 1)
	require.False(t, f.useFree(w.Node.Twin.Acc, 1))
	// the next hour: a fresh allowance
	f.advance(1)
	require.True(t, f.useFree(w.Node.Twin.Acc, 1))
	win, err = f.k.FreeTxWindows.Get(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, types.FreeTxWindow{NodeId: w.Node.ID, HourStart: f.now(), Count: 1}, win)

	// accounts without a node, and unknown accounts, get nothing
	require.False(t, f.useFree(w.Alice.Acc, 1))
	require.False(t, f.useFree(f.NewAccount(), 1))
	// a signer that is no address is an error, not "not a node"
	free, err := f.k.UseFreeNodeTx(f.Ctx, "not-an-address", 1)
	require.ErrorIs(t, err, sdkerrors.ErrInvalidAddress)
	require.ErrorContains(t, err, "not-an-address")
	require.False(t, free)
}

// ---------------------------------------------------------------------------
// FreeNodeTxDecorator
// ---------------------------------------------------------------------------

// feeDecorator stands for the SDK fee decorator: it records that it ran and passes on.
type feeDecorator struct{ calls int }

func (d *feeDecorator) AnteHandle(ctx sdk.Context, tx sdk.Tx, simulate bool, next sdk.AnteHandler) (sdk.Context, error) {
	d.calls++
	return next(ctx, tx, simulate)
}

// fakeTx is a transaction with a fee and gas limit.
type fakeTx struct {
	msgs []sdk.Msg
	gas  uint64
	fee  sdk.Coins
}

func (t fakeTx) GetMsgs() []sdk.Msg                    { return t.msgs }
func (t fakeTx) GetMsgsV2() ([]protov2.Message, error) { return nil, nil }
func (t fakeTx) GetGas() uint64                        { return t.gas }
func (t fakeTx) GetFee() sdk.Coins                     { return t.fee }
func (t fakeTx) FeePayer() []byte                      { return nil }
func (t fakeTx) FeeGranter() []byte                    { return nil }

// plainTx is a transaction that is not a sdk.FeeTx.
type plainTx struct{ msgs []sdk.Msg }

func (t plainTx) GetMsgs() []sdk.Msg                    { return t.msgs }
func (t plainTx) GetMsgsV2() ([]protov2.Message, error) { return nil, nil }

// runAnte runs the decorator over tx and reports whether the fee decorator ran; the chain always goes on.
func (f *fixture) runAnte(tx sdk.Tx) bool {
	f.T.Helper()
	fees := &feeDecorator{}
	nexts := 0
	_, err := billing.NewFreeNodeTxDecorator(fees, f.k).AnteHandle(f.Ctx, tx, false, func(ctx sdk.Context, _ sdk.Tx, _ bool) (sdk.Context, error) {
		nexts++
		return ctx, nil
	})
	require.NoError(f.T, err)
	require.Equal(f.T, 1, nexts)
	return fees.calls == 1
}

func TestFreeNodeTxDecorator(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.FreeNodeTxsPerHour = 100 })
	w := f.NewWorld(0)
	other := f.NewNode(w.Farm)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 0)
	node := w.Node.Twin.Acc

	report := func(creator string) sdk.Msg {
		return &types.MsgReportConsumption{Creator: creator, Reports: []types.ConsumptionReport{workedVM.report(id, f.now(), 0)}}
	}
	uptime := func(creator string) sdk.Msg {
		return &tfgridtypes.MsgReportUptime{Creator: creator, Uptime: 1, TimestampHint: f.now()}
	}
	fee := sdk.NewCoins(sdk.NewInt64Coin(keepertest.Denom, 1))
	for _, tc := range []struct {
		name     string
		tx       sdk.Tx
		feesPaid bool
	}{
		{"consumption report from a node, no fee", fakeTx{msgs: []sdk.Msg{report(node)}, gas: 200_000}, false},
		{"uptime report from a node, no fee", fakeTx{msgs: []sdk.Msg{uptime(node)}, gas: 200_000}, false},
		{"both reports from one node", fakeTx{msgs: []sdk.Msg{report(node), uptime(node), report(node)}, gas: 2_000_000}, false},
		{"a report and another message", fakeTx{msgs: []sdk.Msg{report(node), &types.MsgSettleContract{Creator: node, ContractId: id}}, gas: 200_000}, true},
		{"a report and a bank send", fakeTx{msgs: []sdk.Msg{report(node), &banktypes.MsgSend{FromAddress: node}}, gas: 200_000}, true},
		{"reports of two nodes", fakeTx{msgs: []sdk.Msg{report(node), uptime(other.Twin.Acc)}, gas: 200_000}, true},
		{"a report from an account without a node", fakeTx{msgs: []sdk.Msg{report(w.Alice.Acc)}, gas: 200_000}, true},
		{"a report with a fee", fakeTx{msgs: []sdk.Msg{report(node)}, gas: 200_000, fee: fee}, true},
		{"over the gas bound", fakeTx{msgs: []sdk.Msg{report(node)}, gas: 2_000_001}, true},
		{"no messages", fakeTx{gas: 200_000}, true},
		{"not a fee tx", plainTx{msgs: []sdk.Msg{report(node)}}, true},
		{"another message only", fakeTx{msgs: []sdk.Msg{&types.MsgSettleContract{Creator: node, ContractId: id}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.feesPaid, f.runAnte(tc.tx))
		})
	}
	win, err := f.k.FreeTxWindows.Get(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.EqualValues(t, 3, win.Count, "only the free transactions used the allowance")
}

func TestFreeNodeTxDecoratorOverAllowance(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.FreeNodeTxsPerHour = 2 })
	w := f.NewWorld(0)
	tx := fakeTx{msgs: []sdk.Msg{&tfgridtypes.MsgReportUptime{Creator: w.Node.Twin.Acc, Uptime: 1, TimestampHint: f.now()}}, gas: 100_000}
	require.False(t, f.runAnte(tx))
	require.False(t, f.runAnte(tx))
	require.True(t, f.runAnte(tx), "third in the hour pays")
	f.advanceTo(hourStart(f.now()) + hour)
	require.False(t, f.runAnte(tx), "free again in the next hour")
}
