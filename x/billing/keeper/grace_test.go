package keeper_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const gracePeriod = 14 * 24 * hour

// hourly is one hour of the worked VM with its IP at 10 mUSD: 4,236,000 utft.
var hourly = expectUTFT(costOf(sum(workedResourcesPerHour, ipPerHour), hour), "10")

// Short of funds: the twin pays what it can, the rest is kept as overdraft and the contract enters
// grace; a top-up and MsgSettleContract pay the overdraft and end the grace.
func TestInsufficientFundsGraceAndTopUp(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(w.Alice.Acc, 1_000_000)

	before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.advance(hour)
	overdrawnAt := f.now()
	f.ResetEvents()
	f.endBlock()
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(1_000_000, 0))
	require.Equal(t, []*types.EventContractOverdrawn{{ContractId: id, Paid: "1000000", Overdraft: fmt.Sprint(hourly - 1_000_000)}},
		typedEvents[*types.EventContractOverdrawn](f))
	require.Equal(t, fmt.Sprint(hourly), typedEvents[*types.EventContractSettled](f)[0].Amount)
	require.Len(t, typedEvents[*sctypes.EventContractGracePeriodStarted](f), 1)

	c := f.Contract(id)
	require.Equal(t, sctypes.ContractStateGracePeriod, c.State)
	require.Equal(t, overdrawnAt, c.GraceSince)
	b := f.billing(id)
	requireInt(t, hourly-1_000_000, b.StandardOverdraft)
	requireInt(t, 0, b.ExtraOverdraft)
	require.Equal(t, overdrawnAt+hour, b.NextDue)
	f.requireInvariants()

	// still nothing to pay with: the overdraft grows, the grace goes on
	f.advance(hour)
	f.endBlock()
	requireInt(t, 2*hourly-1_000_000, f.billing(id).StandardOverdraft)
	require.Equal(t, overdrawnAt, f.Contract(id).GraceSince)
	f.requireInvariants()

	// top up, settle: the overdraft and the last ten minutes are paid, the grace ends
	f.setBalance(w.Alice.Acc, 20_000_000)
	f.uptime(w.Node)
	f.advance(600)
	before = f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
	f.ResetEvents()
	f.mustSettle(id)
	tenMinutes := expectUTFT(costOf(sum(workedResourcesPerHour, ipPerHour), 600), "10")
	f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(2*hourly-1_000_000+tenMinutes, 0))
	require.Equal(t, sctypes.ContractStateCreated, f.state(id))
	require.Zero(t, f.Contract(id).GraceSince)
	require.Len(t, typedEvents[*sctypes.EventContractGracePeriodEnded](f), 1)
	require.Empty(t, typedEvents[*types.EventContractOverdrawn](f))
	requireInt(t, 0, f.billing(id).StandardOverdraft)
	f.requireInvariants()
}

// A contract in grace longer than grace_period is deleted with OUT_OF_FUNDS at its next settlement:
// its IPs are freed, its overdraft written off, its billing state and queue entry dropped.
func TestGraceExpiryDeletesContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	f.setBalance(w.Alice.Acc, 0)
	c := f.Contract(id)
	ip := c.GetNodeContract().PublicIps[0].Ip

	f.advance(hour)
	f.endBlock()
	graceSince := f.now()
	deadline := graceSince + gracePeriod
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(id))

	// half an hour before the deadline: still in grace; the next settlement is due no later than the deadline
	f.advanceTo(deadline - hour/2)
	f.endBlock()
	require.True(t, f.live(id))
	require.Equal(t, deadline, f.billing(id).NextDue)
	f.requireInvariants()

	supply := f.Bank.Supply(f.Ctx, keepertest.Denom)
	f.advanceTo(deadline)
	f.ResetEvents()
	f.endBlock()
	require.False(t, f.live(id))
	tomb, err := f.SC.Tombstones.Get(f.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, sctypes.DeleteCauseOutOfFunds, tomb.DeleteCause)

	// the node went offline an hour after the contract started (no uptime report since), so the
	// resources were billable for one more hour, the IP for the whole grace
	owed := hourly + expectUTFT(sum(costOf(workedResourcesPerHour, hour), costOf(ipPerHour, gracePeriod)), "10")
	require.Equal(t, []*types.EventOverdraftWrittenOff{{ContractId: id, Amount: fmt.Sprint(owed)}},
		typedEvents[*types.EventOverdraftWrittenOff](f))
	require.Equal(t, uint64(0), f.publicIP(ip).ContractId, "IP freed")
	has, err := f.k.Contracts.Has(f.Ctx, id)
	require.NoError(t, err)
	require.False(t, has)
	require.False(t, f.queued(id, deadline))
	require.True(t, supply.Equal(f.Bank.Supply(f.Ctx, keepertest.Denom)), "a write-off moves no utft")
	f.requireInvariants()
}

func (f *fixture) publicIP(ip string) tfgridtypes.PublicIP {
	f.T.Helper()
	p, err := f.Grid.GetPublicIP(f.Ctx, ip)
	require.NoError(f.T, err)
	return p
}

// renterWorld is a rented node with a node contract of the renter on it.
type renterWorld struct {
	keepertest.World
	rent, vm uint64
}

func (f *fixture) newRenterWorld() renterWorld {
	w := f.NewWorld(1)
	rent := f.RentContract(w.Alice, w.Node.ID)
	vm := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	return renterWorld{World: w, rent: rent, vm: vm}
}

// A rent contract's grace takes the node contracts on its node with it.
func TestRentGracePropagates(t *testing.T) {
	f := newFixture(t)
	w := f.newRenterWorld()
	f.setBalance(w.Alice.Acc, 0)

	f.advance(hour)
	f.endBlock()
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(w.rent))
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(w.vm))
	f.requireInvariants()

	// a node contract in grace because of its rent contract stays there while the rent contract is in grace
	f.advance(60)
	f.setBalance(w.Alice.Acc, 1_000_000_000)
	f.mustSettle(w.vm)
	requireInt(t, 0, f.billing(w.vm).StandardOverdraft)
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(w.vm))
	f.requireInvariants()

	// paying the rent contract ends both graces
	f.mustSettle(w.rent)
	require.Equal(t, sctypes.ContractStateCreated, f.state(w.rent))
	require.Equal(t, sctypes.ContractStateCreated, f.state(w.vm))
	f.requireInvariants()
}

// When a rent contract leaves grace it takes the node contracts on its node out with it; they are
// settled at once, so one that can pay is out of grace and one that still owes goes back in.
func TestRentLeavesGraceSettlesNodeContracts(t *testing.T) {
	rentDue := expectUTFT(scale(costOf(nodePerHour, hour+60), 50, 100), "10")
	vmDue := expectUTFT(costOf(ipPerHour, hour), "10") + expectUTFT(costOf(ipPerHour, 60), "10")
	require.EqualValues(t, 5_577_433, rentDue)
	require.EqualValues(t, 705_567, vmDue)
	for name, tc := range map[string]struct {
		topUp     int64
		vmState   sctypes.ContractState
		vmOwesNow int64
	}{
		"enough for both":          {rentDue + vmDue, sctypes.ContractStateCreated, 0},
		"enough for the rent only": {rentDue + 100_000, sctypes.ContractStateGracePeriod, vmDue - 100_000},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			w := f.newRenterWorld()
			f.setBalance(w.Alice.Acc, 0)
			f.advance(hour)
			f.endBlock()
			requireInt(t, expectUTFT(costOf(ipPerHour, hour), "10"), f.billing(w.vm).StandardOverdraft)

			// top up and settle only the rent contract
			f.advance(60)
			f.setBalance(w.Alice.Acc, tc.topUp)
			f.mustSettle(w.rent)
			require.Equal(t, sctypes.ContractStateCreated, f.state(w.rent))
			require.Equal(t, tc.vmState, f.state(w.vm))
			requireInt(t, tc.vmOwesNow, f.billing(w.vm).StandardOverdraft)
			requireInt(t, 0, f.Balance(w.Alice.Acc))
			f.requireInvariants()
		})
	}
}

// A rent contract whose grace runs out is deleted with the node contracts on its node.
func TestRentGraceExpiryDeletesNodeContracts(t *testing.T) {
	f := newFixture(t)
	w := f.newRenterWorld()
	f.setBalance(w.Alice.Acc, 0)
	f.advance(hour)
	f.endBlock()
	deadline := f.now() + gracePeriod

	// both are due before the deadline, the rent contract first: settling it deletes the node contract
	// the EndBlocker still has in its list
	f.advanceTo(deadline)
	f.ResetEvents()
	f.endBlock()
	require.False(t, f.live(w.rent))
	require.False(t, f.live(w.vm))
	require.Empty(t, typedEvents[*types.EventSettlementFailed](f))
	written := map[uint64]bool{}
	for _, ev := range typedEvents[*types.EventOverdraftWrittenOff](f) {
		written[ev.ContractId] = true
	}
	require.Equal(t, map[uint64]bool{w.rent: true, w.vm: true}, written)
	f.requireInvariants()
}

// Closing a node closes its contracts, each settled a last time.
func TestDeleteNodeSettlesContracts(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	f.use(w.Node, id, workedVM, 0)
	f.advance(hour)
	f.ResetEvents()
	_, err := f.GridMsg.DeleteNode(f.Ctx, &tfgridtypes.MsgDeleteNode{Creator: w.Farm.Farmer.Acc, NodeId: w.Node.ID})
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(hourly), typedEvents[*types.EventContractSettled](f)[0].Amount)
	require.False(t, f.live(id))
	f.requireInvariants()
}

// Short of funds, the extra fee is paid first (100 % to the farmer); both parts of the debt are kept
// apart and paid the same way later.
func TestRentOverdraftPaysExtraFeeFirst(t *testing.T) {
	extra := expectUTFT(scale(bigRat(5000*10_000), hour, 2_592_000), "10")  // 694,444
	standard := expectUTFT(scale(costOf(nodePerHour, hour), 50, 100), "10") // 5,486,000
	for name, tc := range map[string]struct {
		balance                 int64
		paid                    paid
		extraOwed, standardOwed int64
	}{
		"less than the extra fee": {500_000, paid{owner: 500_000, farmer: 500_000}, extra - 500_000, standard},
		"the extra fee and some":  {extra + 1_000, split(1_000, extra), 0, standard - 1_000},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			w := f.NewWorld(0)
			_, err := f.SCMsg.SetDedicatedNodeExtraFee(f.Ctx, &sctypes.MsgSetDedicatedNodeExtraFee{Creator: w.Farm.Farmer.Acc, NodeId: w.Node.ID, ExtraFee: 5000})
			require.NoError(t, err)
			id := f.RentContract(w.Alice, w.Node.ID)
			f.setBalance(w.Alice.Acc, tc.balance)
			before := f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
			f.advance(hour)
			f.endBlock()
			f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, tc.paid)
			b := f.billing(id)
			requireInt(t, tc.extraOwed, b.ExtraOverdraft)
			requireInt(t, tc.standardOwed, b.StandardOverdraft)
			require.Equal(t, sctypes.ContractStateGracePeriod, f.state(id))
			f.requireInvariants()

			// top up: the extra debt goes to the farmer whole, the standard debt is split
			f.setBalance(w.Alice.Acc, 100_000_000)
			before = f.snap(w.Alice.Acc, w.Farm.Farmer.Acc)
			f.mustSettle(id)
			f.requirePaid(before, w.Alice.Acc, w.Farm.Farmer.Acc, split(tc.standardOwed, tc.extraOwed))
			require.Equal(t, sctypes.ContractStateCreated, f.state(id))
			f.requireInvariants()
		})
	}
}

// Another twin's node contract on a node rented later (the farm became dedicated): once it has paid,
// the rent contract's grace no longer holds it when the rent contract leaves grace.
func TestRentLeavesGraceReleasesOtherTwinsContract(t *testing.T) {
	f := newFixture(t)
	w := f.NewWorld(1)
	bob := f.NewUser()
	bobs := f.vmContract(bob, w.Node.ID, "bob", 1)
	_, err := f.GridMsg.SetFarmDedicated(f.Ctx, &tfgridtypes.MsgSetFarmDedicated{Authority: f.Authority, FarmId: w.Farm.ID, Dedicated: true})
	require.NoError(t, err)
	rent := f.RentContract(w.Alice, w.Node.ID)
	f.setBalance(w.Alice.Acc, 0)
	f.setBalance(bob.Acc, 0)

	f.advance(hour)
	f.endBlock()
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(rent))
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(bobs))

	// bob pays his debt while the rent contract is in grace
	f.setBalance(bob.Acc, 100_000_000)
	f.mustSettle(bobs)
	requireInt(t, 0, f.billing(bobs).StandardOverdraft)

	// alice pays hers: both are out of grace
	f.setBalance(w.Alice.Acc, 100_000_000)
	f.mustSettle(rent)
	require.Equal(t, sctypes.ContractStateCreated, f.state(rent))
	require.Equal(t, sctypes.ContractStateCreated, f.state(bobs))
	f.requireInvariants()
}
