package keeper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// mockAvailability records the node, as stored before the change, that each billing hook sees.
type mockAvailability struct {
	powerChanges []types.Node
	powerTargets []types.PowerState
	uptimes      []types.Node
	err          error
}

func (m *mockAvailability) BeforeNodePowerStateChange(_ context.Context, node types.Node, to types.PowerState) error {
	m.powerChanges = append(m.powerChanges, node)
	m.powerTargets = append(m.powerTargets, to)
	return m.err
}

func (m *mockAvailability) BeforeNodeUptimeReport(_ context.Context, node types.Node) error {
	m.uptimes = append(m.uptimes, node)
	return m.err
}

func TestAvailabilityHooks(t *testing.T) {
	w := newNodeWorld(t)
	av := &mockAvailability{}
	w.Grid.SetAvailabilityHooks(av)
	require.Panics(t, func() { w.Grid.SetAvailabilityHooks(av) }, "availability hooks may be set once")

	drift, err := w.Grid.TimestampDrift(w.Ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultTimestampDrift, drift)

	// Uptime: the hook sees the previous report.
	now := keepertest.BlockTime.Unix()
	_, err = w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: w.node1, Uptime: 10, TimestampHint: now})
	require.NoError(t, err)
	w.Ctx = w.Ctx.WithBlockTime(keepertest.BlockTime.Add(time.Minute))
	_, err = w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: w.node1, Uptime: 70, TimestampHint: now + 60})
	require.NoError(t, err)
	require.Len(t, av.uptimes, 2)
	require.Equal(t, types.Uptime{}, av.uptimes[0].LastUptime)
	require.Equal(t, types.Uptime{ReportedAt: now, Uptime: 10}, av.uptimes[1].LastUptime)

	// Power state: the hook sees the old state and the new one, and is not asked when nothing changes.
	_, err = w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateDown})
	require.NoError(t, err)
	_, err = w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateDown})
	require.NoError(t, err)
	require.Len(t, av.powerChanges, 1)
	require.Equal(t, types.PowerStateUp, av.powerChanges[0].Power.State)
	require.Equal(t, []types.PowerState{types.PowerStateDown}, av.powerTargets)

	// A failing hook aborts the message.
	av.err = errors.New("billing cannot move the clock")
	w.runErrCases([]errCase{
		{"uptime", func() error {
			_, err := w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: w.node1, Uptime: 80, TimestampHint: now + 60})
			return err
		}, av.err, []string{"cannot move the clock"}},
		{"power state", func() error {
			_, err := w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateUp})
			return err
		}, av.err, []string{"cannot move the clock"}},
	})
}
