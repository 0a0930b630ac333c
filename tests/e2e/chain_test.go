package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/tfgrid/tfgrid/testnet"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const (
	chainID    = testnet.ChainID
	denom      = "utft"
	txGas      = "2000000" // fixed gas: no simulation, so a bad message reaches DeliverTx
	cmdTimeout = 90 * time.Second
)

// accounts of every test chain, funded in genesis; validator also bonds.
var accounts = []string{"validator", "alice", "bob", "farmer", "node1"}

// cdc decodes and compares the JSON of the CLI and REST with the gRPC answers.
var cdc = codec.NewProtoCodec(codectypes.NewInterfaceRegistry())

// chain is one single-validator tfgridd node running in a temporary home on free loopback ports
// (a testnet.Node), with the assertions the suites share.
type chain struct {
	t       *testing.T
	name    string
	home    string
	logPath string
	rpc     string // tcp://127.0.0.1:N (CometBFT RPC)
	rpcHTTP string // http://127.0.0.1:N
	p2p     string // tcp://127.0.0.1:N
	grpc    string // 127.0.0.1:N
	api     string // http://127.0.0.1:N (REST)
	addrs   map[string]string

	node *testnet.Node
	conn *grpc.ClientConn
}

// newChain creates a fresh chain home: init, test-keyring accounts, genesis accounts, the
// validator's gentx, collect-gentxs, and config for free ports and fast blocks. Call start.
func newChain(t *testing.T, name string) *chain {
	t.Helper()
	c := newChainHome(t, name)
	require.NoError(t, c.node.InitChain(name, accounts[1:], nil))
	require.NoError(t, c.node.Configure())
	c.loadAddresses()
	return c
}

// newChainFromGenesis creates a chain home that starts from an exported genesis, with the
// validator and node keys and the keyring of src (the exported genesis names src's validator).
func newChainFromGenesis(t *testing.T, name string, src *chain, genesis []byte) *chain {
	t.Helper()
	c := newChainHome(t, name)
	c.mustRun("init", name, "--home", c.home)
	for _, f := range []string{"priv_validator_key.json", "node_key.json"} {
		copyFile(t, filepath.Join(src.home, "config", f), filepath.Join(c.home, "config", f))
	}
	require.NoError(t, os.WriteFile(filepath.Join(c.home, "config", "genesis.json"), genesis, 0o600))
	require.NoError(t, os.CopyFS(filepath.Join(c.home, "keyring-test"), os.DirFS(filepath.Join(src.home, "keyring-test"))))
	c.mustRun("genesis", "validate", "--home", c.home)
	require.NoError(t, c.node.Configure())
	c.loadAddresses()
	return c
}

func newChainHome(t *testing.T, name string) *chain {
	t.Helper()
	skipIfShort(t)
	node, err := testnet.NewNode(tfgriddBin, t.TempDir(), true) // the directory goes after the cleanup below
	require.NoError(t, err)
	c := &chain{
		t:       t,
		name:    name,
		node:    node,
		home:    node.Home,
		logPath: node.LogPath,
		rpc:     node.TendermintRPC(),
		rpcHTTP: node.RPC,
		p2p:     node.P2P,
		grpc:    node.GRPC,
		api:     node.API,
	}
	t.Cleanup(func() {
		c.t = t // subtests may have borrowed the chain (chain.on); they are done now
		if t.Failed() {
			c.dumpLog()
		}
		c.stop()
	})
	return c
}

// setTOML replaces `key = ...` in [section] ("" is the top of the file).
func (c *chain) setTOML(path, section, key, value string) {
	c.t.Helper()
	require.NoError(c.t, testnet.SetTOML(path, section, key, value))
}

func (c *chain) loadAddresses() {
	c.addrs = map[string]string{}
	for _, acc := range accounts {
		out := c.mustRun("keys", "show", acc, "-a", "--keyring-backend", "test", "--home", c.home)
		c.addrs[acc] = strings.TrimSpace(string(out))
	}
}

// pubkey returns the base64 secp256k1 public key of a test account.
func (c *chain) pubkey(acc string) string {
	c.t.Helper()
	out := c.mustRun("keys", "show", acc, "--keyring-backend", "test", "--home", c.home, "--output", "json")
	var k struct {
		PubKey string `json:"pubkey"`
	}
	require.NoError(c.t, json.Unmarshal(out, &k))
	var pk struct {
		Key string `json:"key"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(k.PubKey), &pk), "pubkey %s", k.PubKey)
	return pk.Key
}

// start runs `tfgridd start` and waits until the chain has a block at minHeight or above and its
// REST and gRPC servers answer.
func (c *chain) start(minHeight int64) {
	c.t.Helper()
	require.NoError(c.t, c.node.Start(minHeight), "%s: start", c.name)
	h, _ := c.height()
	c.t.Logf("%s: tfgridd (pid %d) ready at height %d: rpc %s, grpc %s, api %s", c.name, c.node.PID(), h, c.rpc, c.grpc, c.api)
}

// stop sends SIGTERM to the node (SIGKILL after 30 s) and waits for it. Idempotent.
func (c *chain) stop() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
	c.node.Stop()
}

// dumpLog logs the tail of the node's log.
func (c *chain) dumpLog() {
	f, err := os.Open(c.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 400 {
			lines = lines[200:]
		}
	}
	if len(lines) > 200 {
		lines = lines[len(lines)-200:]
	}
	c.t.Logf("%s: last %d lines of %s:\n%s", c.name, len(lines), c.logPath, strings.Join(lines, "\n"))
}

// height is the latest block height, from the CometBFT RPC.
func (c *chain) height() (int64, error) { return c.node.Height() }

// ---------------------------------------------------------------------------------------------
// The CLI.

// run runs tfgridd with args; stdout and stderr are returned separately.
func (c *chain) run(args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tfgriddBin, args...)
	cmd.Env = testnet.CleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (c *chain) mustRun(args ...string) []byte {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	require.NoError(c.t, err, "tfgridd %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), out, errOut)
	return []byte(out)
}

func (c *chain) txFlags(from string) []string {
	return []string{"--from", from, "--yes", "--output", "json", "--keyring-backend", "test",
		"--home", c.home, "--chain-id", chainID, "--node", c.rpc}
}

// txResponse is the part of sdk.TxResponse the tests read, as the CLI prints it in JSON.
type txResponse struct {
	Height    string `json:"height"`
	TxHash    string `json:"txhash"`
	Codespace string `json:"codespace"`
	Code      uint32 `json:"code"`
	RawLog    string `json:"raw_log"`
	Events    []struct {
		Type       string `json:"type"`
		Attributes []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"attributes"`
	} `json:"events"`
}

// attr returns the value of the first attribute key of the first event of type typ
// (typed-event values are JSON: quotes are removed), and whether it was found.
func (r txResponse) attr(typ, key string) (string, bool) {
	for _, ev := range r.Events {
		if ev.Type != typ {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == key {
				return strings.Trim(a.Value, `"`), true
			}
		}
	}
	return "", false
}

// sendTx sends `tfgridd tx ARGS` (module first) from an account with a fixed gas limit (no
// simulation) and the extra flags, and returns its result: CheckTx's when it refused the tx, else
// the committed one (`query tx`). The CLI exits 0 in both cases; the result's code tells success (0)
// from failure.
func (c *chain) sendTx(from string, extra []string, args ...string) txResponse {
	c.t.Helper()
	full := append(append([]string{"tx"}, args...), c.txFlags(from)...)
	full = append(append(full, "--gas", txGas), extra...)
	out, errOut, err := c.run(full...)
	require.NoError(c.t, err, "tfgridd %s\nstdout: %s\nstderr: %s", strings.Join(full, " "), out, errOut)
	var res txResponse
	require.NoError(c.t, json.Unmarshal([]byte(out), &res), "broadcast output: %s", out)
	require.NotEmpty(c.t, res.TxHash, "broadcast output: %s", out)
	if res.Code != 0 {
		return res // refused by CheckTx: never committed
	}
	return c.committed(res.TxHash)
}

// mustSendTx is sendTx that must succeed.
func (c *chain) mustSendTx(from string, extra []string, args ...string) txResponse {
	c.t.Helper()
	res := c.sendTx(from, extra, args...)
	require.Zero(c.t, res.Code, "tx %v from %s failed: codespace %s code %d: %s", args, from, res.Codespace, res.Code, res.RawLog)
	return res
}

// tx is sendTx for `tfgridd tx tfgrid ARGS`.
func (c *chain) tx(from string, args ...string) txResponse {
	c.t.Helper()
	return c.sendTx(from, nil, append([]string{"tfgrid"}, args...)...)
}

// committed polls `tfgridd query tx HASH` until the tx is in a block and returns its result.
// (`query wait-tx` can miss a tx committed while it subscribes: it listens for the tx event, then
// looks the hash up in the index, which is written after the event.)
func (c *chain) committed(hash string) txResponse {
	c.t.Helper()
	// Wait on the CometBFT RPC's /tx (cheap), then read the result through the CLI.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.rpcHTTP + "/tx?hash=0x" + hash)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"result"`)) {
				break
			}
		}
		require.True(c.t, time.Now().Before(deadline), "tx %s not in a block after 30 s", hash)
		time.Sleep(50 * time.Millisecond)
	}
	out := c.mustRun("query", "tx", hash, "--output", "json", "--node", c.rpc)
	var res txResponse
	require.NoError(c.t, json.Unmarshal(out, &res), "query tx output: %s", out)
	require.Equal(c.t, hash, res.TxHash)
	return res
}

// mustTx is tx that must succeed.
func (c *chain) mustTx(from string, args ...string) txResponse {
	c.t.Helper()
	return c.mustSendTx(from, nil, append([]string{"tfgrid"}, args...)...)
}

// rejectedTx sends a bad message (`tfgridd tx ARGS`, module first) twice and requires the
// registered error both times:
//   - as a user would, without --gas: the CLI simulates the tx (its --gas defaults to auto), the
//     simulation fails, so the CLI exits non-zero and prints the error, and nothing is broadcast;
//   - with a fixed gas limit, so it is committed and fails in DeliverTx: the result carries the
//     error's codespace and code.
//
// It returns the committed result; callers then check that the state did not change.
func (c *chain) rejectedTx(want *errorsmod.Error, from string, args ...string) txResponse {
	c.t.Helper()
	full := append(append([]string{"tx"}, args...), c.txFlags(from)...)
	out, errOut, err := c.run(full...)
	require.Error(c.t, err, "tfgridd %s exited 0; stdout: %s", strings.Join(full, " "), out)
	require.Contains(c.t, errOut, want.Error(), "tfgridd %s: stderr", strings.Join(full, " "))
	require.NotContains(c.t, errOut, "cosmossdk.io/errors", "tfgridd %s: the simulation error must name the failing line, not the errors library", strings.Join(full, " "))

	res := c.sendTx(from, nil, args...)
	require.Equal(c.t, want.Codespace(), res.Codespace, "tx %v: %s", args, res.RawLog)
	require.Equal(c.t, want.ABCICode(), res.Code, "tx %v: %s", args, res.RawLog)
	require.NotZero(c.t, res.Code)
	require.Contains(c.t, res.RawLog, want.Error())
	return res
}

// txRejected is rejectedTx for `tfgridd tx tfgrid ARGS`.
func (c *chain) txRejected(want *errorsmod.Error, from string, args ...string) {
	c.t.Helper()
	c.rejectedTx(want, from, append([]string{"tfgrid"}, args...)...)
}

// cliQuery runs `tfgridd query tfgrid ARGS --output json` and decodes the answer into out.
func (c *chain) cliQuery(out proto.Message, args ...string) {
	c.t.Helper()
	full := append(append([]string{"query", "tfgrid"}, args...), "--output", "json", "--node", c.rpc)
	bz := c.mustRun(full...)
	require.NoError(c.t, cdc.UnmarshalJSON(bz, out), "tfgridd %s: %s", strings.Join(full, " "), bz)
}

// queryFails requires `tfgridd query MODULE ARGS` to exit non-zero and returns its stderr.
func (c *chain) queryFails(module string, args ...string) string {
	c.t.Helper()
	full := append(append([]string{"query", module}, args...), "--output", "json", "--node", c.rpc)
	out, errOut, err := c.run(full...)
	require.Error(c.t, err, "tfgridd %s succeeded: %s", strings.Join(full, " "), out)
	return errOut
}

// ---------------------------------------------------------------------------------------------
// gRPC and REST.

// query returns a gRPC client of tfgrid.tfgrid.v1.Query on the node's gRPC port.
func (c *chain) query() types.QueryClient {
	if c.conn == nil {
		conn, err := grpc.NewClient(c.grpc,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(cdc.GRPCCodec())))
		require.NoError(c.t, err)
		c.conn = conn
	}
	return types.NewQueryClient(c.conn)
}

// rest GETs an API-server path and returns the status and body.
func (c *chain) rest(path string) (int, []byte) {
	c.t.Helper()
	resp, err := http.Get(c.api + path)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, body
}

// restJSON GETs path, requires 200 and decodes the body into out.
func (c *chain) restJSON(path string, out proto.Message) {
	c.t.Helper()
	code, body := c.rest(path)
	require.Equal(c.t, http.StatusOK, code, "GET %s: %s", path, body)
	require.NoError(c.t, cdc.UnmarshalJSON(body, out), "GET %s: %s", path, body)
}

// restFields GETs path (200) and requires each dotted snake_case path (e.g. "node.last_uptime.reported_at",
// "public_ips.0.contract_id") to be present in the raw JSON.
func (c *chain) restFields(path string, fields ...string) {
	c.t.Helper()
	code, body := c.rest(path)
	require.Equal(c.t, http.StatusOK, code, "GET %s: %s", path, body)
	var doc any
	require.NoError(c.t, json.Unmarshal(body, &doc))
	for _, f := range fields {
		cur := doc
		for _, part := range strings.Split(f, ".") {
			switch v := cur.(type) {
			case map[string]any:
				next, ok := v[part]
				require.True(c.t, ok, "GET %s: no field %q (at %q) in %s", path, f, part, body)
				cur = next
			case []any:
				i, err := strconv.Atoi(part)
				require.NoError(c.t, err, "GET %s: %q indexes a list", path, f)
				require.Less(c.t, i, len(v), "GET %s: %q", path, f)
				cur = v[i]
			default:
				c.t.Fatalf("GET %s: %q: %q is inside a scalar", path, f, part)
			}
		}
	}
}

// readBack reads one answer through gRPC, the CLI and REST, requires the three to be equal, and
// returns the gRPC one.
func readBack[R proto.Message](c *chain, call func(context.Context, types.QueryClient) (R, error), restPath string, cliArgs ...string) R {
	c.t.Helper()
	return readBackWith(c, c.query(), c.cliQuery, call, restPath, cliArgs...)
}

// readBackWith is readBack for any module: client is its gRPC query client, cli reads
// `tfgridd query <module> ARGS` into a message.
func readBackWith[Q any, R proto.Message](c *chain, client Q, cli func(proto.Message, ...string), call func(context.Context, Q) (R, error), restPath string, cliArgs ...string) R {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fromGRPC, err := call(ctx, client)
	require.NoError(c.t, err, "gRPC for %s", restPath)

	fromCLI := reflect.New(reflect.TypeOf(fromGRPC).Elem()).Interface().(R)
	cli(fromCLI, cliArgs...)
	fromREST := reflect.New(reflect.TypeOf(fromGRPC).Elem()).Interface().(R)
	c.restJSON(restPath, fromREST)

	want := string(cdc.MustMarshalJSON(fromGRPC))
	require.JSONEq(c.t, want, string(cdc.MustMarshalJSON(fromCLI)), "CLI %v differs from gRPC", cliArgs)
	require.JSONEq(c.t, want, string(cdc.MustMarshalJSON(fromREST)), "REST %s differs from gRPC", restPath)
	return fromGRPC
}

// notFound requires a missing object to be reported as such by gRPC (NotFound), the CLI (non-zero
// exit) and REST (404), each with text in the message.
func notFound(c *chain, call func(context.Context, types.QueryClient) error, restPath, text string, cliArgs ...string) {
	c.t.Helper()
	notFoundWith(c, c.query(), "tfgrid", call, restPath, text, cliArgs...)
}

// notFoundWith is notFound for any module, given its gRPC query client.
func notFoundWith[Q any](c *chain, client Q, module string, call func(context.Context, Q) error, restPath, text string, cliArgs ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := call(ctx, client)
	require.Error(c.t, err, "gRPC for %s", restPath)
	require.Equal(c.t, codes.NotFound, status.Code(err), "gRPC for %s: %v", restPath, err)
	require.Contains(c.t, err.Error(), text)
	require.Contains(c.t, c.queryFails(module, cliArgs...), text)
	code, body := c.rest(restPath)
	require.Equal(c.t, http.StatusNotFound, code, "GET %s: %s", restPath, body)
	require.Contains(c.t, string(body), text, "GET %s", restPath)
}

// ---------------------------------------------------------------------------------------------
// Helpers.

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, 0o600))
}
