package relay

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFederationURLs(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:8080":          "http://127.0.0.1:8080/",
		"wss://relay.example.org:443":  "https://relay.example.org:443/",
		"wss://relay.example.org/path": "https://relay.example.org/",
	} {
		got, err := postURL(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := postURL("http://x:1")
	require.ErrorContains(t, err, "scheme must be ws or wss")

	n, err := normalizeRelayURL("WS://Relay.Example.org:8080/")
	require.NoError(t, err)
	require.Equal(t, "ws://relay.example.org:8080", n)
	_, err = normalizeRelayURL("ftp://x")
	require.ErrorContains(t, err, `relay URL "ftp://x": scheme must be ws or wss`)
}
