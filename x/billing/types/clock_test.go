package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/billing/types"
)

// A node that reported at 1000 with node_offline_after 100 is online until 1100.
func TestNodeClockOnline(t *testing.T) {
	c := types.NewNodeClock(7, 1000, 1000, 100, true)
	for _, tc := range []struct {
		name string
		at   int64
		want uint64
	}{
		{"at start", 1000, 0},
		{"before start", 900, 0},
		{"while online", 1060, 60},
		{"at the offline boundary", 1100, 100},
		{"long after, offline", 5000, 100},
	} {
		require.Equal(t, tc.want, c.OnlineAt(tc.at), tc.name)
	}
}

// An offline gap is never counted, however long after it the clock is read: the report that ends
// the gap moves the clock, not the contracts.
func TestNodeClockOfflineGap(t *testing.T) {
	c := types.NewNodeClock(7, 1000, 1000, 100, true)
	c = c.Reported(1050, 100) // online until 1150
	c = c.Reported(2000, 100) // offline 1150–2000, back online until 2100
	require.Equal(t, uint64(150), c.OnlineSeconds)
	require.Equal(t, uint64(150+60), c.OnlineAt(2060))
	require.Equal(t, uint64(150+100), c.OnlineAt(9000))
	// A contract settled at 1020 (clock 20) and again at 2060 pays 190 s of resources, not 1040.
	require.Equal(t, uint64(190), types.Elapsed(c.OnlineAt(2060), 20, 2060-1020))
}

func TestNodeClockPowered(t *testing.T) {
	c := types.NewNodeClock(7, 1000, 1000, 100, false)
	require.Equal(t, uint64(0), c.PoweredAt(1500), "down from the start")
	c = c.PoweredChanged(1500, true)
	require.Equal(t, uint64(100), c.PoweredAt(1600))
	c = c.PoweredChanged(1700, false)
	require.Equal(t, uint64(200), c.PoweredAt(9000), "down again after 200 s up")
	c = c.PoweredChanged(9000, true)
	require.Equal(t, uint64(210), c.PoweredAt(9010))
	require.Equal(t, c, c.AdvancedTo(8000), "going back in time changes nothing")
}

func TestElapsed(t *testing.T) {
	for _, tc := range []struct {
		name            string
		now, then, wall uint64
		want            uint64
	}{
		{"moved", 150, 100, 60, 50},
		{"capped by wall time", 150, 0, 60, 60},
		{"clock behind the reading", 100, 150, 60, 0},
		{"no move", 100, 100, 60, 0},
	} {
		require.Equal(t, tc.want, types.Elapsed(tc.now, tc.then, tc.wall), tc.name)
	}
}
