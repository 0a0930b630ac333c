package chain

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

func TestBoundNRU(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		bytes, window, linkRate uint64
		want                    uint64
	}{
		{"below the link's capacity", 1000, 60, 125, 1000},
		{"exactly the capacity", 7500, 60, 125, 7500},
		{"above: bounded to window × rate", 7501, 60, 125, 7500},
		{"no traffic", 0, 60, 125, 0},
		{"zero window takes nothing", 10, 0, 125, 0},
		{"no link rate known: as measured", 1 << 40, 60, 0, 1 << 40},
		{"window × rate overflows: as measured", math.MaxUint64, math.MaxUint64, 2, math.MaxUint64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, boundNRU(tc.bytes, tc.window, tc.linkRate))
		})
	}
}

type gatewayCounts map[uint64][]engine.GatewayUsage

func (g gatewayCounts) GatewayTraffic() (map[uint64][]engine.GatewayUsage, error) { return g, nil }

// TestGatewayTraffic: the proxy's cumulative counts become bytes since the last report, per
// contract; a count below its last reading (a restart without a seed) counts from zero; the
// readings of gateways that are gone are forgotten.
func TestGatewayTraffic(t *testing.T) {
	meter := netusage.NewMeter("", nil)
	r := &Reporter{Meter: meter}
	step := func(g gatewayCounts) map[uint64]uint64 {
		r.Gateways = g
		out, err := r.traffic()
		require.NoError(t, err)
		return out
	}
	a := func(rx, tx uint64) engine.GatewayUsage {
		return engine.GatewayUsage{ID: "1-a", Traffic: netusage.Counters{RxBytes: rx, TxBytes: tx}}
	}
	b := engine.GatewayUsage{ID: "1-b", Traffic: netusage.Counters{RxBytes: 7, TxBytes: 3}}
	c := engine.GatewayUsage{ID: "2-c", Traffic: netusage.Counters{RxBytes: 1000}}
	require.Equal(t, map[uint64]uint64{1: 150 + 10, 2: 1000}, step(gatewayCounts{1: {a(100, 50), b}, 2: {c}}))
	require.Equal(t, map[uint64]uint64{1: 80, 2: 0}, step(gatewayCounts{1: {a(120, 110), b}, 2: {c}}))

	restarted := netusage.NewMeter("", meter.Last())
	r.Meter = restarted
	require.Equal(t, map[uint64]uint64{1: 5}, step(gatewayCounts{1: {a(5, 0)}}), "reset: counts from zero")
	require.NotContains(t, restarted.Last(), "2-c", "a gone gateway's reading is forgotten")
	require.NotContains(t, restarted.Last(), "1-b")
}
