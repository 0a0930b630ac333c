package deploy

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func TestHourlyUTFT(t *testing.T) {
	policy := tftypes.PricingPolicy{Cu: 1_000_000, Su: 500_000, Ipu: 200_000}
	price := sdkmath.LegacyNewDec(100) // 0.1 USD per TFT: utft = units × 100 / 100 = units
	cases := []struct {
		name string
		c    deployment.Capacity
		ips  uint32
		want int64
	}{
		{"nothing", deployment.Capacity{}, 0, 0},
		// 1 CPU, 2 GiB: CU = min(max(0.5, 0.5), max(0.25, 1), max(1, 0.25)) = 0.5
		{"one CU half", deployment.Capacity{CRU: 1, MRU: 2 << 30}, 0, 500_000},
		// 200 GiB SSD: SU = 1
		{"one SU", deployment.Capacity{SRU: 200 << 30}, 0, 500_000},
		{"two IPs", deployment.Capacity{}, 2, 400_000},
		{"all", deployment.Capacity{CRU: 1, MRU: 2 << 30, SRU: 200 << 30}, 1, 1_200_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, HourlyUTFT(policy, c.c, c.ips, price).Int64())
		})
	}
}
