package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// gridOptions shape a grid: its users (twins with an RMB peer each, besides the farmer and the
// node), the farm's public IPs, and extra flags for the agent.
type gridOptions struct {
	users       []string
	farmIPs     []string
	farmGateway string
	agentArgs   []string
}

// startGrid starts a chain, a relay, a farm (open registration, opts' IPs) and an agent with
// busybox in its image store, registered as the farm's node; everything stops at cleanup.
func startGrid(t *testing.T, opts gridOptions) *grid {
	dir := t.TempDir()
	tfgridd := os.Getenv("TFGRIDD_BIN")
	if tfgridd == "" {
		tfgridd = binary(t, "", "./cmd/tfgridd", dir)
	}
	relayBin := binary(t, "RMB_RELAY_BIN", "./cmd/rmb-relay", dir)
	agentBin := binary(t, "ZOS_AGENT_BIN", "./cmd/zos-agent", dir)

	keys := map[string]*secp256k1.PrivKey{}
	for _, n := range append([]string{"farmer", "node"}, opts.users...) {
		keys[n] = secp256k1.GenPrivKey()
	}
	chain, err := testnet.StartChain(tfgridd, dir, keys)
	require.NoError(t, err)
	t.Cleanup(chain.Stop)
	client, err := chainclient.Dial(chain.GRPC, chain.RPC)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	ports, err := testnet.FreePorts(2)
	require.NoError(t, err)
	relay := testnet.NewRelay(relayBin, fmt.Sprintf("127.0.0.1:%d", ports[0]), filepath.Join(dir, "relay.log"),
		"--grpc", chain.GRPC, "--rpc", chain.RPC, "--data-dir", filepath.Join(dir, "relay"))
	require.NoError(t, relay.Start())
	t.Cleanup(func() { _ = relay.Stop() })

	g := &grid{t: t, chain: chain, client: client, users: map[string]*user{}, peer: map[string]*peer.Peer{}}
	specs := map[string]testnet.TwinSpec{}
	for name, k := range keys {
		bc, err := client.NewBroadcaster(k, testnet.ChainID)
		require.NoError(t, err)
		g.users[name] = &user{name: name, key: k, bc: bc}
		if name != "node" {
			e2e, err := rmb.E2EPublicKey(k)
			require.NoError(t, err)
			specs[name] = testnet.TwinSpec{Relays: []string{relay.URL}, E2EKey: e2e}
		}
	}
	ids, err := chain.CreateTwins(specs)
	require.NoError(t, err)
	for n, id := range ids {
		g.users[n].twin = id
	}
	farmer := g.users["farmer"]
	ctx := context.Background()
	_, err = farmer.bc.Send(ctx, &tftypes.MsgCreateFarm{Creator: farmer.bc.Address(), Name: "e2efarm"})
	require.NoError(t, err)
	farm, err := client.Tfgrid.FarmByName(ctx, &tftypes.QueryFarmByNameRequest{Name: "e2efarm"})
	require.NoError(t, err)
	_, err = farmer.bc.Send(ctx, &tftypes.MsgSetFarmOpenRegistration{Creator: farmer.bc.Address(), FarmId: farm.Farm.Id, Open: true})
	require.NoError(t, err)
	for _, ip := range opts.farmIPs {
		_, err = farmer.bc.Send(ctx, &tftypes.MsgAddFarmIp{Creator: farmer.bc.Address(), FarmId: farm.Farm.Id, Ip: ip, Gateway: opts.farmGateway})
		require.NoError(t, err)
	}

	g.dataDir = filepath.Join(dir, "agent")
	store, err := image.Open(g.dataDir)
	require.NoError(t, err)
	_, err = store.Import(backendtest.WriteRootfsTar(t, dir), "busybox")
	require.NoError(t, err)
	g.agent = testnet.NewAgent(agentBin, fmt.Sprintf("127.0.0.1:%d", ports[1]), filepath.Join(dir, "agent.log"),
		"--chain-grpc", chain.GRPC, "--chain-rpc", chain.RPC, "--chain-id", testnet.ChainID, "--relays", relay.URL,
		"--keyring-dir", chain.Home, "--key-name", "node", "--farm-id", fmt.Sprint(farm.Farm.Id), "--data-dir", g.dataDir,
		"--storage", g.dataDir+":ssd", "--cpu-overcommit", "16", "--block-time", "1s", "--report-period", "3s",
		"--reconcile-period", "2s", "--uptime-period", "1m")
	g.agent.Args = append(g.agent.Args, opts.agentArgs...)
	require.NoError(t, g.agent.Start(), "agent")
	t.Cleanup(func() {
		g.agent.Stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", g.agent.LogTail(80))
		}
		cleanupMachine(t, g.dataDir)
	})
	tw, err := client.Tfgrid.TwinByAccount(ctx, &tftypes.QueryTwinByAccountRequest{Address: g.users["node"].bc.Address()})
	require.NoError(t, err)
	g.nodeTw = tw.Twin.Id
	nd, err := client.Tfgrid.NodeByTwin(ctx, &tftypes.QueryNodeByTwinRequest{TwinId: g.nodeTw})
	require.NoError(t, err)
	g.node = nd.Node.Id

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
