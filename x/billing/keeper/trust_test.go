package keeper_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Attack 1 of the issue: one report with nru = 2^64−1 over a window of 1 s, then a settlement anyone may
// send, took the user's whole balance. The report must be refused and the settlement charge only the
// hour of the reservation.
func TestAttackHugeNRUOverOneSecondIsRefused(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 0)
	f.advance(hour)
	f.uptime(w.Node)

	r := workedVM.report(id, f.now(), math.MaxUint64)
	r.Window = 1
	err := f.report(w.Node, r)
	requireerr.Is(t, err, types.ErrInvalidReport, fmt.Sprintf("contract %d", id), "nru 18446744073709551615", "window 1 s")

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	f.uptime(w.Node)
	f.mustSettle(id)
	// nothing was reported, so nothing but the (empty) usage is charged
	require.Equal(t, before.owner.String(), f.Balance(w.Alice.Acc).String(), "the user paid for a refused report")
	require.Equal(t, "CONTRACT_STATE_CREATED", f.state(id).String())
}

// Attack 2 of the issue: update-node accepted 2^64−1 for every resource, and reports were bounded only by
// that self-declared capacity. Node capacity is bounded by params now, and a report above the contract's
// reservation is clamped to it and evented.
func TestAttackInflatedCapacityAndReportIsClamped(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	n := f.node(w.Node.ID)
	huge := tfgridtypes.Resources{Cru: math.MaxUint64, Sru: math.MaxUint64, Hru: math.MaxUint64, Mru: math.MaxUint64}
	_, err := f.GridMsg.UpdateNode(f.Ctx, &tfgridtypes.MsgUpdateNode{
		Creator: w.Node.Twin.Acc, NodeId: n.Id, Resources: huge, Location: n.Location, Interfaces: n.Interfaces,
		SerialNumber: n.SerialNumber,
	})
	requireerr.Is(t, err, tfgridtypes.ErrInvalidCRU, "cru 18446744073709551615", "4096")
	require.Equal(t, keepertest.NodeResources, f.node(w.Node.ID).Resources, "the refused update changed the node")

	// the contract reserves the worked VM; the node claims its whole capacity for it
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 0)
	f.advance(hour)
	f.uptime(w.Node)
	f.ResetEvents()
	whole := usage{cru: keepertest.NodeResources.Cru, mru: keepertest.NodeResources.Mru, sru: keepertest.NodeResources.Sru}
	require.NoError(t, f.report(w.Node, whole.report(id, f.now(), 0)))
	require.Equal(t, types.Usage{Cru: workedVM.cru, Mru: workedVM.mru, Sru: workedVM.sru}, f.billing(id).Usage)
	require.Equal(t, uint64(1), f.billing(id).ClampedReports)
	require.ElementsMatch(t, []*types.EventReportClamped{
		{ContractId: id, NodeId: w.Node.ID, Field: "cru", Reported: whole.cru, Charged: workedVM.cru},
		{ContractId: id, NodeId: w.Node.ID, Field: "mru", Reported: whole.mru, Charged: workedVM.mru},
		{ContractId: id, NodeId: w.Node.ID, Field: "sru", Reported: whole.sru, Charged: workedVM.sru},
	}, typedEvents[*types.EventReportClamped](f))

	// an hour later anyone settles: the user pays one hour of the reservation, not of the whole node
	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	f.uptime(w.Node)
	f.mustSettle(id)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(expectUTFT(costOf(workedResourcesPerHour, hour), "10"), 0))
}
