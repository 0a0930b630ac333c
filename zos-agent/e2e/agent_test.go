// Package e2e runs the node agent end to end: a real tfgridd chain, a real rmb-relay and the real
// zos-agent binary (as root: runc, loop devices, mounts), driven by a user client on rmb/peer and
// chainclient. `go test -short` skips it.
//
//	make build build-agent && TFGRIDD_BIN=$PWD/build/tfgridd ZOS_AGENT_BIN=$PWD/build/zos-agent go test ./zos-agent/e2e/ -count=1 -v
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
	"github.com/tfgrid/tfgrid/testnet"
	"github.com/tfgrid/tfgrid/testnet/agentnet"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

const mib = 1 << 20

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
	node    uint64
	nodeTw  uint64
	users   map[string]*user
	peer    map[string]*peer.Peer
	seq     int
}

func TestAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay and agent")
	}
	backendtest.RequireRoot(t)
	dir := t.TempDir()
	tfgridd := os.Getenv("TFGRIDD_BIN")
	if tfgridd == "" {
		tfgridd = binary(t, "", "./cmd/tfgridd", dir)
	}
	relayBin := binary(t, "RMB_RELAY_BIN", "./cmd/rmb-relay", dir)
	agentBin := binary(t, "ZOS_AGENT_BIN", "./cmd/zos-agent", dir)

	keys := map[string]*secp256k1.PrivKey{}
	for _, n := range []string{"farmer", "node", "node2", "alice", "bob", "carol"} {
		keys[n] = secp256k1.GenPrivKey()
	}
	chain, relay, err := testnet.StartChainAndRelay(tfgridd, relayBin, dir, keys)
	require.NoError(t, err)
	t.Cleanup(chain.Stop)
	t.Cleanup(func() { _ = relay.Stop() })
	client, err := chainclient.Dial(chain.GRPC, chain.RPC)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })

	g := &grid{t: t, chain: chain, client: client, users: map[string]*user{}, peer: map[string]*peer.Peer{}}
	for name, k := range keys {
		bc, err := client.NewBroadcaster(k, testnet.ChainID)
		require.NoError(t, err)
		g.users[name] = &user{name: name, key: k, bc: bc}
	}
	specs := map[string]testnet.TwinSpec{}
	for _, n := range []string{"farmer", "node2", "alice", "bob", "carol"} {
		e2e, err := rmb.E2EPublicKey(keys[n])
		require.NoError(t, err)
		specs[n] = testnet.TwinSpec{Relays: []string{relay.URL}, E2EKey: e2e}
	}
	ids, err := chain.CreateTwins(specs)
	require.NoError(t, err)
	for n, id := range ids {
		g.users[n].twin = id
	}
	farmer := g.users["farmer"]
	_, err = farmer.bc.Send(context.Background(), &tftypes.MsgCreateFarm{Creator: farmer.bc.Address(), Name: "agentfarm"})
	require.NoError(t, err)
	farm, err := client.Tfgrid.FarmByName(context.Background(), &tftypes.QueryFarmByNameRequest{Name: "agentfarm"})
	require.NoError(t, err)
	_, err = farmer.bc.Send(context.Background(), &tftypes.MsgSetFarmOpenRegistration{Creator: farmer.bc.Address(), FarmId: farm.Farm.Id, Open: true})
	require.NoError(t, err)
	// A second node in the farm, so a contract can name another node than the agent's.
	node2 := g.users["node2"]
	_, err = node2.bc.Send(context.Background(), &tftypes.MsgCreateNode{Creator: node2.bc.Address(), FarmId: farm.Farm.Id,
		Resources: tftypes.Resources{Cru: 4, Mru: 8 << 30, Sru: 100 << 30},
		Location:  tftypes.Location{City: "Unknown", Country: "Unknown", Latitude: "Unknown", Longitude: "Unknown"}})
	require.NoError(t, err)
	n2, err := client.Tfgrid.NodeByTwin(context.Background(), &tftypes.QueryNodeByTwinRequest{TwinId: node2.twin})
	require.NoError(t, err)

	g.agent, g.dataDir = agentnet.Start(t, agentBin, chain, relay.URL, "node", farm.Farm.Id, dir)
	tw, err := client.Tfgrid.TwinByAccount(context.Background(), &tftypes.QueryTwinByAccountRequest{Address: g.users["node"].bc.Address()})
	require.NoError(t, err)
	g.nodeTw = tw.Twin.Id
	nd, err := client.Tfgrid.NodeByTwin(context.Background(), &tftypes.QueryNodeByTwinRequest{TwinId: g.nodeTw})
	require.NoError(t, err)
	g.node = nd.Node.Id
	require.NotZero(t, nd.Node.Resources.Cru, "registered capacity")

	lookup, err := twins.Connect(context.Background(), chain.GRPC, chain.RPC, twins.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { lookup.Close() })
	for _, n := range []string{"alice", "bob"} {
		ctx, cancel := context.WithCancel(context.Background())
		p, err := peer.New(ctx, keys[n], g.users[n].twin, []string{relay.URL}, peer.Options{Lookup: lookup})
		require.NoError(t, err)
		t.Cleanup(func() { cancel(); p.Close() })
		g.peer[n] = p
	}

	var running uint64
	t.Run("deploy a container with a 64 MiB volume", func(t *testing.T) {
		d := g.machineDeployment("alice", 64*mib, 256*mib, "busybox")
		id := g.deploy(t, "alice", d, "alice")
		rec := g.waitState(t, "alice", id, deployment.StateOk)
		require.Len(t, rec.Workloads, 2)
		wid := engine.WorkloadID(id, "vm")
		limit, err := os.ReadFile("/sys/fs/cgroup/memory" + container.CgroupsPath(wid) + "/memory.limit_in_bytes")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(256*mib), strings.TrimSpace(string(limit)))
		logFile := filepath.Join(g.dataDir, "containers", "tfz-"+wid, "output.log")
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(logFile)
			return strings.Contains(string(b), "filled")
		}, 30*time.Second, 200*time.Millisecond, "the machine's fill script did not finish")
		out, _ := os.ReadFile(logFile)
		require.Contains(t, string(out), "No space left on device", "writing past the volume")
		running = id
	})

	t.Run("refusals", func(t *testing.T) {
		alice := g.users["alice"]
		base := g.machineDeployment("alice", 64*mib, 256*mib, "busybox")
		cases := []struct {
			name   string
			prep   func() ([]byte, uint64)
			sender string
			want   string
		}{
			{"wrong hash", func() ([]byte, uint64) {
				id := g.contract(t, alice, g.node, strings.Repeat("ab", 32), 0, capacityOf(t, base))
				return g.signed(t, base, id, "alice"), id
			}, "alice", "deployment_hash"},
			{"wrong twin", func() ([]byte, uint64) {
				raw, id := g.prepared(t, base, "alice", g.node, 0)
				return raw, id
			}, "bob", "is not the sender twin"},
			{"another node's contract", func() ([]byte, uint64) {
				return g.prepared(t, base, "alice", n2.Node.Id, 0)
			}, "alice", "is not this node"},
			{"cancelled contract", func() ([]byte, uint64) {
				raw, id := g.prepared(t, base, "alice", g.node, 0)
				_, err := alice.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: alice.bc.Address(), ContractId: id})
				require.NoError(t, err)
				return raw, id
			}, "alice", "CONTRACT_STATE_DELETED"},
			{"more IPs than reserved", func() ([]byte, uint64) {
				d := base
				d.Workloads = append(append([]deployment.Workload{}, base.Workloads...), workload("pub", deployment.TypeIP, deployment.PublicIP{V4: true}))
				return g.prepared(t, d, "alice", g.node, 0)
			}, "alice", "public_ips_count reserves 0"},
			{"missing image", func() ([]byte, uint64) {
				return g.prepared(t, g.machineDeployment("alice", 64*mib, 256*mib, "nosuchimage"), "alice", g.node, 0)
			}, "alice", `image "nosuchimage"`},
			{"more capacity than the contract reserves", func() ([]byte, uint64) {
				under := capacityOf(t, base)
				under.MRU -= mib // the user's consent bounds the deployment: one MiB short is refused
				return g.preparedReserving(t, base, "alice", g.node, 0, under)
			}, "alice", "the contract reserves"},
			{"2-of-3 with one signature", func() ([]byte, uint64) {
				return g.prepared(t, g.multisig(), "alice", g.node, 0)
			}, "alice", "weight"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				raw, id := c.prep()
				err := g.peer[c.sender].Call(context.Background(), g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil)
				require.Error(t, err)
				require.Contains(t, err.Error(), c.want)
				require.Error(t, g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": id}, nil),
					"a refused deployment is not stored")
			})
		}
		t.Run("more memory than the node has free", func(t *testing.T) {
			// The chain refuses to reserve it, so no deployment can ask for it (the engine's own
			// admission against the machine's free memory is tested in zos-agent/engine).
			big := g.machineDeployment("alice", 64*mib, 1<<40, "busybox")
			raw, err := json.Marshal(big)
			require.NoError(t, err)
			hash, err := deployment.HashJSON(raw)
			require.NoError(t, err)
			_, err = alice.bc.Send(context.Background(), &sctypes.MsgCreateNodeContract{Creator: alice.bc.Address(), NodeId: g.node,
				DeploymentHash: hash, Resources: tftypes.Resources{Cru: 1, Mru: 1 << 40, Sru: 64 * mib}})
			require.ErrorContains(t, err, sctypes.ErrInsufficientCapacity.Error())
		})
		t.Run("2-of-3 with two signatures", func(t *testing.T) {
			raw, id := g.prepared(t, g.multisig(), "alice", g.node, 0, "bob")
			require.NoError(t, g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil))
			g.waitState(t, "alice", id, deployment.StateOk)
		})
		t.Run("delete over RMB", func(t *testing.T) {
			err := g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.delete", map[string]uint64{"contract_id": running}, nil)
			require.ErrorContains(t, err, "cancel the contract instead")
		})
		t.Run("another twin's deployment is not found", func(t *testing.T) {
			err := g.peer["bob"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": running}, nil)
			require.ErrorContains(t, err, "not found")
		})
	})

	t.Run("agent killed and restarted", func(t *testing.T) {
		require.NotZero(t, running)
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		wid := engine.WorkloadID(running, "vm")
		before, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		g.agent.Kill()
		after, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		require.Equal(t, container.StatusRunning, after.Status, "the machine outlives the agent")
		require.NoError(t, g.agent.Start())
		g.waitState(t, "alice", running, deployment.StateOk)
		again, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		require.Equal(t, before.Pid, again.Pid, "reattached, not started twice")
		list, err := drv.List(context.Background())
		require.NoError(t, err)
		n := 0
		for _, s := range list {
			if s.ID == "tfz-"+wid {
				n++
			}
		}
		require.Equal(t, 1, n)
	})

	t.Run("consumption reports reach the chain", func(t *testing.T) {
		require.Eventually(t, func() bool {
			res, err := client.Billing.Contract(context.Background(), &billingtypes.QueryContractRequest{Id: running})
			return err == nil && res.Billing.LastReport != nil && res.Billing.LastReport.Cru == 1 &&
				res.Billing.LastReport.Mru == 256*mib && res.Billing.LastReport.Sru == 64*mib+500*mib
		}, 30*time.Second, 500*time.Millisecond)
	})

	t.Run("cancel tears everything down", func(t *testing.T) {
		alice := g.users["alice"]
		_, err := alice.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: alice.bc.Address(), ContractId: running})
		require.NoError(t, err)
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		disks, err := disk.New(g.dataDir)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			_, cerr := drv.State(context.Background(), engine.WorkloadID(running, "vm"))
			_, derr := disks.Get(engine.WorkloadID(running, "vol"))
			return cerr != nil && derr != nil
		}, 15*time.Second, 200*time.Millisecond)
		f := filepath.Join(g.dataDir, "disks", "tfz-"+engine.WorkloadID(running, "vol"))
		backendtest.AssertDiskGone(t, f+".img", f)
	})
}
