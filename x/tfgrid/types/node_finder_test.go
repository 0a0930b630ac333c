package types

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNodeFactsRentStatus(t *testing.T) {
	tests := []struct {
		name                        string
		facts                       NodeFacts
		rented, rentable, dedicated bool
	}{
		{"idle node", NodeFacts{}, false, true, false},
		{"node contracts on a shared farm", NodeFacts{Usage: NodeUsage{HasNodeContracts: true}}, false, false, false},
		{"node contracts on a dedicated farm", NodeFacts{Usage: NodeUsage{HasNodeContracts: true}, FarmDedicated: true}, false, true, true},
		{"extra fee", NodeFacts{Usage: NodeUsage{HasExtraFee: true}}, false, true, true},
		{"rented", NodeFacts{Usage: NodeUsage{RentContractID: 3}, FarmDedicated: true}, true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.rented, tc.facts.Rented())
			require.Equal(t, tc.rentable, tc.facts.Rentable())
			require.Equal(t, tc.dedicated, tc.facts.Dedicated())
		})
	}
}

func TestUptimeFresh(t *testing.T) {
	const now = 1_000_000
	tests := []struct {
		name       string
		reportedAt int64
		within     uint64
		want       bool
	}{
		{"never reported", 0, 1 << 40, false},
		{"just now", now, 1, true},
		{"exactly at the bound", now - 60, 60, true},
		{"one second past", now - 61, 60, false},
		{"ahead of block time (drift)", now + 5, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, uptimeFresh(tc.reportedAt, now, tc.within))
		})
	}
}

func TestHasFilters(t *testing.T) {
	require.False(t, (&QueryNodesRequest{}).HasFilters())
	require.False(t, (&QueryNodesRequest{FarmId: 2}).HasFilters(), "a farm alone is the plain list")
	for _, r := range []*QueryNodesRequest{
		{Country: "x"}, {City: "x"}, {Certification: NodeCertificationDIY}, {PowerState: PowerStateUp},
		{OnlineWithin: 1}, {Rent: NodeRentFilterRented}, {Dedicated: true}, {MinFreeIps: 1},
		{FreeCru: 1}, {FreeMru: 1}, {FreeSru: 1}, {FreeHru: 1},
	} {
		require.True(t, r.HasFilters(), "%+v", r)
	}
}
