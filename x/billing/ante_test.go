package billing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	protov2 "google.golang.org/protobuf/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/x/billing"
	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// counter is a FreeNodeTxCounter that answers free and records what it was asked.
type counter struct {
	free    bool
	err     error
	signers []string
	gas     []uint64
}

func (c *counter) UseFreeNodeTx(_ context.Context, signer string, gas uint64) (bool, error) {
	c.signers, c.gas = append(c.signers, signer), append(c.gas, gas)
	return c.free, c.err
}

type fees struct{ calls int }

func (d *fees) AnteHandle(ctx sdk.Context, tx sdk.Tx, simulate bool, next sdk.AnteHandler) (sdk.Context, error) {
	d.calls++
	return next(ctx, tx, simulate)
}

type tx struct {
	msgs []sdk.Msg
	gas  uint64
	fee  sdk.Coins
}

func (t tx) GetMsgs() []sdk.Msg                    { return t.msgs }
func (t tx) GetMsgsV2() ([]protov2.Message, error) { return nil, nil }
func (t tx) GetGas() uint64                        { return t.gas }
func (t tx) GetFee() sdk.Coins                     { return t.fee }
func (t tx) FeePayer() []byte                      { return nil }
func (t tx) FeeGranter() []byte                    { return nil }

func run(t *testing.T, c *counter, transaction sdk.Tx) (feesRan bool, nextRan bool, err error) {
	t.Helper()
	f := &fees{}
	_, err = billing.NewFreeNodeTxDecorator(f, c).AnteHandle(sdk.Context{}, transaction, false, func(ctx sdk.Context, _ sdk.Tx, _ bool) (sdk.Context, error) {
		nextRan = true
		return ctx, nil
	})
	return f.calls == 1, nextRan, err
}

func TestFreeNodeTxDecoratorAsksTheCounter(t *testing.T) {
	reports := tx{msgs: []sdk.Msg{
		&types.MsgReportConsumption{Creator: "node"}, &tfgridtypes.MsgReportUptime{Creator: "node"},
	}, gas: 123}

	c := &counter{free: true}
	feesRan, nextRan, err := run(t, c, reports)
	require.NoError(t, err)
	require.False(t, feesRan)
	require.True(t, nextRan)
	require.Equal(t, []string{"node"}, c.signers)
	require.Equal(t, []uint64{123}, c.gas)

	c = &counter{free: false}
	feesRan, nextRan, err = run(t, c, reports)
	require.NoError(t, err)
	require.True(t, feesRan, "not free: the fee decorator runs")
	require.True(t, nextRan)
}

func TestFreeNodeTxDecoratorCounterError(t *testing.T) {
	boom := errors.New("store failure")
	c := &counter{err: boom}
	feesRan, nextRan, err := run(t, c, tx{msgs: []sdk.Msg{&types.MsgReportConsumption{Creator: "node"}}})
	require.ErrorIs(t, err, boom)
	require.False(t, feesRan)
	require.False(t, nextRan)
}

// Transactions that are not fee-free candidates never reach the counter.
func TestFreeNodeTxDecoratorSkipsCounter(t *testing.T) {
	for name, transaction := range map[string]tx{
		"fee paid":       {msgs: []sdk.Msg{&types.MsgReportConsumption{Creator: "node"}}, fee: sdk.NewCoins(sdk.NewInt64Coin("utft", 5))},
		"mixed messages": {msgs: []sdk.Msg{&types.MsgReportConsumption{Creator: "node"}, &types.MsgSettleContract{Creator: "node"}}},
		"two signers":    {msgs: []sdk.Msg{&types.MsgReportConsumption{Creator: "node"}, &tfgridtypes.MsgReportUptime{Creator: "other"}}},
		"no messages":    {},
	} {
		t.Run(name, func(t *testing.T) {
			c := &counter{free: true}
			feesRan, nextRan, err := run(t, c, transaction)
			require.NoError(t, err)
			require.True(t, feesRan)
			require.True(t, nextRan)
			require.Empty(t, c.signers)
		})
	}
}
