package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
	"github.com/tfgrid/tfgrid/testnet"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

// Billing runs on short params in these tests: a settlement every few seconds, and a grace period
// long enough that no contract is deleted for lack of funds while a test looks at it.
const (
	settleEvery = 3   // billing settlement_interval, seconds
	graceFor    = 600 // billing grace_period, seconds
)

// binary returns the path of a binary from env, or builds pkg into dir.
func binary(t *testing.T, env, pkg, dir string) string {
	t.Helper()
	p, err := testnet.Binary(env, pkg, filepath.Join("..", ".."), dir)
	require.NoError(t, err)
	return p
}

type user struct {
	name string
	key  *secp256k1.PrivKey
	twin uint64
	bc   *chainclient.Broadcaster
}

type grid struct {
	t       *testing.T
	chain   *testnet.Chain
	client  *chainclient.Client
	agent   *testnet.Agent
	dataDir string
	farm    uint64
	node    uint64
	nodeTw  uint64
	node2   uint64 // a second node of the farm, without an agent
	users   map[string]*user
	peer    map[string]*peer.Peer
	seq     int
	seqMu   sync.Mutex
}

// gridOptions shape a grid: its users (twins with an RMB peer each, besides the farmer and the
// nodes), the farm's public IPs, and extra flags for the agent.
type gridOptions struct {
	users       []string
	farmIPs     []string
	farmGateway string
	agentArgs   []string
	relayArgs   []string
}

// startGrid starts one real chain (billing on short params), a relay and the agent on a node of an
// open farm (with opts' public IPs), with the busybox image imported; each user gets a funded
// account, a twin and an RMB peer. The agent may reserve 16 cores per logical CPU. Everything stops
// with the test.
func startGrid(t *testing.T, opts gridOptions) *grid {
	backendtest.RequireRoot(t)
	dir := t.TempDir()
	tfgridd := os.Getenv("TFGRIDD_BIN")
	if tfgridd == "" {
		tfgridd = binary(t, "", "./cmd/tfgridd", dir)
	}
	relayBin := binary(t, "RMB_RELAY_BIN", "./cmd/rmb-relay", dir)
	agentBin := binary(t, "ZOS_AGENT_BIN", "./cmd/zos-agent", dir)

	keys := map[string]*secp256k1.PrivKey{}
	for _, n := range append([]string{"farmer", "node", "node2"}, opts.users...) {
		keys[n] = secp256k1.GenPrivKey()
	}
	chain, err := testnet.StartChain(tfgridd, dir, keys, testnet.WithGenesis(shortBilling))
	require.NoError(t, err)
	t.Cleanup(chain.Stop)
	client, err := chainclient.Dial(chain.GRPC, chain.RPC)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })

	ports, err := testnet.FreePorts(2)
	require.NoError(t, err)
	relay := testnet.NewRelay(relayBin, fmt.Sprintf("127.0.0.1:%d", ports[0]), filepath.Join(dir, "relay.log"),
		append([]string{"--grpc", chain.GRPC, "--rpc", chain.RPC, "--data-dir", filepath.Join(dir, "relay")}, opts.relayArgs...)...)
	require.NoError(t, relay.Start())
	t.Cleanup(func() { _ = relay.Stop() })

	g := &grid{t: t, chain: chain, client: client, users: map[string]*user{}, peer: map[string]*peer.Peer{}}
	for name, k := range keys {
		bc, err := client.NewBroadcaster(k, testnet.ChainID)
		require.NoError(t, err)
		g.users[name] = &user{name: name, key: k, bc: bc}
	}
	specs := map[string]testnet.TwinSpec{}
	for _, n := range append([]string{"farmer", "node2"}, opts.users...) {
		e2e, err := rmb.E2EPublicKey(keys[n])
		require.NoError(t, err)
		specs[n] = testnet.TwinSpec{Relays: []string{relay.URL}, E2EKey: e2e}
	}
	ids, err := chain.CreateTwins(specs)
	require.NoError(t, err)
	for n, id := range ids {
		g.users[n].twin = id
	}
	ctx := context.Background()
	farmer := g.users["farmer"]
	_, err = farmer.bc.Send(ctx, &tftypes.MsgCreateFarm{Creator: farmer.bc.Address(), Name: "agentfarm"})
	require.NoError(t, err)
	farm, err := client.Tfgrid.FarmByName(ctx, &tftypes.QueryFarmByNameRequest{Name: "agentfarm"})
	require.NoError(t, err)
	g.farm = farm.Farm.Id
	_, err = farmer.bc.Send(ctx, &tftypes.MsgSetFarmOpenRegistration{Creator: farmer.bc.Address(), FarmId: g.farm, Open: true})
	require.NoError(t, err)
	// A second node in the farm, so a contract can name another node than the agent's.
	node2 := g.users["node2"]
	_, err = node2.bc.Send(ctx, &tftypes.MsgCreateNode{Creator: node2.bc.Address(), FarmId: g.farm,
		Resources: tftypes.Resources{Cru: 4, Mru: 8 << 30, Sru: 100 << 30},
		Location:  tftypes.Location{City: "Unknown", Country: "Unknown", Latitude: "Unknown", Longitude: "Unknown"}})
	require.NoError(t, err)
	n2, err := client.Tfgrid.NodeByTwin(ctx, &tftypes.QueryNodeByTwinRequest{TwinId: node2.twin})
	require.NoError(t, err)
	g.node2 = n2.Node.Id
	for _, ip := range opts.farmIPs {
		_, err = farmer.bc.Send(ctx, &tftypes.MsgAddFarmIp{Creator: farmer.bc.Address(), FarmId: g.farm, Ip: ip, Gateway: opts.farmGateway})
		require.NoError(t, err)
	}

	// The agent: its image store gets busybox before it starts.
	g.dataDir = filepath.Join(dir, "agent")
	store, err := image.Open(g.dataDir)
	require.NoError(t, err)
	_, err = store.Import(backendtest.WriteRootfsTar(t, dir), "busybox")
	require.NoError(t, err)
	g.agent = testnet.NewAgent(agentBin, fmt.Sprintf("127.0.0.1:%d", ports[1]), filepath.Join(dir, "agent.log"),
		"--chain-grpc", chain.GRPC, "--chain-rpc", chain.RPC, "--chain-id", testnet.ChainID, "--relays", relay.URL,
		"--keyring-dir", chain.Home, "--key-name", "node", "--farm-id", fmt.Sprint(g.farm), "--data-dir", g.dataDir,
		"--storage", g.dataDir+":ssd", "--cpu-overcommit", "16", "--block-time", "1s", "--report-period", "3s", "--reconcile-period", "2s", "--uptime-period", "1m")
	g.agent.Args = append(g.agent.Args, opts.agentArgs...)
	require.NoError(t, g.agent.Start(), "agent")
	t.Cleanup(func() {
		g.agent.Stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", g.agent.LogTail(80))
		}
		testnet.ClearAgentMachine(g.dataDir)
	})
	tw, err := client.Tfgrid.TwinByAccount(ctx, &tftypes.QueryTwinByAccountRequest{Address: g.users["node"].bc.Address()})
	require.NoError(t, err)
	g.nodeTw = tw.Twin.Id
	nd, err := client.Tfgrid.NodeByTwin(ctx, &tftypes.QueryNodeByTwinRequest{TwinId: g.nodeTw})
	require.NoError(t, err)
	g.node = nd.Node.Id
	require.NotZero(t, nd.Node.Resources.Cru, "registered capacity")

	lookup, err := twins.Connect(ctx, chain.GRPC, chain.RPC, twins.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { lookup.Close() })
	for _, n := range opts.users {
		pctx, cancel := context.WithCancel(ctx)
		p, err := peer.New(pctx, keys[n], g.users[n].twin, []string{relay.URL}, peer.Options{Lookup: lookup})
		require.NoError(t, err)
		t.Cleanup(func() { cancel(); p.Close() })
		g.peer[n] = p
	}
	return g
}

// shortBilling sets billing's settlement_interval and grace_period in the genesis, on a fixed schedule
// (max_settlement_interval = settlement_interval): the tests wait for settlements every few seconds.
func shortBilling(appState map[string]any) error {
	billing, ok := appState["billing"].(map[string]any)
	if !ok {
		return fmt.Errorf("genesis: no billing section")
	}
	params, ok := billing["params"].(map[string]any)
	if !ok {
		return fmt.Errorf("genesis: no billing params")
	}
	params["settlement_interval"] = strconv.Itoa(settleEvery)
	params["max_settlement_interval"] = strconv.Itoa(settleEvery)
	params["grace_period"] = strconv.Itoa(graceFor)
	return nil
}
