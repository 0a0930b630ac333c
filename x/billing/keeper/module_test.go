package keeper_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/billing"
	"github.com/tfgrid/tfgrid/x/billing/types"
)

// The module's genesis and EndBlock hooks drive the keeper.
func TestModuleGenesisAndEndBlock(t *testing.T) {
	f := newFixture(t)
	am := billing.NewAppModule(f.k, f.foundation())
	require.Equal(t, types.ModuleName, am.Name())
	require.EqualValues(t, billing.ConsensusVersion, am.ConsensusVersion())

	def := am.DefaultGenesis(f.cdc)
	require.NoError(t, am.ValidateGenesis(f.cdc, nil, def))
	var gs types.GenesisState
	require.NoError(t, f.cdc.UnmarshalJSON(def, &gs))
	want, err := f.cdc.MarshalJSON(types.DefaultGenesis(f.foundation()))
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(def))

	require.Error(t, am.ValidateGenesis(f.cdc, nil, json.RawMessage(`{"params":`)))
	var bad []byte
	gs.PriceSamples = nil
	bad, err = f.cdc.MarshalJSON(&gs)
	require.NoError(t, err)
	requireErr(t, am.ValidateGenesis(f.cdc, nil, bad), types.ErrInvalidGenesis)

	alice := f.newUser()
	id := f.nameContract(alice, "gateway")
	f.advance(hour)
	require.NoError(t, am.EndBlock(f.ctx))
	require.Equal(t, f.now(), f.billing(id).LastSettled)

	exported := am.ExportGenesis(f.ctx, f.cdc)
	var out types.GenesisState
	require.NoError(t, f.cdc.UnmarshalJSON(exported, &out))
	require.Len(t, out.Contracts, 1)

	// a fresh module with the contracts' state accepts it; a corrupted one panics
	ex := f.export()
	g, err := f.importInto(ex)
	require.NoError(t, err)
	require.Equal(t, exported, billing.NewAppModule(g.k, f.foundation()).ExportGenesis(g.ctx, g.cdc))

	ex.billing.Contracts = nil
	h := newBareFixture(t)
	h.accounts = f.accounts
	for _, e := range ex.bank {
		h.bank.SetAmount(h.ctx, e.Addr, e.Denom, e.Amount)
	}
	require.NoError(t, h.grid.InitGenesis(h.ctx, *ex.grid))
	require.NoError(t, h.sc.InitGenesis(h.ctx, *ex.sc))
	corrupt, err := h.cdc.MarshalJSON(ex.billing)
	require.NoError(t, err)
	require.Panics(t, func() { billing.NewAppModule(h.k, f.foundation()).InitGenesis(h.ctx, h.cdc, corrupt) })

	opts := am.AutoCLIOptions()
	require.Equal(t, types.Msg_serviceDesc.ServiceName, opts.Tx.Service)
	require.Equal(t, types.Query_serviceDesc.ServiceName, opts.Query.Service)
	require.Len(t, opts.Tx.RpcCommandOptions, len(types.Msg_serviceDesc.Methods))
	require.Len(t, opts.Query.RpcCommandOptions, len(types.Query_serviceDesc.Methods))
}
