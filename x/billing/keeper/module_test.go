package keeper_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/internal/keepertest"
	"github.com/tfgrid/tfgrid/internal/requireerr"
	"github.com/tfgrid/tfgrid/x/billing"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// The module's genesis and EndBlock hooks drive the keeper.
func TestModuleGenesisAndEndBlock(t *testing.T) {
	f := newFixture(t)
	am := billing.NewAppModule(f.k, f.foundation())
	require.Equal(t, types.ModuleName, am.Name())
	require.EqualValues(t, billing.ConsensusVersion, am.ConsensusVersion())

	def := am.DefaultGenesis(f.Cdc)
	require.NoError(t, am.ValidateGenesis(f.Cdc, nil, def))
	var gs types.GenesisState
	require.NoError(t, f.Cdc.UnmarshalJSON(def, &gs))
	want, err := f.Cdc.MarshalJSON(types.DefaultGenesis(f.foundation()))
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(def))

	require.Error(t, am.ValidateGenesis(f.Cdc, nil, json.RawMessage(`{"params":`)))
	var bad []byte
	gs.PriceSamples = nil
	bad, err = f.Cdc.MarshalJSON(&gs)
	require.NoError(t, err)
	requireerr.Is(t, am.ValidateGenesis(f.Cdc, nil, bad), types.ErrInvalidGenesis)

	alice := f.NewUser()
	id := f.NameContract(alice, "gateway")
	f.advance(hour)
	require.NoError(t, am.EndBlock(f.Ctx))
	require.Equal(t, f.now(), f.billing(id).LastSettled)

	exported := am.ExportGenesis(f.Ctx, f.Cdc)
	var out types.GenesisState
	require.NoError(t, f.Cdc.UnmarshalJSON(exported, &out))
	require.Len(t, out.Contracts, 1)

	// a fresh module with the contracts' state accepts it; a corrupted one panics
	ex := f.export()
	g, err := f.importInto(ex)
	require.NoError(t, err)
	require.Equal(t, exported, billing.NewAppModule(g.k, f.foundation()).ExportGenesis(g.Ctx, g.Cdc))

	ex.billing.Contracts = nil
	h := newBareFixture(t, keepertest.ShareAccounts(f.Accounts))
	for _, e := range ex.bank {
		h.Bank.SetAmount(h.Ctx, e.Addr, e.Denom, e.Amount)
	}
	require.NoError(t, h.Grid.InitGenesis(h.Ctx, *ex.grid))
	require.NoError(t, h.SC.InitGenesis(h.Ctx, *ex.sc))
	corrupt, err := h.Cdc.MarshalJSON(ex.billing)
	require.NoError(t, err)
	require.Panics(t, func() { billing.NewAppModule(h.k, f.foundation()).InitGenesis(h.Ctx, h.Cdc, corrupt) })

	opts := am.AutoCLIOptions()
	require.Equal(t, types.Msg_serviceDesc.ServiceName, opts.Tx.Service)
	require.Equal(t, types.Query_serviceDesc.ServiceName, opts.Query.Service)
	require.Len(t, opts.Tx.RpcCommandOptions, len(types.Msg_serviceDesc.Methods))
	require.Len(t, opts.Query.RpcCommandOptions, len(types.Query_serviceDesc.Methods))
}
