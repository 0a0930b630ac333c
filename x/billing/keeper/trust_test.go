package keeper_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Attack 1 of the issue: one report with nru = 2^64−1 over a window of 1 s, then a settlement anyone may
// send, took the user's whole balance. The report must be refused and the settlement charge only the
// hour of the reservation.
func TestAttackHugeNRUOverOneSecondIsRefused(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	id := f.nodeContract(w.alice, w.node.id, "vm", 0)
	f.advance(hour)
	f.uptime(w.node)

	r := workedVM.report(id, f.now(), math.MaxUint64)
	r.Window = 1
	err := f.report(w.node, r)
	requireErr(t, err, types.ErrInvalidReport, fmt.Sprintf("contract %d", id), "nru 18446744073709551615", "window 1 s")

	before := f.snap(w.alice.acc, w.farm.farmer.acc)
	f.advance(hour)
	f.uptime(w.node)
	f.mustSettle(id)
	// nothing was reported, so nothing but the (empty) usage is charged
	require.Equal(t, before.owner.String(), f.balance(w.alice.acc).String(), "the user paid for a refused report")
	require.Equal(t, "CONTRACT_STATE_CREATED", f.state(id).String())
}

// Attack 2 of the issue: update-node accepted 2^64−1 for every resource, and reports were bounded only by
// that self-declared capacity. Node capacity is bounded by params now, and a report above the contract's
// reservation is clamped to it and evented.
func TestAttackInflatedCapacityAndReportIsClamped(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(0)
	n := f.node(w.node.id)
	huge := tfgridtypes.Resources{Cru: math.MaxUint64, Sru: math.MaxUint64, Hru: math.MaxUint64, Mru: math.MaxUint64}
	_, err := f.gridMsg.UpdateNode(f.ctx, &tfgridtypes.MsgUpdateNode{
		Creator: w.node.twin.acc, NodeId: n.Id, Resources: huge, Location: n.Location, Interfaces: n.Interfaces,
		SerialNumber: n.SerialNumber,
	})
	requireErr(t, err, tfgridtypes.ErrInvalidCRU, "cru 18446744073709551615", "4096")
	require.Equal(t, nodeResources, f.node(w.node.id).Resources, "the refused update changed the node")

	// the contract reserves the worked VM; the node claims its whole capacity for it
	id := f.nodeContract(w.alice, w.node.id, "vm", 0)
	f.advance(hour)
	f.uptime(w.node)
	f.resetEvents()
	whole := usage{cru: nodeResources.Cru, mru: nodeResources.Mru, sru: nodeResources.Sru}
	require.NoError(t, f.report(w.node, whole.report(id, f.now(), 0)))
	require.Equal(t, types.Usage{Cru: workedVM.cru, Mru: workedVM.mru, Sru: workedVM.sru}, f.billing(id).Usage)
	require.Equal(t, uint64(1), f.billing(id).ClampedReports)
	require.ElementsMatch(t, []*types.EventReportClamped{
		{ContractId: id, NodeId: w.node.id, Field: "cru", Reported: whole.cru, Charged: workedVM.cru},
		{ContractId: id, NodeId: w.node.id, Field: "mru", Reported: whole.mru, Charged: workedVM.mru},
		{ContractId: id, NodeId: w.node.id, Field: "sru", Reported: whole.sru, Charged: workedVM.sru},
	}, typedEvents[*types.EventReportClamped](f))

	// an hour later anyone settles: the user pays one hour of the reservation, not of the whole node
	before := f.snap(w.alice.acc, w.farm.farmer.acc)
	f.advance(hour)
	f.uptime(w.node)
	f.mustSettle(id)
	f.requirePaid(before, w.alice.acc, w.farm.farmer.acc, split(expectUTFT(costOf(workedResourcesPerHour, hour), "10"), 0))
}
