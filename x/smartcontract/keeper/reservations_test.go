package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// reserve creates a node contract reserving res, spending at most maxPerHour.
func (f *fixture) reserve(u keepertest.User, nodeID uint64, deployment string, res tfgridtypes.Resources, maxPerHour uint64) (uint64, error) {
	msg := keepertest.NodeContractMsg(u, nodeID, deployment, 0)
	msg.Resources, msg.MaxUtftPerHour = res, maxPerHour
	return f.CreateNodeContract(msg)
}

func (f *fixture) reserved(nodeID uint64) tfgridtypes.Resources {
	f.T.Helper()
	r, err := f.SC.NodeReservedCapacity(f.Ctx, nodeID)
	require.NoError(f.T, err)
	return r
}

// The node's capacity (cru 4, mru 8 GiB, sru 500 GiB) is shared by its contracts' reservations: each
// must fit in what the others leave, every close path gives it back, and the node cannot shrink below it.
func TestReservationsShareNodeCapacity(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	half := tfgridtypes.Resources{Cru: 2, Mru: 4 * gib, Sru: 250 * gib}

	f.ResetEvents()
	a, err := f.reserve(w.Alice, w.Node.ID, "a", half, 5000)
	require.NoError(t, err)
	ca := f.Contract(a)
	nc := ca.GetNodeContract()
	require.Equal(t, half, nc.Resources)
	require.Equal(t, uint64(5000), nc.MaxUtftPerHour)
	created := typedEvents[*types.EventContractCreated](f)
	require.Len(t, created, 1)
	require.Equal(t, &half, created[0].Resources)
	require.Equal(t, uint64(5000), created[0].MaxUtftPerHour)

	b, err := f.reserve(w.Bob, w.Node.ID, "b", half, 0)
	require.NoError(t, err)
	require.Equal(t, tfgridtypes.Resources{Cru: 4, Mru: 8 * gib, Sru: 500 * gib}, f.reserved(w.Node.ID))

	// a contract with public IPs only reserves nothing and still fits
	_, err = f.reserve(w.Bob, w.Node.ID, "ips-only", tfgridtypes.Resources{}, 0)
	require.NoError(t, err)

	next := f.state().sc.NextContractId
	f.runErrCases([]errCase{
		{"one cru too many", func() error {
			_, err := f.reserve(w.Alice, w.Node.ID, "c", tfgridtypes.Resources{Cru: 1}, 0)
			return err
		},
			types.ErrInsufficientCapacity, []string{"contract " + id(next), "node " + id(w.Node.ID), "cru 0 free, 1 requested"}},
		{"update above the free capacity", func() error {
			_, err := f.SCMsg.UpdateNodeContract(f.Ctx, &types.MsgUpdateNodeContract{
				Creator: w.Alice.Acc, ContractId: a, DeploymentHash: keepertest.Hash("a"), Resources: tfgridtypes.Resources{Cru: 3},
			})
			return err
		}, types.ErrInsufficientCapacity, []string{"contract " + id(a), "cru 2 free, 3 requested"}},
		{"node shrinks below the reservations", func() error {
			msg := keepertest.NodeMsg(w.Node.Twin.Acc, w.Farm.ID)
			upd := &tfgridtypes.MsgUpdateNode{Creator: msg.Creator, NodeId: w.Node.ID, Resources: msg.Resources, Location: msg.Location, Interfaces: msg.Interfaces, SerialNumber: msg.SerialNumber}
			upd.Resources.Sru = 499 * gib
			_, err := f.GridMsg.UpdateNode(f.Ctx, upd)
			return err
		}, tfgridtypes.ErrCapacityReserved, []string{"node " + id(w.Node.ID), "sru 535797170176 is below the 536870912000 its live contracts reserve"}},
	})

	// shrinking a reservation frees capacity for others; the update is evented with the new values
	f.ResetEvents()
	quarter := tfgridtypes.Resources{Cru: 1, Mru: 2 * gib, Sru: 100 * gib}
	_, err = f.SCMsg.UpdateNodeContract(f.Ctx, &types.MsgUpdateNodeContract{
		Creator: w.Alice.Acc, ContractId: a, DeploymentHash: keepertest.Hash("a"), Resources: quarter, MaxUtftPerHour: 7,
	})
	require.NoError(t, err)
	require.Equal(t, []*types.EventContractUpdated{{ContractId: a, NodeId: w.Node.ID, DeploymentHash: keepertest.Hash("a"), Resources: &quarter, MaxUtftPerHour: 7}},
		typedEvents[*types.EventContractUpdated](f))
	require.Equal(t, tfgridtypes.Resources{Cru: 3, Mru: 6 * gib, Sru: 350 * gib}, f.reserved(w.Node.ID))
	_, err = f.reserve(w.Alice, w.Node.ID, "c", tfgridtypes.Resources{Cru: 1}, 0)
	require.NoError(t, err)

	// cancelling gives the reservation back; the node's last contract leaves no entry behind
	require.NoError(t, f.Cancel(w.Bob, b))
	require.Equal(t, tfgridtypes.Resources{Cru: 2, Mru: 2 * gib, Sru: 100 * gib}, f.reserved(w.Node.ID))
	f.requireInvariants()
}

// Deleting the node closes its contracts, and their reservations with them.
func TestReservationsFreedWithNode(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	_, err := f.reserve(w.Alice, w.Node.ID, "a", tfgridtypes.Resources{Cru: 1, Mru: gib}, 0)
	require.NoError(t, err)
	_, err = f.GridMsg.DeleteNode(f.Ctx, &tfgridtypes.MsgDeleteNode{Creator: w.Node.Twin.Acc, NodeId: w.Node.ID})
	require.NoError(t, err)
	has, err := f.SC.NodeReserved.Has(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.False(t, has)
	f.requireInvariants()
}

// The invariant catches a node total that does not match its contracts.
func TestReservationInvariant(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	_, err := f.reserve(w.Alice, w.Node.ID, "a", tfgridtypes.Resources{Cru: 1}, 0)
	require.NoError(t, err)
	require.NoError(t, f.SC.NodeReserved.Set(f.Ctx, w.Node.ID, tfgridtypes.Resources{Cru: 2}))
	requireerr.Is(t, f.SC.CheckInvariants(f.Ctx), types.ErrInvariantBroken, "node "+id(w.Node.ID)+" reserves")
	require.NoError(t, f.SC.NodeReserved.Set(f.Ctx, w.Node.ID, tfgridtypes.Resources{Cru: 1}))
	require.NoError(t, f.SC.CheckInvariants(f.Ctx))
}
