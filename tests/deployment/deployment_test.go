// Package deployment tests the user's whole flow through the tfgridd CLI only, as a user would:
// a real tfgridd chain, a real rmb-relay and the real zos-agent (root: runc, loop devices, mounts).
// `go test -short` skips it.
//
//	make build build-agent build-rmb && TFGRIDD_BIN=$PWD/build/tfgridd ZOS_AGENT_BIN=$PWD/build/zos-agent \
//	  RMB_RELAY_BIN=$PWD/build/rmb-relay go test ./tests/deployment/ -count=1 -v
package deployment

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/testnet"
	"github.com/tfgrid/tfgrid/testnet/agentnet"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

// binary returns the path of a binary from env, or builds pkg into dir.
func binary(t *testing.T, env, pkg, dir string) string {
	t.Helper()
	p, err := testnet.Binary(env, pkg, filepath.Join("..", ".."), dir)
	require.NoError(t, err)
	return p
}

// grid is the running chain, relay and agent, and the CLI pointed at them.
type grid struct {
	t       *testing.T
	bin     string
	chain   *testnet.Chain
	client  *chainclient.Client
	dataDir string
	dir     string
	node    uint64
	farm    uint64
	twins   map[string]uint64
	relay   string
	rmbTTL  string
}

// cli runs tfgridd with the local chain's flags and returns stdout, and the error with stderr.
func (g *grid) cli(args ...string) (string, error) {
	cmd := exec.Command(g.bin, args...)
	cmd.Env = append(os.Environ(), "TFGRIDD_HOME="+g.chain.Home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), fmt.Errorf("tfgridd %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String() + stderr.String(), nil
}

// deployment runs `tfgridd deployment ARGS --from from` against the grid.
func (g *grid) deployment(from string, args ...string) (string, error) {
	full := append([]string{"deployment"}, args...)
	full = append(full, "--from", from, "--keyring-backend", "test", "--chain-id", testnet.ChainID,
		"--chain-grpc", g.chain.GRPC, "--chain-rpc", g.chain.RPC, "--rmb-ttl", g.rmbTTL)
	return g.cli(full...)
}

func (g *grid) mustDeployment(from string, args ...string) string {
	g.t.Helper()
	out, err := g.deployment(from, args...)
	require.NoError(g.t, err)
	return out
}

// tx runs a `tfgridd tx` command signed by from and waits for its block.
func (g *grid) tx(from string, args ...string) string {
	g.t.Helper()
	full := append([]string{"tx"}, args...)
	full = append(full, "--from", from, "--keyring-backend", "test", "--chain-id", testnet.ChainID,
		"--node", strings.Replace(g.chain.RPC, "http://", "tcp://", 1), "--yes", "--wait", "--output", "json")
	out, err := g.cli(full...)
	require.NoError(g.t, err)
	return out
}

// writeFile writes a deployment file for the test and returns its path.
func (g *grid) writeFile(name string, d any) string {
	g.t.Helper()
	raw, err := json.MarshalIndent(d, "", "  ")
	require.NoError(g.t, err)
	p := filepath.Join(g.dir, name)
	require.NoError(g.t, os.WriteFile(p, raw, 0o600))
	return p
}

var contractLine = regexp.MustCompile(`contract (\d+): deployed on node`)

// contractOf reads the contract id from deploy's output.
func contractOf(t *testing.T, out string) uint64 {
	m := contractLine.FindStringSubmatch(out)
	require.NotNil(t, m, "no contract id in %q", out)
	id, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return id
}

func (g *grid) contractState(id uint64) sctypes.ContractState {
	res, err := g.client.Contracts.Contract(context.Background(), &sctypes.QueryContractRequest{Id: id})
	require.NoError(g.t, err)
	return res.Contract.State
}

func (g *grid) balance(name string) int64 {
	addr, err := g.cli("keys", "show", name, "-a", "--keyring-backend", "test")
	require.NoError(g.t, err)
	res, err := g.client.Bank.Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: strings.TrimSpace(addr), Denom: "utft"})
	require.NoError(g.t, err)
	return res.Balance.Amount.Int64()
}

func (g *grid) liveContracts(name string) int {
	res, err := g.client.Contracts.ContractsByTwin(context.Background(), &sctypes.QueryContractsByTwinRequest{TwinId: g.twins[name]})
	require.NoError(g.t, err)
	return len(res.Contracts)
}

func (g *grid) freeIPs() int {
	res, err := g.client.Tfgrid.FarmPublicIps(context.Background(), &tftypes.QueryFarmPublicIpsRequest{Id: g.farm})
	require.NoError(g.t, err)
	free := 0
	for _, ip := range res.PublicIps {
		if ip.ContractId == 0 {
			free++
		}
	}
	return free
}

// randomHex is n random bytes in hex: text that does not compress.
func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func workload(name, typ string, data any) deployment.Workload {
	raw, _ := json.Marshal(data)
	return deployment.Workload{Name: name, Type: typ, Data: raw}
}

// The demo farm's public IP and gateway (the localnet's too).
var (
	farmIP      = netip.MustParsePrefix("185.69.166.10/24")
	farmGateway = netip.MustParsePrefix("185.69.166.1/24")
)

// publicIP is the public IP the chain reserved for contract id.
func (g *grid) publicIP(id uint64) netip.Addr {
	res, err := g.client.Contracts.Contract(context.Background(), &sctypes.QueryContractRequest{Id: id})
	require.NoError(g.t, err)
	ips := res.Contract.GetNodeContract().PublicIps
	require.Len(g.t, ips, 1, "contract %d's public IPs", id)
	return netip.MustParsePrefix(ips[0].Ip).Addr()
}

// fetchPublic GETs / from port 80 of ip out of the internet namespace.
func fetchPublic(internet string, ip netip.Addr) (string, error) {
	return backendtest.HTTPGet(internet, netip.AddrPortFrom(ip, 80), "/", 3*time.Second)
}

// webServer is examples/webserver.json with a description that makes its hash unique.
func webServer(t *testing.T, description string) deployment.Deployment {
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "webserver.json"))
	require.NoError(t, err)
	var d deployment.Deployment
	require.NoError(t, json.Unmarshal(raw, &d))
	d.Description = description
	return d
}

// privateNet is the twin's network "net" of examples/webserver.json: its WireGuard key is left for
// the CLI to derive from the owner's key, so every deployment of a twin brings the same one.
var privateNet = workload("net", deployment.TypeNetwork, deployment.Network{IPRange: "10.1.0.0/16", Subnet: "10.1.3.0/24",
	WireGuardListenPort: 20301})

// sleeperIPs counts the addresses handed to machines on "net" (10.1.3.2 is the web server's): the
// deployments of one twin share the network, so each machine needs its own.
var sleeperIPs atomic.Uint32

func nextAddress() deployment.MachineNetwork {
	ip := fmt.Sprintf("10.1.3.%d", 10+sleeperIPs.Add(1))
	return deployment.MachineNetwork{Interfaces: []deployment.MachineInterface{{Network: "net", IP: ip}}}
}

// sleeper is a small machine deployment of owner with a signature requirement. Its workload names
// differ from the agent suite's: containers' cgroups are named by contract and workload only, and
// both suites may run at once on one machine.
func sleeper(owner uint64, description string, req deployment.SignatureRequirement) deployment.Deployment {
	return deployment.Deployment{TwinID: owner, Description: description, SignatureRequirement: req,
		Workloads: []deployment.Workload{privateNet, workload("cosigned", deployment.TypeZMachine, deployment.ZMachine{FList: "busybox",
			Network:         nextAddress(),
			ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 << 20}, Entrypoint: "sleep 3600"})}}
}

func TestDeploymentCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay and agent")
	}
	backendtest.RequireRoot(t)
	dir := t.TempDir()
	tfgridd := binary(t, "TFGRIDD_BIN", "./cmd/tfgridd", dir)
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

	g := &grid{t: t, bin: tfgridd, chain: chain, client: client, dir: dir, twins: map[string]uint64{}, relay: relay.URL, rmbTTL: "20s"}
	specs := map[string]testnet.TwinSpec{}
	for _, n := range []string{"farmer", "node2", "alice", "bob", "carol"} {
		e2e, err := rmb.E2EPublicKey(keys[n])
		require.NoError(t, err)
		specs[n] = testnet.TwinSpec{Relays: []string{relay.URL}, E2EKey: e2e}
	}
	g.twins, err = chain.CreateTwins(specs)
	require.NoError(t, err)

	farmer, err := client.NewBroadcaster(keys["farmer"], testnet.ChainID)
	require.NoError(t, err)
	_, err = farmer.Send(context.Background(), &tftypes.MsgCreateFarm{Creator: farmer.Address(), Name: "demofarm"})
	require.NoError(t, err)
	farm, err := client.Tfgrid.FarmByName(context.Background(), &tftypes.QueryFarmByNameRequest{Name: "demofarm"})
	require.NoError(t, err)
	g.farm = farm.Farm.Id
	_, err = farmer.Send(context.Background(),
		&tftypes.MsgSetFarmOpenRegistration{Creator: farmer.Address(), FarmId: g.farm, Open: true},
		&tftypes.MsgAddFarmIp{Creator: farmer.Address(), FarmId: g.farm, Ip: farmIP.String(), Gateway: farmGateway.Addr().String()},
		// A second one, for the redeployment of the web server on the silent node.
		&tftypes.MsgAddFarmIp{Creator: farmer.Address(), FarmId: g.farm, Ip: "185.69.166.11/24", Gateway: farmGateway.Addr().String()})
	require.NoError(t, err)
	// A second node in the farm with no agent behind it: it never answers over RMB.
	node2, err := client.NewBroadcaster(keys["node2"], testnet.ChainID)
	require.NoError(t, err)
	_, err = node2.Send(context.Background(), &tftypes.MsgCreateNode{Creator: node2.Address(), FarmId: g.farm,
		Resources: tftypes.Resources{Cru: 4, Mru: 8 << 30, Sru: 100 << 30},
		Location:  tftypes.Location{City: "Unknown", Country: "Unknown", Latitude: "Unknown", Longitude: "Unknown"}})
	require.NoError(t, err)
	silent, err := client.Tfgrid.NodeByTwin(context.Background(), &tftypes.QueryNodeByTwinRequest{TwinId: g.twins["node2"]})
	require.NoError(t, err)

	var agent *testnet.Agent
	// The farm's public network, in namespaces of the test, with one standing in for the internet.
	farmNet := backendtest.NewFarm(t, farmGateway)
	agent, g.dataDir = agentnet.Start(t, agentBin, chain, relay.URL, "node", g.farm, dir, farmNet.AgentArgs()...)
	nodeAddr := strings.TrimSpace(g.must(g.cli("keys", "show", "node", "-a", "--keyring-backend", "test")))
	tw, err := client.Tfgrid.TwinByAccount(context.Background(), &tftypes.QueryTwinByAccountRequest{Address: nodeAddr})
	require.NoError(t, err)
	nd, err := client.Tfgrid.NodeByTwin(context.Background(), &tftypes.QueryNodeByTwinRequest{TwinId: tw.Twin.Id})
	require.NoError(t, err)
	g.node = nd.Node.Id
	nodeFlag := fmt.Sprint(g.node)

	t.Run("hash is the node's hash", func(t *testing.T) {
		g := g.with(t)
		out := g.must(g.cli("deployment", "hash", filepath.Join("..", "..", "examples", "webserver.json")))
		raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "webserver.json"))
		require.NoError(t, err)
		want, err := deployment.HashJSON(raw)
		require.NoError(t, err)
		require.Equal(t, want, strings.TrimSpace(out))
	})

	t.Run("refusals before anything is sent", func(t *testing.T) {
		g := g.with(t)
		before := g.liveContracts("alice")
		bad := webServer(t, "bad")
		bad.Workloads[1] = workload("www", deployment.TypeVolume, deployment.Volume{Size: 0})
		cases := []struct {
			name string
			file string
			args []string
			want string
		}{
			{"invalid file", g.writeFile("bad.json", bad), nil, "size"},
			{"not enough public IPs", g.writeFile("ips.json", webServer(t, "ips")), []string{"--public-ips", "3"},
				"not enough public IPs: the deployment needs 3, farm"},
			{"encrypted deployment larger than max_deployment_data_bytes", g.writeFile("big.json", webServer(t, randomHex(t, 10000))),
				nil, "more than the chain's max_deployment_data_bytes 8192"},
			{"owner is another twin", g.writeFile("bobs.json", sleeper(g.twins["bob"], "bobs",
				deployment.SignatureRequirement{WeightRequired: 1, Requests: []deployment.SignatureRequest{{TwinID: g.twins["bob"], Weight: 1}}})),
				nil, "is not your twin"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				g := g.with(t)
				_, err := g.deployment("alice", append([]string{"deploy", c.file, "--node", nodeFlag}, c.args...)...)
				require.ErrorContains(t, err, c.want)
				require.Equal(t, before, g.liveContracts("alice"), "nothing created")
			})
		}
	})

	var web uint64
	var webIP netip.Addr
	var file string
	balanceBefore := g.balance("alice")
	t.Run("deploy the web server with a public IP", func(t *testing.T) {
		g := g.with(t)
		file = g.writeFile("web.json", webServer(t, "web"))
		require.Equal(t, 2, g.freeIPs())
		out := g.mustDeployment("alice", "deploy", file, "--node", nodeFlag, "--public-ips", "1", "--max-cost", "100000000")
		require.Contains(t, out, "reserves: 1 CPU")
		require.Contains(t, out, "utft per hour")
		require.Contains(t, out, "workload web (zmachine): ok")
		require.Contains(t, out, "workload www (volume): ok")
		web = contractOf(t, out)
		require.Equal(t, 1, g.freeIPs(), "the contract holds one of the farm's IPs")
		logFile := filepath.Join(g.dataDir, "containers", "tfz-"+engine.WorkloadID(web, "web"), "output.log")
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(logFile)
			return strings.Contains(string(b), "serving")
		}, 30*time.Second, 200*time.Millisecond, "the web server did not start")
		webIP = g.publicIP(web)
		var page string
		require.Eventually(t, func() bool {
			page, err = fetchPublic(farmNet.Internet, webIP)
			return err == nil && strings.Contains(page, "hello from tfgrid")
		}, 20*time.Second, 300*time.Millisecond, "the page on %s from the internet: %q %v", webIP, page, err)
	})
	require.NotZero(t, web)

	t.Run("get, changes and list", func(t *testing.T) {
		g := g.with(t)
		var d deployment.Deployment
		require.NoError(t, json.Unmarshal([]byte(g.mustDeployment("alice", "get", fmt.Sprint(web))), &d))
		require.Equal(t, web, d.ContractID)
		require.Len(t, d.Workloads, 4)
		for _, w := range d.Workloads {
			require.Equal(t, deployment.StateOk, w.Result.State, w.Name)
		}
		changes := g.mustDeployment("alice", "changes", fmt.Sprint(web))
		require.Contains(t, changes, `"web"`)
		var list []deployment.Deployment
		require.NoError(t, json.Unmarshal([]byte(g.mustDeployment("alice", "list", "--node", nodeFlag)), &list))
		require.Len(t, list, 1)
		_, err := g.deployment("bob", "get", fmt.Sprint(web))
		require.ErrorContains(t, err, "not found", "another twin's deployment")
	})

	t.Run("recover gives the file back; to the owner only", func(t *testing.T) {
		g := g.with(t)
		out := filepath.Join(dir, "recovered.json")
		g.mustDeployment("alice", "recover", fmt.Sprint(web), "--output", out)
		want, err := os.ReadFile(file)
		require.NoError(t, err)
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		require.Equal(t, want, got)
		_, err = g.deployment("bob", "recover", fmt.Sprint(web))
		require.ErrorContains(t, err, "not encrypted to your key")
	})

	t.Run("recover --redeploy on a node that does not answer", func(t *testing.T) {
		g := g.with(t)
		g.rmbTTL = "3s"
		before := g.liveContracts("alice")
		out, err := g.deployment("alice", "recover", fmt.Sprint(web), "--redeploy", "--node", fmt.Sprint(silent.Node.Id))
		require.Contains(t, out, fmt.Sprintf("on node %d", silent.Node.Id), "the recovered file, checked and priced for the other node")
		require.ErrorContains(t, err, fmt.Sprintf("node %d (twin %d) did not answer zos.deployment.deploy within 3s: it is offline on RMB",
			silent.Node.Id, g.twins["node2"]))
		require.ErrorContains(t, err, "cancelled, its deposit returned")
		require.Equal(t, before, g.liveContracts("alice"))
	})

	t.Run("update adds a workload", func(t *testing.T) {
		g := g.with(t)
		d := webServer(t, "web")
		d.Workloads = append(d.Workloads, workload("extra", deployment.TypeVolume, deployment.Volume{Size: 32 << 20}))
		next := g.writeFile("web2.json", d)
		out := g.mustDeployment("alice", "update", next, "--contract", fmt.Sprint(web))
		require.Contains(t, out, "updated to version 1")
		var got deployment.Deployment
		require.NoError(t, json.Unmarshal([]byte(g.mustDeployment("alice", "get", fmt.Sprint(web))), &got))
		require.EqualValues(t, 1, got.Version)
		require.Len(t, got.Workloads, 5)
		res, err := client.Contracts.Contract(context.Background(), &sctypes.QueryContractRequest{Id: web})
		require.NoError(t, err)
		require.EqualValues(t, 64<<20+32<<20+500<<20, res.Contract.GetNodeContract().Resources.Sru, "reservation follows the update")
	})

	t.Run("2-of-3 multisig: refused with one signature, deployed with two", func(t *testing.T) {
		g := g.with(t)
		a, b, c := g.twins["alice"], g.twins["bob"], g.twins["carol"]
		f := g.writeFile("multisig.json", sleeper(a, "multisig", deployment.SignatureRequirement{WeightRequired: 2,
			Requests: []deployment.SignatureRequest{{TwinID: a, Weight: 1}, {TwinID: b, Weight: 1}, {TwinID: c, Weight: 1}}}))
		before := g.liveContracts("alice")
		_, err := g.deployment("alice", "deploy", f, "--node", nodeFlag)
		require.ErrorContains(t, err, fmt.Sprintf("missing signatures of twins [%d %d]", b, c))
		require.Equal(t, before, g.liveContracts("alice"))
		_, err = g.deployment("bob", "sign", f)
		require.ErrorContains(t, err, fmt.Sprintf("the owner, twin %d, signs the file first", a))
		g.mustDeployment("alice", "sign", f) // the owner first: it fills the network's key, which the hash covers
		g.mustDeployment("bob", "sign", f)
		once, err := os.ReadFile(f)
		require.NoError(t, err)
		g.mustDeployment("bob", "sign", f)
		twice, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Equal(t, once, twice, "signing again changes nothing")
		out := g.mustDeployment("alice", "deploy", f, "--node", nodeFlag)
		id := contractOf(t, out)
		g.mustDeployment("alice", "cancel", fmt.Sprint(id))
	})

	t.Run("a refused deployment leaves no contract", func(t *testing.T) {
		g := g.with(t)
		before, bal := g.liveContracts("alice"), g.balance("alice")
		d := sleeper(0, "noimage", deployment.SignatureRequirement{WeightRequired: 1, Requests: []deployment.SignatureRequest{{TwinID: 0, Weight: 1}}})
		d.Workloads[1] = workload("cosigned", deployment.TypeZMachine, deployment.ZMachine{FList: "nosuchimage",
			Network:         nextAddress(),
			ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 << 20}, Entrypoint: "sleep 3600"})
		_, err := g.deployment("alice", "deploy", g.writeFile("noimage.json", d), "--node", nodeFlag)
		require.ErrorContains(t, err, fmt.Sprintf("node %d refused zos.deployment.deploy", g.node))
		require.ErrorContains(t, err, `image "nosuchimage"`)
		require.ErrorContains(t, err, "cancelled, its deposit returned")
		require.Equal(t, before, g.liveContracts("alice"))
		// The web server's contract may be charged meanwhile (a few hundred utft); the 1 TFT deposit
		// is not lost.
		require.InDelta(t, bal, g.balance("alice"), 100_000, "the deposit came back")
	})

	t.Run("a multisig account creates and cancels alice's contract through an authz grant", func(t *testing.T) {
		g := g.with(t)
		g.must(g.cli("keys", "add", "team", "--multisig", "alice,bob,carol", "--multisig-threshold", "2", "--keyring-backend", "test"))
		team := strings.TrimSpace(g.must(g.cli("keys", "show", "team", "-a", "--keyring-backend", "test")))
		g.tx("farmer", "bank", "send", "farmer", team, "1000000utft")
		for _, msg := range []string{"MsgCreateNodeContract", "MsgCancelContract"} {
			g.tx("alice", "authz", "grant", team, "generic", "--msg-type", "/tfgrid.smartcontract.v1."+msg)
		}
		before := g.liveContracts("alice")
		id := g.multisignExec(team, "smartcontract", "create-node-contract", nodeFlag, strings.Repeat("ab", 32),
			"--resources", `{"cru":1,"mru":268435456,"sru":0,"hru":0}`)
		var created uint64
		require.Eventually(t, func() bool { return g.liveContracts("alice") == before+1 }, 10*time.Second, 200*time.Millisecond, id)
		res, err := client.Contracts.ContractsByTwin(context.Background(), &sctypes.QueryContractsByTwinRequest{TwinId: g.twins["alice"]})
		require.NoError(t, err)
		for _, c := range res.Contracts {
			if nc := c.GetNodeContract(); nc != nil && nc.DeploymentHash == strings.Repeat("ab", 32) {
				created = c.Id
			}
		}
		require.NotZero(t, created, "the contract is alice's")
		g.multisignExec(team, "smartcontract", "cancel-contract", fmt.Sprint(created))
		require.Equal(t, before, g.liveContracts("alice"))
	})

	t.Run("not enough funds for the deposit", func(t *testing.T) {
		g := g.with(t)
		g.must(g.cli("keys", "add", "poor", "--keyring-backend", "test"))
		poor := strings.TrimSpace(g.must(g.cli("keys", "show", "poor", "-a", "--keyring-backend", "test")))
		g.tx("farmer", "bank", "send", "farmer", poor, "1000utft")
		g.tx("poor", "tfgrid", "create-twin", "--relays", g.relay)
		poorFile := g.writeFile("poor.json", sleeper(0, "poor", deployment.SignatureRequirement{WeightRequired: 1,
			Requests: []deployment.SignatureRequest{{TwinID: 0, Weight: 1}}}))
		_, err := g.deployment("poor", "deploy", poorFile, "--node", nodeFlag)
		require.ErrorContains(t, err, "not enough funds for the contract deposit")
		require.ErrorContains(t, err, "holds 1000utft")
	})

	t.Run("cancel removes the workloads, frees the IP, and the contract was charged", func(t *testing.T) {
		g := g.with(t)
		require.Eventually(t, func() bool {
			res, err := client.Billing.Contract(context.Background(), &billingtypes.QueryContractRequest{Id: web})
			return err == nil && res.Billing.LastReport != nil
		}, 30*time.Second, 500*time.Millisecond, "a consumption report")
		out := g.mustDeployment("alice", "cancel", fmt.Sprint(web))
		require.Contains(t, out, fmt.Sprintf("contract %d cancelled", web))
		require.Equal(t, 2, g.freeIPs(), "the IP is free again")
		require.Eventually(t, func() bool {
			_, err := fetchPublic(farmNet.Internet, webIP)
			return err != nil
		}, 15*time.Second, 200*time.Millisecond, "%s still answers the internet after cancel", webIP)
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			_, err := drv.State(context.Background(), engine.WorkloadID(web, "web"))
			return err != nil
		}, 15*time.Second, 200*time.Millisecond, "the web server is gone")
		require.Eventually(t, func() bool {
			out, err := g.deployment("alice", "get", fmt.Sprint(web))
			var d deployment.Deployment
			if err != nil || json.Unmarshal([]byte(out), &d) != nil {
				return err != nil
			}
			for _, w := range d.Workloads {
				if w.Result.State != deployment.StateDeleted {
					return false
				}
			}
			return true
		}, 15*time.Second, 500*time.Millisecond, "the node reports the workloads deleted")
		require.Less(t, g.balance("alice"), balanceBefore, "the deployment was charged (deposits returned)")
	})

	t.Run("a node offline on RMB", func(t *testing.T) {
		g := g.with(t)
		agent.Stop()
		g.rmbTTL = "3s"
		before := g.liveContracts("alice")
		_, err := g.deployment("alice", "deploy", g.writeFile("offline.json", webServer(t, "offline")), "--node", nodeFlag)
		require.ErrorContains(t, err, "did not answer zos.deployment.deploy within 3s: it is offline on RMB")
		require.ErrorContains(t, err, "cancelled, its deposit returned")
		require.Equal(t, before, g.liveContracts("alice"))
	})
}

// multisignExec wraps a message of alice's (generated with `tx MODULE ARGS --generate-only`) in
// `tx authz exec` from the multisig account, signs it by alice and bob, combines the signatures
// with `tx multisign` and broadcasts it.
func (g *grid) multisignExec(team string, args ...string) string {
	t := g.t
	t.Helper()
	node := strings.Replace(g.chain.RPC, "http://", "tcp://", 1)
	common := []string{"--keyring-backend", "test", "--chain-id", testnet.ChainID, "--node", node}
	inner := filepath.Join(g.dir, "inner.json")
	out := g.must(g.cli(append(append([]string{"tx"}, args...), append([]string{"--from", "alice", "--generate-only", "--gas", "500000"}, common...)...)...))
	require.NoError(t, os.WriteFile(inner, []byte(out), 0o600))
	exec := filepath.Join(g.dir, "exec.json")
	out = g.must(g.cli(append([]string{"tx", "authz", "exec", inner, "--from", team, "--generate-only", "--gas", "800000"}, common...)...))
	require.NoError(t, os.WriteFile(exec, []byte(out), 0o600))
	var sigs []string
	for _, signer := range []string{"alice", "bob"} {
		sig := filepath.Join(g.dir, signer+".sig.json")
		g.must(g.cli(append([]string{"tx", "sign", exec, "--from", signer, "--multisig", team, "--output-document", sig}, common...)...))
		sigs = append(sigs, sig)
	}
	signed := filepath.Join(g.dir, "signed.json")
	out = g.must(g.cli(append(append([]string{"tx", "multisign", exec, "team"}, sigs...), common...)...))
	require.NoError(t, os.WriteFile(signed, []byte(out), 0o600))
	res := g.must(g.cli("tx", "broadcast", signed, "--node", node, "--output", "json"))
	var tx struct {
		Code   uint32 `json:"code"`
		RawLog string `json:"raw_log"`
		TxHash string `json:"txhash"`
	}
	require.NoError(t, json.Unmarshal([]byte(res), &tx), res)
	require.Zero(t, tx.Code, tx.RawLog)
	g.must(g.cli("query", "wait-tx", tx.TxHash, "--node", node))
	return tx.TxHash
}

// with is the grid for a subtest: its helpers fail t.
func (g *grid) with(t *testing.T) *grid {
	c := *g
	c.t = t
	return &c
}

func (g *grid) must(out string, err error) string {
	g.t.Helper()
	require.NoError(g.t, err)
	return out
}
