package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func (f *fixture) reserve(u user, nodeID uint64, deployment string, res tfgridtypes.Resources, maxPerHour uint64) (uint64, error) {
	r, err := f.msg.CreateNodeContract(f.ctx, &types.MsgCreateNodeContract{
		Creator: u.acc, NodeId: nodeID, DeploymentHash: hash(deployment), Resources: res, MaxUtftPerHour: maxPerHour,
	})
	if err != nil {
		return 0, err
	}
	return r.ContractId, nil
}

func (f *fixture) reserved(nodeID uint64) tfgridtypes.Resources {
	f.t.Helper()
	r, err := f.k.NodeReservedCapacity(f.ctx, nodeID)
	require.NoError(f.t, err)
	return r
}

// The node's capacity (cru 4, mru 8 GiB, sru 500 GiB) is shared by its contracts' reservations: each
// must fit in what the others leave, every close path gives it back, and the node cannot shrink below it.
func TestReservationsShareNodeCapacity(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	half := tfgridtypes.Resources{Cru: 2, Mru: 4 * gib, Sru: 250 * gib}

	f.resetEvents()
	a, err := f.reserve(w.alice, w.node.id, "a", half, 5000)
	require.NoError(t, err)
	ca := f.contract(a)
	nc := ca.GetNodeContract()
	require.Equal(t, half, nc.Resources)
	require.Equal(t, uint64(5000), nc.MaxUtftPerHour)
	created := typedEvents[*types.EventContractCreated](f)
	require.Len(t, created, 1)
	require.Equal(t, &half, created[0].Resources)
	require.Equal(t, uint64(5000), created[0].MaxUtftPerHour)

	b, err := f.reserve(w.bob, w.node.id, "b", half, 0)
	require.NoError(t, err)
	require.Equal(t, tfgridtypes.Resources{Cru: 4, Mru: 8 * gib, Sru: 500 * gib}, f.reserved(w.node.id))

	// a contract with public IPs only reserves nothing and still fits
	_, err = f.reserve(w.bob, w.node.id, "ips-only", tfgridtypes.Resources{}, 0)
	require.NoError(t, err)

	next := f.state().sc.NextContractId
	f.runErrCases([]errCase{
		{"one cru too many", func() error {
			_, err := f.reserve(w.alice, w.node.id, "c", tfgridtypes.Resources{Cru: 1}, 0)
			return err
		},
			types.ErrInsufficientCapacity, []string{"contract " + id(next), "node " + id(w.node.id), "cru 0 free, 1 requested"}},
		{"update above the free capacity", func() error {
			_, err := f.msg.UpdateNodeContract(f.ctx, &types.MsgUpdateNodeContract{
				Creator: w.alice.acc, ContractId: a, DeploymentHash: hash("a"), Resources: tfgridtypes.Resources{Cru: 3},
			})
			return err
		}, types.ErrInsufficientCapacity, []string{"contract " + id(a), "cru 2 free, 3 requested"}},
		{"node shrinks below the reservations", func() error {
			msg := nodeMsg(w.node.twin.acc, w.farm.id)
			upd := &tfgridtypes.MsgUpdateNode{Creator: msg.Creator, NodeId: w.node.id, Resources: msg.Resources, Location: msg.Location, Interfaces: msg.Interfaces, SerialNumber: msg.SerialNumber}
			upd.Resources.Sru = 499 * gib
			_, err := f.gridMsg.UpdateNode(f.ctx, upd)
			return err
		}, tfgridtypes.ErrCapacityReserved, []string{"node " + id(w.node.id), "sru 535797170176 is below the 536870912000 its live contracts reserve"}},
	})

	// shrinking a reservation frees capacity for others; the update is evented with the new values
	f.resetEvents()
	quarter := tfgridtypes.Resources{Cru: 1, Mru: 2 * gib, Sru: 100 * gib}
	_, err = f.msg.UpdateNodeContract(f.ctx, &types.MsgUpdateNodeContract{
		Creator: w.alice.acc, ContractId: a, DeploymentHash: hash("a"), Resources: quarter, MaxUtftPerHour: 7,
	})
	require.NoError(t, err)
	require.Equal(t, []*types.EventContractUpdated{{ContractId: a, NodeId: w.node.id, DeploymentHash: hash("a"), Resources: &quarter, MaxUtftPerHour: 7}},
		typedEvents[*types.EventContractUpdated](f))
	require.Equal(t, tfgridtypes.Resources{Cru: 3, Mru: 6 * gib, Sru: 350 * gib}, f.reserved(w.node.id))
	_, err = f.reserve(w.alice, w.node.id, "c", tfgridtypes.Resources{Cru: 1}, 0)
	require.NoError(t, err)

	// cancelling gives the reservation back; the node's last contract leaves no entry behind
	require.NoError(t, f.cancel(w.bob, b))
	require.Equal(t, tfgridtypes.Resources{Cru: 2, Mru: 2 * gib, Sru: 100 * gib}, f.reserved(w.node.id))
	f.requireInvariants()
}

// Deleting the node closes its contracts, and their reservations with them.
func TestReservationsFreedWithNode(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	_, err := f.reserve(w.alice, w.node.id, "a", tfgridtypes.Resources{Cru: 1, Mru: gib}, 0)
	require.NoError(t, err)
	_, err = f.gridMsg.DeleteNode(f.ctx, &tfgridtypes.MsgDeleteNode{Creator: w.node.twin.acc, NodeId: w.node.id})
	require.NoError(t, err)
	has, err := f.k.NodeReserved.Has(f.ctx, w.node.id)
	require.NoError(t, err)
	require.False(t, has)
	f.requireInvariants()
}

// The invariant catches a node total that does not match its contracts.
func TestReservationInvariant(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	_, err := f.reserve(w.alice, w.node.id, "a", tfgridtypes.Resources{Cru: 1}, 0)
	require.NoError(t, err)
	require.NoError(t, f.k.NodeReserved.Set(f.ctx, w.node.id, tfgridtypes.Resources{Cru: 2}))
	requireErr(t, f.k.CheckInvariants(f.ctx), types.ErrInvariantBroken, "node "+id(w.node.id)+" reserves")
	require.NoError(t, f.k.NodeReserved.Set(f.ctx, w.node.id, tfgridtypes.Resources{Cru: 1}))
	require.NoError(t, f.k.CheckInvariants(f.ctx))
}
