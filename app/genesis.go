package app

import (
	"encoding/json"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// GenesisState is the app state in genesis: module name -> module genesis JSON.
type GenesisState map[string]json.RawMessage

// DefaultGenesis returns the default genesis of every module, in utft. This
// is also what `tfgridd init` writes.
func (app *App) DefaultGenesis() GenesisState {
	return app.BasicModuleManager.DefaultGenesis(app.appCodec)
}

// TFTMetadata is the bank metadata of the TFT token.
func TFTMetadata() banktypes.Metadata {
	return banktypes.Metadata{
		Description: "The native token of the ThreeFold grid.",
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: BondDenom, Exponent: 0, Aliases: []string{"microtft"}},
			{Denom: MilliDenom, Exponent: MilliDenomExponent, Aliases: []string{"millitft"}},
			{Denom: DisplayDenom, Exponent: BondDenomExponent},
		},
		Base:    BondDenom,
		Display: DisplayDenom,
		Name:    "TFT",
		Symbol:  "TFT",
	}
}

// stakingDefaultGenesis: the SDK default with utft as bond denom.
func stakingDefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs := stakingtypes.DefaultGenesisState()
	gs.Params.BondDenom = BondDenom
	return cdc.MustMarshalJSON(gs)
}

// govDefaultGenesis: the SDK default with deposits in utft (same amounts:
// 10 TFT, 50 TFT expedited).
func govDefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs := govv1.DefaultGenesisState()
	gs.Params.MinDeposit = sdk.NewCoins(sdk.NewCoin(BondDenom, govv1.DefaultMinDepositTokens))
	gs.Params.ExpeditedMinDeposit = sdk.NewCoins(sdk.NewCoin(BondDenom, govv1.DefaultMinExpeditedDepositTokens))
	return cdc.MustMarshalJSON(gs)
}

// bankDefaultGenesis: the SDK default plus the TFT denom metadata.
func bankDefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	gs := banktypes.DefaultGenesisState()
	gs.DenomMetadata = []banktypes.Metadata{TFTMetadata()}
	return cdc.MustMarshalJSON(gs)
}
