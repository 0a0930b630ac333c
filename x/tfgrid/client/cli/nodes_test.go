package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

func TestNodesRequestFromFlags(t *testing.T) {
	cmd := NodesCmd()
	require.NoError(t, cmd.ParseFlags([]string{
		"--country", "BE", "--city", "Ghent", "--farm-id", "3", "--certification", "certified", "--power-state", "up",
		"--online-within", "2h", "--rent", "not-rented", "--dedicated", "--min-free-ips", "2",
		"--free-cru", "4", "--free-mru", "8GiB", "--free-sru", "100GB", "--free-hru", "1TiB", "--limit", "20",
	}))
	req, err := nodesRequest(cmd.Flags())
	require.NoError(t, err)
	require.Equal(t, "BE", req.Country)
	require.Equal(t, "Ghent", req.City)
	require.Equal(t, uint64(3), req.FarmId)
	require.Equal(t, types.NodeCertificationCertified, req.Certification)
	require.Equal(t, types.PowerStateUp, req.PowerState)
	require.Equal(t, uint64(7200), req.OnlineWithin)
	require.Equal(t, types.NodeRentFilterNotRented, req.Rent)
	require.True(t, req.Dedicated)
	require.Equal(t, uint64(2), req.MinFreeIps)
	require.Equal(t, types.Resources{Cru: 4, Mru: 8 << 30, Sru: 100_000_000_000, Hru: 1 << 40}, req.FreeWanted())
	require.Equal(t, uint64(20), req.Pagination.Limit)

	cmd = NodesCmd()
	require.NoError(t, cmd.ParseFlags([]string{"--farm-id", "1"}))
	req, err = nodesRequest(cmd.Flags())
	require.NoError(t, err)
	require.Nil(t, req.Pagination, "no page flags: the server's defaults, as over gRPC and REST")
}

func TestNodesRequestRefusesBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		frag string
	}{
		{[]string{"--free-mru", "8 parsecs"}, `--free-mru "8 parsecs": want a size such as 8GiB`},
		{[]string{"--free-sru", "-1GiB"}, `--free-sru "-1GiB": a size cannot be negative`},
		{[]string{"--free-hru", "99999999EiB"}, `--free-hru "99999999EiB"`},
		{[]string{"--rent", "leased"}, `--rent "leased": want one of rented, not-rented, rentable`},
		{[]string{"--certification", "gold"}, `--certification "gold": want one of diy, certified`},
		{[]string{"--power-state", "unspecified"}, `--power-state "unspecified": want one of up, down`},
		{[]string{"--online-within", "-5m"}, `--online-within -5m0s: want a positive duration`},
	}
	for _, tc := range tests {
		t.Run(tc.args[0], func(t *testing.T) {
			cmd := NodesCmd()
			require.NoError(t, cmd.ParseFlags(tc.args))
			_, err := nodesRequest(cmd.Flags())
			require.ErrorContains(t, err, tc.frag)
		})
	}
}
