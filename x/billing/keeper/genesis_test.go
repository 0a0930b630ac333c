package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/internal/storebank"
	"github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// exported is the state of the three modules and the bank.
type exported struct {
	grid    *tfgridtypes.GenesisState
	sc      *sctypes.GenesisState
	billing *types.GenesisState
	bank    []storebank.Entry
}

func (f *fixture) export() exported {
	f.T.Helper()
	grid, err := f.Grid.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	sc, err := f.SC.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	b, err := f.k.ExportGenesis(f.Ctx)
	require.NoError(f.T, err)
	return exported{grid: grid, sc: sc, billing: b, bank: f.Bank.Export(f.Ctx)}
}

// importInto loads an export into a fresh store set with the same accounts; the billing genesis goes
// through a JSON round trip like a real genesis file.
func (f *fixture) importInto(ex exported) (*fixture, error) {
	f.T.Helper()
	g := newBareFixture(f.T, keepertest.ShareAccounts(f.Accounts))
	g.Ctx = g.Ctx.WithBlockTime(f.Ctx.BlockTime()).WithBlockHeight(f.Ctx.BlockHeight())
	for _, e := range ex.bank {
		g.Bank.SetAmount(g.Ctx, e.Addr, e.Denom, e.Amount)
	}
	require.NoError(f.T, g.Grid.InitGenesis(g.Ctx, *ex.grid))
	require.NoError(f.T, g.SC.InitGenesis(g.Ctx, *ex.sc))
	bz, err := g.Cdc.MarshalJSON(ex.billing)
	require.NoError(f.T, err)
	var gs types.GenesisState
	require.NoError(f.T, g.Cdc.UnmarshalJSON(bz, &gs))
	return g, g.k.InitGenesis(g.Ctx, gs)
}

// busyWorld has billing state of every kind: usage, a last report, unbilled NU, an overdraft in grace,
// several price samples, feeders' last samples and free-tx windows.
func (f *fixture) busyWorld() invariantWorld {
	pw := f.newPriceWorld()
	require.NoError(f.T, f.feed(pw.a, "12.5"))
	require.NoError(f.T, f.feed(pw.b, "11"))
	iw := f.newInvariantWorld()
	require.NoError(f.T, f.feed(pw.a, "13"))
	f.use(iw.renterWorld.Node, iw.vm, workedVM, 2_000_000_000)
	require.True(f.T, f.useFree(iw.renterWorld.Node.Twin.Acc, 1))
	return iw
}

func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	iw := f.busyWorld()
	ex := f.export()
	gs := ex.billing
	require.Len(t, gs.Contracts, 5)
	require.Len(t, gs.PriceSamples, 3)
	require.Len(t, gs.FeederLastSamples, 2)
	require.Len(t, gs.FreeTxWindows, 1)
	require.NotEmpty(t, gs.FarmPayouts, "pending farm payouts travel with the state")
	vm := f.billing(iw.vm)
	require.NotNil(t, vm.LastReport)
	require.True(t, vm.UnbilledNu.IsPositive())
	require.True(t, f.billing(iw.grace).StandardOverdraft.IsPositive())

	g, err := f.importInto(ex)
	require.NoError(t, err)
	require.Equal(t, ex, g.export())
	require.Equal(t, f.queryPrice(), g.queryPrice())
	g.requireInvariants()

	// the imported chain goes on billing exactly like the original
	f.advance(hour)
	g.advance(hour)
	f.endBlock()
	g.endBlock()
	require.Equal(t, f.export(), g.export())
}

func TestDefaultGenesisBillsImmediately(t *testing.T) {
	f := newFixture(t)
	gs, err := f.k.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, types.DefaultGenesis(f.foundation()).PriceSamples, gs.PriceSamples)
	require.Equal(t, dec("10"), f.queryPrice().PriceMusd)
	seq, err := f.k.PriceSeq.Peek(f.Ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, seq)
}

func TestInitGenesisChecksLiveContracts(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(f *fixture, iw invariantWorld, deleted uint64, gs *types.GenesisState)
		frag string
	}{
		{"billing of a deleted contract", func(f *fixture, iw invariantWorld, deleted uint64, gs *types.GenesisState) {
			b := f.billing(iw.name)
			b.ContractId = deleted
			gs.Contracts = append(gs.Contracts, b)
		}, "not live"},
		{"billing of a contract that never existed", func(f *fixture, iw invariantWorld, deleted uint64, gs *types.GenesisState) {
			b := f.billing(iw.name)
			b.ContractId = 999
			gs.Contracts = append(gs.Contracts, b)
		}, "contract 999"},
		{"a live contract without billing", func(f *fixture, iw invariantWorld, deleted uint64, gs *types.GenesisState) {
			gs.Contracts = gs.Contracts[1:]
		}, "has no billing state"},
		{"an overdraft outside grace", func(f *fixture, iw invariantWorld, deleted uint64, gs *types.GenesisState) {
			for i := range gs.Contracts {
				if gs.Contracts[i].ContractId == iw.name {
					gs.Contracts[i].StandardOverdraft = gs.Contracts[i].StandardOverdraft.AddRaw(1)
				}
			}
		}, "owes 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			iw := f.newInvariantWorld()
			deleted := f.deletedContract(iw)
			ex := f.export()
			tc.edit(f, iw, deleted, ex.billing)
			_, err := f.importInto(ex)
			requireerr.Is(t, err, types.ErrInvalidGenesis, tc.frag)
		})
	}
}

func TestInitGenesisValidates(t *testing.T) {
	f := newFixture(t)
	ex := f.export()
	ex.billing.PriceSamples = nil
	_, err := f.importInto(ex)
	requireerr.Is(t, err, types.ErrInvalidGenesis, "starting price")
}

// deletedContract creates and cancels a contract, returning its id.
func (f *fixture) deletedContract(iw invariantWorld) uint64 {
	f.T.Helper()
	id := f.NameContract(iw.Alice, "deleted")
	f.mustCancel(iw.Alice, id)
	return id
}
