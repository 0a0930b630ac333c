package e2e

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

// The farm's public network in the test (the chain takes only public unicast IPs; all of it lives in
// namespaces of the test): the farm router holds the gateway, the node's uplink
// namespace the public bridge, and a namespace behind the router stands in for the internet.
var (
	farmGateway = netip.MustParsePrefix("185.206.122.1/24")
	farmIPs     = []string{"185.206.122.10/24", "185.206.122.11/24"}
)

// webScript serves a small page and a 2 MiB file over HTTP on port 80.
const webScript = `mkdir -p /www && echo hello from web > /www/index.html && dd if=/dev/zero of=/www/big bs=1024 count=2048 && exec /bin/busybox httpd -f -p 80 -h /www`

// httpGet fetches path from addr:80 out of the namespace ns and returns the whole response.
func httpGet(ns string, addr netip.Addr, path string) (string, error) {
	return backendtest.HTTPGet(ns, netip.AddrPortFrom(addr, 80), path, 3*time.Second)
}

// eventuallyServes waits until a GET of path from ns answers with want in the body.
func eventuallyServes(t *testing.T, ns string, addr netip.Addr, path, want string) {
	t.Helper()
	var got string
	var err error
	require.Eventually(t, func() bool {
		got, err = httpGet(ns, addr, path)
		return err == nil && strings.Contains(got, want)
	}, 20*time.Second, 300*time.Millisecond, "GET http://%s%s from %s: %q %v", addr, path, ns, got, err)
}

// bigFile is the size of webScript's /big.
const bigFile = 2048 * 1024

// billedTraffic fetches webScript's /big three times with fetch and waits until a consumption
// report of contract id on chain carries at least one fetch's bytes as nru.
func (g *grid) billedTraffic(t *testing.T, id uint64, fetch func() (string, error)) {
	t.Helper()
	for range 3 {
		out, err := fetch()
		require.NoError(t, err)
		require.Greater(t, len(out), bigFile)
	}
	var nru uint64
	require.Eventually(t, func() bool {
		res, err := g.client.Billing.Contract(context.Background(), &billingtypes.QueryContractRequest{Id: id})
		if err == nil && res.Billing.LastReport != nil {
			nru = max(nru, res.Billing.LastReport.Nru)
		}
		return nru >= bigFile
	}, 30*time.Second, 300*time.Millisecond, "a report with the traffic (%d bytes); largest nru seen %d", 3*bigFile, nru)
}

// netGrid starts a grid whose node has a public network: a farm with two public IPs, the uplink
// in a namespace of the test, and an "internet" namespace behind the farm's router. It returns the
// grid and the internet namespace.
func netGrid(t *testing.T) (*grid, string) {
	farm := backendtest.NewFarm(t, farmGateway)
	g := startGrid(t, gridOptions{users: []string{"alice", "bob"}, farmIPs: farmIPs, farmGateway: farmGateway.Addr().String(),
		agentArgs: farm.AgentArgs()})
	return g, farm.Internet
}

// machineOn is a busybox machine running script on owner's network "net".
func (g *grid) machineOn(name, publicIP, script string) (deployment.Workload, netip.Addr) {
	n := g.onNetwork()
	n.PublicIP = publicIP
	return workload(name, deployment.TypeZMachine, deployment.ZMachine{FList: "busybox", Network: n,
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib},
		Entrypoint:      "/bin/sh -c '" + script + "'"}), netip.MustParseAddr(n.Interfaces[0].IP)
}

func (g *grid) call(t *testing.T, owner, cmd string, payload, out any) {
	t.Helper()
	require.NoError(t, g.peer[owner].Call(context.Background(), g.nodeTw, cmd, payload, out), cmd)
}

func TestAgentNetworks(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay and agent")
	}
	g, internet := netGrid(t)
	alice := g.users["alice"]

	web, webIP := g.machineOn("web", "pub", webScript)
	client, clientIP := g.machineOn("client", "", "sleep 3600")
	d := deployment.Deployment{TwinID: alice.twin,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: alice.twin, Weight: 1}}, WeightRequired: 1},
		Workloads:            []deployment.Workload{privateNetwork(alice.twin), web, client, workload("pub", deployment.TypeIP, deployment.PublicIP{V4: true})},
	}
	raw, id := g.prepared(t, d, "alice", g.node, 1)
	g.call(t, "alice", "zos.deployment.deploy", json.RawMessage(raw), nil)
	got := g.waitState(t, "alice", id, deployment.StateOk)

	ct, err := g.client.Contracts.Contract(context.Background(), &sctypes.QueryContractRequest{Id: id})
	require.NoError(t, err)
	reserved := ct.Contract.GetNodeContract().PublicIps
	require.Len(t, reserved, 1)
	var taken engine.IPResult
	for _, w := range got.Workloads {
		if w.Name == "pub" {
			require.NoError(t, json.Unmarshal(w.Result.Data, &taken))
		}
	}
	require.Equal(t, reserved[0].Ip, taken.IP, "the ip workload holds the contract's reserved IP")
	public := netip.MustParsePrefix(taken.IP).Addr()

	t.Run("machines on one network reach each other", func(t *testing.T) {
		eventuallyServes(t, network.MachineNSPath(engine.WorkloadID(id, "client")), webIP, "/", "hello from web")
	})

	t.Run("the public IP serves the internet", func(t *testing.T) {
		eventuallyServes(t, internet, public, "/", "hello from web")
	})

	t.Run("network commands", func(t *testing.T) {
		var ports []uint16
		g.call(t, "alice", "zos.network.list_wg_ports", nil, &ports)
		require.Contains(t, ports, uint16(20000+alice.twin))
		var private []string
		g.call(t, "alice", "zos.network.list_private_ips", map[string]string{"network_name": "net"}, &private)
		require.ElementsMatch(t, []string{webIP.String(), clientIP.String()}, private)
		var publicIPs []string
		g.call(t, "alice", "zos.network.list_public_ips", nil, &publicIPs)
		require.Equal(t, []string{taken.IP}, publicIPs)
		var cfg map[string]string
		g.call(t, "alice", "zos.network.public_config_get", nil, &cfg)
		require.Equal(t, "uplink0", cfg["interface"])
		require.Equal(t, farmGateway.Addr().String(), cfg["gateway"])
		err := g.peer["bob"].Call(context.Background(), g.nodeTw, "zos.network.list_private_ips", map[string]string{"network_name": "net"}, nil)
		require.ErrorContains(t, err, "not found", "bob has no network net: alice's is not his")
	})

	t.Run("another twin's machine cannot reach alice's", func(t *testing.T) {
		bob := g.users["bob"]
		m, _ := g.machineOn("vm", "", "sleep 3600")
		bd := deployment.Deployment{TwinID: bob.twin,
			SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: bob.twin, Weight: 1}}, WeightRequired: 1},
			Workloads:            []deployment.Workload{privateNetwork(bob.twin), m},
		}
		raw, bid := g.prepared(t, bd, "bob", g.node, 0)
		g.call(t, "bob", "zos.deployment.deploy", json.RawMessage(raw), nil)
		g.waitState(t, "bob", bid, deployment.StateOk)
		out, err := httpGet(network.MachineNSPath(engine.WorkloadID(bid, "vm")), webIP, "/")
		require.Error(t, err, "bob's machine reached alice's web server: %q", out)
	})

	t.Run("public traffic is billed as nru", func(t *testing.T) {
		g.billedTraffic(t, id, func() (string, error) { return httpGet(internet, public, "/big") })
	})

	t.Run("a machine lost with its namespace comes back with its links", func(t *testing.T) {
		// What a reboot does to the machine: its container and its namespace (with the links in
		// it) are gone while the agent is down; the backends' records remain.
		g.agent.Kill()
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		webID := engine.WorkloadID(id, "web")
		require.NoError(t, drv.Delete(context.Background(), webID))
		require.NoError(t, network.DeleteMachineNS(webID))
		require.NoError(t, g.agent.Start())
		eventuallyServes(t, internet, public, "/", "hello from web")
		eventuallyServes(t, network.MachineNSPath(engine.WorkloadID(id, "client")), webIP, "/", "hello from web")
	})

	t.Run("cancel removes the public IP and the network", func(t *testing.T) {
		_, err := alice.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: alice.bc.Address(), ContractId: id})
		require.NoError(t, err)
		g.waitState(t, "alice", id, deployment.StateDeleted)
		out, err := httpGet(internet, public, "/")
		require.Error(t, err, "the public IP still answers after cancel: %q", out)
		var publicIPs []string
		g.call(t, "alice", "zos.network.list_public_ips", nil, &publicIPs)
		require.Empty(t, publicIPs)
		backendtest.AssertNetNSGone(t, "tfz-"+engine.WorkloadID(id, "web"))
		backendtest.AssertNetNSGone(t, network.NamesOf(uint32(alice.twin), "net").NetNS)
	})
}
