package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/bech32"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Event types the contract tests read.
const (
	scEvContractCreated  = "tfgrid.smartcontract.v1.EventContractCreated"
	scEvContractCanceled = "tfgrid.smartcontract.v1.EventContractCanceled"
	scEvIPsReserved      = "tfgrid.smartcontract.v1.EventPublicIpsReserved"
	scEvIPsFreed         = "tfgrid.smartcontract.v1.EventPublicIpsFreed"
	scEvDepositReleased  = "tfgrid.smartcontract.v1.EventContractDepositReleased"
	scEvSettled          = "tfgrid.billing.v1.EventContractSettled"
	scEvShares           = "tfgrid.billing.v1.EventSharesDistributed"
	scEvOverdrawn        = "tfgrid.billing.v1.EventContractOverdrawn"
	scEvWrittenOff       = "tfgrid.billing.v1.EventOverdraftWrittenOff"
)

// The farm of the contract tests offers three IPs, given out of address order: first fit must take
// them in address order (.9, .10, .100), not in string order (.10, .100, .9).
const scGateway = "185.206.122.1"

var (
	scFarmIPs = []string{"185.206.122.100/24", "185.206.122.9/24", "185.206.122.10/24"}
	scIP9     = "185.206.122.9/24"
	scIP10    = "185.206.122.10/24"
	scIP100   = "185.206.122.100/24"
)

// scWorld is the state the contract steps share.
type scWorld struct {
	farmerTwin, nodeTwin, aliceTwin, bobTwin uint64
	farm, node                               uint64
	deposit                                  sdkmath.Int
	module                                   string      // the smartcontract module account
	moduleBase                               sdkmath.Int // its balance before any contract
	dir                                      string      // deployment data files

	hashA       string
	dataA       []byte
	contractA   uint64 // alice, 2 IPs, cancelled by alice
	contractB   uint64 // bob, 1 IP, created after the refused 2-IP attempt
	contractC   uint64 // alice, 2 IPs after A freed them, cancelled by the node
	nameBob     uint64 // bob's name contract, still live at the end
	liveAtEnd   int
	neverExists uint64
}

// TestContracts drives x/smartcontract through the CLI of a real node: a farm with three public IPs
// and a node; a node contract reserving two; a second asking two refused cleanly; the first
// cancelled (IPs, indexes and deposit released, tombstone served); a new contract getting the IPs;
// REST; a node's twin cancelling a contract on its node; name and rent contracts. One chain, steps in
// order: a failing step stops the rest.
func TestContracts(t *testing.T) {
	c := newChain(t, "contracts")
	c.start(1)
	w := &scWorld{dir: t.TempDir(), neverExists: 999999}

	steps := []struct {
		name string
		run  func(*testing.T, *chain, *scWorld)
	}{
		{"setup", scSetup},
		{"node_contract_public_ips", scNodeContractIPs},
		{"rest", scREST},
		{"cancel_by_node", scCancelByNode},
		{"name_contract", scNameContract},
		{"rent_contract", scRentContract},
		{"deposits_balance", scDepositsBalance},
		{"node_finder", scNodeFinder},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, c.on(t), w) }) {
			return
		}
	}
}

// scSetup registers the twins, a farm with three public IPs, an allowed node twin and its node,
// which reports its uptime.
func scSetup(t *testing.T, c *chain, w *scWorld) {
	twin := func(acc string) uint64 {
		return idOf(t, c.mustTx(acc, "create-twin", "--relays", "ws://127.0.0.1:8080"), "tfgrid.tfgrid.v1.EventTwinCreated", "twin_id")
	}
	w.farmerTwin, w.nodeTwin, w.aliceTwin, w.bobTwin = twin("farmer"), twin("node1"), twin("alice"), twin("bob")

	args := []string{"create-farm", "contracts-farm"}
	for _, ip := range scFarmIPs {
		args = append(args, "--public-ips", `{"ip":"`+ip+`","gateway":"`+scGateway+`"}`)
	}
	w.farm = idOf(t, c.mustTx("farmer", args...), "tfgrid.tfgrid.v1.EventFarmCreated", "farm_id")
	c.mustTx("farmer", "allow-node-twin", u(w.farm), u(w.nodeTwin))
	w.node = idOf(t, c.mustTx("node1", "create-node", u(w.farm), "--resources", nodeResources, "--location", nodeLocation,
		"--interfaces", nodeInterfaces, "--serial-number", "E2E-SC-1"), "tfgrid.tfgrid.v1.EventNodeCreated", "node_id")
	c.mustTx("node1", "report-uptime", "30", strconv.FormatInt(time.Now().Unix(), 10))
	node := readBack(c, nodeQ(w.node), "/tfgrid/tfgrid/v1/nodes/"+u(w.node), "node", u(w.node)).Node
	require.Equal(t, types.PowerStateUp, node.Power.State)
	require.Equal(t, types.PowerStateUp, node.Power.Target)
	require.Equal(t, uint64(30), node.LastUptime.Uptime)

	// The IP table, in address order, all free.
	ips := scFarmIPsCLI(c, w.farm)
	require.Equal(t, map[string]uint64{scIP9: 0, scIP10: 0, scIP100: 0}, ips)

	params := scReadBack(c, func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryParamsResponse, error) {
		return q.Params(ctx, &sctypes.QueryParamsRequest{})
	}, "/tfgrid/smartcontract/v1/params", "params").Params
	require.Equal(t, uint64(8192), params.MaxDeploymentDataBytes)
	require.Equal(t, sdkmath.NewInt(1_000_000), params.ContractDeposit, "default deposit 1 TFT")
	w.deposit = params.ContractDeposit

	w.module = c.scModuleAddress(sctypes.ModuleName)
	w.moduleBase = c.scBalance(w.module)
	require.Empty(t, scNodeContractsCLI(c, w.node))
	require.Empty(t, scTwinContractsCLI(c, w.aliceTwin))
}

// scNodeContractIPs is issue 3's walk-through: contract A with 2 of the farm's 3 IPs → a second
// contract asking 2 fails cleanly and uses nothing up → cancel A → its IPs are free → a new contract
// gets them.
func scNodeContractIPs(t *testing.T, c *chain, w *scWorld) {
	// Deployment data: opaque bytes (every byte value), stored and served back as they are.
	w.dataA = make([]byte, 1024)
	for i := range w.dataA {
		w.dataA[i] = byte(i * 7)
	}
	fileA := filepath.Join(w.dir, "deployment-a.enc")
	require.NoError(t, os.WriteFile(fileA, w.dataA, 0o600))
	w.hashA = scSHA256(w.dataA)

	// --- Contract A: alice, 2 public IPs.
	alice0, module0 := c.scBalance(c.addrs["alice"]), c.scBalance(w.module)
	res := c.scMustTx("alice", "create-node-contract", u(w.node), w.hashA, "--public-ips-count", "2", "--data-file", fileA)
	w.contractA = idOf(t, res, scEvContractCreated, "contract_id")
	require.Equal(t, u(w.aliceTwin), mustAttr(t, res, scEvContractCreated, "twin_id"))
	require.Equal(t, u(w.node), mustAttr(t, res, scEvContractCreated, "node_id"))
	require.Equal(t, "CONTRACT_KIND_NODE", mustAttr(t, res, scEvContractCreated, "kind"))
	require.Equal(t, w.hashA, mustAttr(t, res, scEvContractCreated, "deployment_hash"))
	require.Equal(t, w.deposit.String(), mustAttr(t, res, scEvContractCreated, "deposit"))
	require.Equal(t, u(w.contractA), mustAttr(t, res, scEvIPsReserved, "contract_id"))
	require.Equal(t, u(w.farm), mustAttr(t, res, scEvIPsReserved, "farm_id"))
	require.Equal(t, []string{scIP9, scIP10}, scListAttr(t, res, scEvIPsReserved, "ips"), "first fit in address order")

	// The deposit left alice (the tx itself costs nothing: minimum gas price 0) for the module.
	require.Equal(t, alice0.Sub(w.deposit).String(), c.scBalance(c.addrs["alice"]).String(), "alice paid exactly the deposit")
	require.Equal(t, module0.Add(w.deposit).String(), c.scBalance(w.module).String(), "the module holds the deposit")

	a := scReadBack(c, scContractQ(w.contractA), "/tfgrid/smartcontract/v1/contracts/"+u(w.contractA), "contract", u(w.contractA))
	require.Zero(t, a.DeletedAt)
	ca := a.Contract
	require.Equal(t, w.contractA, ca.Id)
	require.Equal(t, w.aliceTwin, ca.TwinId)
	require.Equal(t, sctypes.ContractStateCreated, ca.State)
	require.Equal(t, sctypes.DeleteCauseUnspecified, ca.DeleteCause)
	require.Zero(t, ca.GraceSince)
	require.InDelta(t, time.Now().Unix(), ca.CreatedAt, 120)
	require.Equal(t, w.deposit.String(), ca.Deposit.String())
	nc := ca.GetNodeContract()
	require.NotNil(t, nc, "contract %d is a node contract: %v", w.contractA, ca)
	require.Equal(t, w.node, nc.NodeId)
	require.Equal(t, w.hashA, nc.DeploymentHash)
	require.Equal(t, w.dataA, nc.DeploymentData, "deployment data read back = the file's bytes")
	require.Equal(t, uint32(2), nc.PublicIpsCount)
	require.Equal(t, []sctypes.ContractPublicIP{{Ip: scIP9, Gateway: scGateway}, {Ip: scIP10, Gateway: scGateway}}, nc.PublicIps)
	c.restFields("/tfgrid/smartcontract/v1/contracts/"+u(w.contractA), "contract.id", "contract.twin_id", "contract.state",
		"contract.created_at", "contract.deposit", "contract.node_contract.node_id", "contract.node_contract.deployment_hash",
		"contract.node_contract.deployment_data", "contract.node_contract.public_ips_count",
		"contract.node_contract.public_ips.0.ip", "contract.node_contract.public_ips.1.gateway")

	// The farm's IP table marks both IPs for A, the third stays free; every index finds A.
	require.Equal(t, map[string]uint64{scIP9: w.contractA, scIP10: w.contractA, scIP100: 0}, scFarmIPsCLI(c, w.farm))
	require.Len(t, readBack(c, farmIPsQ(w.farm), "/tfgrid/tfgrid/v1/farms/"+u(w.farm)+"/public-ips", "farm-public-ips", u(w.farm)).PublicIps, 3)
	require.Equal(t, []uint64{w.contractA}, scIDs(scNodeContractsCLI(c, w.node)))
	require.Equal(t, []uint64{w.contractA}, scIDs(scTwinContractsCLI(c, w.aliceTwin)))
	byHash := scReadBack(c, scByHashQ(w.node, w.hashA), "/tfgrid/smartcontract/v1/nodes/"+u(w.node)+"/contracts/by-hash/"+w.hashA,
		"node-contract-by-hash", u(w.node), w.hashA)
	require.Equal(t, ca, byHash.Contract)

	// --- Contract B: bob asks 2 IPs while 1 is free. Refused with x/tfgrid's registered error, and
	// nothing changes: no contract, no IP, no id, no utft.
	dataB := []byte(`{"version":1,"name":"bob-vm","ips":2}`)
	fileB := filepath.Join(w.dir, "deployment-b.json")
	require.NoError(t, os.WriteFile(fileB, dataB, 0o600))
	hashB := scSHA256(dataB)
	snap := scSnapshot(c, w)
	refusedB := c.scTxRejected(types.ErrNotEnoughPublicIPs, "bob", "create-node-contract", u(w.node), hashB,
		"--public-ips-count", "2", "--data-file", fileB)
	require.Equal(t, "tfgrid", refusedB.Codespace)
	require.Equal(t, uint32(51), refusedB.Code)
	require.Contains(t, refusedB.RawLog, "has 1 free public IPs")
	snap.requireUnchanged(t, c, w)
	scNotFound(c, func(ctx context.Context, q sctypes.QueryClient) error {
		_, err := q.Contract(ctx, &sctypes.QueryContractRequest{Id: w.contractA + 1})
		return err
	}, "/tfgrid/smartcontract/v1/contracts/"+u(w.contractA+1), "never existed", "contract", u(w.contractA+1))
	scNotFound(c, func(ctx context.Context, q sctypes.QueryClient) error {
		_, err := q.NodeContractByHash(ctx, &sctypes.QueryNodeContractByHashRequest{NodeId: w.node, Hash: hashB})
		return err
	}, "/tfgrid/smartcontract/v1/nodes/"+u(w.node)+"/contracts/by-hash/"+hashB, "not found",
		"node-contract-by-hash", u(w.node), hashB)

	// Other refusals on the same node change nothing either: A's hash again, a bad hash, too much data.
	c.scTxRefused(sctypes.ErrContractNotUnique, "bob", "create-node-contract", u(w.node), w.hashA)
	c.scTxRefused(sctypes.ErrInvalidDeploymentHash, "bob", "create-node-contract", u(w.node), strings.ToUpper(hashB))
	big := filepath.Join(w.dir, "too-big.enc")
	require.NoError(t, os.WriteFile(big, make([]byte, 8193), 0o600))
	c.scTxRefused(sctypes.ErrDeploymentDataTooLarge, "bob", "create-node-contract", u(w.node), hashB, "--data-file", big)
	snap.requireUnchanged(t, c, w)

	// The id B would have had is still the next one: bob's contract asking the one free IP gets it,
	// and the IP.
	res = c.scMustTx("bob", "create-node-contract", u(w.node), hashB, "--public-ips-count", "1", "--data-file", fileB)
	w.contractB = idOf(t, res, scEvContractCreated, "contract_id")
	require.Equal(t, w.contractA+1, w.contractB, "refused contracts use up no id")
	require.Equal(t, []string{scIP100}, scListAttr(t, res, scEvIPsReserved, "ips"))
	require.Equal(t, map[string]uint64{scIP9: w.contractA, scIP10: w.contractA, scIP100: w.contractB}, scFarmIPsCLI(c, w.farm))
	require.ElementsMatch(t, []uint64{w.contractA, w.contractB}, scIDs(scNodeContractsCLI(c, w.node))) // in deployment-hash order
	require.Equal(t, []uint64{w.contractB}, scIDs(scTwinContractsCLI(c, w.bobTwin)))

	// --- Cancel A: its IPs are free again, it leaves every index, its deposit comes back (less what
	// billing charged when it settled the contract a last time), and a tombstone is served.
	cancelA := scCancel(t, c, w, "alice", w.contractA, "alice", sctypes.DeleteCauseCanceledByUser)
	require.Equal(t, []string{scIP9, scIP10}, scListAttr(t, cancelA, scEvIPsFreed, "ips"))
	require.Equal(t, u(w.farm), mustAttr(t, cancelA, scEvIPsFreed, "farm_id"))
	require.Equal(t, map[string]uint64{scIP9: 0, scIP10: 0, scIP100: w.contractB}, scFarmIPsCLI(c, w.farm))
	require.Equal(t, []uint64{w.contractB}, scIDs(scNodeContractsCLI(c, w.node)))
	require.Empty(t, scTwinContractsCLI(c, w.aliceTwin))
	scNotFound(c, func(ctx context.Context, q sctypes.QueryClient) error {
		_, err := q.NodeContractByHash(ctx, &sctypes.QueryNodeContractByHashRequest{NodeId: w.node, Hash: w.hashA})
		return err
	}, "/tfgrid/smartcontract/v1/nodes/"+u(w.node)+"/contracts/by-hash/"+w.hashA, "not found",
		"node-contract-by-hash", u(w.node), w.hashA)
	tomb := scReadBack(c, scContractQ(w.contractA), "/tfgrid/smartcontract/v1/contracts/"+u(w.contractA), "contract", u(w.contractA))
	require.Equal(t, w.contractA, tomb.Contract.Id)
	require.Equal(t, w.aliceTwin, tomb.Contract.TwinId)
	require.Equal(t, sctypes.ContractStateDeleted, tomb.Contract.State)
	require.Equal(t, sctypes.DeleteCauseCanceledByUser, tomb.Contract.DeleteCause)
	require.NotNil(t, tomb.Contract.GetNodeContract(), "the tombstone keeps the kind")
	require.Equal(t, w.node, tomb.Contract.GetNodeContract().NodeId)
	require.Empty(t, tomb.Contract.GetNodeContract().DeploymentData, "no deployment data in a tombstone")
	require.GreaterOrEqual(t, tomb.DeletedAt, ca.CreatedAt)
	require.Equal(t, ca.CreatedAt, tomb.Contract.CreatedAt, "a deleted contract keeps its created_at")
	scRESTContains(c, "/tfgrid/smartcontract/v1/contracts/"+u(w.contractA), `"CONTRACT_STATE_DELETED"`, `"DELETE_CAUSE_CANCELED_BY_USER"`)
	// Cancelling it again is refused: it is no longer live.
	c.scTxRefused(sctypes.ErrContractNotFound, "alice", "cancel-contract", u(w.contractA))

	// --- Contract C: alice again, 2 IPs, even the same deployment hash (unique among live contracts
	// only): it gets the IPs A held.
	res = c.scMustTx("alice", "create-node-contract", u(w.node), w.hashA, "--public-ips-count", "2", "--data-file", fileA)
	w.contractC = idOf(t, res, scEvContractCreated, "contract_id")
	require.Equal(t, w.contractB+1, w.contractC)
	require.Equal(t, []string{scIP9, scIP10}, scListAttr(t, res, scEvIPsReserved, "ips"))
	require.Equal(t, map[string]uint64{scIP9: w.contractC, scIP10: w.contractC, scIP100: w.contractB}, scFarmIPsCLI(c, w.farm))
	cc := scReadBack(c, scContractQ(w.contractC), "/tfgrid/smartcontract/v1/contracts/"+u(w.contractC), "contract", u(w.contractC)).Contract
	require.Equal(t, []sctypes.ContractPublicIP{{Ip: scIP9, Gateway: scGateway}, {Ip: scIP10, Gateway: scGateway}}, cc.GetNodeContract().PublicIps)
	require.Equal(t, w.dataA, cc.GetNodeContract().DeploymentData)
	require.ElementsMatch(t, []uint64{w.contractB, w.contractC}, scIDs(scNodeContractsCLI(c, w.node)))
	require.Equal(t, []uint64{w.contractC}, scIDs(scTwinContractsCLI(c, w.aliceTwin)))
	// A still reads as deleted: a new contract with its hash does not revive it.
	require.Equal(t, sctypes.ContractStateDeleted, scContractCLI(c, w.contractA).Contract.State)
}

// scREST reads the contracts through the REST routes of the API server.
func scREST(t *testing.T, c *chain, w *scWorld) {
	base := "/tfgrid/smartcontract/v1"
	live := scReadBack(c, scContractQ(w.contractC), base+"/contracts/"+u(w.contractC), "contract", u(w.contractC))
	require.Equal(t, sctypes.ContractStateCreated, live.Contract.State)

	nodeContracts := scReadBack(c, func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryNodeContractsResponse, error) {
		return q.NodeContracts(ctx, &sctypes.QueryNodeContractsRequest{NodeId: w.node})
	}, base+"/nodes/"+u(w.node)+"/contracts", "node-contracts", u(w.node))
	require.ElementsMatch(t, []uint64{w.contractB, w.contractC}, scIDs(nodeContracts.Contracts))
	byTwin := scReadBack(c, func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryContractsByTwinResponse, error) {
		return q.ContractsByTwin(ctx, &sctypes.QueryContractsByTwinRequest{TwinId: w.aliceTwin})
	}, base+"/contracts/by-twin/"+u(w.aliceTwin), "contracts-by-twin", u(w.aliceTwin))
	require.Equal(t, []uint64{w.contractC}, scIDs(byTwin.Contracts))
	history := scReadBack(c, func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryContractsByTwinResponse, error) {
		return q.ContractsByTwin(ctx, &sctypes.QueryContractsByTwinRequest{TwinId: w.aliceTwin, IncludeDeleted: true})
	}, base+"/contracts/by-twin/"+u(w.aliceTwin)+"?include_deleted=true", "contracts-by-twin", u(w.aliceTwin), "--include-deleted")
	require.Equal(t, []uint64{w.contractA, w.contractC}, scIDs(history.Contracts), "include_deleted adds alice's deleted contract A")
	require.Equal(t, sctypes.ContractStateDeleted, history.Contracts[0].State)
	require.NotZero(t, history.Contracts[0].CreatedAt, "a deleted contract keeps its real created_at")

	// Paginated.
	var page struct {
		Contracts  []json.RawMessage `json:"contracts"`
		Pagination struct {
			NextKey string `json:"next_key"`
			Total   string `json:"total"`
		} `json:"pagination"`
	}
	code, body := c.rest(base + "/nodes/" + u(w.node) + "/contracts?pagination.limit=1&pagination.count_total=true")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Contracts, 1)
	require.NotEmpty(t, page.Pagination.NextKey)
	require.Equal(t, "2", page.Pagination.Total)

	// A contract that never existed: 404 (gRPC NotFound), unlike a deleted one (200, state deleted).
	code, body = c.rest(base + "/contracts/" + u(w.neverExists))
	require.Equal(t, http.StatusNotFound, code, "%s", body)
	require.Contains(t, string(body), "never existed")
	_, err := c.scQuery().Contract(context.Background(), &sctypes.QueryContractRequest{Id: w.neverExists})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	require.Contains(t, c.queryFails("smartcontract", "contract", u(w.neverExists)), "never existed")
	code, body = c.rest(base + "/contracts/" + u(w.contractA))
	require.Equal(t, http.StatusOK, code, "%s", body)
	code, body = c.rest(base + "/nodes/" + u(w.node+100) + "/contracts")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.NotContains(t, string(body), `"id"`, "a node without contracts lists none")

	// The OpenAPI document lists the module's routes.
	code, body = c.rest("/openapi.json")
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(body, &doc))
	for _, p := range []string{
		base + "/contracts/{id}", base + "/contracts/by-twin/{twin_id}", base + "/contracts/by-name/{name}",
		base + "/nodes/{node_id}/contracts", base + "/nodes/{node_id}/rent-contract",
		base + "/nodes/{node_id}/contracts/by-hash/{hash}", base + "/params",
	} {
		require.Contains(t, doc.Paths, p, "openapi.json paths")
	}
}

// scCancelByNode: a twin that neither owns the contract nor runs its node is refused; the node's own
// twin cancels a node contract on its node (cause canceled-by-node), and the deposit returns to the
// contract's owner.
func scCancelByNode(t *testing.T, c *chain, w *scWorld) {
	snap := scSnapshot(c, w)
	c.scTxRejected(sctypes.ErrNotContractOwner, "bob", "cancel-contract", u(w.contractC))
	c.scTxRefused(sctypes.ErrNotContractOwner, "farmer", "cancel-contract", u(w.contractC))
	snap.requireUnchanged(t, c, w)

	res := scCancel(t, c, w, "node1", w.contractC, "alice", sctypes.DeleteCauseCanceledByNode)
	require.Equal(t, []string{scIP9, scIP10}, scListAttr(t, res, scEvIPsFreed, "ips"))
	require.Equal(t, map[string]uint64{scIP9: 0, scIP10: 0, scIP100: w.contractB}, scFarmIPsCLI(c, w.farm))
	tomb := scContractCLI(c, w.contractC)
	require.Equal(t, sctypes.ContractStateDeleted, tomb.Contract.State)
	require.Equal(t, sctypes.DeleteCauseCanceledByNode, tomb.Contract.DeleteCause)
	require.Equal(t, w.aliceTwin, tomb.Contract.TwinId)
	require.Equal(t, []uint64{w.contractB}, scIDs(scNodeContractsCLI(c, w.node)))
	require.Empty(t, scTwinContractsCLI(c, w.aliceTwin))
}

// scNameContract: a name contract round trip through the CLI.
func scNameContract(t *testing.T, c *chain, w *scWorld) {
	const name = "e2e-gateway_1"
	byName := func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryContractByNameResponse, error) {
		return q.ContractByName(ctx, &sctypes.QueryContractByNameRequest{Name: name})
	}
	alice0, module0 := c.scBalance(c.addrs["alice"]), c.scBalance(w.module)
	res := c.scMustTx("alice", "create-name-contract", name)
	id := idOf(t, res, scEvContractCreated, "contract_id")
	require.Equal(t, w.contractC+1, id)
	require.Equal(t, "CONTRACT_KIND_NAME", mustAttr(t, res, scEvContractCreated, "kind"))
	require.Equal(t, name, mustAttr(t, res, scEvContractCreated, "name"))
	require.Equal(t, alice0.Sub(w.deposit).String(), c.scBalance(c.addrs["alice"]).String())
	require.Equal(t, module0.Add(w.deposit).String(), c.scBalance(w.module).String())

	got := scReadBack(c, byName, "/tfgrid/smartcontract/v1/contracts/by-name/"+name, "contract-by-name", name).Contract
	require.Equal(t, id, got.Id)
	require.Equal(t, w.aliceTwin, got.TwinId)
	require.Equal(t, sctypes.ContractStateCreated, got.State)
	require.Equal(t, &sctypes.NameContract{Name: name}, got.GetNameContract())
	require.Equal(t, got, scReadBack(c, scContractQ(id), "/tfgrid/smartcontract/v1/contracts/"+u(id), "contract", u(id)).Contract)
	require.Equal(t, []uint64{id}, scIDs(scTwinContractsCLI(c, w.aliceTwin)))
	require.Empty(t, scNodeContractsCLI(c, 0), "a name contract is on no node")

	snap := scSnapshot(c, w)
	c.scTxRefused(sctypes.ErrNameTaken, "bob", "create-name-contract", name)
	c.scTxRejected(sctypes.ErrInvalidName, "bob", "create-name-contract", "Bad.Name")
	c.scTxRefused(sctypes.ErrNotNodeContract, "alice", "update-node-contract", u(id), w.hashA)
	snap.requireUnchanged(t, c, w)

	scCancel(t, c, w, "alice", id, "alice", sctypes.DeleteCauseCanceledByUser)
	scNotFound(c, func(ctx context.Context, q sctypes.QueryClient) error {
		_, err := byName(ctx, q)
		return err
	}, "/tfgrid/smartcontract/v1/contracts/by-name/"+name, "not found", "contract-by-name", name)
	tomb := scContractCLI(c, id)
	require.Equal(t, sctypes.ContractStateDeleted, tomb.Contract.State)
	require.Equal(t, sctypes.DeleteCauseCanceledByUser, tomb.Contract.DeleteCause)
	require.NotNil(t, tomb.Contract.GetNameContract(), "the tombstone keeps the kind")

	// The name is free again: bob takes it (and keeps it to the end of the test).
	w.nameBob = idOf(t, c.scMustTx("bob", "create-name-contract", name), scEvContractCreated, "contract_id")
	require.Equal(t, id+1, w.nameBob)
	require.Equal(t, w.bobTwin, scReadBack(c, byName, "/tfgrid/smartcontract/v1/contracts/by-name/"+name, "contract-by-name", name).Contract.TwinId)
}

// scRentContract: a rent contract round trip through the CLI, with the rules that tie it to the node
// contracts on its node.
func scRentContract(t *testing.T, c *chain, w *scWorld) {
	rentQ := func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryNodeRentContractResponse, error) {
		return q.NodeRentContract(ctx, &sctypes.QueryNodeRentContractRequest{NodeId: w.node})
	}
	rentPath := "/tfgrid/smartcontract/v1/nodes/" + u(w.node) + "/rent-contract"
	rentNotFound := func() {
		scNotFound(c, func(ctx context.Context, q sctypes.QueryClient) error {
			_, err := rentQ(ctx, q)
			return err
		}, rentPath, "not found", "node-rent-contract", u(w.node))
	}
	rentNotFound()

	// Bob's node contract B runs on the node of a farm that is not dedicated: no rent contract.
	c.scTxRejected(sctypes.ErrNodeHasActiveContracts, "bob", "create-rent-contract", u(w.node))
	rentNotFound()
	scCancel(t, c, w, "bob", w.contractB, "bob", sctypes.DeleteCauseCanceledByUser)
	require.Equal(t, map[string]uint64{scIP9: 0, scIP10: 0, scIP100: 0}, scFarmIPsCLI(c, w.farm))

	bob0, module0 := c.scBalance(c.addrs["bob"]), c.scBalance(w.module)
	res := c.scMustTx("bob", "create-rent-contract", u(w.node))
	rent := idOf(t, res, scEvContractCreated, "contract_id")
	require.Equal(t, "CONTRACT_KIND_RENT", mustAttr(t, res, scEvContractCreated, "kind"))
	require.Equal(t, u(w.node), mustAttr(t, res, scEvContractCreated, "node_id"))
	require.Equal(t, bob0.Sub(w.deposit).String(), c.scBalance(c.addrs["bob"]).String())
	require.Equal(t, module0.Add(w.deposit).String(), c.scBalance(w.module).String())
	got := scReadBack(c, rentQ, rentPath, "node-rent-contract", u(w.node)).Contract
	require.Equal(t, rent, got.Id)
	require.Equal(t, w.bobTwin, got.TwinId)
	require.Equal(t, &sctypes.RentContract{NodeId: w.node}, got.GetRentContract())
	require.Equal(t, []uint64{w.nameBob, rent}, scIDs(scTwinContractsCLI(c, w.bobTwin)))
	require.Empty(t, scNodeContractsCLI(c, w.node), "node-contracts lists node contracts only")

	// Only the renter deploys on a rented node; one rent contract per node.
	snap := scSnapshot(c, w)
	c.scTxRefused(sctypes.ErrNodeRented, "alice", "create-rent-contract", u(w.node))
	c.scTxRefused(sctypes.ErrNodeNotAvailable, "alice", "create-node-contract", u(w.node), w.hashA, "--public-ips-count", "1")
	snap.requireUnchanged(t, c, w)
	dataD := []byte("bob's deployment on his rented node")
	fileD := filepath.Join(w.dir, "deployment-d.enc")
	require.NoError(t, os.WriteFile(fileD, dataD, 0o600))
	res = c.scMustTx("bob", "create-node-contract", u(w.node), scSHA256(dataD), "--public-ips-count", "1", "--data-file", fileD)
	contractD := idOf(t, res, scEvContractCreated, "contract_id")
	require.Equal(t, []string{scIP9}, scListAttr(t, res, scEvIPsReserved, "ips"))
	require.Equal(t, []uint64{contractD}, scIDs(scNodeContractsCLI(c, w.node)))

	// The rent contract cannot go while a node contract runs on its node.
	c.scTxRefused(sctypes.ErrNodeHasActiveContracts, "bob", "cancel-contract", u(rent))
	require.Equal(t, rent, scReadBack(c, rentQ, rentPath, "node-rent-contract", u(w.node)).Contract.Id)
	scCancel(t, c, w, "bob", contractD, "bob", sctypes.DeleteCauseCanceledByUser)
	scCancel(t, c, w, "bob", rent, "bob", sctypes.DeleteCauseCanceledByUser)
	rentNotFound()
	tomb := scContractCLI(c, rent)
	require.Equal(t, sctypes.ContractStateDeleted, tomb.Contract.State)
	require.Equal(t, sctypes.DeleteCauseCanceledByUser, tomb.Contract.DeleteCause)
	require.Equal(t, &sctypes.RentContract{NodeId: w.node}, tomb.Contract.GetRentContract())
	require.Equal(t, []uint64{w.nameBob}, scIDs(scTwinContractsCLI(c, w.bobTwin)))
	require.Equal(t, map[string]uint64{scIP9: 0, scIP10: 0, scIP100: 0}, scFarmIPsCLI(c, w.farm))
	w.liveAtEnd = 1 // bob's name contract
}

// scDepositsBalance: the module account holds exactly the live contracts' deposits.
func scDepositsBalance(t *testing.T, c *chain, w *scWorld) {
	live := 0
	for _, twin := range []uint64{w.farmerTwin, w.nodeTwin, w.aliceTwin, w.bobTwin} {
		live += len(scTwinContractsCLI(c, twin))
	}
	require.Equal(t, w.liveAtEnd, live)
	require.Equal(t, w.moduleBase.Add(w.deposit.MulRaw(int64(live))).String(), c.scBalance(w.module).String())
}

// ---------------------------------------------------------------------------------------------
// Cancelling, with the money checked.

// scCancel cancels a contract from an account and checks the events and the money: exactly one
// EventContractCanceled with the cause; the whole deposit released to the owner (not forfeited);
// billing's last settlement paid in full (no overdraft) and split without loss; the owner's balance
// moved by deposit − settled amount (the tx itself is free) and the module's by −deposit.
func scCancel(t *testing.T, c *chain, w *scWorld, from string, id uint64, owner string, cause sctypes.DeleteCause) txResponse {
	t.Helper()
	owner0, module0 := c.scBalance(c.addrs[owner]), c.scBalance(w.module)
	res := c.scMustTx(from, "cancel-contract", u(id))

	require.Equal(t, 1, scCount(res, scEvContractCanceled), "one EventContractCanceled")
	require.Equal(t, u(id), mustAttr(t, res, scEvContractCanceled, "contract_id"))
	require.Equal(t, cause.String(), mustAttr(t, res, scEvContractCanceled, "cause"))

	require.Equal(t, u(id), mustAttr(t, res, scEvDepositReleased, "contract_id"))
	require.Equal(t, w.deposit.String(), mustAttr(t, res, scEvDepositReleased, "amount"), "the whole deposit is released")
	require.Equal(t, c.addrs[owner], mustAttr(t, res, scEvDepositReleased, "recipient"), "to the owner")
	forfeited, _ := res.attr(scEvDepositReleased, "forfeited")
	require.Contains(t, []string{"", "false"}, forfeited)

	settled := sdkmath.ZeroInt()
	if v, ok := res.attr(scEvSettled, "amount"); ok {
		require.Equal(t, u(id), mustAttr(t, res, scEvSettled, "contract_id"))
		var ok bool
		settled, ok = sdkmath.NewIntFromString(v)
		require.True(t, ok, "EventContractSettled.amount %q", v)
		require.Equal(t, settled.String(), mustAttr(t, res, scEvSettled, "paid"), "the settled amount is paid in full")
		split := sdkmath.ZeroInt()
		for _, k := range []string{"farmer_amount", "foundation_amount", "staking_amount"} {
			a, ok := sdkmath.NewIntFromString(mustAttr(t, res, scEvSettled, k))
			require.True(t, ok, "EventContractSettled.%s", k)
			split = split.Add(a)
		}
		require.Equal(t, settled.String(), split.String(), "the payment is split without loss")
		require.Equal(t, 1, scCount(res, scEvShares), "the foundation's and stakers' shares leave billing at the end of the tx")
	}
	require.Zero(t, scCount(res, scEvOverdrawn), "the owner could pay")
	require.Zero(t, scCount(res, scEvWrittenOff), "nothing written off")
	t.Logf("cancel %d by %s: deposit %s released, last settlement %s utft", id, from, w.deposit, settled)

	require.Equal(t, owner0.Add(w.deposit).Sub(settled).String(), c.scBalance(c.addrs[owner]).String(),
		"owner balance: + deposit − settled amount")
	require.Equal(t, module0.Sub(w.deposit).String(), c.scBalance(w.module).String(), "the module gives the deposit back")
	return res
}

// ---------------------------------------------------------------------------------------------
// The smartcontract CLI, gRPC and REST (the chain's tx helpers speak x/tfgrid's CLI).

// scTx is sendTx for `tfgridd tx smartcontract ARGS`.
func (c *chain) scTx(from string, args ...string) txResponse {
	c.t.Helper()
	return c.sendTx(from, nil, append([]string{"smartcontract"}, args...)...)
}

func (c *chain) scMustTx(from string, args ...string) txResponse {
	c.t.Helper()
	return c.mustSendTx(from, nil, append([]string{"smartcontract"}, args...)...)
}

// scTxRejected is rejectedTx for `tfgridd tx smartcontract ARGS`; it returns the committed result.
func (c *chain) scTxRejected(want *errorsmod.Error, from string, args ...string) txResponse {
	c.t.Helper()
	return c.rejectedTx(want, from, append([]string{"smartcontract"}, args...)...)
}

// scTxRefused is the committed half of scTxRejected (fixed gas, DeliverTx fails with the registered
// error), for refusals whose simulation adds nothing to the ones scTxRejected already checks.
func (c *chain) scTxRefused(want *errorsmod.Error, from string, args ...string) txResponse {
	c.t.Helper()
	res := c.scTx(from, args...)
	require.Equal(c.t, want.Codespace(), res.Codespace, "tx %v: %s", args, res.RawLog)
	require.Equal(c.t, want.ABCICode(), res.Code, "tx %v: %s", args, res.RawLog)
	require.Contains(c.t, res.RawLog, want.Error())
	return res
}

// scQuery is a gRPC client of tfgrid.smartcontract.v1.Query on the chain's connection.
func (c *chain) scQuery() sctypes.QueryClient {
	c.query() // dials the connection
	return sctypes.NewQueryClient(c.conn)
}

// scCLI runs `tfgridd query smartcontract ARGS --output json` and decodes the answer into out.
func (c *chain) scCLI(out proto.Message, args ...string) {
	c.t.Helper()
	full := append(append([]string{"query", "smartcontract"}, args...), "--output", "json", "--node", c.rpc)
	bz := c.mustRun(full...)
	require.NoError(c.t, cdc.UnmarshalJSON(scUnAmino(c.t, bz), out), "tfgridd %s: %s", strings.Join(full, " "), bz)
}

// scUnAmino turns the CLI's amino JSON of a oneof back into proto JSON: autocli prints
// Contract.kind as "Kind":{"type":"<amino name>","value":{"node_contract":{...}}} (an unset oneof as
// "Kind":null), which proto JSON spells "node_contract":{...}.
func scUnAmino(t *testing.T, bz []byte) []byte {
	var doc any
	require.NoError(t, json.Unmarshal(bz, &doc), "%s", bz)
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "" || k[0] < 'A' || k[0] > 'Z' {
					v[k] = walk(x)
					continue
				}
				if x == nil {
					delete(v, k)
					continue
				}
				if one, ok := x.(map[string]any); ok && len(one) == 2 && one["type"] != nil {
					if inner, ok := one["value"].(map[string]any); ok && len(inner) == 1 {
						delete(v, k)
						for name, field := range inner {
							v[name] = walk(field)
						}
						continue
					}
				}
				v[k] = walk(x)
			}
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		}
		return v
	}
	out, err := json.Marshal(walk(doc))
	require.NoError(t, err)
	return out
}

// scReadBack is readBack for the smartcontract queries: gRPC, CLI and REST agree; returns gRPC's.
func scReadBack[R proto.Message](c *chain, call func(context.Context, sctypes.QueryClient) (R, error), restPath string, cliArgs ...string) R {
	c.t.Helper()
	return readBackWith(c, c.scQuery(), c.scCLI, call, restPath, cliArgs...)
}

// scNotFound requires gRPC (code NotFound), the CLI and REST (404) to report a missing object.
func scNotFound(c *chain, call func(context.Context, sctypes.QueryClient) error, restPath, text string, cliArgs ...string) {
	c.t.Helper()
	notFoundWith(c, c.scQuery(), "smartcontract", call, restPath, text, cliArgs...)
}

// scRESTContains GETs path (200) and requires each fragment in the raw body.
func scRESTContains(c *chain, path string, fragments ...string) {
	c.t.Helper()
	code, body := c.rest(path)
	require.Equal(c.t, http.StatusOK, code, "GET %s: %s", path, body)
	for _, f := range fragments {
		require.Contains(c.t, string(body), f, "GET %s", path)
	}
}

func scContractQ(id uint64) func(context.Context, sctypes.QueryClient) (*sctypes.QueryContractResponse, error) {
	return func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryContractResponse, error) {
		return q.Contract(ctx, &sctypes.QueryContractRequest{Id: id})
	}
}

func scByHashQ(node uint64, hash string) func(context.Context, sctypes.QueryClient) (*sctypes.QueryNodeContractByHashResponse, error) {
	return func(ctx context.Context, q sctypes.QueryClient) (*sctypes.QueryNodeContractByHashResponse, error) {
		return q.NodeContractByHash(ctx, &sctypes.QueryNodeContractByHashRequest{NodeId: node, Hash: hash})
	}
}

func scContractCLI(c *chain, id uint64) *sctypes.QueryContractResponse {
	c.t.Helper()
	var r sctypes.QueryContractResponse
	c.scCLI(&r, "contract", u(id))
	return &r
}

func scNodeContractsCLI(c *chain, node uint64) []sctypes.Contract {
	c.t.Helper()
	var r sctypes.QueryNodeContractsResponse
	c.scCLI(&r, "node-contracts", u(node))
	return r.Contracts
}

func scTwinContractsCLI(c *chain, twin uint64) []sctypes.Contract {
	c.t.Helper()
	var r sctypes.QueryContractsByTwinResponse
	c.scCLI(&r, "contracts-by-twin", u(twin))
	return r.Contracts
}

// scFarmIPsCLI is `tfgridd q tfgrid farm-public-ips FARM` as IP → holding contract (0 = free).
func scFarmIPsCLI(c *chain, farm uint64) map[string]uint64 {
	c.t.Helper()
	var r types.QueryFarmPublicIpsResponse
	c.cliQuery(&r, "farm-public-ips", u(farm))
	m := map[string]uint64{}
	for _, ip := range r.PublicIps {
		require.Equal(c.t, farm, ip.FarmId)
		require.Equal(c.t, scGateway, ip.Gateway)
		m[ip.Ip] = ip.ContractId
	}
	return m
}

func scIDs(cs []sctypes.Contract) []uint64 {
	ids := []uint64{}
	for _, c := range cs {
		ids = append(ids, c.Id)
	}
	return ids
}

// scBalance is an address's utft balance (gRPC x/bank: the checks read many balances).
func (c *chain) scBalance(addr string) sdkmath.Int {
	c.t.Helper()
	c.query() // dials the connection
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := banktypes.NewQueryClient(c.conn).Balance(ctx, &banktypes.QueryBalanceRequest{Address: addr, Denom: denom})
	require.NoError(c.t, err, "balance of %s", addr)
	return r.Balance.Amount
}

// scModuleAddress is a module account's address, with the chain's account prefix.
func (c *chain) scModuleAddress(module string) string {
	c.t.Helper()
	alice := c.addrs["alice"]
	hrp := alice[:strings.LastIndex(alice, "1")]
	addr, err := bech32.ConvertAndEncode(hrp, authtypes.NewModuleAddress(module))
	require.NoError(c.t, err)
	return addr
}

// scSnapshot is what a refused contract message must leave alone.
type scSnapshotT struct {
	ips                map[string]uint64
	nodeContracts      []uint64
	alice, bob         []uint64
	aliceBal, bobBal   sdkmath.Int
	nodeBal, farmerBal sdkmath.Int
	moduleBal          sdkmath.Int
}

// scSnapshot reads it through gRPC (the CLI read-backs are checked in the steps).
func scSnapshot(c *chain, w *scWorld) scSnapshotT {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	farmIPs, err := c.query().FarmPublicIps(ctx, &types.QueryFarmPublicIpsRequest{Id: w.farm})
	require.NoError(c.t, err)
	ips := map[string]uint64{}
	for _, ip := range farmIPs.PublicIps {
		ips[ip.Ip] = ip.ContractId
	}
	q := c.scQuery()
	nodeContracts, err := q.NodeContracts(ctx, &sctypes.QueryNodeContractsRequest{NodeId: w.node})
	require.NoError(c.t, err)
	alice, err := q.ContractsByTwin(ctx, &sctypes.QueryContractsByTwinRequest{TwinId: w.aliceTwin})
	require.NoError(c.t, err)
	bob, err := q.ContractsByTwin(ctx, &sctypes.QueryContractsByTwinRequest{TwinId: w.bobTwin})
	require.NoError(c.t, err)
	return scSnapshotT{
		ips:           ips,
		nodeContracts: scIDs(nodeContracts.Contracts),
		alice:         scIDs(alice.Contracts),
		bob:           scIDs(bob.Contracts),
		aliceBal:      c.scBalance(c.addrs["alice"]),
		bobBal:        c.scBalance(c.addrs["bob"]),
		nodeBal:       c.scBalance(c.addrs["node1"]),
		farmerBal:     c.scBalance(c.addrs["farmer"]),
		moduleBal:     c.scBalance(w.module),
	}
}

func (s scSnapshotT) requireUnchanged(t *testing.T, c *chain, w *scWorld) {
	t.Helper()
	now := scSnapshot(c, w)
	require.Equal(t, s.ips, now.ips, "farm IPs")
	require.Equal(t, s.nodeContracts, now.nodeContracts, "node contracts")
	require.Equal(t, s.alice, now.alice, "alice's contracts")
	require.Equal(t, s.bob, now.bob, "bob's contracts")
	for _, b := range []struct {
		name    string
		was, is sdkmath.Int
	}{{"alice", s.aliceBal, now.aliceBal}, {"bob", s.bobBal, now.bobBal}, {"node1", s.nodeBal, now.nodeBal},
		{"farmer", s.farmerBal, now.farmerBal}, {"module", s.moduleBal, now.moduleBal}} {
		require.Equal(t, b.was.String(), b.is.String(), "%s's balance", b.name)
	}
}

// scCount is the number of events of a type in a tx result.
func scCount(res txResponse, typ string) int {
	n := 0
	for _, ev := range res.Events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// scListAttr decodes a repeated-string attribute of a typed event (a JSON list).
func scListAttr(t *testing.T, res txResponse, typ, key string) []string {
	t.Helper()
	raw := mustAttr(t, res, typ, key)
	var l []string
	require.NoError(t, json.Unmarshal([]byte(raw), &l), "%s.%s = %s", typ, key, raw)
	return l
}

func scSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
