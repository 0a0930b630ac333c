package chain

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
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
