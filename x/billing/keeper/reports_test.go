package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// reportWorld is a farm with two nodes, a node contract on each and a name contract.
type reportWorld struct {
	keepertest.World
	other        keepertest.Node
	mine, theirs uint64
	name         uint64
}

func (f *fixture) newReportWorld() reportWorld {
	w := f.NewWorld(0)
	other := f.NewNode(w.Farm)
	return reportWorld{
		World: w, other: other,
		mine:   f.vmContract(w.Alice, w.Node.ID, "mine", 0),
		theirs: f.vmContract(w.Alice, other.ID, "theirs", 0),
		name:   f.NameContract(w.Alice, "gateway"),
	}
}

func TestReportConsumptionApplies(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	f.advance(10)
	f.ResetEvents()
	r := workedVM.report(w.mine, f.now(), 3_000_000_000)
	require.NoError(t, f.report(w.Node, r))

	b := f.billing(w.mine)
	require.Equal(t, types.Usage{Cru: 2, Mru: 4 * gib, Sru: 50 * gib}, b.Usage)
	require.Equal(t, &r, b.LastReport)
	require.Equal(t, "150000.000000000000000000", b.UnbilledNu.String())
	require.Equal(t, f.now(), b.LastSettled, "settled at the previous usage first")
	require.Equal(t, []*types.EventConsumptionReported{{ContractId: w.mine, NodeId: w.Node.ID, Report: &r}},
		typedEvents[*types.EventConsumptionReported](f))

	// the next report settles first, billing the previous report's NU (and one second of usage), then
	// holds its own NU for the next settlement
	f.advance(1)
	f.ResetEvents()
	require.NoError(t, f.report(w.Node, workedVM.report(w.mine, f.now(), 1_000_000_000)))
	want := expectUTFT(sum(bigRat(150_000), costOf(workedResourcesPerHour, 1)), "10")
	require.Equal(t, fmt.Sprint(want), typedEvents[*types.EventContractSettled](f)[0].Amount)
	require.Equal(t, "50000.000000000000000000", f.billing(w.mine).UnbilledNu.String())
	f.requireInvariants()
}

// A report about a contract that is not a node contract of the signer's node rejects the whole
// message: the transaction fails and nothing of it is applied.
func TestReportOtherNodesContractRejectsMessage(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	rent := f.NewWorld(0)
	rentID := f.RentContract(rent.Alice, rent.Node.ID)
	f.advance(100)

	for name, tc := range map[string]struct {
		node    keepertest.Node
		reports []types.ConsumptionReport
	}{
		// the first report is valid and would apply on its own
		"another node's contract": {w.Node, []types.ConsumptionReport{workedVM.report(w.mine, f.now(), 5), workedVM.report(w.theirs, f.now(), 5)}},
		"a name contract":         {w.Node, []types.ConsumptionReport{workedVM.report(w.mine, f.now(), 5), workedVM.report(w.name, f.now(), 5)}},
		"a rent contract":         {rent.Node, []types.ConsumptionReport{workedVM.report(rentID, f.now(), 5)}},
	} {
		t.Run(name, func(t *testing.T) {
			before, err := f.k.ExportGenesis(f.Ctx)
			require.NoError(t, err)
			err = f.tx(func() error { return f.report(tc.node, tc.reports...) })
			requireerr.Is(t, err, types.ErrNotNodeContract, "is not a node contract on node")
			after, err := f.k.ExportGenesis(f.Ctx)
			require.NoError(t, err)
			require.Equal(t, before, after)
		})
	}
	require.Nil(t, f.billing(w.mine).LastReport)
	f.requireInvariants()
}

// Reports about contracts that no longer exist (or never did) are skipped with an event; the rest of
// the message applies.
func TestReportDeletedContractSkipped(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	gone := f.vmContract(w.Alice, w.Node.ID, "gone", 0)
	f.mustCancel(w.Alice, gone)
	f.advance(10)
	f.ResetEvents()
	require.NoError(t, f.report(w.Node,
		workedVM.report(gone, f.now(), 1),
		workedVM.report(999, f.now(), 1),
		workedVM.report(w.mine, f.now(), 1),
	))
	require.Equal(t, []*types.EventConsumptionReportSkipped{
		{ContractId: gone, NodeId: w.Node.ID}, {ContractId: 999, NodeId: w.Node.ID},
	}, typedEvents[*types.EventConsumptionReportSkipped](f))
	require.Len(t, typedEvents[*types.EventConsumptionReported](f), 1)
	require.NotNil(t, f.billing(w.mine).LastReport)
	f.requireInvariants()
}

func TestReportTimestampRules(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	f.advance(100)
	drift := int64(tfgridtypes.DefaultTimestampDrift)
	now := f.now()
	require.NoError(t, f.report(w.Node, workedVM.report(w.mine, now-50, 0)), "an older timestamp than block time is fine the first time")

	for _, tc := range []struct {
		name      string
		reports   []types.ConsumptionReport
		fragments []string
	}{
		{"same timestamp as the previous report", []types.ConsumptionReport{workedVM.report(w.mine, now-50, 0)}, []string{"not after the previous report's"}},
		{"older than the previous report", []types.ConsumptionReport{workedVM.report(w.mine, now-51, 0)}, []string{"not after"}},
		{"beyond block time + drift", []types.ConsumptionReport{workedVM.report(w.theirs, now+drift+1, 0)}, []string{"timestamp"}},
		{"zero timestamp", []types.ConsumptionReport{workedVM.report(w.mine, 0, 0)}, []string{"timestamp 0"}},
		{"two reports of one contract with one timestamp", []types.ConsumptionReport{
			workedVM.report(w.mine, now, 0), workedVM.report(w.mine, now, 0),
		}, []string{"not after"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.tx(func() error { return f.report(w.Node, tc.reports...) })
			requireerr.Is(t, err, types.ErrInvalidReport, tc.fragments...)
		})
	}
	require.Equal(t, now-50, f.billing(w.mine).LastReport.Timestamp)

	require.NoError(t, f.report(w.Node, workedVM.report(w.mine, now+drift, 0)), "up to block time + drift")
	require.NoError(t, f.report(w.other, workedVM.report(w.theirs, now, 0), workedVM.report(w.theirs, now+1, 0)), "strictly increasing in one message")
	f.requireInvariants()
}

func TestReportAboveCapacityRejected(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	for _, u := range []usage{
		{cru: keepertest.NodeResources.Cru + 1},
		{mru: keepertest.NodeResources.Mru + 1},
		{sru: keepertest.NodeResources.Sru + 1},
		{hru: 1}, // the test nodes have no hdd
	} {
		err := f.tx(func() error { return f.report(w.Node, u.report(w.mine, f.now()+1, 0)) })
		requireerr.Is(t, err, types.ErrInvalidReport, "exceeds the node's")
	}
	full := usage{cru: keepertest.NodeResources.Cru, mru: keepertest.NodeResources.Mru, sru: keepertest.NodeResources.Sru}
	require.NoError(t, f.report(w.Node, full.report(w.mine, f.now()+1, 0)), "exactly the capacity (charged as the reservation)")
}

func TestReportFromNonNode(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	_, err := f.msg.ReportConsumption(f.Ctx, &types.MsgReportConsumption{Creator: w.Alice.Acc, Reports: []types.ConsumptionReport{workedVM.report(w.mine, f.now(), 0)}})
	requireerr.Is(t, err, tfgridtypes.ErrNodeNotFound)
	_, err = f.msg.ReportConsumption(f.Ctx, &types.MsgReportConsumption{Creator: f.NewAccount(), Reports: []types.ConsumptionReport{workedVM.report(w.mine, f.now(), 0)}})
	requireerr.Is(t, err, tfgridtypes.ErrTwinNotFound)
}

// A report whose settlement deletes its contract (grace ran out, the block's EndBlocker has not run
// yet) skips that report instead of failing the node's whole message.
func TestReportForContractDeletedBySettlement(t *testing.T) {
	f := newFixture(t)
	w := f.newReportWorld()
	broke := f.NewUser()
	id := f.vmContract(broke, w.Node.ID, "broke", 0)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(broke.Acc, 0)
	f.advance(hour)
	f.endBlock()
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(id))

	f.advanceTo(f.Contract(id).GraceSince + gracePeriod)
	f.ResetEvents()
	err := f.tx(func() error {
		return f.report(w.Node, workedVM.report(id, f.now(), 0), workedVM.report(w.mine, f.now(), 0))
	})
	require.NoError(t, err)
	require.False(t, f.live(id))
	require.Equal(t, []*types.EventConsumptionReportSkipped{{ContractId: id, NodeId: w.Node.ID}},
		typedEvents[*types.EventConsumptionReportSkipped](f))
	require.NotNil(t, f.billing(w.mine).LastReport)
	f.requireInvariants()
}
