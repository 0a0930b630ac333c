package keeper_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestReportUptime(t *testing.T) {
	now := keepertest.BlockTime.Unix()
	tests := []struct {
		name string
		hint int64
	}{
		{"exact", now},
		{"drift in the past, boundary", now - 60},
		{"drift in the future, boundary", now + 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newNodeWorld(t)
			w.ResetEvents()
			_, err := w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: w.node1, Uptime: 60, TimestampHint: tc.hint})
			require.NoError(t, err)
			require.Equal(t, types.Uptime{ReportedAt: now, Uptime: 60}, w.node(1).LastUptime, "uptime up to the node's age 0 + drift 60")
			require.Equal(t, map[string]string{"node_id": `"1"`, "reported_at": `"1750000000"`, "uptime": `"60"`},
				w.eventAttrs("tfgrid.tfgrid.v1.EventNodeUptimeReported"))
		})
	}

	// A later block overwrites the report; the drift follows the param.
	w := newNodeWorld(t)
	w.setParams(func(p *types.Params) { p.TimestampDrift = 600 })
	w.Ctx = w.Ctx.WithBlockTime(keepertest.BlockTime.Add(time.Hour))
	_, err := w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: w.node2, Uptime: 4200, TimestampHint: now + 3600 - 600})
	require.NoError(t, err)
	require.Equal(t, types.Uptime{ReportedAt: now + 3600, Uptime: 4200}, w.node(2).LastUptime, "age 3600 + drift 600")
}

func TestReportUptimeErrors(t *testing.T) {
	w := newNodeWorld(t)
	now := keepertest.BlockTime.Unix()
	report := func(signer string, hint int64) func() error {
		return func() error {
			_, err := w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: signer, Uptime: 10, TimestampHint: hint})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"hint one second too old", report(w.node1, now-61), types.ErrInvalidTimestampHint, []string{"1749999939", "by 61 s", "at most 60 s"}},
		{"hint one second too new", report(w.node1, now+61), types.ErrInvalidTimestampHint, []string{"1750000061"}},
		{"zero hint", report(w.node1, 0), types.ErrInvalidTimestampHint, []string{"hint 0"}},
		{"twin without node", report(w.stranger, now), types.ErrNodeNotFound, []string{"twin 5"}},
		{"the farmer", report(w.farmer, now), types.ErrNodeNotFound, []string{w.farmer}},
		{"signer without twin", report(w.noTwin, now), types.ErrTwinNotFound, []string{w.noTwin}},
	})
	_, err := w.GridMsg.ReportUptime(w.Ctx, &types.MsgReportUptime{Creator: w.node1, Uptime: 61, TimestampHint: now})
	require.ErrorIs(t, err, types.ErrInvalidUptime)
	require.Contains(t, err.Error(), "node 1: uptime 61 s exceeds its age 0 s + drift 60 s")
	require.Zero(t, w.node(1).LastUptime.Uptime, "the refused report is not stored")
}

func TestChangePowerState(t *testing.T) {
	w := newNodeWorld(t)
	later := keepertest.BlockTime.Add(10 * time.Minute)
	w.Ctx = w.Ctx.WithBlockTime(later)

	w.ResetEvents()
	_, err := w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateDown})
	require.NoError(t, err)
	require.Equal(t, types.Power{State: types.PowerStateDown, Target: types.PowerStateUp, Since: later.Unix()}, w.node(1).Power)
	attrs := w.eventAttrs("tfgrid.tfgrid.v1.EventNodePowerStateChanged")
	require.Equal(t, `"POWER_STATE_DOWN"`, attrs["state"])
	require.Equal(t, `"1"`, attrs["farm_id"])

	// The same state again is a no-op: no event, since unchanged.
	w.Ctx = w.Ctx.WithBlockTime(later.Add(time.Minute))
	w.ResetEvents()
	_, err = w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateDown})
	require.NoError(t, err)
	require.Empty(t, w.eventTypes())
	require.Equal(t, later.Unix(), w.node(1).Power.Since)

	_, err = w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: w.node1, State: types.PowerStateUp})
	require.NoError(t, err)
	require.Equal(t, types.PowerStateUp, w.node(1).Power.State)
	require.Equal(t, later.Add(time.Minute).Unix(), w.node(1).Power.Since)

	change := func(signer string, s types.PowerState) func() error {
		return func() error {
			_, err := w.GridMsg.ChangePowerState(w.Ctx, &types.MsgChangePowerState{Creator: signer, State: s})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"unspecified", change(w.node1, types.PowerStateUnspecified), types.ErrInvalidPowerState, []string{"state 0"}},
		{"unknown value", change(w.node1, types.PowerState(5)), types.ErrInvalidPowerState, []string{"state 5"}},
		{"twin without node", change(w.stranger, types.PowerStateDown), types.ErrNodeNotFound, []string{"twin 5"}},
		{"the farmer", change(w.farmer, types.PowerStateDown), types.ErrNodeNotFound, []string{w.farmer}},
		{"signer without twin", change(w.noTwin, types.PowerStateDown), types.ErrTwinNotFound, []string{w.noTwin}},
	})
}

func TestChangePowerTarget(t *testing.T) {
	w := newNodeWorld(t)
	w.ResetEvents()
	_, err := w.GridMsg.ChangePowerTarget(w.Ctx, &types.MsgChangePowerTarget{Creator: w.farmer, NodeId: 1, Target: types.PowerStateDown})
	require.NoError(t, err)
	require.Equal(t, types.PowerStateDown, w.node(1).Power.Target)
	require.Equal(t, types.PowerStateUp, w.node(1).Power.State, "the target does not change the state")
	require.Equal(t, []uint64{1}, w.hooks.liveQueries)
	require.Equal(t, `"POWER_STATE_DOWN"`, w.eventAttrs("tfgrid.tfgrid.v1.EventNodePowerTargetChanged")["target"])

	// Same target: no-op, no event.
	w.ResetEvents()
	_, err = w.GridMsg.ChangePowerTarget(w.Ctx, &types.MsgChangePowerTarget{Creator: w.farmer, NodeId: 1, Target: types.PowerStateDown})
	require.NoError(t, err)
	require.Empty(t, w.eventTypes())

	// Powering up is allowed even with live contracts, and does not ask.
	w.hooks.live[1] = true
	w.hooks.liveQueries = nil
	_, err = w.GridMsg.ChangePowerTarget(w.Ctx, &types.MsgChangePowerTarget{Creator: w.farmer, NodeId: 1, Target: types.PowerStateUp})
	require.NoError(t, err)
	require.Equal(t, types.PowerStateUp, w.node(1).Power.Target)
	require.Empty(t, w.hooks.liveQueries)
}

func TestChangePowerTargetErrors(t *testing.T) {
	w := newNodeWorld(t)
	w.hooks.live[2] = true
	change := func(signer string, nodeID uint64, target types.PowerState) func() error {
		return func() error {
			_, err := w.GridMsg.ChangePowerTarget(w.Ctx, &types.MsgChangePowerTarget{Creator: signer, NodeId: nodeID, Target: target})
			return err
		}
	}
	w.runErrCases([]errCase{
		{"live contracts", change(w.farmer2, 2, types.PowerStateDown), types.ErrNodeHasActiveContracts, []string{"node 2"}},
		{"another farmer", change(w.farmer2, 1, types.PowerStateDown), types.ErrNotFarmer, []string{w.farmer2, "farm 1"}},
		{"the node twin", change(w.node1, 1, types.PowerStateDown), types.ErrNotFarmer, []string{w.node1}},
		{"signer without twin", change(w.noTwin, 1, types.PowerStateDown), types.ErrTwinNotFound, []string{w.noTwin}},
		{"unknown node", change(w.farmer, 3, types.PowerStateDown), types.ErrNodeNotFound, []string{"node 3"}},
		{"unspecified", change(w.farmer, 1, types.PowerStateUnspecified), types.ErrInvalidPowerState, []string{"target 0"}},
		{"unknown value", change(w.farmer, 1, types.PowerState(3)), types.ErrInvalidPowerState, []string{"target 3"}},
	})
	w.hooks.liveErr = errors.New("contract store unavailable")
	w.runErrCases([]errCase{
		{"hook error", change(w.farmer, 1, types.PowerStateDown), w.hooks.liveErr, []string{"unavailable"}},
	})
}
