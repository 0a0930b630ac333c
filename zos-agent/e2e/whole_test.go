package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netns"
	"golang.org/x/crypto/curve25519"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

// In the whole deployment the farm's uplink namespace also has a veth to a "laptop" namespace: the
// user's WireGuard access point and a browser visiting the gateway (TEST-NET-1).
var (
	laptopWG = netip.MustParsePrefix("10.1.99.2/32") // the laptop's address on the private network
)

// TestAgentWholeDeployment is issue 12's "done when": one deployment with a private network and a
// WireGuard peer, a container on a public IP, a gateway name to that container and a TCG VM, all
// reachable as described, billed for their traffic, and gone from the machine after cancel.
func TestAgentWholeDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay, agent and QEMU")
	}
	farm := backendtest.NewFarm(t, farmGateway)
	laptop := backendtest.NetNS(t, "laptop")
	backendtest.Veth(t, farm.Uplink, "gwv0", gatewaySide, laptop, "gwv0", visitorSide)
	g := startGrid(t, gridOptions{users: []string{"alice"}, farmIPs: farmIPs, farmGateway: farmGateway.Addr().String(),
		agentArgs: append(farm.AgentArgs(), "--gateway-domain", gatewayDomain,
			"--gateway-http", netip.AddrPortFrom(gatewaySide.Addr(), 80).String(), "--gateway-tls", netip.AddrPortFrom(gatewaySide.Addr(), 443).String())})
	importGuest(t, g)
	alice := g.users["alice"]
	g.nameContract(t, "alice", "alice-web")
	host := "alice-web." + gatewayDomain
	uplinkLinks := linkNames(t, farm.Uplink)

	laptopKey, laptopPublic := derivedKey(fmt.Sprintf("laptop of twin %d", alice.twin))
	netw := privateNetwork(alice.twin)
	var spec deployment.Network
	require.NoError(t, json.Unmarshal(netw.Data, &spec))
	spec.Peers = []deployment.Peer{{Subnet: laptopWG.Masked().String(), WireGuardPublicKey: laptopPublic, AllowedIPs: []string{laptopWG.Masked().String()}}}
	netw = workload("net", deployment.TypeNetwork, spec)
	web, webIP := g.machineOn("web", "pub", webScript)
	guestNet := g.onNetwork()
	guestIP := netip.MustParseAddr(guestNet.Interfaces[0].IP)
	d := deployment.Deployment{TwinID: alice.twin,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: alice.twin, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{netw, web,
			workload("pub", deployment.TypeIP, deployment.PublicIP{V4: true}),
			workload("gw", deployment.TypeGatewayNameProxy, deployment.GatewayNameProxy{Name: "alice-web",
				Backends: []string{"http://" + webIP.String() + ":80"}, Network: "net"}),
			workload("guest", deployment.TypeZMachine, deployment.ZMachine{FList: "guest", Network: guestNet,
				ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib}}),
		}}

	raw, id := g.prepared(t, d, "alice", g.node, 1)
	start := time.Now()
	g.call(t, "alice", "zos.deployment.deploy", json.RawMessage(raw), nil)
	got := g.waitState(t, "alice", id, deployment.StateOk)
	public := publicIPOf(t, got)
	var nodeKey map[string]string
	require.NoError(t, json.Unmarshal(workloadOf(got, "net").Result.Data, &nodeKey))

	// The laptop's WireGuard device (UAPI socket names are machine-wide: the name carries our pid).
	wgName := fmt.Sprintf("tfzwl%d", os.Getpid()%10_000_000)
	stop, err := network.AccessPoint(laptop, wgName, laptopKey, nodeKey["public_key"],
		netip.AddrPortFrom(gatewaySide.Addr(), uint16(20000+alice.twin)), netip.MustParsePrefix("10.1.0.0/16"))
	require.NoError(t, err)
	t.Cleanup(stop)
	backendtest.Address(t, laptop, wgName, laptopWG)
	backendtest.Route(t, laptop, wgName, netip.MustParsePrefix("10.1.0.0/16"), netip.Addr{})

	guestAt := func(ns string, addr netip.Addr) func() bool {
		return func() bool {
			out, err := backendtest.Fetch(ns, netip.Addr{}, netip.AddrPortFrom(addr, 80), time.Second)
			return err == nil && out == backendtest.GuestReply
		}
	}
	eventuallyServes(t, farm.Internet, public, "/", "hello from web")
	eventuallyServes(t, laptop, webIP, "/", "hello from web")
	eventuallyVisits(t, laptop, host, "/", "hello from web")
	require.Eventually(t, guestAt(laptop, guestIP), 2*time.Minute, 300*time.Millisecond, "the VM on %s from the laptop", guestIP)
	answering := time.Since(start)
	t.Logf("whole deployment: deploy request to everything answering: %s", answering.Round(10*time.Millisecond))

	t.Run("traffic through the public IP and the gateway is billed as nru", func(t *testing.T) {
		from := g.height(t)
		out, err := httpGet(farm.Internet, public, "/big")
		require.NoError(t, err)
		require.Greater(t, len(out), bigFile)
		out, err = visit(laptop, host, "/big")
		require.NoError(t, err)
		require.Greater(t, len(out), bigFile)
		var nru uint64
		require.Eventually(t, func() bool {
			to := g.height(t)
			for _, ev := range g.events(t, from, to, reportsOf(id)) {
				nru += ev.msg.(*billingtypes.EventConsumptionReported).Report.Nru
			}
			from = to
			return nru >= 2*bigFile
		}, 30*time.Second, time.Second, "reports after the transfers carry %d bytes of nru; seen %d", 2*bigFile, nru)
	})

	// What runs for the deployment, to look for after cancel.
	drv, err := container.New(g.dataDir)
	require.NoError(t, err)
	webState, err := drv.State(context.Background(), engine.WorkloadID(id, "web"))
	require.NoError(t, err)
	q, err := vm.NewQEMU(vm.Config{DataDir: g.dataDir})
	require.NoError(t, err)
	guestState, err := q.State(context.Background(), engine.WorkloadID(id, "guest"))
	require.NoError(t, err)
	require.Equal(t, vm.StatusRunning, guestState.Status)
	require.NotZero(t, publicIPRules(t, farm.Uplink), "the public IP's anti-spoofing rules")

	t.Run("cancel leaves nothing on the machine", func(t *testing.T) {
		g.cancelAndWait(t, "alice", id)
		for _, pid := range []int{webState.Pid, guestState.Pid} {
			require.Eventually(t, func() bool { return !alive(pid) }, 10*time.Second, 100*time.Millisecond,
				"process %d of the deployment still runs: %q", pid, readTrimmed(t, filepath.Join("/proc", strconv.Itoa(pid), "cmdline")))
		}
		_, err := drv.State(context.Background(), engine.WorkloadID(id, "web"))
		require.ErrorIs(t, err, container.ErrNotFound)
		_, err = q.State(context.Background(), engine.WorkloadID(id, "guest"))
		require.ErrorIs(t, err, vm.ErrNotFound)
		// The container's namespace, and the network's (its bridge, the veths' and the VM's taps'
		// bridge ends); the WireGuard device, the public veth and the VM's public tap were in the uplink.
		backendtest.AssertNetNSGone(t, filepath.Base(network.MachineNSPath(engine.WorkloadID(id, "web"))))
		names := network.NamesOf(uint32(alice.twin), "net")
		backendtest.AssertNetNSGone(t, names.NetNS)
		backendtest.AssertNoLink(t, farm.Uplink, names.WireGuard)
		require.Equal(t, uplinkLinks, linkNames(t, farm.Uplink), "links the deployment made in the uplink namespace")
		_, err = os.Stat(network.UAPISocket(names.WireGuard))
		require.ErrorIs(t, err, os.ErrNotExist, "the WireGuard UAPI socket is left")
		require.Zero(t, publicIPRules(t, farm.Uplink), "nftables rules of the deployment's public IP and VM are left")
		loops, err := exec.Command("losetup", "-a").CombinedOutput()
		require.NoError(t, err, "%s", loops)
		require.NotContains(t, string(loops), g.dataDir, "a loop device of the agent is left")
		out, err := httpGet(farm.Internet, public, "/")
		require.Error(t, err, "the public IP still answers after cancel: %q", out)
		require.False(t, guestAt(laptop, guestIP)(), "the VM still answers after cancel")
		out, err = visit(laptop, host, "/")
		require.False(t, err == nil && strings.Contains(out, "hello from web"), "the gateway still serves after cancel: %q", out)
		ips, err := g.client.Tfgrid.FarmPublicIps(context.Background(), &tftypes.QueryFarmPublicIpsRequest{Id: g.farm})
		require.NoError(t, err)
		require.Len(t, ips.PublicIps, len(farmIPs))
		for _, ip := range ips.PublicIps {
			require.Zero(t, ip.ContractId, "public IP %s is still reserved", ip.Ip)
		}
	})
}

// derivedKey is a WireGuard key pair derived from seed, base64.
func derivedKey(seed string) (private, public string) {
	key := sha256.Sum256([]byte(seed))
	pub, err := curve25519.X25519(key[:], curve25519.Basepoint)
	if err != nil {
		panic(err) // only for a low-order point, which a base point product never is
	}
	return base64.StdEncoding.EncodeToString(key[:]), base64.StdEncoding.EncodeToString(pub)
}

// alive reports whether the process pid runs: it exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// linkNames are the names of the links in the namespace ns.
func linkNames(t *testing.T, ns string) []string {
	t.Helper()
	out, err := exec.Command("ip", "-netns", filepath.Base(ns), "-o", "link", "show").CombinedOutput()
	require.NoError(t, err, "%s", out)
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			names = append(names, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	return names
}

// publicIPRules counts the rules in the chains of the agent's public-IP table in the namespace ns
// (the uplink of this test's farm: only this test's agent writes there).
func publicIPRules(t *testing.T, ns string) int {
	t.Helper()
	h, err := netns.GetFromPath(ns)
	require.NoError(t, err)
	defer h.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(h)))
	require.NoError(t, err)
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyBridge)
	require.NoError(t, err)
	n := 0
	for _, ch := range chains {
		if ch.Table.Name != publicip.Table {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		require.NoError(t, err)
		n += len(rules)
	}
	return n
}
