package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// A node contract with reported usage and one IP, settled by the EndBlocker after exactly one hour,
// charges the worked example and pays farmer, foundation and stakers 50/40/10.
func TestSettleNodeContractOneHour(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	start := f.now()
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	require.Equal(t, types.Usage{Cru: 2, Mru: 4 * gib, Sru: 50 * gib}, f.billing(id).Usage)

	// alice holds 9 TFT after the deposit: far below 1.5 months of this contract, so no discount
	want := expectUTFT(costOf(sum(workedResourcesPerHour, ipPerHour), hour), "10")
	require.EqualValues(t, 4_236_000, want)

	f.advance(hour - 1)
	f.endBlock()
	require.Equal(t, start, f.billing(id).LastSettled, "not due yet")

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(1)
	f.ResetEvents()
	f.endBlock()
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(want, 0))
	require.Equal(t, paid{owner: 4_236_000, farmer: 2_118_000, foundation: 1_694_400, staking: 423_600}, split(want, 0))

	settled := typedEvents[*types.EventContractSettled](f)
	require.Equal(t, []*types.EventContractSettled{{
		ContractId: id, PeriodStart: start, PeriodEnd: start + hour, Amount: "4236000", DiscountLevel: types.DiscountLevelNone,
		Paid: "4236000", FarmId: w.Farm.ID, FarmerAmount: "2118000", FoundationAmount: "1694400", StakingAmount: "423600",
	}}, settled)
	require.Equal(t, []*types.EventSharesDistributed{{
		Foundation: f.foundation(), FoundationAmount: "1694400", StakingAmount: "423600",
	}}, typedEvents[*types.EventSharesDistributed](f), "the foundation and stakers are paid at the end of the block")
	require.Equal(t, types.FarmPayout{FarmId: w.Farm.ID, Amount: sdkmath.NewInt(2_118_000), Due: start + hour + 24*hour},
		f.payout(w.Farm.ID), "the farmer share waits in the farm's payout")

	b := f.billing(id)
	require.Equal(t, start+hour, b.LastSettled)
	require.Equal(t, start+2*hour, b.NextDue)
	require.True(t, f.queued(id, start+2*hour))
	require.False(t, f.queued(id, start+hour))
	require.Equal(t, sctypes.ContractStateCreated, f.state(id))
	f.requireInvariants()
}

// The farmer and staking shares are floored and the foundation gets the remainder.
func TestSettleSplitFloors(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour - 1)
	f.mustSettle(id)
	// 423,600 × 3,599 / 3,600 × 100 / 10 = 4,234,823.3 → 4,234,823; farmer 2,117,411(.5), staking 423,482(.3)
	want := expectUTFT(costOf(sum(workedResourcesPerHour, ipPerHour), hour-1), "10")
	require.EqualValues(t, 4_234_823, want)
	require.Equal(t, paid{owner: 4_234_823, farmer: 2_117_411, foundation: 1_693_930, staking: 423_482}, split(want, 0))
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(want, 0))
	f.requireInvariants()
}

// The twin's spendable balance against M (720 h of the contract's undiscounted standard cost) picks the
// discount: the worked thresholds, through a real settlement.
func TestSettleDiscountLevels(t *testing.T) {
	for _, tc := range []struct {
		balance int64
		level   types.DiscountLevel
		num     int64 // multiplier num/10
		charged int64
	}{
		{4_574_879_999, types.DiscountLevelNone, 10, 4_236_000},
		{4_574_880_000, types.DiscountLevelDefault, 8, 3_388_800},
		{9_149_759_999, types.DiscountLevelDefault, 8, 3_388_800},
		{9_149_760_000, types.DiscountLevelBronze, 7, 2_965_200},
		{18_299_520_000, types.DiscountLevelSilver, 6, 2_541_600},
		{54_898_560_000, types.DiscountLevelGold, 4, 1_694_400},
	} {
		t.Run(fmt.Sprint(tc.balance), func(t *testing.T) {
			f := newFixture(t)
			w := f.NewWorld(1)
			id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
			f.use(w.Node, id, workedVM, 0)
			f.setBalance(w.Alice.Acc, tc.balance)

			want := expectUTFT(scale(costOf(sum(workedResourcesPerHour, ipPerHour), hour), tc.num, 10), "10")
			require.Equal(t, tc.charged, want)
			before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
			f.advance(hour)
			f.ResetEvents()
			f.endBlock()
			f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(want, 0))
			require.Equal(t, tc.level, typedEvents[*types.EventContractSettled](f)[0].DiscountLevel)
			f.requireInvariants()
		})
	}
}

// A certified node's contracts cost 1.25 times as much.
func TestSettleCertifiedNode(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	f.certify(w.Node)
	require.Equal(t, tfgridtypes.NodeCertificationCertified, f.node(w.Node.ID).Certification)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	f.endBlock()
	want := expectUTFT(scale(costOf(sum(workedResourcesPerHour, ipPerHour), hour), 5, 4), "10")
	require.EqualValues(t, 5_295_000, want)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(want, 0))
	f.requireInvariants()
}

// Name contracts pay 0 % to a farmer, 90 % to the foundation and 10 % to stakers.
func TestSettleNameContract(t *testing.T) {
	f := newFixture(t)
	alice := f.NewUser()
	id := f.NameContract(alice, "gateway")

	before := f.snap(alice.Acc, "")
	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	want := expectUTFT(costOf(bigRat(namePrice), hour), "10")
	require.EqualValues(t, 139_000, want)
	f.requirePaid(before, alice.Acc, "", paid{owner: want, foundation: want - want/10, staking: want / 10})
	require.Equal(t, []*types.EventContractSettled{{
		ContractId: id, PeriodStart: before.time, PeriodEnd: before.time + hour, Amount: "139000", DiscountLevel: types.DiscountLevelNone,
		Paid: "139000", FarmerAmount: "0", FoundationAmount: "125100", StakingAmount: "13900",
	}}, typedEvents[*types.EventContractSettled](f))
	require.Equal(t, []*types.EventSharesDistributed{{
		Foundation: f.foundation(), FoundationAmount: "125100", StakingAmount: "13900",
	}}, typedEvents[*types.EventSharesDistributed](f))
	f.requireInvariants()
}

// The rounding check through a settlement: a name contract for 1 s at 7 mUSD is 55 utft,
// split 50 to the foundation (the rest of 55 − floor(5.5)) and 5 to stakers.
func TestSettleNameContractOneSecondAt7mUSD(t *testing.T) {
	f := newFixture(t)
	f.setPrice("7")
	alice := f.NewUser()
	id := f.NameContract(alice, "gateway")
	before := f.snap(alice.Acc, "")
	f.advance(1)
	f.mustSettle(id)
	require.EqualValues(t, 55, expectUTFT(costOf(bigRat(namePrice), 1), "7"))
	f.requirePaid(before, alice.Acc, "", paid{owner: 55, foundation: 50, staking: 5})
}

// A rent contract pays (100 − dedicated_node_discount_percent) % of the node's full capacity, split
// 50/40/10, and the extra fee 100 % to the farmer, never discounted.
func TestSettleRentContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &sctypes.MsgSetDedicatedNodeExtraFee{Creator: w.Farm.Farmer.Acc, NodeId: w.Node.ID, ExtraFee: 5000})
	require.NoError(t, err)
	f.RentContract(w.Alice, w.Node.ID)
	// a discount tier for the standard part: (5,486,000 × 720) × 1.5 = 5,924,880,000
	f.setBalance(w.Alice.Acc, 6_000_000_000)

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	standard := expectUTFT(scale(scale(costOf(nodePerHour, hour), 50, 100), 8, 10), "10")
	// extra fee: 5,000 mUSD a month = 5,000 × 10,000 × 3,600 / 2,592,000 cost units an hour = 69,444.4
	extra := expectUTFT(scale(bigRat(5000*10_000), hour, 2_592_000), "10")
	require.EqualValues(t, 4_388_800, standard)
	require.EqualValues(t, 694_444, extra)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(standard, extra))
	ev := typedEvents[*types.EventContractSettled](f)
	require.Len(t, ev, 1)
	require.Equal(t, fmt.Sprint(standard+extra), ev[0].Amount)
	require.Equal(t, types.DiscountLevelDefault, ev[0].DiscountLevel)
	f.requireInvariants()
}

// A node contract on a rented node pays only its IPs and NU; the renter pays for the machine.
func TestSettleNodeContractOnRentedNode(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	rent := f.RentContract(w.Alice, w.Node.ID)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 1_000_000_000)

	f.setBalance(w.Alice.Acc, 50_000_000)
	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	f.ResetEvents()
	f.endBlock()
	settled := f.settledEvents()
	nodeWant := expectUTFT(sum(costOf(ipPerHour, hour), bigRat(nuPrice)), "10")
	rentWant := expectUTFT(scale(costOf(nodePerHour, hour), 50, 100), "10")
	require.EqualValues(t, 694_000+500_000, nodeWant)
	require.Equal(t, fmt.Sprint(nodeWant), settled[id][0].Amount)
	require.Equal(t, fmt.Sprint(rentWant), settled[rent][0].Amount)
	// the two payments are split separately
	want := split(nodeWant, 0)
	r := split(rentWant, 0)
	want.owner, want.farmer, want.foundation, want.staking = want.owner+r.owner, want.farmer+r.farmer, want.foundation+r.foundation, want.staking+r.staking
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, want)
	f.requireInvariants()
}

// A rent contract is not charged while its node's power state is down. The power change settles
// nothing: it moves the node's clock, and the next settlement charges the time the node was up.
func TestSettleRentContractPowerDown(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &sctypes.MsgSetDedicatedNodeExtraFee{Creator: w.Farm.Farmer.Acc, NodeId: w.Node.ID, ExtraFee: 5000})
	require.NoError(t, err)
	id := f.RentContract(w.Alice, w.Node.ID)
	start := f.now()
	f.setBalance(w.Alice.Acc, 100_000_000)
	farmer := w.Farm.Farmer.Acc

	// up for half an hour, then down: the node's power change settles nothing
	before := f.snap(w.Alice.Acc, farmer)
	f.advance(hour / 2)
	f.power(w.Node, tfgridtypes.PowerStateDown)
	f.requirePaid(before, w.Alice.Acc, farmer, paid{})
	require.Equal(t, start, f.billing(id).LastSettled)

	// the scheduled settlement an hour later charges the half hour up, and later ones nothing
	f.advance(hour)
	f.endBlock()
	half := split(expectUTFT(scale(costOf(nodePerHour, hour/2), 50, 100), "10"), expectUTFT(scale(bigRat(5000*10_000), hour/2, 2_592_000), "10"))
	f.requirePaid(before, w.Alice.Acc, farmer, half)
	require.Equal(t, start+hour+hour/2, f.billing(id).LastSettled)
	before = f.snap(w.Alice.Acc, farmer)
	f.advance(2 * hour)
	f.endBlock()
	f.mustSettle(id)
	f.requirePaid(before, w.Alice.Acc, farmer, paid{})
	require.Equal(t, f.now(), f.billing(id).LastSettled)

	// back up after ten more minutes down: the settlement an hour later charges that hour in full
	f.advance(600)
	f.power(w.Node, tfgridtypes.PowerStateUp)
	f.requirePaid(before, w.Alice.Acc, farmer, paid{})
	f.advance(hour)
	f.mustSettle(id)
	f.requirePaid(before, w.Alice.Acc, farmer, split(expectUTFT(scale(costOf(nodePerHour, hour), 50, 100), "10"), 694_444))
	f.requireInvariants()
}

// A node that stops reporting uptime is offline from last uptime + node_offline_after: its contracts'
// resources are not charged after that, their IPs still are.
func TestSettleNodeOffline(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(w.Alice.Acc, 100_000_000)

	// three hours without an uptime report: resources for two (node_offline_after), the IP for three
	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(3 * hour)
	f.mustSettle(id)
	want := expectUTFT(sum(costOf(workedResourcesPerHour, 2*hour), costOf(ipPerHour, 3*hour)), "10")
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(want, 0))

	// still offline: only the IP
	before = f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	f.mustSettle(id)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(expectUTFT(costOf(ipPerHour, hour), "10"), 0))
	f.requireInvariants()
}

// An uptime report that ends an offline period settles nothing: it moves the node's clock, so the
// gap is never billed, whenever the next settlement comes.
func TestUptimeAfterOfflineGapIsNotBilled(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	start := f.now()
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(w.Alice.Acc, 100_000_000)

	// silent for five hours (no settlement in between), then the node is back
	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(5 * hour)
	f.ResetEvents()
	f.uptime(w.Node)
	require.Equal(t, start, f.billing(id).LastSettled, "the node's report settled nothing")
	require.Empty(t, typedEvents[*types.EventContractSettled](f))
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, paid{})

	// an hour later: resources for the two hours before it went offline (node_offline_after) and the
	// hour since the report, the IP for all six
	f.advance(hour)
	f.mustSettle(id)
	want := expectUTFT(sum(costOf(workedResourcesPerHour, 3*hour), costOf(ipPerHour, 6*hour)), "10")
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(want, 0))

	// a report within node_offline_after changes nothing: the next hour is charged in full
	before = f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour / 2)
	f.uptime(w.Node)
	f.advance(hour / 2)
	f.mustSettle(id)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(expectUTFT(costOf(sum(workedResourcesPerHour, ipPerHour), hour), "10"), 0))
	f.requireInvariants()
}

// NU is priced per GB transferred, whatever the report's window.
func TestSettleNUPerGB(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	short := f.vmContract(w.Alice, w.Node.ID, "short", 0)
	long := f.vmContract(w.Alice, w.Node.ID, "long", 0)
	f.advance(86_400)

	reports := []types.ConsumptionReport{
		{ContractId: short, Timestamp: f.now(), Window: 60, Nru: 2_500_000_000},
		{ContractId: long, Timestamp: f.now(), Window: 86_400, Nru: 2_500_000_000},
	}
	require.NoError(t, f.report(w.Node, reports...))
	// 2.5 GB × 50,000 = 125,000 cost units
	require.Equal(t, "125000.000000000000000000", f.billing(short).UnbilledNu.String())
	require.Equal(t, f.billing(short).UnbilledNu, f.billing(long).UnbilledNu)

	f.ResetEvents()
	f.mustSettle(short)
	f.mustSettle(long)
	settled := f.settledEvents()
	want := fmt.Sprint(expectUTFT(bigRat(125_000), "10"))
	require.Equal(t, "1250000", want)
	require.Equal(t, want, settled[short][0].Amount)
	require.Equal(t, want, settled[long][0].Amount)
	require.True(t, f.billing(short).UnbilledNu.IsZero(), "NU is billed once")

	// a second settlement without a new report charges nothing
	f.ResetEvents()
	f.advance(10)
	f.mustSettle(short)
	require.Empty(t, typedEvents[*types.EventContractSettled](f))
	f.requireInvariants()
}

// A new usage report settles the contract at its previous usage first; the new usage applies from then on.
func TestReportSettlesAtPreviousUsage(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	double := usage{cru: 4, mru: 8 * gib, sru: 100 * gib} // CU 2, SU 0.5
	id := f.nodeContractReserving(w.Alice, w.Node.ID, "vm", 0, double.resources(), 0)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(w.Alice.Acc, 100_000_000)

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour / 2)
	f.use(w.Node, id, double, 0)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(expectUTFT(costOf(workedResourcesPerHour, hour/2), "10"), 0))

	before = f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour / 2)
	f.mustSettle(id)
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(expectUTFT(costOf(scale(workedResourcesPerHour, 2, 1), hour/2), "10"), 0))
	f.requireInvariants()
}

// Cancelling settles the contract a last time, then drops its billing state and queue entry.
func TestCancelSettlesLastTime(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	start := f.now()
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 1_000_000_000)
	due := f.billing(id).NextDue

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour / 2)
	f.ResetEvents()
	f.mustCancel(w.Alice, id)
	want := expectUTFT(sum(costOf(sum(workedResourcesPerHour, ipPerHour), hour/2), bigRat(nuPrice)), "10")
	// the deposit comes back to alice in the same step
	after := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	require.Equal(t, want-1_000_000, before.owner.Sub(after.owner).Int64())
	require.Equal(t, split(want, 0).farmer, after.farmer.Sub(before.farmer).Int64())
	shares := split(want, 0)
	require.Equal(t, []*types.EventContractSettled{{
		ContractId: id, PeriodStart: start, PeriodEnd: start + hour/2, Amount: fmt.Sprint(want), DiscountLevel: types.DiscountLevelNone,
		Paid: fmt.Sprint(want), FarmId: w.Farm.ID, FarmerAmount: fmt.Sprint(shares.farmer),
		FoundationAmount: fmt.Sprint(shares.foundation), StakingAmount: fmt.Sprint(shares.staking),
	}}, typedEvents[*types.EventContractSettled](f))

	has, err := f.k.Contracts.Has(f.Ctx, id)
	require.NoError(t, err)
	require.False(t, has)
	require.False(t, f.queued(id, due))
	require.Empty(t, typedEvents[*types.EventOverdraftWrittenOff](f))
	f.requireInvariants()
}

// Updating a node contract settles it first.
func TestUpdateSettlesFirst(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 0)
	f.use(w.Node, id, workedVM, 0)
	f.advance(600)
	_, err := f.SCMsg.UpdateNodeContract(f.Ctx, &sctypes.MsgUpdateNodeContract{Creator: w.Alice.Acc, ContractId: id, DeploymentHash: keepertest.Hash("vm2"), DeploymentData: []byte("d")})
	require.NoError(t, err)
	b := f.billing(id)
	require.Equal(t, f.now(), b.LastSettled)
	require.Equal(t, f.now()+hour, b.NextDue)
	require.Equal(t, types.Usage{}, b.Usage, "the update reserves nothing, so the reported usage is no longer charged")
	f.requireInvariants()
}

// MsgSettleContract may be sent by anyone, and only for a live billed contract.
func TestSettleContractMessage(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(0)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 0)
	f.advance(5)
	_, err := f.msg.SettleContract(f.Ctx, &types.MsgSettleContract{Creator: f.NewAccount(), ContractId: id})
	require.NoError(t, err)
	require.Equal(t, f.now(), f.billing(id).LastSettled)

	requireerr.Is(t, f.settle(99), sctypes.ErrContractNotFound, "99")
	f.mustCancel(w.Alice, id)
	requireerr.Is(t, f.settle(id), sctypes.ErrContractNotFound)
}
