package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// findNodesCLI runs the node finder, `tfgridd query tfgrid nodes ARGS`, and returns what each found
// node has free, by node id.
func findNodesCLI(c *chain, args ...string) map[uint64]types.Resources {
	c.t.Helper()
	var res types.QueryNodesResponse
	c.cliQuery(&res, append([]string{"nodes"}, args...)...)
	require.Len(c.t, res.Availability, len(res.Nodes))
	free := map[uint64]types.Resources{}
	for i, n := range res.Nodes {
		require.Equal(c.t, n.Id, res.Availability[i].NodeId)
		free[n.Id] = res.Availability[i].Free
	}
	return free
}

// scNodeFinder is issue 14's "a user finds a node with enough free capacity in one query": the
// finder's answer follows a reservation made and cancelled on the chain, with sizes in units.
func scNodeFinder(t *testing.T, c *chain, w *scWorld) {
	const gib = types.GiB
	before := findNodesCLI(c, "--country", "BE", "--free-mru", "8GiB", "--free-sru", "100GiB")
	require.Contains(t, before, w.node, "the node (16 GiB memory) is free before the reservation")
	free := before[w.node]

	// Alice reserves all but 2 GiB of the node's free memory.
	reserve := free.Mru - 2*gib
	res := c.scMustTx("alice", "create-node-contract", u(w.node), scSHA256([]byte("node finder")),
		"--resources", `{"cru":1,"mru":`+u(reserve)+`,"sru":0,"hru":0}`)
	contract := idOf(t, res, scEvContractCreated, "contract_id")

	require.NotContains(t, findNodesCLI(c, "--country", "belgium", "--free-mru", "8GiB"), w.node)
	after := findNodesCLI(c, "--free-mru", "2GiB", "--farm-id", u(w.farm))
	require.Equal(t, types.Resources{Cru: free.Cru - 1, Mru: 2 * gib, Sru: free.Sru, Hru: free.Hru}, after[w.node])

	scCancel(t, c, w, "alice", contract, "alice", sctypes.DeleteCauseCanceledByUser)
	require.Equal(t, free, findNodesCLI(c, "--country", "belgium", "--free-mru", "8GiB")[w.node], "cancel frees it again")

	// Bad input names the flag and the value; the chain refuses an oversized page.
	require.Contains(t, c.queryFails("tfgrid", "nodes", "--free-mru", "8 parsecs"), `--free-mru "8 parsecs"`)
	require.Contains(t, c.queryFails("tfgrid", "nodes", "--free-mru", "1GiB", "--limit", "500"), "limit 500: at most 100")
	require.Contains(t, c.queryFails("tfgrid", "nodes", "--country", "ZZ"), `country "ZZ": not an ISO 3166-1 alpha-2 country code`)
}
