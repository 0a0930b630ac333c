package app

import (
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/auth/ante"

	"github.com/tfgrid/tfgrid/x/billing"
)

// setAnteHandler installs the SDK's standard ante chain (fees, signatures, sequences, fee grants) with
// one change: the fee decorator is wrapped so that a node's own report transactions (consumption and
// uptime) are fee-free within its hourly allowance.
func (app *App) setAnteHandler() {
	fees := ante.NewDeductFeeDecorator(app.AccountKeeper, app.BankKeeper, app.FeeGrantKeeper, nil)
	app.SetAnteHandler(sdk.ChainAnteDecorators(
		ante.NewSetUpContextDecorator(), // outermost: sets the gas meter
		ante.NewExtensionOptionsDecorator(nil),
		ante.NewValidateBasicDecorator(),
		ante.NewTxTimeoutHeightDecorator(),
		ante.NewValidateMemoDecorator(app.AccountKeeper),
		ante.NewConsumeGasForTxSizeDecorator(app.AccountKeeper),
		billing.NewFreeNodeTxDecorator(fees, app.BillingKeeper),
		ante.NewSetPubKeyDecorator(app.AccountKeeper), // before every signature check
		ante.NewValidateSigCountDecorator(app.AccountKeeper),
		ante.NewSigGasConsumeDecorator(app.AccountKeeper, ante.DefaultSigVerificationGasConsumer),
		ante.NewSigVerificationDecorator(app.AccountKeeper, app.txConfig.SignModeHandler()),
		ante.NewIncrementSequenceDecorator(app.AccountKeeper),
	))
}
