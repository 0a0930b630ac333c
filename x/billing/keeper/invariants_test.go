package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// invariantWorld is a few contracts of every kind, one of them in grace.
type invariantWorld struct {
	renterWorld
	node, name, grace uint64
	bob               keepertest.User
}

func (f *fixture) newInvariantWorld() invariantWorld {
	rw := f.newRenterWorld()
	w := f.NewWorld(1)
	iw := invariantWorld{renterWorld: rw, bob: f.NewUser()}
	iw.node = f.vmContract(rw.Alice, w.Node.ID, "plain", 1)
	iw.name = f.NameContract(rw.Alice, "gateway")
	f.setBalance(rw.Alice.Acc, 10_000_000_000)
	iw.grace = f.NameContract(iw.bob, "broke")
	f.setBalance(iw.bob.Acc, 0)
	f.advance(hour)
	f.endBlock()
	require.True(f.T, f.billing(iw.grace).StandardOverdraft.IsPositive())
	return iw
}

func TestInvariantsHoldOverScenario(t *testing.T) {
	f := newFixture(t)
	iw := f.newInvariantWorld()
	f.requireInvariants()
	for range 5 {
		f.advance(hour)
		f.endBlock()
		f.requireInvariants()
	}
	f.mustCancel(iw.Alice, iw.vm)
	f.requireInvariants()
	f.advance(gracePeriod)
	f.endBlock()
	f.requireInvariants()
	require.False(t, f.live(iw.grace))
}

func TestInvariantsDetectCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(f *fixture, iw invariantWorld)
		frag    string
	}{
		{"queue entry missing", func(f *fixture, iw invariantWorld) {
			require.NoError(t, f.k.Queue.Keys.Remove(f.Ctx, collections.Join(f.billing(iw.name).NextDue, iw.name)))
		}, "queued: false"},
		{"queue entry duplicated", func(f *fixture, iw invariantWorld) {
			require.NoError(t, f.k.Queue.Keys.Set(f.Ctx, collections.Join(f.billing(iw.name).NextDue+7, iw.name)))
		}, "queued twice"},
		{"queue entry at the wrong time", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.node)
			require.NoError(t, f.k.Queue.Keys.Remove(f.Ctx, collections.Join(b.NextDue, iw.node)))
			require.NoError(t, f.k.Queue.Keys.Set(f.Ctx, collections.Join(b.NextDue+1, iw.node)))
		}, "queued at"},
		{"queue floor after a queued contract", func(f *fixture, iw invariantWorld) {
			require.NoError(t, f.k.Queue.Floor.Set(f.Ctx, f.billing(iw.name).NextDue+1))
		}, "before the queue's floor"},
		{"queue entry of an unbilled contract", func(f *fixture, iw invariantWorld) {
			require.NoError(t, f.k.Queue.Keys.Set(f.Ctx, collections.Join(f.now(), uint64(999))))
		}, "queued"},
		{"billing state of a deleted contract", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.name)
			f.mustCancel(iw.Alice, iw.name)
			require.NoError(t, f.k.Contracts.Set(f.Ctx, iw.name, b))
			require.NoError(t, f.k.Queue.Keys.Set(f.Ctx, collections.Join(b.NextDue, iw.name)))
		}, "not live"},
		{"live contract without billing state", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.vm)
			require.NoError(t, f.k.Contracts.Remove(f.Ctx, iw.vm))
			require.NoError(t, f.k.Queue.Keys.Remove(f.Ctx, collections.Join(b.NextDue, iw.vm)))
		}, "has no billing state"},
		{"overdraft outside grace", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.node)
			b.StandardOverdraft = sdkmath.NewInt(1)
			require.NoError(t, f.k.Contracts.Set(f.Ctx, iw.node, b))
		}, "owes 1 but is CONTRACT_STATE_CREATED"},
		{"extra overdraft outside grace", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.rent)
			b.ExtraOverdraft = sdkmath.NewInt(3)
			require.NoError(t, f.k.Contracts.Set(f.Ctx, iw.rent, b))
		}, "owes 3"},
		{"module account holds more than the pending payouts", func(f *fixture, iw invariantWorld) {
			held := f.Balance(f.Addr(f.k.ModuleAddress()))
			require.True(t, held.IsPositive(), "the scenario accrued farm payouts")
			f.Bank.SetAmount(f.Ctx, f.k.ModuleAddress(), keepertest.Denom, held.AddRaw(1))
		}, "the billing module account holds"},
		{"payout not queued", func(f *fixture, iw invariantWorld) {
			p := f.payout(iw.Farm.ID)
			require.NoError(t, f.k.PayoutQueue.Keys.Remove(f.Ctx, collections.Join(p.Due, p.FarmId)))
		}, "2 farm payouts pending, 1 queued"},
		{"payout queued at the wrong time", func(f *fixture, iw invariantWorld) {
			p := f.payout(iw.Farm.ID)
			require.NoError(t, f.k.PayoutQueue.Keys.Remove(f.Ctx, collections.Join(p.Due, p.FarmId)))
			require.NoError(t, f.k.PayoutQueue.Keys.Set(f.Ctx, collections.Join(p.Due+1, p.FarmId)))
		}, "is queued for payout at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			iw := f.newInvariantWorld()
			f.requireInvariants()
			f.corrupted = true
			tc.corrupt(f, iw)
			requireerr.Is(t, f.k.CheckInvariants(f.Ctx), types.ErrInvariantBroken, tc.frag)
		})
	}
}
