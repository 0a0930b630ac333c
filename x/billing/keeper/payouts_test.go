package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// ipFarmerPerHour is the farmer's share of one public IP for an hour at 10 mUSD, no discount.
func ipFarmerPerHour() int64 { return split(expectUTFT(costOf(ipPerHour, hour), "10"), 0).farmer }

// Farmer shares wait in the farm's payout and reach the farmer's account in one transfer
// payout_interval after the first of them; the next share starts a new payout.
func TestFarmPayoutAfterInterval(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	f.setBalance(w.alice.acc, 100_000_000) // below every discount tier of one IP
	f.nodeContract(w.alice, w.node.id, "ip", 1)
	farmer0 := f.balance(w.farm.farmer.acc)
	firstShare := f.now() + hour
	perHour := ipFarmerPerHour()
	require.EqualValues(t, 347_000, perHour)

	for range 24 {
		f.advance(hour)
		f.endBlock()
	}
	require.Equal(t, farmer0.String(), f.balance(w.farm.farmer.acc).String(), "nothing paid out before the interval")
	require.Equal(t, types.FarmPayout{FarmId: w.farm.id, Amount: sdkmath.NewInt(24 * perHour), Due: firstShare + 24*hour}, f.payout(w.farm.id))

	f.advance(hour)
	f.resetEvents()
	f.endBlock()
	requireInt(t, farmer0.Int64()+25*perHour, f.balance(w.farm.farmer.acc), "the 25 hours' shares, this block's included")
	require.Equal(t, []*types.EventFarmPayout{{FarmId: w.farm.id, Farmer: w.farm.farmer.acc, Amount: sdkmath.NewInt(25 * perHour).String()}},
		typedEvents[*types.EventFarmPayout](f))
	require.True(t, f.payout(w.farm.id).Amount.IsZero(), "paid out in full")
	f.requireInvariants()

	f.advance(hour)
	f.endBlock()
	require.Equal(t, types.FarmPayout{FarmId: w.farm.id, Amount: sdkmath.NewInt(perHour), Due: f.now() + 24*hour}, f.payout(w.farm.id),
		"the next share starts the next payout")
}

// EndBlock makes at most max_payouts_per_block payouts, in due order; the rest wait a block.
func TestFarmPayoutsCappedPerBlock(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxPayoutsPerBlock = 1; p.PayoutInterval = hour })
	a, b := f.newWorld(1), f.newWorld(1)
	f.nodeContract(a.alice, a.node.id, "a", 1)
	f.advance(60)
	f.nodeContract(b.alice, b.node.id, "b", 1)
	f.advanceTo(f.now() + hour - 60)
	f.endBlock() // a's first settlement
	f.advance(60)
	f.endBlock() // b's
	aDue, bDue := f.payout(a.farm.id).Due, f.payout(b.farm.id).Due
	require.Less(t, aDue, bDue)

	f.advanceTo(bDue)
	f.resetEvents()
	f.endBlock()
	paid := typedEvents[*types.EventFarmPayout](f)
	require.Len(t, paid, 1, "one payout per block")
	require.Equal(t, a.farm.id, paid[0].FarmId, "the earliest due first")
	require.True(t, f.payout(b.farm.id).Amount.IsPositive(), "b waits")

	f.advance(1)
	f.resetEvents()
	f.endBlock()
	paid = typedEvents[*types.EventFarmPayout](f)
	require.Len(t, paid, 1)
	require.Equal(t, b.farm.id, paid[0].FarmId)
	f.requireInvariants()
}

// A payout that cannot be made (here the farm is gone from the registry) is rolled back and retried
// one payout interval later; the utft stays pending, the block goes on.
func TestFarmPayoutFailurePostponed(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.PayoutInterval = hour })
	w := f.newWorld(1)
	f.nodeContract(w.alice, w.node.id, "ip", 1)
	f.advance(hour)
	f.endBlock()
	pending := f.payout(w.farm.id)
	require.True(t, pending.Amount.IsPositive())

	f.corrupted = true
	require.NoError(t, f.grid.Farms.Remove(f.ctx, w.farm.id))
	f.advanceTo(pending.Due)
	f.resetEvents()
	held := f.balance(f.addr(f.k.ModuleAddress()))
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Empty(t, typedEvents[*types.EventFarmPayout](f))
	p := f.payout(w.farm.id)
	require.Equal(t, pending.Amount.String(), p.Amount.String(), "still pending")
	require.Equal(t, f.now()+hour, p.Due, "retried one interval later")
	has, err := f.k.PayoutQueue.Has(f.ctx, collections.Join(f.now()+hour, w.farm.id))
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, held.String(), f.balance(f.addr(f.k.ModuleAddress())).String(), "nothing left the module account")
}

// A settlement outside EndBlock (here MsgSettleContract) hands its foundation and staking shares on at
// once and leaves only the farm's share in the module account.
func TestSettlementOutsideEndBlockDistributesAtOnce(t *testing.T) {
	f := newFixture(t)
	w := f.newWorld(1)
	f.setBalance(w.alice.acc, 100_000_000)
	id := f.nodeContract(w.alice, w.node.id, "ip", 1)
	foundation0 := f.balance(f.foundation())
	f.advance(hour)
	f.resetEvents()
	f.mustSettle(id)
	shares := split(expectUTFT(costOf(ipPerHour, hour), "10"), 0)
	require.Equal(t, []*types.EventSharesDistributed{{
		Foundation: f.foundation(), FoundationAmount: sdkmath.NewInt(shares.foundation).String(), StakingAmount: sdkmath.NewInt(shares.staking).String(),
	}}, typedEvents[*types.EventSharesDistributed](f))
	requireInt(t, foundation0.Int64()+shares.foundation, f.balance(f.foundation()))
	requireInt(t, shares.farmer, f.balance(f.addr(f.k.ModuleAddress())), "the module account holds the farm's share only")
	requireInt(t, shares.farmer, f.payout(w.farm.id).Amount)
	f.requireInvariants()
}
