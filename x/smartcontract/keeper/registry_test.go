package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func (f *fixture) powerTarget(n nodeFixture, target tfgridtypes.PowerState) error {
	_, err := f.gridMsg.ChangePowerTarget(f.ctx, &tfgridtypes.MsgChangePowerTarget{Creator: n.farm.farmer.acc, NodeId: n.id, Target: target})
	return err
}

func TestPowerTargetDownNeedsNoLiveContracts(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	withNodeContract := w.node
	nc := f.nodeContract(w.alice, withNodeContract.id, "x", 1)
	rented := f.newNode(w.farm)
	rent := f.rentContract(w.bob, rented.id)
	graced := f.newNode(w.farm)
	gnc := f.nodeContract(w.alice, graced.id, "y", 0)
	require.NoError(t, f.k.EnterGrace(f.ctx, gnc))

	f.runErrCases([]errCase{
		{"node contract", func() error { return f.powerTarget(withNodeContract, tfgridtypes.PowerStateDown) },
			tfgridtypes.ErrNodeHasActiveContracts, []string{id(withNodeContract.id)}},
		{"rent contract", func() error { return f.powerTarget(rented, tfgridtypes.PowerStateDown) },
			tfgridtypes.ErrNodeHasActiveContracts, []string{id(rented.id)}},
		{"node contract in grace", func() error { return f.powerTarget(graced, tfgridtypes.PowerStateDown) },
			tfgridtypes.ErrNodeHasActiveContracts, []string{id(graced.id)}},
	})

	require.NoError(t, f.cancel(w.alice, nc))
	require.NoError(t, f.powerTarget(withNodeContract, tfgridtypes.PowerStateDown))
	require.NoError(t, f.cancel(w.bob, rent))
	require.NoError(t, f.powerTarget(rented, tfgridtypes.PowerStateDown))
	// Up is always allowed.
	require.NoError(t, f.powerTarget(withNodeContract, tfgridtypes.PowerStateUp))
	live, err := f.k.NodeHasLiveContracts(f.ctx, graced.id)
	require.NoError(t, err)
	require.True(t, live)
	live, err = f.k.NodeHasLiveContracts(f.ctx, rented.id)
	require.NoError(t, err)
	require.False(t, live)
	f.requireInvariants()
}

func TestUpdateNodeMovingFarmsNeedsNoLiveContracts(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	target := f.newFarm(0)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	move := func() error {
		msg := nodeMsg(w.node.twin.acc, target.id)
		_, err := f.gridMsg.UpdateNode(f.ctx, &tfgridtypes.MsgUpdateNode{
			Creator: msg.Creator, NodeId: w.node.id, FarmId: target.id, Resources: msg.Resources, Location: msg.Location,
			Interfaces: msg.Interfaces, SerialNumber: msg.SerialNumber,
		})
		return err
	}
	f.runErrCases([]errCase{{"node contract with farm IPs", move, tfgridtypes.ErrNodeHasActiveContracts, []string{id(w.node.id), id(target.id)}}})

	require.NoError(t, f.cancel(w.alice, nc))
	rent := f.rentContract(w.bob, w.node.id)
	f.runErrCases([]errCase{{"rent contract", move, tfgridtypes.ErrNodeHasActiveContracts, nil}})

	require.NoError(t, f.cancel(w.bob, rent))
	require.NoError(t, move())
	node, err := f.grid.GetNode(f.ctx, w.node.id)
	require.NoError(t, err)
	require.Equal(t, target.id, node.FarmId)
	f.requireInvariants()
}
