package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/testnet"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// The node of the walk-through, as CLI flags.
const (
	nodeResources  = `{"cru":8,"sru":512000000000,"hru":2000000000000,"mru":17179869184}`
	nodeLocation   = `{"city":"Ghent","country":"Belgium","latitude":"51.05","longitude":"3.72"}`
	nodeInterfaces = `{"name":"eth0","mac":"52:54:00:12:34:56","ips":["185.206.122.40/24"]}`
)

// TestRegistry runs one chain through the README walk-through, then bad input, then a genesis
// export and a new chain started from it (see genesis_test.go). The steps share the chain's
// state, so a failing step stops the rest.
func TestRegistry(t *testing.T) {
	c := newChain(t, "registry")
	c.start(1)

	steps := []struct {
		name string
		run  func(*testing.T, *chain)
	}{
		{"walkthrough", testWalkthrough},
		{"bad_input", testBadInput},
		{"wait", testWait},
		{"env_vars", testEnvVars},
		{"genesis_export_import", testGenesisExportImport},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, c.on(t)) }) {
			return
		}
	}
}

// on returns the chain with assertions reported on t (a subtest).
func (c *chain) on(t *testing.T) *chain {
	c.t = t
	return c
}

func twinQ(id uint64) func(context.Context, types.QueryClient) (*types.QueryTwinResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryTwinResponse, error) {
		return q.Twin(ctx, &types.QueryTwinRequest{Id: id})
	}
}

func twinByAccountQ(addr string) func(context.Context, types.QueryClient) (*types.QueryTwinByAccountResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryTwinByAccountResponse, error) {
		return q.TwinByAccount(ctx, &types.QueryTwinByAccountRequest{Address: addr})
	}
}

func farmQ(id uint64) func(context.Context, types.QueryClient) (*types.QueryFarmResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryFarmResponse, error) {
		return q.Farm(ctx, &types.QueryFarmRequest{Id: id})
	}
}

func farmByNameQ(name string) func(context.Context, types.QueryClient) (*types.QueryFarmByNameResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryFarmByNameResponse, error) {
		return q.FarmByName(ctx, &types.QueryFarmByNameRequest{Name: name})
	}
}

func farmIPsQ(id uint64) func(context.Context, types.QueryClient) (*types.QueryFarmPublicIpsResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryFarmPublicIpsResponse, error) {
		return q.FarmPublicIps(ctx, &types.QueryFarmPublicIpsRequest{Id: id})
	}
}

func allowedQ(id uint64) func(context.Context, types.QueryClient) (*types.QueryFarmAllowedNodeTwinsResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryFarmAllowedNodeTwinsResponse, error) {
		return q.FarmAllowedNodeTwins(ctx, &types.QueryFarmAllowedNodeTwinsRequest{Id: id})
	}
}

func nodeQ(id uint64) func(context.Context, types.QueryClient) (*types.QueryNodeResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryNodeResponse, error) {
		return q.Node(ctx, &types.QueryNodeRequest{Id: id})
	}
}

func nodeByTwinQ(twin uint64) func(context.Context, types.QueryClient) (*types.QueryNodeByTwinResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryNodeByTwinResponse, error) {
		return q.NodeByTwin(ctx, &types.QueryNodeByTwinRequest{TwinId: twin})
	}
}

func nodesQ(farm uint64) func(context.Context, types.QueryClient) (*types.QueryNodesResponse, error) {
	return func(ctx context.Context, q types.QueryClient) (*types.QueryNodesResponse, error) {
		return q.Nodes(ctx, &types.QueryNodesRequest{FarmId: farm})
	}
}

func twinsQ(ctx context.Context, q types.QueryClient) (*types.QueryTwinsResponse, error) {
	return q.Twins(ctx, &types.QueryTwinsRequest{})
}

func farmsQ(ctx context.Context, q types.QueryClient) (*types.QueryFarmsResponse, error) {
	return q.Farms(ctx, &types.QueryFarmsRequest{})
}

func idOf(t *testing.T, res txResponse, event, key string) uint64 {
	t.Helper()
	v, ok := res.attr(event, key)
	require.True(t, ok, "no %s.%s in the tx events", event, key)
	id, err := strconv.ParseUint(v, 10, 64)
	require.NoError(t, err)
	return id
}

func u(id uint64) string { return strconv.FormatUint(id, 10) }

// e2eKeyFlag is the CLI flag of MsgCreateTwin.e2e_key: --e2e-key, or autocli's default
// kebab-casing --e2-e-key while the module does not name the flag.
func (c *chain) e2eKeyFlag() string {
	out := c.mustRun("tx", "tfgrid", "create-twin", "--help")
	if regexp.MustCompile(`(?m)^\s+--e2e-key\s`).Match(out) {
		return "--e2e-key"
	}
	return "--e2-e-key"
}

// testWalkthrough is the README's walk-through: twins → farm with IPs → allowed node twin → node →
// uptime → power → update → delete, each result read back through the CLI, gRPC and REST.
func testWalkthrough(t *testing.T, c *chain) {
	// Twins: farmer 1, node1 2, alice 3 (with an e2e key).
	res := c.mustTx("farmer", "create-twin", "--relays", "ws://127.0.0.1:8080")
	farmerTwin := idOf(t, res, "tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	acc, _ := res.attr("tfgrid.tfgrid.v1.EventTwinCreated", "account")
	require.Equal(t, c.addrs["farmer"], acc)
	nodeTwin := idOf(t, c.mustTx("node1", "create-twin", "--relays", "ws://127.0.0.1:8080", "--relays", "wss://relay.example.org:443"),
		"tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	e2eKey := secp256k1.GenPrivKey().PubKey().Bytes()
	aliceTwin := idOf(t, c.mustTx("alice", "create-twin", c.e2eKeyFlag(), hex.EncodeToString(e2eKey)),
		"tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	require.Equal(t, []uint64{1, 2, 3}, []uint64{farmerTwin, nodeTwin, aliceTwin})

	tw := readBack(c, twinQ(farmerTwin), "/tfgrid/tfgrid/v1/twins/1", "twin", "1").Twin
	require.Equal(t, c.addrs["farmer"], tw.Account)
	require.Equal(t, c.pubkey("farmer"), base64.StdEncoding.EncodeToString(tw.Pubkey), "twin pubkey = account key")
	require.Equal(t, []string{"ws://127.0.0.1:8080"}, tw.Relays)
	require.Equal(t, c.derivedE2EKey("farmer"), tw.E2EKey, "create-twin without --e2e-key registers the derived key")
	tw = readBack(c, twinByAccountQ(c.addrs["node1"]), "/tfgrid/tfgrid/v1/twins/by-account/"+c.addrs["node1"], "twin-by-account", c.addrs["node1"]).Twin
	require.Equal(t, nodeTwin, tw.Id)
	require.Equal(t, []string{"ws://127.0.0.1:8080", "wss://relay.example.org:443"}, tw.Relays)
	tw = readBack(c, twinByAccountQ(c.addrs["alice"]), "/tfgrid/tfgrid/v1/twins/by-account/"+c.addrs["alice"], "twin-by-account", c.addrs["alice"]).Twin
	require.Equal(t, aliceTwin, tw.Id)
	require.Equal(t, e2eKey, tw.E2EKey)
	c.restFields("/tfgrid/tfgrid/v1/twins/3", "twin.id", "twin.account", "twin.pubkey", "twin.relays", "twin.e2e_key")
	page := readBack(c, func(ctx context.Context, q types.QueryClient) (*types.QueryTwinsResponse, error) {
		return q.Twins(ctx, &types.QueryTwinsRequest{})
	}, "/tfgrid/tfgrid/v1/twins", "twins")
	require.Len(t, page.Twins, 3)
	var limited struct {
		Twins      []json.RawMessage `json:"twins"`
		Pagination struct {
			NextKey string `json:"next_key"`
			Total   string `json:"total"`
		} `json:"pagination"`
	}
	code, body := c.rest("/tfgrid/tfgrid/v1/twins?pagination.limit=2&pagination.count_total=true")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.NoError(t, json.Unmarshal(body, &limited))
	require.Len(t, limited.Twins, 2)
	require.NotEmpty(t, limited.Pagination.NextKey)
	require.Equal(t, "3", limited.Pagination.Total)

	// A farm with two public IPs.
	res = c.mustTx("farmer", "create-farm", "demo-farm",
		"--public-ips", `{"ip":"185.206.122.33/24","gateway":"185.206.122.1"}`,
		"--public-ips", `{"ip":"185.206.122.34/24","gateway":"185.206.122.1"}`)
	farmID := idOf(t, res, "tfgrid.tfgrid.v1.EventFarmCreated", "farm_id")
	require.Equal(t, uint64(1), farmID)
	farm := readBack(c, farmQ(farmID), "/tfgrid/tfgrid/v1/farms/1", "farm", "1").Farm
	require.Equal(t, "demo-farm", farm.Name)
	require.Equal(t, farmerTwin, farm.TwinId)
	require.Equal(t, uint64(1), farm.PricingPolicyId)
	require.Equal(t, types.FarmCertificationNotCertified, farm.Certification)
	require.False(t, farm.OpenNodeRegistration)
	byName := readBack(c, farmByNameQ("demo-farm"), "/tfgrid/tfgrid/v1/farms/by-name/demo-farm", "farm-by-name", "demo-farm").Farm
	require.Equal(t, farmID, byName.Id)
	ips := readBack(c, farmIPsQ(farmID), "/tfgrid/tfgrid/v1/farms/1/public-ips", "farm-public-ips", "1").PublicIps
	require.Len(t, ips, 2)
	for i, want := range []string{"185.206.122.33/24", "185.206.122.34/24"} {
		require.Equal(t, types.PublicIP{Ip: want, Gateway: "185.206.122.1", ContractId: 0, FarmId: farmID}, ips[i])
	}
	c.restFields("/tfgrid/tfgrid/v1/farms/1/public-ips", "public_ips.0.ip", "public_ips.0.gateway", "public_ips.0.contract_id", "public_ips.0.farm_id")
	c.restFields("/tfgrid/tfgrid/v1/farms/1", "farm.twin_id", "farm.pricing_policy_id", "farm.open_node_registration", "farm.farming_policy_limits")
	require.Len(t, readBack(c, farmsQ, "/tfgrid/tfgrid/v1/farms", "farms").Farms, 1)

	// The farmer allows node1's twin.
	c.mustTx("farmer", "allow-node-twin", u(farmID), u(nodeTwin))
	allowed := readBack(c, allowedQ(farmID), "/tfgrid/tfgrid/v1/farms/1/allowed-node-twins", "farm-allowed-node-twins", "1")
	require.Equal(t, []uint64{nodeTwin}, allowed.TwinIds)

	// node1 registers its node.
	before := time.Now().Add(-time.Minute).Unix()
	res = c.mustTx("node1", "create-node", u(farmID), "--resources", nodeResources, "--location", nodeLocation,
		"--interfaces", nodeInterfaces, "--serial-number", "E2E-0001", "--secure-boot")
	nodeID := idOf(t, res, "tfgrid.tfgrid.v1.EventNodeCreated", "node_id")
	require.Equal(t, uint64(1), nodeID)
	node := readBack(c, nodeQ(nodeID), "/tfgrid/tfgrid/v1/nodes/1", "node", "1").Node
	require.Equal(t, farmID, node.FarmId)
	require.Equal(t, nodeTwin, node.TwinId)
	require.Equal(t, types.Resources{Cru: 8, Sru: 512000000000, Hru: 2000000000000, Mru: 17179869184}, node.Resources)
	require.Equal(t, types.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"}, node.Location)
	require.Equal(t, []types.Interface{{Name: "eth0", Mac: "52:54:00:12:34:56", Ips: []string{"185.206.122.40/24"}}}, node.Interfaces)
	require.Equal(t, "E2E-0001", node.SerialNumber)
	require.True(t, node.SecureBoot)
	require.False(t, node.Virtualized)
	require.Equal(t, types.NodeCertificationDIY, node.Certification)
	require.Equal(t, uint64(1), node.FarmingPolicyId, "a DIY node in a farm without a policy gets default-diy")
	require.Equal(t, types.PowerStateUp, node.Power.State)
	require.Equal(t, types.PowerStateUp, node.Power.Target)
	require.GreaterOrEqual(t, node.Created, before)
	byTwin := readBack(c, nodeByTwinQ(nodeTwin), "/tfgrid/tfgrid/v1/nodes/by-twin/2", "node-by-twin", "2").Node
	require.Equal(t, nodeID, byTwin.Id)
	nodes := readBack(c, nodesQ(farmID), "/tfgrid/tfgrid/v1/nodes?farm_id=1", "nodes", "--farm-id", "1").Nodes
	require.Len(t, nodes, 1)
	require.Empty(t, readBack(c, nodesQ(99), "/tfgrid/tfgrid/v1/nodes?farm_id=99", "nodes", "--farm-id", "99").Nodes)
	c.restFields("/tfgrid/tfgrid/v1/nodes/1", "node.farm_id", "node.twin_id", "node.resources.cru", "node.location.latitude",
		"node.interfaces.0.mac", "node.serial_number", "node.secure_boot", "node.farming_policy_id", "node.power.since",
		"node.last_uptime.reported_at")

	// Uptime.
	hint := time.Now().Unix()
	res = c.mustTx("node1", "report-uptime", "30", strconv.FormatInt(hint, 10))
	require.Equal(t, u(nodeID), mustAttr(t, res, "tfgrid.tfgrid.v1.EventNodeUptimeReported", "node_id"))
	node = readBack(c, nodeQ(nodeID), "/tfgrid/tfgrid/v1/nodes/1", "node", "1").Node
	require.Equal(t, uint64(30), node.LastUptime.Uptime)
	require.InDelta(t, hint, node.LastUptime.ReportedAt, 60, "reported_at is the block time")

	// Power: the farmer's target, the node's state.
	c.mustTx("farmer", "change-power-target", u(nodeID), "down")
	node = readBack(c, nodeQ(nodeID), "/tfgrid/tfgrid/v1/nodes/1", "node", "1").Node
	require.Equal(t, types.PowerStateDown, node.Power.Target)
	require.Equal(t, types.PowerStateUp, node.Power.State)
	c.mustTx("node1", "change-power-state", "down")
	node = readBack(c, nodeQ(nodeID), "/tfgrid/tfgrid/v1/nodes/1", "node", "1").Node
	require.Equal(t, types.PowerStateDown, node.Power.State)
	require.GreaterOrEqual(t, node.Power.Since, node.Created)
	c.mustTx("node1", "change-power-state", "up")
	c.mustTx("farmer", "change-power-target", u(nodeID), "up")

	// The node twin updates its description.
	c.mustTx("node1", "update-node", u(nodeID), "--farm-id", u(farmID),
		"--resources", `{"cru":16,"sru":1024000000000,"hru":0,"mru":34359738368}`,
		"--location", `{"city":"Brussels","country":"Belgium","latitude":"50.85","longitude":"4.35"}`,
		"--interfaces", nodeInterfaces, "--interfaces", `{"name":"eth1","mac":"52:54:00:12:34:57","ips":[]}`,
		"--serial-number", "E2E-0002", "--virtualized")
	node = readBack(c, nodeQ(nodeID), "/tfgrid/tfgrid/v1/nodes/1", "node", "1").Node
	require.Equal(t, types.Resources{Cru: 16, Sru: 1024000000000, Hru: 0, Mru: 34359738368}, node.Resources)
	require.Equal(t, "Brussels", node.Location.City)
	require.Len(t, node.Interfaces, 2)
	require.Equal(t, "E2E-0002", node.SerialNumber)
	require.True(t, node.Virtualized)
	require.Equal(t, uint64(30), node.LastUptime.Uptime, "an update keeps the uptime")

	// The node twin deletes the node: gone from every index.
	res = c.mustTx("node1", "delete-node", u(nodeID))
	require.Equal(t, u(nodeID), mustAttr(t, res, "tfgrid.tfgrid.v1.EventNodeDeleted", "node_id"))
	notFound(c, func(ctx context.Context, q types.QueryClient) error {
		_, err := q.Node(ctx, &types.QueryNodeRequest{Id: nodeID})
		return err
	}, "/tfgrid/tfgrid/v1/nodes/1", "node not found", "node", "1")
	notFound(c, func(ctx context.Context, q types.QueryClient) error {
		_, err := q.NodeByTwin(ctx, &types.QueryNodeByTwinRequest{TwinId: nodeTwin})
		return err
	}, "/tfgrid/tfgrid/v1/nodes/by-twin/2", "not found", "node-by-twin", "2")
	require.Empty(t, readBack(c, nodesQ(farmID), "/tfgrid/tfgrid/v1/nodes?farm_id=1", "nodes", "--farm-id", "1").Nodes)

	// The same twin registers again: a new id, never a reused one.
	res = c.mustTx("node1", "create-node", u(farmID), "--resources", nodeResources, "--location", nodeLocation,
		"--interfaces", nodeInterfaces, "--serial-number", "E2E-0003")
	require.Equal(t, uint64(2), idOf(t, res, "tfgrid.tfgrid.v1.EventNodeCreated", "node_id"))
	require.Equal(t, uint64(2), readBack(c, nodeByTwinQ(nodeTwin), "/tfgrid/tfgrid/v1/nodes/by-twin/2", "node-by-twin", "2").Node.Id)

	// The OpenAPI document of the REST routes.
	code, body = c.rest("/openapi.json")
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(body, &doc), "openapi.json is JSON")
	for _, p := range []string{
		"/tfgrid/tfgrid/v1/nodes/{id}", "/tfgrid/tfgrid/v1/nodes", "/tfgrid/tfgrid/v1/nodes/by-twin/{twin_id}",
		"/tfgrid/tfgrid/v1/twins/{id}", "/tfgrid/tfgrid/v1/twins/by-account/{address}", "/tfgrid/tfgrid/v1/farms/{id}",
		"/tfgrid/tfgrid/v1/farms/by-name/{name}", "/tfgrid/tfgrid/v1/farms/{id}/public-ips", "/tfgrid/tfgrid/v1/params",
	} {
		require.Contains(t, doc.Paths, p, "openapi.json paths")
	}
}

func mustAttr(t *testing.T, res txResponse, event, key string) string {
	t.Helper()
	v, ok := res.attr(event, key)
	require.True(t, ok, "no %s.%s in the tx events", event, key)
	return v
}

// testBadInput sends bad messages through the CLI: each is refused with its registered error
// (non-zero exit when simulated, codespace tfgrid + code when committed) and changes nothing.
// State on entry (from the walk-through): twins 1 farmer, 2 node1, 3 alice; farm 1 demo-farm with
// two IPs allowing twin 2; node 2 of twin 2.
func testBadInput(t *testing.T, c *chain) {
	bobTwin := idOf(t, c.mustTx("bob", "create-twin"), "tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	before := registrySnapshot(t, c)
	node := readBack(c, nodeQ(2), "/tfgrid/tfgrid/v1/nodes/2", "node", "2")
	ips := readBack(c, farmIPsQ(1), "/tfgrid/tfgrid/v1/farms/1/public-ips", "farm-public-ips", "1")
	// unchanged compares the whole registry (gRPC) and the farm's IPs through the CLI.
	unchanged := func(t *testing.T) {
		t.Helper()
		after := registrySnapshot(t, c)
		for name, want := range before {
			require.JSONEq(t, string(cdc.MustMarshalJSON(want)), string(cdc.MustMarshalJSON(after[name])), "%s changed", name)
		}
		n, err := c.query().Node(context.Background(), &types.QueryNodeRequest{Id: 2})
		require.NoError(t, err)
		require.Equal(t, node, n, "node 2 changed")
		var fromCLI types.QueryFarmPublicIpsResponse
		c.cliQuery(&fromCLI, "farm-public-ips", "1")
		require.Equal(t, ips, &fromCLI, "farm 1's IPs changed")
	}

	t.Run("gas_defaults_to_auto", func(t *testing.T) {
		// The help of a message command says what the bad-input checks below rely on: without
		// --gas the CLI simulates first; sign and gentx keep the SDK's fixed default.
		help := string(c.on(t).mustRun("tx", "tfgrid", "create-farm", "--help"))
		require.Regexp(t, `--gas string\s+gas limit of the tx: "auto" simulates it first.*\(default "auto"\)`, help)
		require.Regexp(t, `--gas-adjustment float\s+.*\(default 2\)`, help)
		require.NotContains(t, string(c.mustRun("tx", "sign", "--help")), `(default "auto")`)
		require.NotContains(t, string(c.mustRun("genesis", "gentx", "--help")), `(default "auto")`)
	})

	t.Run("farm_name_too_short", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrInvalidFarmName, "farmer", "create-farm", "a")
		notFound(c, func(ctx context.Context, q types.QueryClient) error {
			_, err := q.FarmByName(ctx, &types.QueryFarmByNameRequest{Name: "a"})
			return err
		}, "/tfgrid/tfgrid/v1/farms/by-name/a", "farm not found", "farm-by-name", "a")
		unchanged(t)
	})
	t.Run("private_ip", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrInvalidPublicIP, "farmer", "create-farm", "private-farm",
			"--public-ips", `{"ip":"10.0.0.1/24","gateway":"10.0.0.254"}`)
		c.txRejected(types.ErrInvalidPublicIP, "farmer", "add-farm-ip", "1", "10.0.0.1/24", "10.0.0.254")
		c.queryFails("tfgrid", "farm-by-name", "private-farm")
		unchanged(t)
	})
	t.Run("duplicate_ip", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrPublicIPExists, "farmer", "add-farm-ip", "1", "185.206.122.33/24", "185.206.122.1")
		unchanged(t)
	})
	t.Run("duplicate_twin", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrTwinExists, "alice", "create-twin", "--relays", "ws://10.1.1.1:9999")
		unchanged(t)
	})
	t.Run("node_twin_not_allowed", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrNodeTwinNotAllowed, "bob", "create-node", "1", "--resources", nodeResources,
			"--location", nodeLocation, "--interfaces", nodeInterfaces)
		c.queryFails("tfgrid", "node-by-twin", u(bobTwin))
		unchanged(t)
	})
	t.Run("power_state", func(t *testing.T) {
		c := c.on(t)
		// Not a PowerState value at all: the CLI refuses it before signing anything.
		out, errOut, err := c.run(append([]string{"tx", "tfgrid", "change-power-state", "sideways"}, c.txFlags("node1")...)...)
		require.Error(t, err, "stdout: %s", out)
		require.Contains(t, errOut, "not a valid value for enum tfgrid.tfgrid.v1.PowerState")
		// A value the chain never stores.
		c.txRejected(types.ErrInvalidPowerState, "node1", "change-power-state", "unspecified")
		unchanged(t)
	})
	t.Run("wrong_signer", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrNotFarmer, "bob", "change-power-target", "2", "down")
		c.txRejected(types.ErrNotFarmer, "bob", "allow-node-twin", "1", u(bobTwin))
		c.txRejected(types.ErrNotNodeTwin, "alice", "delete-node", "2")
		unchanged(t)
	})
	t.Run("uptime_hint_out_of_range", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrInvalidTimestampHint, "node1", "report-uptime", "60",
			strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10))
		unchanged(t)
	})
	t.Run("bad_node_description", func(t *testing.T) {
		c := c.on(t)
		c.txRejected(types.ErrInvalidMAC, "node1", "update-node", "2", "--farm-id", "1", "--resources", nodeResources,
			"--location", nodeLocation, "--interfaces", `{"name":"eth0","mac":"not-a-mac","ips":[]}`)
		c.txRejected(types.ErrInvalidMRU, "node1", "update-node", "2", "--farm-id", "1",
			"--resources", `{"cru":8,"sru":512000000000,"hru":0,"mru":1024}`, "--location", nodeLocation)
		unchanged(t)
	})
}

// testEnvVars: every flag can come from a TFGRIDD_* variable, as with other Cosmos chains' CLIs.
func testEnvVars(t *testing.T, c *chain) {
	withFlags := c.mustRun("keys", "list", "--keyring-backend", "test", "--home", c.home, "--output", "json")
	cmd := exec.Command(tfgriddBin, "keys", "list", "--output", "json")
	cmd.Env = append(testnet.CleanEnv(), "TFGRIDD_HOME="+c.home, "TFGRIDD_KEYRING_BACKEND=test")
	fromEnv, err := cmd.Output()
	require.NoError(t, err)
	require.JSONEq(t, string(withFlags), string(fromEnv))
	require.Contains(t, string(fromEnv), c.addrs["farmer"])

	// The node and the output format too: a query with no flag but its argument.
	cmd = exec.Command(tfgriddBin, "query", "tfgrid", "twin", "1")
	cmd.Env = append(testnet.CleanEnv(), "TFGRIDD_NODE="+c.rpc, "TFGRIDD_OUTPUT=json")
	out, err := cmd.Output()
	require.NoError(t, err)
	var twin types.QueryTwinResponse
	require.NoError(t, cdc.UnmarshalJSON(out, &twin), "%s", out)
	require.Equal(t, uint64(1), twin.Twin.Id)

	// A value the flag cannot take is refused, naming the variable.
	cmd = exec.Command(tfgriddBin, "keys", "list", "--keyring-backend", "test", "--home", c.home)
	cmd.Env = append(testnet.CleanEnv(), "TFGRIDD_LIST_NAMES=maybe")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.Error(t, cmd.Run())
	require.Contains(t, stderr.String(), `TFGRIDD_LIST_NAMES="maybe"`)
}
