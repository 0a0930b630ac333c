package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

func (f *fixture) requireState(cid uint64, state types.ContractState) {
	f.T.Helper()
	c := f.Contract(cid)
	require.Equal(f.T, state, c.State, "state of contract %d", cid)
	if state == types.ContractStateGracePeriod {
		require.NotZero(f.T, c.GraceSince)
	} else {
		require.Zero(f.T, c.GraceSince)
	}
}

func TestEnterAndLeaveGrace(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	nc := f.NodeContract(w.Alice, w.Node.ID, "x", 1)
	since := keepertest.BlockTime.Add(time.Minute)
	f.Ctx = f.Ctx.WithBlockTime(since)

	f.ResetEvents()
	require.NoError(t, f.SC.EnterGrace(f.Ctx, nc))
	c := f.Contract(nc)
	require.Equal(t, types.ContractStateGracePeriod, c.State)
	require.Equal(t, since.Unix(), c.GraceSince)
	require.Equal(t, []*types.EventContractGracePeriodStarted{{ContractId: nc, NodeId: w.Node.ID, TwinId: w.Alice.Twin, Since: since.Unix()}},
		typedEvents[*types.EventContractGracePeriodStarted](f))
	f.requireInvariants()

	// Entering again changes nothing and announces nothing.
	f.Ctx = f.Ctx.WithBlockTime(since.Add(time.Hour))
	f.ResetEvents()
	require.NoError(t, f.SC.EnterGrace(f.Ctx, nc))
	require.Equal(t, since.Unix(), f.Contract(nc).GraceSince)
	require.Empty(t, f.Ctx.EventManager().Events())

	require.NoError(t, f.SC.LeaveGrace(f.Ctx, nc))
	f.requireState(nc, types.ContractStateCreated)
	require.Equal(t, []*types.EventContractGracePeriodEnded{{ContractId: nc, NodeId: w.Node.ID, TwinId: w.Alice.Twin}},
		typedEvents[*types.EventContractGracePeriodEnded](f))

	// Leaving when not in grace is a no-op.
	f.ResetEvents()
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, nc))
	require.Empty(t, f.Ctx.EventManager().Events())

	// Name contracts have a grace period too.
	name := f.NameContract(w.Alice, "graceful")
	require.NoError(t, f.SC.EnterGrace(f.Ctx, name))
	f.requireState(name, types.ContractStateGracePeriod)
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, name))
	f.requireState(name, types.ContractStateCreated)

	requireerr.Is(t, f.SC.EnterGrace(f.Ctx, 999), types.ErrContractNotFound, "999")
	requireerr.Is(t, f.SC.LeaveGrace(f.Ctx, 999), types.ErrContractNotFound, "999")
	f.requireInvariants()
}

func TestRentGracePropagates(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(2)
	rent := f.RentContract(w.Alice, w.Node.ID)
	nc1 := f.NodeContract(w.Alice, w.Node.ID, "a", 1)
	nc2 := f.NodeContract(w.Alice, w.Node.ID, "b", 1)
	elsewhere := f.NodeContract(w.Bob, f.NewNode(w.Farm).ID, "c", 0)

	f.ResetEvents()
	require.NoError(t, f.SC.EnterGrace(f.Ctx, rent))
	for _, cid := range []uint64{rent, nc1, nc2} {
		f.requireState(cid, types.ContractStateGracePeriod)
	}
	f.requireState(elsewhere, types.ContractStateCreated)
	require.Len(t, typedEvents[*types.EventContractGracePeriodStarted](f), 3)

	f.ResetEvents()
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, rent))
	for _, cid := range []uint64{rent, nc1, nc2} {
		f.requireState(cid, types.ContractStateCreated)
	}
	require.Len(t, typedEvents[*types.EventContractGracePeriodEnded](f), 3)
	f.requireInvariants()
}

func TestNodeContractStaysInGraceWhileRentIs(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	rent := f.RentContract(w.Alice, w.Node.ID)
	nc := f.NodeContract(w.Alice, w.Node.ID, "a", 1)
	require.NoError(t, f.SC.EnterGrace(f.Ctx, rent))

	f.ResetEvents()
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, nc))
	f.requireState(nc, types.ContractStateGracePeriod)
	require.Empty(t, typedEvents[*types.EventContractGracePeriodEnded](f))

	// Once the rent is paid, both leave grace.
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, rent))
	f.requireState(nc, types.ContractStateCreated)
	f.requireState(rent, types.ContractStateCreated)

	// A node contract can be in grace on its own while the rent is fine, and leave it.
	require.NoError(t, f.SC.EnterGrace(f.Ctx, nc))
	f.requireState(rent, types.ContractStateCreated)
	require.NoError(t, f.SC.LeaveGrace(f.Ctx, nc))
	f.requireState(nc, types.ContractStateCreated)
	f.requireInvariants()
}
