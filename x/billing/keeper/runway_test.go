package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
)

// workedCeiling is what the worked VM contract with one IP costs an hour at most: its whole
// reservation, undiscounted, at the default 10 mUSD price (TestSettleNodeContractOneHour).
const workedCeiling = 4_236_000

// runwayFixture is a fixture on the runway schedule: settlements between 1 h and 24 h apart.
func runwayFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxSettlementInterval = 24 * hour })
	return f
}

// runwayContract is alice's worked VM contract with one IP, with alice holding hours of its ceiling
// once it was created, reported in full (the report settles it: it is scheduled on those funds); it
// returns the contract's id.
func (f *fixture) runwayContract(w keepertest.World, hours int64) uint64 {
	f.T.Helper()
	id := f.vmContract(w.Alice, w.Node.ID, "vm", 1)
	require.Equal(f.T, f.now()+hour, f.billing(id).NextDue, "a new contract is first due one settlement_interval away")
	requireInt(f.T, workedCeiling, f.billing(id).HourlyCeiling)
	f.setBalance(w.Alice.Acc, hours*workedCeiling)
	f.use(w.Node, id, workedVM, 0)
	return id
}

func TestRunwaySchedulesByOwnerFunds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hours int64 // alice's funds, in hours of the contract's ceiling
		want  int64 // seconds to the next settlement
	}{
		{"funds for weeks: the longest spacing", 1_000, 24 * hour},
		{"funds for 31 hours: half of them", 31, 31 * hour / 2},
		{"funds for 3 hours: half of them", 3, 3 * hour / 2},
		{"funds for 1 hour: the shortest spacing", 1, hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := runwayFixture(t)
			w := f.NewWorld(1)
			id := f.runwayContract(w, tc.hours)
			b := f.billing(id)
			require.Equal(t, f.now(), b.LastSettled)
			require.Equal(t, f.now()+tc.want, b.NextDue)
			require.True(t, f.queued(id, f.now()+tc.want))
			load, err := f.k.TwinLoads.Get(f.Ctx, w.Alice.Twin)
			require.NoError(t, err)
			requireInt(t, workedCeiling, load.HourlyCeiling)
			require.Equal(t, f.now()+tc.want, load.Horizon)
		})
	}
}

func TestRunwayHalvesAsFundsRunDown(t *testing.T) {
	f := runwayFixture(t)
	w := f.NewWorld(1)
	// A name contract costs its ceiling every hour, whatever its node does.
	id := f.NameContract(w.Alice, "alice")
	ceiling := f.billing(id).HourlyCeiling.Int64()
	f.setBalance(w.Alice.Acc, 33*ceiling)
	// Each settlement pays for the time since the last and schedules the next after half of what is
	// left, until the shortest spacing; then the funds run out at a settlement, not long before one.
	for _, want := range []int64{16 * hour, 8 * hour, 4 * hour, 2 * hour, hour, hour, hour} {
		f.advanceTo(f.billing(id).NextDue)
		f.endBlock()
		b := f.billing(id)
		require.Equal(t, f.now(), b.LastSettled)
		require.InDelta(t, f.now()+want, b.NextDue, 2, "rounding down each period's utft leaves a second or two less")
	}
	require.Less(t, f.Balance(w.Alice.Acc).Int64(), ceiling, "an hour later, the funds are spent")
	require.Equal(t, sctypes.ContractStateCreated, f.state(id))
	f.advanceTo(f.billing(id).NextDue)
	f.endBlock()
	require.Equal(t, sctypes.ContractStateGracePeriod, f.state(id), "an hour after that, the contract is in grace")
}

func TestRunwayLoadFollowsContracts(t *testing.T) {
	f := runwayFixture(t)
	w := f.NewWorld(1)
	vm := f.runwayContract(w, 1_000)
	name := f.NameContract(w.Alice, "alice")
	nameCeiling := f.billing(name).HourlyCeiling
	require.True(t, nameCeiling.IsPositive())
	load, err := f.k.TwinLoads.Get(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	requireInt(t, workedCeiling+nameCeiling.Int64(), load.HourlyCeiling)

	f.mustCancel(w.Alice, vm)
	load, err = f.k.TwinLoads.Get(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.Equal(t, nameCeiling, load.HourlyCeiling, "a deleted contract leaves its owner's load")
	f.mustCancel(w.Alice, name)
	has, err := f.k.TwinLoads.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.False(t, has, "a twin without contracts has no load")
}

// settledFarOut is alice's worked VM contract and a name contract on funds for weeks, both settled once
// and next due in a day.
func (f *fixture) settledFarOut(w keepertest.World) []uint64 {
	f.T.Helper()
	ids := []uint64{f.runwayContract(w, 1_000), f.NameContract(w.Alice, "alice")}
	f.advance(hour)
	f.endBlock()
	for _, id := range ids {
		require.GreaterOrEqual(f.T, f.billing(id).NextDue, f.now()+23*hour)
	}
	return ids
}

func TestDrainBringsSettlementsForward(t *testing.T) {
	f := runwayFixture(t)
	w := f.NewWorld(1)
	ids := f.settledFarOut(w)
	bob := f.NewUser()
	alice, balance := f.Bytes(w.Alice.Acc), f.Balance(w.Alice.Acc)

	// A send that leaves a day of costs and more changes nothing.
	small := sdk.NewCoins(sdk.NewInt64Coin(keepertest.Denom, 1_000_000))
	_, err := f.k.SendRestriction(f.Ctx, alice, f.Bytes(bob.Acc), small)
	require.NoError(t, err)
	marked, err := f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.False(t, marked)

	// Sending nearly everything away marks alice; the next EndBlock settles both contracts.
	drain := sdk.NewCoins(sdk.NewCoin(keepertest.Denom, balance.SubRaw(1_000)))
	to, err := f.k.SendRestriction(f.Ctx, alice, f.Bytes(bob.Acc), drain)
	require.NoError(t, err)
	require.Equal(t, f.Bytes(bob.Acc), to, "the restriction never redirects or refuses a send")
	marked, err = f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.True(t, marked)
	f.setBalance(w.Alice.Acc, 1_000)

	f.advance(6)
	f.ResetEvents()
	f.endBlock()
	require.Equal(t, []*types.EventSettlementsBroughtForward{{TwinId: w.Alice.Twin}}, typedEvents[*types.EventSettlementsBroughtForward](f))
	for _, id := range ids {
		require.Equal(t, f.now(), f.billing(id).LastSettled, "contract %d settled at once", id)
		require.Equal(t, sctypes.ContractStateGracePeriod, f.state(id), "contract %d in grace", id)
	}
	marked, err = f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.False(t, marked)
}

func TestPaymentsToBillingAreNotDrains(t *testing.T) {
	f := runwayFixture(t)
	w := f.NewWorld(1)
	f.settledFarOut(w)
	all := sdk.NewCoins(sdk.NewCoin(keepertest.Denom, f.Balance(w.Alice.Acc)))
	_, err := f.k.SendRestriction(f.Ctx, f.Bytes(w.Alice.Acc), f.k.ModuleAddress(), all)
	require.NoError(t, err)
	marked, err := f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.False(t, marked, "a settlement's own payment is what the schedule counts on")
}

func TestDelegationBringsSettlementsForward(t *testing.T) {
	f := runwayFixture(t)
	w := f.NewWorld(1)
	f.settledFarOut(w)
	// x/staking has moved the delegated utft out of alice's balance when it calls the hook.
	f.setBalance(w.Alice.Acc, 1_000)
	require.NoError(t, f.k.StakingHooks().AfterDelegationModified(f.Ctx, f.Bytes(w.Alice.Acc), nil))
	marked, err := f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.True(t, marked)
}

func TestMoreContractsShortenTheRunway(t *testing.T) {
	f := runwayFixture(t)
	w := f.NewWorld(1)
	first := f.runwayContract(w, 30)
	require.Equal(t, f.now()+15*hour, f.billing(first).NextDue)

	// Two more contracts of the same ceiling need 3 × 15 h of funds until the horizon; alice has 30 h.
	f.vmContract(w.Alice, w.Node.ID, "vm2", 0)
	other := f.NewNode(w.Farm)
	f.vmContract(w.Alice, other.ID, "vm3", 0)
	marked, err := f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.True(t, marked)
	f.advance(6)
	f.endBlock()
	require.Equal(t, f.now(), f.billing(first).LastSettled, "the older contract is settled at once")
	require.Less(t, f.billing(first).NextDue, f.now()+15*hour, "and rescheduled on the shorter runway")
}

func TestBringForwardIsCappedPerBlock(t *testing.T) {
	f := runwayFixture(t)
	f.setParams(func(p *types.Params) { p.MaxSettlementsPerBlock = 2 })
	w := f.NewWorld(1)
	ids := f.settledFarOut(w)
	ids = append(ids, f.NameContract(w.Alice, "alice2"))
	f.advance(hour)
	f.endBlock()
	require.Equal(t, f.now()+24*hour, f.billing(ids[2]).NextDue)
	for _, id := range ids {
		require.Greater(t, f.billing(id).NextDue, f.now()+12*hour)
	}

	_, err := f.k.SendRestriction(f.Ctx, f.Bytes(w.Alice.Acc), f.Bytes(f.NewUser().Acc),
		sdk.NewCoins(sdk.NewCoin(keepertest.Denom, f.Balance(w.Alice.Acc).SubRaw(1))))
	require.NoError(t, err)
	f.setBalance(w.Alice.Acc, 1)
	f.advance(6)
	f.endBlock()
	moved := 0
	for _, id := range ids {
		if f.billing(id).LastSettled == f.now() {
			moved++
		}
	}
	require.Equal(t, 2, moved, "two contracts brought forward and settled in the first block")
	marked, err := f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.True(t, marked, "alice stays marked for the rest")

	f.advance(6)
	f.endBlock()
	for _, id := range ids {
		require.LessOrEqual(t, f.now()-6, f.billing(id).LastSettled, "contract %d settled by the second block", id)
	}
	marked, err = f.k.FundsShortTwins.Has(f.Ctx, w.Alice.Twin)
	require.NoError(t, err)
	require.False(t, marked)
}

func TestRunwayParamsValidated(t *testing.T) {
	p := types.DefaultParams(sdk.AccAddress(make([]byte, 20)).String())
	p.MaxSettlementInterval = p.SettlementInterval - 1
	requireerr.Is(t, p.Validate(nil), types.ErrInvalidParams, "max_settlement_interval 3599: want >= settlement_interval 3600")
}
