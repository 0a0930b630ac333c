package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// invariantWorld is a few contracts of every kind, one of them in grace.
type invariantWorld struct {
	renterWorld
	node, name, grace uint64
	bob               user
}

func (f *fixture) newInvariantWorld() invariantWorld {
	rw := f.newRenterWorld()
	w := f.newWorld(1)
	iw := invariantWorld{renterWorld: rw, bob: f.newUser()}
	iw.node = f.nodeContract(rw.alice, w.node.id, "plain", 1)
	iw.name = f.nameContract(rw.alice, "gateway")
	f.setBalance(rw.alice.acc, 10_000_000_000)
	iw.grace = f.nameContract(iw.bob, "broke")
	f.setBalance(iw.bob.acc, 0)
	f.advance(hour)
	f.endBlock()
	require.True(f.t, f.billing(iw.grace).StandardOverdraft.IsPositive())
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
	f.cancel(iw.alice, iw.vm)
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
			require.NoError(t, f.k.Queue.Remove(f.ctx, collections.Join(f.billing(iw.name).NextDue, iw.name)))
		}, "queued: false"},
		{"queue entry duplicated", func(f *fixture, iw invariantWorld) {
			require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(f.billing(iw.name).NextDue+7, iw.name)))
		}, "queued twice"},
		{"queue entry at the wrong time", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.node)
			require.NoError(t, f.k.Queue.Remove(f.ctx, collections.Join(b.NextDue, iw.node)))
			require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(b.NextDue+1, iw.node)))
		}, "queued at"},
		{"queue entry of an unbilled contract", func(f *fixture, iw invariantWorld) {
			require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(f.now(), uint64(999))))
		}, "queued"},
		{"billing state of a deleted contract", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.name)
			f.cancel(iw.alice, iw.name)
			require.NoError(t, f.k.Contracts.Set(f.ctx, iw.name, b))
			require.NoError(t, f.k.Queue.Set(f.ctx, collections.Join(b.NextDue, iw.name)))
		}, "not live"},
		{"live contract without billing state", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.vm)
			require.NoError(t, f.k.Contracts.Remove(f.ctx, iw.vm))
			require.NoError(t, f.k.Queue.Remove(f.ctx, collections.Join(b.NextDue, iw.vm)))
		}, "has no billing state"},
		{"overdraft outside grace", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.node)
			b.StandardOverdraft = sdkmath.NewInt(1)
			require.NoError(t, f.k.Contracts.Set(f.ctx, iw.node, b))
		}, "owes 1 but is CONTRACT_STATE_CREATED"},
		{"extra overdraft outside grace", func(f *fixture, iw invariantWorld) {
			b := f.billing(iw.rent)
			b.ExtraOverdraft = sdkmath.NewInt(3)
			require.NoError(t, f.k.Contracts.Set(f.ctx, iw.rent, b))
		}, "owes 3"},
		{"module account holds more than the pending payouts", func(f *fixture, iw invariantWorld) {
			held := f.balance(f.addr(f.k.ModuleAddress()))
			require.True(t, held.IsPositive(), "the scenario accrued farm payouts")
			f.bank.SetAmount(f.ctx, f.k.ModuleAddress(), denom, held.AddRaw(1))
		}, "the billing module account holds"},
		{"payout not queued", func(f *fixture, iw invariantWorld) {
			p := f.payout(iw.farm.id)
			require.NoError(t, f.k.PayoutQueue.Remove(f.ctx, collections.Join(p.Due, p.FarmId)))
		}, "2 farm payouts pending, 1 queued"},
		{"payout queued at the wrong time", func(f *fixture, iw invariantWorld) {
			p := f.payout(iw.farm.id)
			require.NoError(t, f.k.PayoutQueue.Remove(f.ctx, collections.Join(p.Due, p.FarmId)))
			require.NoError(t, f.k.PayoutQueue.Set(f.ctx, collections.Join(p.Due+1, p.FarmId)))
		}, "is queued for payout at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			iw := f.newInvariantWorld()
			f.requireInvariants()
			f.corrupted = true
			tc.corrupt(f, iw)
			requireErr(t, f.k.CheckInvariants(f.ctx), types.ErrInvariantBroken, tc.frag)
		})
	}
}
