package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// Bad flags are refused before anything starts, naming the flag and the value.
func TestFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-envelope-bytes", "10"}, "--max-envelope-bytes 10: at least 1024"},
		{[]string{"--log-format", "xml"}, `--log-format "xml": want json or text`},
		{[]string{"--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"--federation-allow", "abc"}, `--federation-allow "abc": want a twin id`},
		{[]string{"--twin-id", "3"}, "--twin-id needs the relay's key"},
		{[]string{"--rate-messages", "-1"}, "--rate-messages -1: must not be negative"},
		{[]string{"--store-max-bytes", "-5"}, "--store-max-bytes -5: must not be negative"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Setenv("RMB_RELAY_KEY", "")
		err := Run(context.Background(), c.args, &bytes.Buffer{})
		require.ErrorContains(t, err, c.want, "%v", c.args)
	}
	t.Setenv("RMB_RELAY_KEY", "zz")
	require.ErrorContains(t, Run(context.Background(), nil, &bytes.Buffer{}), "RMB_RELAY_KEY: want 64 hex characters")
}

func TestE2EKeyCommand(t *testing.T) {
	t.Setenv("RMB_RELAY_KEY", "0101010101010101010101010101010101010101010101010101010101010101")
	require.NoError(t, Run(context.Background(), []string{"e2e-key"}, &bytes.Buffer{}))
}
