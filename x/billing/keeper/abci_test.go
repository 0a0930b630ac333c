package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// settledNow lists the contracts among ids whose last settlement is the current block time.
func (f *fixture) settledNow(ids ...uint64) []uint64 {
	var out []uint64
	for _, id := range ids {
		if f.billing(id).LastSettled == f.now() {
			out = append(out, id)
		}
	}
	return out
}

// The EndBlocker settles exactly the contracts that are due.
func TestEndBlockerSettlesOnlyDue(t *testing.T) {
	f := newFixture(t)
	alice := f.NewUser()
	start := f.now()
	early := f.NameContract(alice, "early")
	f.advance(hour / 2)
	late := f.NameContract(alice, "late")

	f.advanceTo(start + hour - 1)
	f.endBlock()
	require.Empty(t, f.settledNow(early, late))

	f.advanceTo(start + hour)
	f.endBlock()
	require.Equal(t, []uint64{early}, f.settledNow(early, late))
	require.Equal(t, start+2*hour, f.billing(early).NextDue)
	require.Equal(t, start+hour+hour/2, f.billing(late).NextDue)

	f.advanceTo(start + hour + hour/2)
	f.endBlock()
	require.Equal(t, []uint64{late}, f.settledNow(early, late))
	f.requireInvariants()
}

// At most max_settlements_per_block contracts are settled per block, in due order; the rest wait.
func TestEndBlockerCapAndDueOrder(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxSettlementsPerBlock = 2 })
	alice := f.NewUser()
	start := f.now()
	var ids []uint64
	for i := range 5 {
		ids = append(ids, f.NameContract(alice, fmt.Sprintf("name-%d", i)))
	}
	// settling the first one by hand moves it to the back of the queue
	f.advance(100)
	f.mustSettle(ids[0])
	require.Equal(t, start+100+hour, f.billing(ids[0]).NextDue)

	f.advanceTo(start + hour)
	f.endBlock()
	require.Equal(t, []uint64{ids[1], ids[2]}, f.settledNow(ids...))
	f.advance(5)
	f.endBlock()
	require.Equal(t, []uint64{ids[3], ids[4]}, f.settledNow(ids...))
	f.advance(5)
	f.endBlock()
	require.Empty(t, f.settledNow(ids...), "the first contract is not due before start+100+1h")
	f.advanceTo(start + 100 + hour)
	f.endBlock()
	require.Equal(t, []uint64{ids[0]}, f.settledNow(ids...))
	f.requireInvariants()
}

// A backlog is worked off at the cap per block, oldest due first.
func TestEndBlockerBacklog(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxSettlementsPerBlock = 3 })
	alice := f.NewUser()
	var ids []uint64
	for i := range 7 {
		ids = append(ids, f.NameContract(alice, fmt.Sprintf("name-%d", i)))
		f.advance(10)
	}
	f.setBalance(alice.Acc, 100_000_000)
	// long after every contract is due: 3, 3, 1 per block
	f.advance(5 * hour)
	var perBlock []int
	var order []uint64
	for range 4 {
		f.ResetEvents()
		f.endBlock()
		settled := typedEvents[*types.EventContractSettled](f)
		perBlock = append(perBlock, len(settled))
		for _, ev := range settled {
			order = append(order, ev.ContractId)
		}
		f.advance(1)
	}
	require.Equal(t, []int{3, 3, 1, 0}, perBlock)
	require.Equal(t, ids, order)
	f.requireInvariants()
}

// A failing settlement is rolled back, reported and postponed one interval; the block goes on.
func TestEndBlockerFailingSettlementPostponed(t *testing.T) {
	f := newFixture(t)
	farm := f.NewFarm(0)
	good, bad := f.NewNode(farm), f.NewNode(farm)
	alice := f.NewUser()
	f.setBalance(alice.Acc, 100_000_000)
	ok := f.vmContract(alice, good.ID, "ok", 0)
	broken := f.vmContract(alice, bad.ID, "broken", 0)
	f.use(good, ok, workedVM, 0)
	f.use(bad, broken, workedVM, 0)
	start := f.now()

	// the broken contract's node disappears from under it
	f.corrupted = true
	require.NoError(t, f.Grid.Nodes.Remove(f.Ctx, bad.ID))

	before := f.snap(alice.Acc, farm.Farmer.Acc)
	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	f.requirePaid(before, alice.Acc, farm.Farmer.Acc, split(expectUTFT(costOf(workedResourcesPerHour, hour), "10"), 0))
	failed := typedEvents[*types.EventSettlementFailed](f)
	require.Len(t, failed, 1)
	require.Equal(t, broken, failed[0].ContractId)
	require.Contains(t, failed[0].Reason, "node")
	settled := f.settledEvents()
	require.Len(t, settled, 1)
	require.Contains(t, settled, ok)

	b := f.billing(broken)
	require.Equal(t, start, b.LastSettled, "nothing of the failed settlement stays")
	require.Equal(t, f.now()+hour, b.NextDue, "postponed one interval")
	require.True(t, f.queued(broken, f.now()+hour))
	require.False(t, f.queued(broken, start+hour))
	require.NoError(t, f.k.CheckInvariants(f.Ctx))
}

// Without a price nothing can be settled: every due contract is postponed, the chain goes on, and a
// direct settlement fails with ErrNoPrice.
func TestEndBlockerWithoutPrice(t *testing.T) {
	f := newFixture(t)
	alice := f.NewUser()
	a, b := f.NameContract(alice, "aaa"), f.NameContract(alice, "bbb")
	require.NoError(t, f.k.PriceAverage.Remove(f.Ctx))

	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	failed := typedEvents[*types.EventSettlementFailed](f)
	require.Len(t, failed, 2)
	for _, ev := range failed {
		require.Contains(t, ev.Reason, types.ErrNoPrice.Error())
	}
	require.Equal(t, f.now()+hour, f.billing(a).NextDue)
	require.Equal(t, f.now()+hour, f.billing(b).NextDue)
	requireerr.Is(t, f.settle(a), types.ErrNoPrice)
	f.requireInvariants()
}

// A settlement that fails after moving utft leaves nothing behind: here a grace expiry whose contract
// deletion fails (the contract module cannot return the deposit).
func TestEndBlockerRollsBackPartialSettlement(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 0)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(w.Alice.Acc, 0)
	f.advance(hour)
	f.endBlock()
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(id))

	f.advance(gracePeriod)
	f.setBalance(w.Alice.Acc, 1000)
	f.corrupted = true
	f.Bank.SetAmount(f.Ctx, moduleAddr(sctypes.ModuleName), keepertest.Denom, zeroInt())
	billingBefore := f.billing(id)
	f.ResetEvents()
	f.endBlock()
	requireInt(t, 1000, f.Balance(w.Alice.Acc), "the partial payment is rolled back")
	require.True(t, f.live(id))
	require.Len(t, typedEvents[*types.EventSettlementFailed](f), 1)
	require.Empty(t, typedEvents[*types.EventContractSettled](f))
	b := f.billing(id)
	require.Equal(t, billingBefore.LastSettled, b.LastSettled)
	require.Equal(t, billingBefore.StandardOverdraft, b.StandardOverdraft)
	require.Equal(t, f.now()+hour, b.NextDue)
	require.NoError(t, f.k.CheckInvariants(f.Ctx))
}
