package chainclient

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/app"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
)

func TestPrefixesAreTheApps(t *testing.T) {
	require.Equal(t, app.AccountAddressPrefix, AccountPrefix)
	require.Equal(t, app.ValidatorAddressPrefix, ValidatorPrefix)
}

func TestNormalizeRPC(t *testing.T) {
	for in, want := range map[string]string{
		"tcp://127.0.0.1:26657":     "http://127.0.0.1:26657",
		"http://127.0.0.1:26657/":   "http://127.0.0.1:26657",
		"ws://node:26657/websocket": "http://node:26657",
		"wss://node:443":            "https://node:443",
	} {
		got, err := normalizeRPC(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "127.0.0.1:26657", "ftp://node:1", "http://"} {
		_, err := normalizeRPC(bad)
		require.ErrorContains(t, err, "chain RPC URL", bad)
	}
}

func TestFinalizeBlockEventsParse(t *testing.T) {
	// As the SDK emits a typed event from EndBlock: JSON values, plus its "mode" attribute.
	ev, err := sdk.TypedEventToEvent(&billingtypes.EventContractSettled{ContractId: 7, Amount: "512"})
	require.NoError(t, err)
	ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: "mode", Value: "EndBlock"})
	_, err = sdk.ParseTypedEvent(abci.Event(ev))
	require.Error(t, err, "the SDK cannot parse it as emitted")
	msg, err := sdk.ParseTypedEvent(withoutMode(abci.Event(ev)))
	require.NoError(t, err)
	require.Equal(t, uint64(7), msg.(*billingtypes.EventContractSettled).ContractId)
}
