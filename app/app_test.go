package app_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/tfgrid/tfgrid/app"
	"github.com/tfgrid/tfgrid/app/apptesting"
)

type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

func TestDefaultGenesisUsesUTFT(t *testing.T) {
	chain := apptesting.NewChain(t, 0)
	cdc := chain.App.AppCodec()
	genesis := chain.App.DefaultGenesis()

	require.NotContains(t, genesis, "mint", "TFT has a fixed supply")
	for name, raw := range genesis {
		require.NotContains(t, string(raw), `"stake"`, "module %s still uses the SDK's default denom", name)
	}

	var staking stakingtypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[stakingtypes.ModuleName], &staking)
	require.Equal(t, app.BondDenom, staking.Params.BondDenom)

	var gov govv1.GenesisState
	cdc.MustUnmarshalJSON(genesis["gov"], &gov)
	require.Equal(t, app.BondDenom, gov.Params.MinDeposit[0].Denom)
	require.Equal(t, app.BondDenom, gov.Params.ExpeditedMinDeposit[0].Denom)

	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(genesis[banktypes.ModuleName], &bank)
	require.Len(t, bank.DenomMetadata, 1)
	md := bank.DenomMetadata[0]
	require.NoError(t, md.Validate())
	require.Equal(t, "utft", md.Base)
	require.Equal(t, "tft", md.Display)
	require.Equal(t, "TFT", md.Symbol)
	require.Equal(t, []uint32{0, 3, 6}, []uint32{md.DenomUnits[0].Exponent, md.DenomUnits[1].Exponent, md.DenomUnits[2].Exponent})

	// Genesis validation passes for every module.
	require.NoError(t, chain.App.BasicModuleManager.ValidateGenesis(cdc, chain.App.TxConfig(), genesis))
}

func TestAddressPrefixes(t *testing.T) {
	app.SetupSDKConfig()
	app.SetupSDKConfig() // idempotent

	acc := apptesting.NewAccount("prefix")
	require.True(t, strings.HasPrefix(acc.String(), "tf1"), acc.String())
	require.True(t, strings.HasPrefix(sdk.ValAddress(acc.Address).String(), "tfvaloper1"))
	require.True(t, strings.HasPrefix(sdk.ConsAddress(acc.Address).String(), "tfvalcons1"))
	require.Equal(t, "tfpub", sdk.GetConfig().GetBech32AccountPubPrefix())
	// The config scope is named, so no sdk.GetConfig call (one per bech32 encode or decode) asks the
	// OS for the executable and host name.
	require.NotEmpty(t, os.Getenv(sdk.EnvConfigScope))
}

func TestChainRunsBlocksAndTxs(t *testing.T) {
	chain := apptesting.NewChain(t, 2)
	a, b := chain.Accounts[0], chain.Accounts[1]
	require.Equal(t, int64(1), chain.App.LastBlockHeight())

	chain.NextBlock()
	chain.NextBlock()
	require.Equal(t, int64(3), chain.App.LastBlockHeight())
	require.Equal(t, int64(4), chain.Ctx.BlockHeight())

	// The validator is bonded with its genesis power.
	vals, err := chain.App.StakingKeeper.GetBondedValidatorsByPower(chain.Ctx)
	require.NoError(t, err)
	require.Len(t, vals, 1)
	require.True(t, strings.HasPrefix(vals[0].OperatorAddress, "tfvaloper1"))

	// A signed bank send goes through the ante handler and a block.
	amount := sdk.NewCoins(sdk.NewCoin(app.BondDenom, sdkmath.NewInt(12345)))
	res := chain.DeliverTx(a, banktypes.NewMsgSend(a.Address, b.Address, amount))
	require.Zero(t, res.Code, res.Log)

	got := chain.App.BankKeeper.GetBalance(chain.Ctx, b.Address, app.BondDenom)
	require.Equal(t, apptesting.DefaultBalance.AddRaw(12345), got.Amount)

	// Writes through chain.Ctx are committed by the next block.
	require.NoError(t, chain.App.BankKeeper.SendCoins(chain.Ctx, b.Address, a.Address, amount))
	chain.NextBlock()
	committed := chain.App.BankKeeper.GetBalance(chain.App.NewContext(true), b.Address, app.BondDenom)
	require.Equal(t, apptesting.DefaultBalance, committed.Amount)

	// Replaying a signed tx (same sequence) is rejected.
	txBytes := chain.SignTx(a, banktypes.NewMsgSend(a.Address, b.Address, amount))
	results := chain.NextBlock(txBytes, txBytes)
	require.Zero(t, results[0].Code, results[0].Log)
	require.NotZero(t, results[1].Code, "replayed tx must fail")
}

func TestExportAndReimport(t *testing.T) {
	chain := apptesting.NewChain(t, 1)
	chain.NextBlock()

	for _, zeroHeight := range []bool{false, true} {
		exported, err := chain.App.ExportAppStateAndValidators(zeroHeight, nil, nil)
		require.NoError(t, err)
		require.Len(t, exported.Validators, 1)
		require.Equal(t, int64(100), exported.Validators[0].Power)
		if zeroHeight {
			require.Zero(t, exported.Height)
		} else {
			require.Equal(t, chain.App.LastBlockHeight()+1, exported.Height)
		}

		var state map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(exported.AppState, &state))
		require.Contains(t, state, stakingtypes.ModuleName)

		// The export starts a new chain.
		fresh := app.NewApp(log.NewNopLogger(), dbm.NewMemDB(), true,
			appOptions{flags.FlagHome: t.TempDir()}, baseapp.SetChainID(apptesting.ChainID))
		_, err = fresh.InitChain(&abci.RequestInitChain{
			ChainId:         apptesting.ChainID,
			AppStateBytes:   exported.AppState,
			ConsensusParams: &exported.ConsensusParams,
			InitialHeight:   1,
		})
		require.NoError(t, err)
	}
}
