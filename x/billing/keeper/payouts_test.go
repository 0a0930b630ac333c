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
	w := f.NewWorld(1)
	f.setBalance(w.Alice.Acc, 100_000_000) // below every discount tier of one IP
	f.vmContract(w.Alice, w.Node.ID, "ip", 1)
	farmer0 := f.Balance(w.Farm.Farmer.Acc)
	firstShare := f.now() + hour
	perHour := ipFarmerPerHour()
	require.EqualValues(t, 347_000, perHour)

	for range 24 {
		f.advance(hour)
		f.endBlock()
	}
	require.Equal(t, farmer0.String(), f.Balance(w.Farm.Farmer.Acc).String(), "nothing paid out before the interval")
	require.Equal(t, types.FarmPayout{FarmId: w.Farm.ID, Amount: sdkmath.NewInt(24 * perHour), Due: firstShare + 24*hour}, f.payout(w.Farm.ID))

	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	requireInt(t, farmer0.Int64()+25*perHour, f.Balance(w.Farm.Farmer.Acc), "the 25 hours' shares, this block's included")
	require.Equal(t, []*types.EventFarmPayout{{FarmId: w.Farm.ID, Farmer: w.Farm.Farmer.Acc, Amount: sdkmath.NewInt(25 * perHour).String()}},
		typedEvents[*types.EventFarmPayout](f))
	require.True(t, f.payout(w.Farm.ID).Amount.IsZero(), "paid out in full")
	f.requireInvariants()

	f.advance(hour)
	f.endBlock()
	require.Equal(t, types.FarmPayout{FarmId: w.Farm.ID, Amount: sdkmath.NewInt(perHour), Due: f.now() + 24*hour}, f.payout(w.Farm.ID),
		"the next share starts the next payout")
}

// EndBlock makes at most max_payouts_per_block payouts, in due order; the rest wait a block.
func TestFarmPayoutsCappedPerBlock(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxPayoutsPerBlock = 1; p.PayoutInterval = hour })
	a, b := f.NewWorld(1), f.NewWorld(1)
	f.vmContract(a.Alice, a.Node.ID, "a", 1)
	f.advance(60)
	f.vmContract(b.Alice, b.Node.ID, "b", 1)
	f.advanceTo(f.now() + hour - 60)
	f.endBlock() // a's first settlement
	f.advance(60)
	f.endBlock() // b's
	aDue, bDue := f.payout(a.Farm.ID).Due, f.payout(b.Farm.ID).Due
	require.Less(t, aDue, bDue)

	f.advanceTo(bDue)
	f.ResetEvents()
	f.endBlock()
	paid := typedEvents[*types.EventFarmPayout](f)
	require.Len(t, paid, 1, "one payout per block")
	require.Equal(t, a.Farm.ID, paid[0].FarmId, "the earliest due first")
	require.True(t, f.payout(b.Farm.ID).Amount.IsPositive(), "b waits")

	f.advance(1)
	f.ResetEvents()
	f.endBlock()
	paid = typedEvents[*types.EventFarmPayout](f)
	require.Len(t, paid, 1)
	require.Equal(t, b.Farm.ID, paid[0].FarmId)
	f.requireInvariants()
}

// A payout that cannot be made (here the farm is gone from the registry) is rolled back and retried
// one payout interval later; the utft stays pending, the block goes on.
func TestFarmPayoutFailurePostponed(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.PayoutInterval = hour })
	w := f.NewWorld(1)
	f.vmContract(w.Alice, w.Node.ID, "ip", 1)
	f.advance(hour)
	f.endBlock()
	pending := f.payout(w.Farm.ID)
	require.True(t, pending.Amount.IsPositive())

	f.corrupted = true
	require.NoError(t, f.Grid.Farms.Remove(f.Ctx, w.Farm.ID))
	f.advanceTo(pending.Due)
	f.ResetEvents()
	held := f.Balance(f.Addr(f.k.ModuleAddress()))
	require.NoError(t, f.k.EndBlocker(f.Ctx))
	require.Empty(t, typedEvents[*types.EventFarmPayout](f))
	p := f.payout(w.Farm.ID)
	require.Equal(t, pending.Amount.String(), p.Amount.String(), "still pending")
	require.Equal(t, f.now()+hour, p.Due, "retried one interval later")
	has, err := f.k.PayoutQueue.Keys.Has(f.Ctx, collections.Join(f.now()+hour, w.Farm.ID))
	require.NoError(t, err)
	require.True(t, has)
	require.Equal(t, held.String(), f.Balance(f.Addr(f.k.ModuleAddress())).String(), "nothing left the module account")
}

// A settlement outside EndBlock (here MsgSettleContract) hands its foundation and staking shares on at
// once and leaves only the farm's share in the module account.
func TestSettlementOutsideEndBlockDistributesAtOnce(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	f.setBalance(w.Alice.Acc, 100_000_000)
	id := f.vmContract(w.Alice, w.Node.ID, "ip", 1)
	foundation0 := f.Balance(f.foundation())
	f.advance(hour)
	f.ResetEvents()
	f.mustSettle(id)
	shares := split(expectUTFT(costOf(ipPerHour, hour), "10"), 0)
	require.Equal(t, []*types.EventSharesDistributed{{
		Foundation: f.foundation(), FoundationAmount: sdkmath.NewInt(shares.foundation).String(), StakingAmount: sdkmath.NewInt(shares.staking).String(),
	}}, typedEvents[*types.EventSharesDistributed](f))
	requireInt(t, foundation0.Int64()+shares.foundation, f.Balance(f.foundation()))
	requireInt(t, shares.farmer, f.Balance(f.Addr(f.k.ModuleAddress())), "the module account holds the farm's share only")
	requireInt(t, shares.farmer, f.payout(w.Farm.ID).Amount)
	f.requireInvariants()
}
