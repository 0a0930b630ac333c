package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/smartcontract/keeper"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridkeeper "github.com/tfgrid/tfgrid/x/tfgrid/keeper"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// findFree asks the registry's node finder for the nodes with at least want free and returns their ids
// and what each has free.
func (f *fixture) findFree(want tfgridtypes.Resources) ([]uint64, []tfgridtypes.Resources) {
	f.T.Helper()
	res, err := tfgridkeeper.NewQueryServerImpl(f.Grid).Nodes(f.Ctx, &tfgridtypes.QueryNodesRequest{
		FreeCru: want.Cru, FreeMru: want.Mru, FreeSru: want.Sru, FreeHru: want.Hru,
	})
	require.NoError(f.T, err)
	var ids []uint64
	var free []tfgridtypes.Resources
	for i, n := range res.Nodes {
		ids = append(ids, n.Id)
		free = append(free, res.Availability[i].Free)
	}
	return ids, free
}

// The registry's node finder sees the reservations of this module as they change: a contract's
// create, update and cancel move the node's free capacity, and a rented node is free for nobody.
func TestNodeFinderFollowsContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	other := f.NewNode(w.Farm)
	full := tfgridtypes.Resources{Cru: 4, Mru: 8 * gib, Sru: 500 * gib}
	sixGiB := tfgridtypes.Resources{Mru: 6 * gib}

	ids, free := f.findFree(sixGiB)
	require.Equal(t, []uint64{w.Node.ID, other.ID}, ids)
	require.Equal(t, []tfgridtypes.Resources{full, full}, free)

	a, err := f.reserve(w.Alice, w.Node.ID, "a", tfgridtypes.Resources{Cru: 1, Mru: 4 * gib, Sru: 100 * gib}, 0)
	require.NoError(t, err)
	ids, free = f.findFree(sixGiB)
	require.Equal(t, []uint64{other.ID}, ids, "4 GiB left on the first node")
	ids, free = f.findFree(tfgridtypes.Resources{Mru: 4 * gib})
	require.Equal(t, []uint64{w.Node.ID, other.ID}, ids)
	require.Equal(t, tfgridtypes.Resources{Cru: 3, Mru: 4 * gib, Sru: 400 * gib}, free[0])

	_, err = f.SCMsg.UpdateNodeContract(f.Ctx, &types.MsgUpdateNodeContract{
		Creator: w.Alice.Acc, ContractId: a, DeploymentHash: keepertest.Hash("a"), Resources: tfgridtypes.Resources{Mru: 1 * gib},
	})
	require.NoError(t, err)
	ids, free = f.findFree(sixGiB)
	require.Equal(t, []uint64{w.Node.ID, other.ID}, ids, "the update gave 3 GiB back")
	require.Equal(t, tfgridtypes.Resources{Cru: 4, Mru: 7 * gib, Sru: 500 * gib}, free[0])

	require.NoError(t, f.Cancel(w.Alice, a))
	_, free = f.findFree(full)
	require.Equal(t, []tfgridtypes.Resources{full, full}, free, "cancel gave everything back")

	f.RentContract(w.Bob, other.ID)
	ids, _ = f.findFree(tfgridtypes.Resources{Cru: 1})
	require.Equal(t, []uint64{w.Node.ID}, ids, "a rented node is free for nobody but its renter")
	res, err := tfgridkeeper.NewQueryServerImpl(f.Grid).Nodes(f.Ctx, &tfgridtypes.QueryNodesRequest{Rent: tfgridtypes.NodeRentFilterRented})
	require.NoError(t, err)
	require.Len(t, res.Nodes, 1)
	require.Equal(t, other.ID, res.Nodes[0].Id)
	require.NotZero(t, res.Availability[0].RentContractId)
}

// NodeUsage reports node contracts that reserve nothing (public IPs only) and extra fees, which the
// reserved total alone would miss.
func TestNodeUsage(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	usage, err := f.SC.NodeUsage(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, tfgridtypes.NodeUsage{}, usage)

	f.setExtraFee(w.Node, 10)
	usage, err = f.SC.NodeUsage(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, tfgridtypes.NodeUsage{HasExtraFee: true}, usage)

	rent := f.RentContract(w.Alice, w.Node.ID) // an extra-fee node is used whole: rent it first
	f.NodeContract(w.Alice, w.Node.ID, "ips-only", 1)
	usage, err = f.SC.NodeUsage(f.Ctx, w.Node.ID)
	require.NoError(t, err)
	require.Equal(t, tfgridtypes.NodeUsage{RentContractID: rent, HasNodeContracts: true, HasExtraFee: true}, usage)
}

// A deleted contract, served from its tombstone, keeps its real created_at.
func TestTombstoneKeepsCreatedAt(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	id := f.NodeContract(w.Alice, w.Node.ID, "kept", 0)
	created := f.Contract(id).CreatedAt
	require.NotZero(t, created)
	f.Ctx = f.Ctx.WithBlockTime(f.Ctx.BlockTime().Add(time.Hour))
	require.NoError(t, f.Cancel(w.Alice, id))

	res, err := keeper.NewQueryServerImpl(f.SC).Contract(f.Ctx, &types.QueryContractRequest{Id: id})
	require.NoError(t, err)
	require.Equal(t, types.ContractStateDeleted, res.Contract.State)
	require.Equal(t, created, res.Contract.CreatedAt)
	require.Equal(t, created+3600, res.DeletedAt)
	f.requireInvariants()
}
