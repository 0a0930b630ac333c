package testnet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/chainclient"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const (
	ChainID = "tfgrid-local-1"
	denom   = "utft"
	// BlockTime is the block time of test chains.
	BlockTime = "300ms"
	// Balances of the accounts InitChain funds: the validator bonds part of its own.
	UserBalance      = "100000000000" + denom   // 100,000 TFT
	ValidatorBalance = "10000000000000" + denom // 10,000,000 TFT
	ValidatorBond    = "1000000000000" + denom  // 1,000,000 TFT
)

// Node is one tfgridd home and its process on free loopback ports, in a directory of the test's:
// what every end-to-end suite shares. NewNode makes the home's paths and ports; InitChain (or the
// caller, for a chain started from an exported genesis) fills it; Configure writes the ports and
// block time; Start runs the process.
type Node struct {
	process
	Bin  string
	Home string
	RPC  string // http://127.0.0.1:N (CometBFT RPC)
	P2P  string // tcp://127.0.0.1:N
	GRPC string // 127.0.0.1:N
	API  string // http://127.0.0.1:N (REST), "" when the API server is off
}

// NewNode prepares a node home under dir (not created yet); withAPI turns the REST server on.
func NewNode(bin, dir string, withAPI bool) (*Node, error) {
	ports, err := FreePorts(4)
	if err != nil {
		return nil, err
	}
	n := &Node{process: process{name: "tfgridd", LogPath: filepath.Join(dir, "tfgridd.log")}, Bin: bin,
		Home: filepath.Join(dir, "home"),
		RPC:  fmt.Sprintf("http://127.0.0.1:%d", ports[0]), P2P: fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]),
		GRPC: fmt.Sprintf("127.0.0.1:%d", ports[2])}
	if withAPI {
		n.API = fmt.Sprintf("http://127.0.0.1:%d", ports[3])
	}
	return n, nil
}

// TendermintRPC is the RPC address as the CLI's --node takes it (tcp://127.0.0.1:N).
func (n *Node) TendermintRPC() string { return "tcp://" + strings.TrimPrefix(n.RPC, "http://") }

// Run runs tfgridd with args and returns its stdout (an error carries both outputs).
func (n *Node) Run(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.Bin, args...)
	cmd.Env = CleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tfgridd %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.Bytes(), nil
}

// InitChain creates a single-validator chain in the home: `validator` and the generated accounts
// are new keys of the test keyring, the imported ones are imported with their keys; all are funded
// in genesis and the validator bonds.
func (n *Node) InitChain(moniker string, generated []string, imported map[string]*secp256k1.PrivKey) error {
	if _, err := n.Run("init", moniker, "--home", n.Home, "--chain-id", ChainID); err != nil {
		return err
	}
	names := append([]string{"validator"}, generated...)
	for _, name := range names {
		if _, err := n.Run("keys", "add", name, "--keyring-backend", "test", "--home", n.Home, "--output", "json"); err != nil {
			return err
		}
	}
	for name, k := range imported {
		if _, err := n.Run("keys", "import-hex", name, hex.EncodeToString(k.Key), "--keyring-backend", "test", "--home", n.Home); err != nil {
			return err
		}
		names = append(names, name)
	}
	for _, name := range names {
		amount := UserBalance
		if name == "validator" {
			amount = ValidatorBalance
		}
		if _, err := n.Run("genesis", "add-genesis-account", name, amount, "--keyring-backend", "test", "--home", n.Home); err != nil {
			return err
		}
	}
	if _, err := n.Run("genesis", "gentx", "validator", ValidatorBond, "--chain-id", ChainID, "--keyring-backend", "test", "--home", n.Home); err != nil {
		return err
	}
	_, err := n.Run("genesis", "collect-gentxs", "--home", n.Home)
	return err
}

// EditGenesis applies edits to the genesis app state (module name → its JSON object) and checks
// the result with `genesis validate`.
func (n *Node) EditGenesis(edits ...func(appState map[string]any) error) error {
	if len(edits) == 0 {
		return nil
	}
	path := filepath.Join(n.Home, "config", "genesis.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	appState, ok := doc["app_state"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: no app_state object", path)
	}
	for _, edit := range edits {
		if err := edit(appState); err != nil {
			return fmt.Errorf("edit genesis: %w", err)
		}
	}
	if data, err = json.MarshalIndent(doc, "", " "); err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	_, err = n.Run("genesis", "validate", "--home", n.Home)
	return err
}

// Configure writes the node's ports (all on loopback), fast blocks, no gas price, and the gRPC (and
// REST, when asked) servers into the home's config.
func (n *Node) Configure() error {
	cfg := filepath.Join(n.Home, "config", "config.toml")
	app := filepath.Join(n.Home, "config", "app.toml")
	settings := []struct{ file, section, key, value string }{
		{cfg, "consensus", "timeout_commit", strconv.Quote(BlockTime)},
		{cfg, "rpc", "laddr", strconv.Quote(n.TendermintRPC())},
		{cfg, "rpc", "pprof_laddr", `""`},
		{cfg, "p2p", "laddr", strconv.Quote(n.P2P)},
		{cfg, "p2p", "pex", "false"},
		{app, "", "minimum-gas-prices", strconv.Quote("0" + denom)},
		{app, "api", "enable", strconv.FormatBool(n.API != "")},
		{app, "grpc", "enable", "true"},
		{app, "grpc", "address", strconv.Quote(n.GRPC)},
	}
	if n.API != "" {
		settings = append(settings, struct{ file, section, key, value string }{app, "api", "address", strconv.Quote("tcp://" + strings.TrimPrefix(n.API, "http://"))})
	}
	for _, s := range settings {
		if err := SetTOML(s.file, s.section, s.key, s.value); err != nil {
			return err
		}
	}
	return nil
}

// Start runs `tfgridd start` and waits until the chain has a block at minHeight or above, its gRPC
// answers a query and, when on, its REST server too.
func (n *Node) Start(minHeight int64) error {
	if err := n.launch(n.Bin, CleanEnv(), "start", "--home", n.Home, "--log_no_color"); err != nil {
		return err
	}
	client, err := chainclient.Dial(n.GRPC, n.RPC)
	if err != nil {
		return err
	}
	defer client.Close()
	return n.waitReady(90*time.Second, func() bool {
		if h, err := n.Height(); err != nil || h < minHeight {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := client.Tfgrid.Params(ctx, &tftypes.QueryParamsRequest{}); err != nil {
			return false
		}
		return n.API == "" || healthy(n.API+"/tfgrid/tfgrid/v1/params")
	})
}

// Stop sends SIGTERM to the node (SIGKILL after 30 s) and waits. Idempotent.
func (n *Node) Stop() { n.signal(syscall.SIGTERM, 30*time.Second) }

// Restart stops the node and starts it again on the same home and ports.
func (n *Node) Restart() error {
	n.Stop()
	return n.Start(1)
}

// Height is the latest block height.
func (n *Node) Height() (int64, error) {
	resp, err := http.Get(n.RPC + "/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.Result.SyncInfo.LatestBlockHeight, 10, 64)
}

// FreePorts returns n distinct free loopback TCP ports (held open until all are chosen).
func FreePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// SetTOML replaces `key = ...` in [section] ("" is the top of the file).
func SetTOML(path, section, key, value string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	cur := ""
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(key) + `\s*=`)
	for i, l := range lines {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = strings.Trim(l, "[]")
			continue
		}
		if cur == section && re.MatchString(l) {
			lines[i] = key + " = " + value
			return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600)
		}
	}
	return fmt.Errorf("%s: no %q in [%s]", path, key, section)
}

// CleanEnv is the environment of tfgridd runs: the test's, without TFGRIDD_* overrides.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TFGRIDD_") {
			env = append(env, kv)
		}
	}
	return env
}
