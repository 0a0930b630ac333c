package chain

import (
	"testing"

	"github.com/stretchr/testify/require"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func nodeContract(created int64, reserved tftypes.Resources) sctypes.Contract {
	return sctypes.Contract{CreatedAt: created, Kind: &sctypes.Contract_NodeContract{NodeContract: &sctypes.NodeContract{Resources: reserved}}}
}

func TestBoundReport(t *testing.T) {
	used := deployment.Capacity{CRU: 2, MRU: 1 << 30, SRU: 1 << 26, HRU: 0}
	for _, tc := range []struct {
		name       string
		contract   sctypes.Contract
		window     uint64
		wantUsed   deployment.Capacity
		wantWindow uint64
	}{
		{"within the reservation, old contract", nodeContract(0, tftypes.Resources{Cru: 4, Mru: 2 << 30, Sru: 1 << 27}), 60, used, 60},
		{"clamped to the reservation", nodeContract(0, tftypes.Resources{Cru: 1, Mru: 1 << 29, Sru: 1 << 27}), 60,
			deployment.Capacity{CRU: 1, MRU: 1 << 29, SRU: 1 << 26}, 60},
		{"contract younger than the period", nodeContract(1000-15, tftypes.Resources{Cru: 4, Mru: 2 << 30, Sru: 1 << 27}), 60, used, 15},
		{"contract created now", nodeContract(1000, tftypes.Resources{Cru: 4, Mru: 2 << 30, Sru: 1 << 27}), 60, used, 0},
		{"not a node contract: left as is", sctypes.Contract{}, 60, used, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotUsed, gotWindow := boundReport(tc.contract, used, tc.window, 1000)
			require.Equal(t, tc.wantUsed, gotUsed)
			require.Equal(t, tc.wantWindow, gotWindow)
		})
	}
}
