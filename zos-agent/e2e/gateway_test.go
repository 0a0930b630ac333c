package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/stretchr/testify/require"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

// The node's gateway in the test: it listens in the node's uplink namespace, which a veth joins to
// a "visitor" namespace (TEST-NET-1) standing in for a browser on the internet.
const gatewayDomain = "gw.grid.test"

var (
	gatewaySide = netip.MustParsePrefix("192.0.2.1/24")
	visitorSide = netip.MustParsePrefix("192.0.2.2/24")
)

// nameContract creates owner's name contract for name and returns its id.
func (g *grid) nameContract(t *testing.T, owner, name string) uint64 {
	t.Helper()
	u := g.users[owner]
	res, err := u.bc.Send(context.Background(), &sctypes.MsgCreateNameContract{Creator: u.bc.Address(), Name: name})
	require.NoError(t, err)
	id, err := createdContract(u, res)
	require.NoError(t, err)
	return id
}

// visit sends an HTTP/1.0 GET of path for host to the gateway from the visitor namespace.
func visit(visitor, host, path string) (string, error) {
	return backendtest.Exchange(visitor, netip.Addr{}, netip.AddrPortFrom(gatewaySide.Addr(), 80),
		"GET "+path+" HTTP/1.0\r\nHost: "+host+"\r\n\r\n", 5*time.Second)
}

// eventuallyVisits waits until the gateway answers a visit for host with want in the body.
func eventuallyVisits(t *testing.T, visitor, host, path, want string) {
	t.Helper()
	var out string
	var err error
	require.Eventually(t, func() bool {
		out, err = visit(visitor, host, path)
		return err == nil && strings.Contains(out, want)
	}, 30*time.Second, 300*time.Millisecond, "GET http://%s%s from %s: %q %v", host, path, visitor, out, err)
}

func TestAgentGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay and agent")
	}
	uplink, visitor := backendtest.NetNS(t, "gwuplink"), backendtest.NetNS(t, "visitor")
	backendtest.Veth(t, uplink, "gwv0", gatewaySide, visitor, "gwv0", visitorSide)
	g := startGrid(t, gridOptions{users: []string{"alice", "bob"}, agentArgs: []string{"--uplink-netns", uplink,
		"--gateway-domain", gatewayDomain, "--gateway-http", "0.0.0.0:80", "--gateway-tls", "0.0.0.0:443"}})
	alice, bob := g.users["alice"], g.users["bob"]
	aliceName := g.nameContract(t, "alice", "alice-web")
	bobName := g.nameContract(t, "bob", "bob-web")
	host := "alice-web." + gatewayDomain

	web, webIP := g.machineOn("web", "", webScript)
	gw := func(name string) deployment.Workload {
		return workload("gw", deployment.TypeGatewayNameProxy, deployment.GatewayNameProxy{Name: name,
			Backends: []string{"http://" + webIP.String() + ":80"}, Network: "net"})
	}
	sig := deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: alice.twin, Weight: 1}}, WeightRequired: 1}
	d := deployment.Deployment{TwinID: alice.twin, SignatureRequirement: sig,
		Workloads: []deployment.Workload{privateNetwork(alice.twin), web, gw("alice-web")}}
	raw, id := g.prepared(t, d, "alice", g.node, 0)
	g.call(t, "alice", "zos.deployment.deploy", json.RawMessage(raw), nil)
	got := g.waitState(t, "alice", id, deployment.StateOk)
	var res engine.GatewayResult
	for _, w := range got.Workloads {
		if w.Name == "gw" {
			require.NoError(t, json.Unmarshal(w.Result.Data, &res))
		}
	}
	require.Equal(t, engine.GatewayResult{FQDN: host, NameContract: aliceName}, res)

	t.Run("a request for the name reaches the machine", func(t *testing.T) {
		eventuallyVisits(t, visitor, host, "/", "hello from web")
		out, err := visit(visitor, "nosuch."+gatewayDomain, "/")
		require.NoError(t, err)
		require.Contains(t, out, "404 Not Found")
		var cfg map[string]string
		g.call(t, "alice", "zos.network.public_config_get", nil, &cfg)
		require.Equal(t, gatewayDomain, cfg["domain"], "the node tells its gateway domain")
	})

	t.Run("another twin's name and a name without a contract are refused", func(t *testing.T) {
		for name, want := range map[string]string{
			"bob-web": fmt.Sprintf(`workload "gw": name "bob-web": name contract %d is owned by twin %d, not by the deployment's twin %d`, bobName, bob.twin, alice.twin),
			"nobody":  `workload "gw": name "nobody": no live name contract holds it on chain`,
		} {
			other := deployment.Deployment{TwinID: alice.twin, SignatureRequirement: sig, Workloads: []deployment.Workload{gw(name)}}
			raw, oid := g.prepared(t, other, "alice", g.node, 0)
			err := g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil)
			require.ErrorContains(t, err, want)
			err = g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": oid}, nil)
			require.ErrorContains(t, err, "not found", "a refused deployment is not stored")
		}
	})

	t.Run("gateway traffic is billed as nru", func(t *testing.T) {
		// The contract has no public IP: all its nru is the gateway's.
		g.billedTraffic(t, id, func() (string, error) { return visit(visitor, host, "/big") })
	})

	t.Run("the route comes back after the agent is killed", func(t *testing.T) {
		g.agent.Kill()
		out, err := visit(visitor, host, "/")
		require.Error(t, err, "nothing serves while the agent is down: %q", out)
		require.NoError(t, g.agent.Start())
		eventuallyVisits(t, visitor, host, "/", "hello from web")
	})

	t.Run("grace of the contracts removes the route, a top-up restores it", func(t *testing.T) {
		// alice keeps less than a settlement costs: her node contract and her name contract both
		// go into grace, each pausing the gateway on its own (events of both kinds).
		g.drain(t, "alice", 10)
		g.waitContract(t, aliceName, sctypes.ContractStateGracePeriod)
		g.waitContract(t, id, sctypes.ContractStateGracePeriod)
		eventuallyVisits(t, visitor, host, "/", "404 Not Found")
		var d deployment.Deployment
		require.Eventually(t, func() bool {
			err := g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": id}, &d)
			w := workloadOf(d, "gw")
			return err == nil && w.Result.State == deployment.StatePaused &&
				strings.Contains(w.Result.Message, fmt.Sprintf("name contract %d for \"alice-web\" is in its grace period", aliceName))
		}, 20*time.Second, 200*time.Millisecond, "the gateway is not paused for its name contract: %+v", workloadOf(d, "gw").Result)

		_, err := g.users["bob"].bc.Send(context.Background(),
			&banktypes.MsgSend{FromAddress: bob.bc.Address(), ToAddress: alice.bc.Address(), Amount: sdk.NewCoins(sdk.NewInt64Coin("utft", 1_000_000_000))},
			&billingtypes.MsgSettleContract{Creator: bob.bc.Address(), ContractId: id},
			&billingtypes.MsgSettleContract{Creator: bob.bc.Address(), ContractId: aliceName})
		require.NoError(t, err)
		g.waitContract(t, aliceName, sctypes.ContractStateCreated)
		g.waitContract(t, id, sctypes.ContractStateCreated)
		eventuallyVisits(t, visitor, host, "/", "hello from web")
		g.waitState(t, "alice", id, deployment.StateOk)
	})

	t.Run("cancelling the name contract removes the route", func(t *testing.T) {
		_, err := alice.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: alice.bc.Address(), ContractId: aliceName})
		require.NoError(t, err)
		var d deployment.Deployment
		require.Eventually(t, func() bool {
			err := g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": id}, &d)
			return err == nil && stateOf(d, "gw") == deployment.StateDeleted
		}, 30*time.Second, 200*time.Millisecond, "gateway not deleted: %+v", d.Workloads)
		require.Equal(t, deployment.StateOk, stateOf(d, "web"), "the machine keeps running")
		out, err := visit(visitor, host, "/")
		require.NoError(t, err)
		require.Contains(t, out, "404 Not Found")
		require.Contains(t, workloadOf(d, "gw").Result.Message, fmt.Sprintf("name contract %d canceled", aliceName))
	})
}

func workloadOf(d deployment.Deployment, name string) deployment.Workload {
	for _, w := range d.Workloads {
		if w.Name == name {
			return w
		}
	}
	return deployment.Workload{}
}

func stateOf(d deployment.Deployment, name string) deployment.ResultState {
	return workloadOf(d, name).Result.State
}
