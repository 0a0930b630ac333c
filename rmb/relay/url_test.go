package relay

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFederationURLs(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080":         "http://127.0.0.1:8080/",
		"wss://relay.example.org:443": "https://relay.example.org:443/",
		"wss://Relay.Example.org":     "https://relay.example.org/",
		"ws://[::1]:8080":             "http://[::1]:8080/",
	} {
		got, err := postURL(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	// the chain's parser decides: what a twin cannot register is not a relay URL here either
	for in, reason := range map[string]string{
		"http://x:1":                   "scheme must be ws:// or wss://",
		"wss://relay.example.org/path": "path not allowed",
		"WS://relay.example.org:8080":  "scheme must be ws:// or wss://",
	} {
		_, err := postURL(in)
		require.ErrorContains(t, err, reason, in)
	}
	require.True(t, sharesRelay([]string{"ws://RELAY.example.org:8080", "bad"}, relaySet([]string{"ws://relay.example.org:8080"})))
	require.False(t, sharesRelay([]string{"ws://relay.example.org:8081"}, relaySet([]string{"ws://relay.example.org:8080"})))
}
