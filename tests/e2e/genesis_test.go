package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// registrySnapshot is everything x/tfgrid serves, read through gRPC.
func registrySnapshot(t *testing.T, c *chain) map[string]proto.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := c.query()
	snap := map[string]proto.Message{}
	add := func(name string, m proto.Message, err error) {
		t.Helper()
		require.NoError(t, err, name)
		snap[name] = m
	}
	r1, err := q.Params(ctx, &types.QueryParamsRequest{})
	add("params", r1, err)
	r2, err := q.Twins(ctx, &types.QueryTwinsRequest{})
	add("twins", r2, err)
	r3, err := q.Farms(ctx, &types.QueryFarmsRequest{})
	add("farms", r3, err)
	r4, err := q.FarmPublicIps(ctx, &types.QueryFarmPublicIpsRequest{Id: 1})
	add("farm 1 public ips", r4, err)
	r5, err := q.FarmAllowedNodeTwins(ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: 1})
	add("farm 1 allowed node twins", r5, err)
	r6, err := q.Nodes(ctx, &types.QueryNodesRequest{})
	add("nodes", r6, err)
	r7, err := q.PricingPolicies(ctx, &types.QueryPricingPoliciesRequest{})
	add("pricing policies", r7, err)
	r8, err := q.FarmingPolicies(ctx, &types.QueryFarmingPoliciesRequest{})
	add("farming policies", r8, err)
	return snap
}

// testGenesisExportImport stops the chain, exports its genesis, checks that the registry is in it,
// starts a new chain from it (fresh home, same validator and node keys) and checks that the new
// chain serves the same objects and keeps issuing fresh ids.
func testGenesisExportImport(t *testing.T, c *chain) {
	before := registrySnapshot(t, c)
	c.stop()

	exported := filepath.Join(t.TempDir(), "exported-genesis.json")
	c.mustRun("genesis", "export", "--home", c.home, "--output-document", exported)
	genesis, err := os.ReadFile(exported)
	require.NoError(t, err)

	var doc struct {
		ChainID       string                     `json:"chain_id"`
		InitialHeight json.RawMessage            `json:"initial_height"`
		AppState      map[string]json.RawMessage `json:"app_state"`
	}
	require.NoError(t, json.Unmarshal(genesis, &doc))
	require.Equal(t, chainID, doc.ChainID)
	initialHeight, err := strconv.ParseInt(strings.Trim(string(doc.InitialHeight), `"`), 10, 64)
	require.NoError(t, err, "initial_height %s", doc.InitialHeight)
	require.Greater(t, initialHeight, int64(1))
	require.Contains(t, doc.AppState, types.ModuleName)
	var gs types.GenesisState
	require.NoError(t, cdc.UnmarshalJSON(doc.AppState[types.ModuleName], &gs))

	// The walk-through's and bad-input's objects (twins 1-4, farm 1 with two IPs, node 2).
	require.Len(t, gs.Twins, 4)
	for i, acc := range []string{"farmer", "node1", "alice", "bob"} {
		require.Equal(t, uint64(i+1), gs.Twins[i].Id)
		require.Equal(t, c.addrs[acc], gs.Twins[i].Account)
	}
	require.Len(t, gs.Farms, 1)
	require.Equal(t, "demo-farm", gs.Farms[0].Name)
	require.Len(t, gs.PublicIps, 2)
	for _, ip := range gs.PublicIps {
		require.Equal(t, uint64(1), ip.FarmId)
	}
	require.Equal(t, []types.FarmNodeTwin{{FarmId: 1, TwinId: 2}}, gs.AllowedNodeTwins)
	require.Len(t, gs.Nodes, 1)
	require.Equal(t, uint64(2), gs.Nodes[0].Id)
	require.Equal(t, "E2E-0003", gs.Nodes[0].SerialNumber)
	require.Greater(t, gs.NextTwinId, uint64(4))
	require.Greater(t, gs.NextFarmId, uint64(1))
	require.Greater(t, gs.NextNodeId, uint64(2), "node 1 was deleted: its id is never reused")

	// A new chain from the exported genesis.
	imported := newChainFromGenesis(t, "imported", c, genesis)
	imported.start(initialHeight)
	after := registrySnapshot(t, imported)
	for name, want := range before {
		require.JSONEq(t, string(cdc.MustMarshalJSON(want)), string(cdc.MustMarshalJSON(after[name])), "%s after import", name)
	}

	// Through every interface, and still writable.
	n := readBack(imported, nodeQ(2), "/tfgrid/tfgrid/v1/nodes/2", "node", "2").Node
	require.Equal(t, uint64(2), n.TwinId)
	require.Equal(t, uint64(1), readBack(imported, farmByNameQ("demo-farm"), "/tfgrid/tfgrid/v1/farms/by-name/demo-farm", "farm-by-name", "demo-farm").Farm.Id)
	require.Len(t, readBack(imported, farmIPsQ(1), "/tfgrid/tfgrid/v1/farms/1/public-ips", "farm-public-ips", "1").PublicIps, 2)
	require.Equal(t, uint64(3), readBack(imported, twinByAccountQ(imported.addrs["alice"]),
		"/tfgrid/tfgrid/v1/twins/by-account/"+imported.addrs["alice"], "twin-by-account", imported.addrs["alice"]).Twin.Id)

	twin := idOf(t, imported.mustTx("validator", "create-twin"), "tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	require.Equal(t, uint64(5), twin, "twin ids continue after import")
	farm := idOf(t, imported.mustTx("farmer", "create-farm", "second-farm",
		"--public-ips", `{"ip":"185.206.123.10/24","gateway":"185.206.123.1"}`), "tfgrid.tfgrid.v1.EventFarmCreated", "farm_id")
	require.Equal(t, uint64(2), farm, "farm ids continue after import")
	imported.txRejected(types.ErrPublicIPExists, "farmer", "add-farm-ip", u(farm), "185.206.122.33/24", "185.206.122.1")
}
