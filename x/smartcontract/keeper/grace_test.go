package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/smartcontract/types"
)

func (f *fixture) requireState(cid uint64, state types.ContractState) {
	f.t.Helper()
	c := f.contract(cid)
	require.Equal(f.t, state, c.State, "state of contract %d", cid)
	if state == types.ContractStateGracePeriod {
		require.NotZero(f.t, c.GraceSince)
	} else {
		require.Zero(f.t, c.GraceSince)
	}
}

func TestEnterAndLeaveGrace(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	nc := f.nodeContract(w.alice, w.node.id, "x", 1)
	since := blockTime.Add(time.Minute)
	f.ctx = f.ctx.WithBlockTime(since)

	f.resetEvents()
	require.NoError(t, f.k.EnterGrace(f.ctx, nc))
	c := f.contract(nc)
	require.Equal(t, types.ContractStateGracePeriod, c.State)
	require.Equal(t, since.Unix(), c.GraceSince)
	require.Equal(t, []*types.EventContractGracePeriodStarted{{ContractId: nc, NodeId: w.node.id, TwinId: w.alice.twin, Since: since.Unix()}},
		typedEvents[*types.EventContractGracePeriodStarted](f))
	f.requireInvariants()

	// Entering again changes nothing and announces nothing.
	f.ctx = f.ctx.WithBlockTime(since.Add(time.Hour))
	f.resetEvents()
	require.NoError(t, f.k.EnterGrace(f.ctx, nc))
	require.Equal(t, since.Unix(), f.contract(nc).GraceSince)
	require.Empty(t, f.ctx.EventManager().Events())

	require.NoError(t, f.k.LeaveGrace(f.ctx, nc))
	f.requireState(nc, types.ContractStateCreated)
	require.Equal(t, []*types.EventContractGracePeriodEnded{{ContractId: nc, NodeId: w.node.id, TwinId: w.alice.twin}},
		typedEvents[*types.EventContractGracePeriodEnded](f))

	// Leaving when not in grace is a no-op.
	f.resetEvents()
	require.NoError(t, f.k.LeaveGrace(f.ctx, nc))
	require.Empty(t, f.ctx.EventManager().Events())

	// Name contracts have a grace period too.
	name := f.nameContract(w.alice, "graceful")
	require.NoError(t, f.k.EnterGrace(f.ctx, name))
	f.requireState(name, types.ContractStateGracePeriod)
	require.NoError(t, f.k.LeaveGrace(f.ctx, name))
	f.requireState(name, types.ContractStateCreated)

	requireErr(t, f.k.EnterGrace(f.ctx, 999), types.ErrContractNotFound, "999")
	requireErr(t, f.k.LeaveGrace(f.ctx, 999), types.ErrContractNotFound, "999")
	f.requireInvariants()
}

func TestRentGracePropagates(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(2)
	rent := f.rentContract(w.alice, w.node.id)
	nc1 := f.nodeContract(w.alice, w.node.id, "a", 1)
	nc2 := f.nodeContract(w.alice, w.node.id, "b", 1)
	elsewhere := f.nodeContract(w.bob, f.newNode(w.farm).id, "c", 0)

	f.resetEvents()
	require.NoError(t, f.k.EnterGrace(f.ctx, rent))
	for _, cid := range []uint64{rent, nc1, nc2} {
		f.requireState(cid, types.ContractStateGracePeriod)
	}
	f.requireState(elsewhere, types.ContractStateCreated)
	require.Len(t, typedEvents[*types.EventContractGracePeriodStarted](f), 3)

	f.resetEvents()
	require.NoError(t, f.k.LeaveGrace(f.ctx, rent))
	for _, cid := range []uint64{rent, nc1, nc2} {
		f.requireState(cid, types.ContractStateCreated)
	}
	require.Len(t, typedEvents[*types.EventContractGracePeriodEnded](f), 3)
	f.requireInvariants()
}

func TestNodeContractStaysInGraceWhileRentIs(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	rent := f.rentContract(w.alice, w.node.id)
	nc := f.nodeContract(w.alice, w.node.id, "a", 1)
	require.NoError(t, f.k.EnterGrace(f.ctx, rent))

	f.resetEvents()
	require.NoError(t, f.k.LeaveGrace(f.ctx, nc))
	f.requireState(nc, types.ContractStateGracePeriod)
	require.Empty(t, typedEvents[*types.EventContractGracePeriodEnded](f))

	// Once the rent is paid, both leave grace.
	require.NoError(t, f.k.LeaveGrace(f.ctx, rent))
	f.requireState(nc, types.ContractStateCreated)
	f.requireState(rent, types.ContractStateCreated)

	// A node contract can be in grace on its own while the rent is fine, and leave it.
	require.NoError(t, f.k.EnterGrace(f.ctx, nc))
	f.requireState(rent, types.ContractStateCreated)
	require.NoError(t, f.k.LeaveGrace(f.ctx, nc))
	f.requireState(nc, types.ContractStateCreated)
	f.requireInvariants()
}
