package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func (f *fixture) powerTarget(n keepertest.Node, target tfgridtypes.PowerState) error {
	_, err := f.GridMsg.ChangePowerTarget(f.Ctx, &tfgridtypes.MsgChangePowerTarget{Creator: n.Farm.Farmer.Acc, NodeId: n.ID, Target: target})
	return err
}

func TestPowerTargetDownNeedsNoLiveContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	withNodeContract := w.Node
	nc := f.NodeContract(w.Alice, withNodeContract.ID, "x", 1)
	rented := f.NewNode(w.Farm)
	rent := f.RentContract(w.Bob, rented.ID)
	graced := f.NewNode(w.Farm)
	gnc := f.NodeContract(w.Alice, graced.ID, "y", 0)
	require.NoError(t, f.SC.EnterGrace(f.Ctx, gnc))

	f.runErrCases([]errCase{
		{"node contract", func() error { return f.powerTarget(withNodeContract, tfgridtypes.PowerStateDown) },
			tfgridtypes.ErrNodeHasActiveContracts, []string{id(withNodeContract.ID)}},
		{"rent contract", func() error { return f.powerTarget(rented, tfgridtypes.PowerStateDown) },
			tfgridtypes.ErrNodeHasActiveContracts, []string{id(rented.ID)}},
		{"node contract in grace", func() error { return f.powerTarget(graced, tfgridtypes.PowerStateDown) },
			tfgridtypes.ErrNodeHasActiveContracts, []string{id(graced.ID)}},
	})

	require.NoError(t, f.Cancel(w.Alice, nc))
	require.NoError(t, f.powerTarget(withNodeContract, tfgridtypes.PowerStateDown))
	require.NoError(t, f.Cancel(w.Bob, rent))
	require.NoError(t, f.powerTarget(rented, tfgridtypes.PowerStateDown))
	// Up is always allowed.
	require.NoError(t, f.powerTarget(withNodeContract, tfgridtypes.PowerStateUp))
	live, err := f.SC.NodeHasLiveContracts(f.Ctx, graced.ID)
	require.NoError(t, err)
	require.True(t, live)
	live, err = f.SC.NodeHasLiveContracts(f.Ctx, rented.ID)
	require.NoError(t, err)
	require.False(t, live)
	f.requireInvariants()
}

func TestUpdateNodeMovingFarmsNeedsNoLiveContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	target := f.NewFarm(0)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	move := func() error {
		msg := keepertest.NodeMsg(w.Node.Twin.Acc, target.ID)
		_, err := f.GridMsg.UpdateNode(f.Ctx, &tfgridtypes.MsgUpdateNode{
			Creator: msg.Creator, NodeId: w.Node.ID, FarmId: target.ID, Resources: msg.Resources, Location: msg.Location,
			Interfaces: msg.Interfaces, SerialNumber: msg.SerialNumber,
		})
		return err
	}
	f.runErrCases([]errCase{{"node contract with farm IPs", move, tfgridtypes.ErrNodeHasActiveContracts, []string{id(w.Node.ID), id(target.ID)}}})

	require.NoError(t, f.Cancel(w.Alice, nc))
	rent := f.RentContract(w.Bob, w.Node.ID)
	f.runErrCases([]errCase{{"rent contract", move, tfgridtypes.ErrNodeHasActiveContracts, nil}})

	require.NoError(t, f.Cancel(w.Bob, rent))
	require.NoError(t, move())
	node, err := f.Grid.GetNode(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, target.ID, node.FarmId)
	f.requireInvariants()
}
