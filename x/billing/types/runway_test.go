package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

func TestSettlementSpacing(t *testing.T) {
	const hour, day = 3600, 24 * 3600
	cases := []struct {
		name           string
		funds, ceiling int64
		want           int64
	}{
		{"nothing charged: longest spacing", 1_000, 0, day},
		{"funds for 10 days: longest spacing", 240_000, 1_000, day},
		{"funds for 30 hours: half the runway", 30_000, 1_000, 15 * hour},
		{"funds for 90 minutes: shortest spacing", 1_500, 1_000, hour},
		{"no funds: shortest spacing", 0, 1_000, hour},
		{"debt: shortest spacing", -5, 1_000, hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := types.SettlementSpacing(sdkmath.NewInt(c.funds), sdkmath.NewInt(c.ceiling), hour, day)
			require.Equal(t, c.want, got)
		})
	}
	huge, ok := sdkmath.NewIntFromString("100000000000000000000000000000")
	require.True(t, ok)
	require.EqualValues(t, day, types.SettlementSpacing(huge, sdkmath.OneInt(), hour, day), "a runway past int64 is unbounded")
}

func TestFundsShort(t *testing.T) {
	const now = 1_000_000
	cases := []struct {
		name           string
		funds, ceiling int64
		horizon        int64
		want           bool
	}{
		{"covers the horizon exactly", 2_000, 1_000, now + 7200, false},
		{"one utft short", 1_999, 1_000, now + 7200, true},
		{"nothing charged", 0, 0, now + 7200, false},
		{"horizon passed: settlements already due", 0, 1_000, now, false},
		{"rounds down what is needed", 1, 1_000, now + 4, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, types.FundsShort(sdkmath.NewInt(c.funds), sdkmath.NewInt(c.ceiling), now, c.horizon))
		})
	}
}
