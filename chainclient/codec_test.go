package chainclient

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/app"
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
