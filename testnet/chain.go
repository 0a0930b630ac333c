// Package testnet runs real processes for end-to-end tests and benchmarks: a single-validator
// tfgridd chain in a temporary home on free loopback ports, twins registered through the tfgridd
// CLI, and rmb-relay processes. Every process is started by PID,
// dies with its parent (Pdeathsig) and is stopped by its PID.
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
	"sync"
	"syscall"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

const (
	ChainID = "tfgrid-local-1"
	denom   = "utft"
)

// Chain is a running single-validator tfgridd node.
type Chain struct {
	Bin     string
	Home    string
	RPC     string // http://127.0.0.1:N (CometBFT RPC)
	GRPC    string // 127.0.0.1:N
	LogPath string

	keys   map[string]*secp256k1.PrivKey
	cmd    *exec.Cmd
	exited chan struct{}
}

// FreePorts returns n distinct free loopback TCP ports.
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

// Option tunes a chain before it starts.
type Option func(*options)

type options struct {
	genesis []func(appState map[string]any) error
}

// WithGenesis edits the genesis app state (module name → its JSON object) before the chain starts,
// e.g. to make billing settle every few seconds; the edited genesis must pass `genesis validate`.
func WithGenesis(edit func(appState map[string]any) error) Option {
	return func(o *options) { o.genesis = append(o.genesis, edit) }
}

// StartChain initialises a chain in dir whose genesis funds the given accounts (name → key; the
// keys are imported into the test keyring), starts it and waits for its RPC and gRPC.
func StartChain(bin, dir string, accounts map[string]*secp256k1.PrivKey, opts ...Option) (*Chain, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ports, err := FreePorts(4)
	if err != nil {
		return nil, err
	}
	c := &Chain{Bin: bin, Home: filepath.Join(dir, "home"), LogPath: filepath.Join(dir, "tfgridd.log"),
		RPC: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), GRPC: fmt.Sprintf("127.0.0.1:%d", ports[2]), keys: accounts}
	if _, err := c.run("init", "rmb-e2e", "--home", c.Home, "--chain-id", ChainID); err != nil {
		return nil, err
	}
	names := []string{"validator"}
	if _, err := c.run("keys", "add", "validator", "--keyring-backend", "test", "--home", c.Home, "--output", "json"); err != nil {
		return nil, err
	}
	for name, k := range accounts {
		if _, err := c.run("keys", "import-hex", name, hex.EncodeToString(k.Key), "--keyring-backend", "test", "--home", c.Home); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	for _, name := range names {
		amount := "100000000000" + denom
		if name == "validator" {
			amount = "10000000000000" + denom
		}
		if _, err := c.run("genesis", "add-genesis-account", name, amount, "--keyring-backend", "test", "--home", c.Home); err != nil {
			return nil, err
		}
	}
	if _, err := c.run("genesis", "gentx", "validator", "1000000000000"+denom, "--chain-id", ChainID,
		"--keyring-backend", "test", "--home", c.Home); err != nil {
		return nil, err
	}
	if _, err := c.run("genesis", "collect-gentxs", "--home", c.Home); err != nil {
		return nil, err
	}
	if err := c.editGenesis(o.genesis); err != nil {
		return nil, err
	}
	cfg := filepath.Join(c.Home, "config", "config.toml")
	app := filepath.Join(c.Home, "config", "app.toml")
	for _, s := range []struct{ file, section, key, value string }{
		{cfg, "consensus", "timeout_commit", `"300ms"`},
		{cfg, "rpc", "laddr", strconv.Quote(fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]))},
		{cfg, "rpc", "pprof_laddr", `""`},
		{cfg, "p2p", "laddr", strconv.Quote(fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]))},
		{cfg, "p2p", "pex", "false"},
		{app, "", "minimum-gas-prices", strconv.Quote("0" + denom)},
		{app, "api", "enable", "false"},
		{app, "grpc", "enable", "true"},
		{app, "grpc", "address", strconv.Quote(c.GRPC)},
	} {
		if err := setTOML(s.file, s.section, s.key, s.value); err != nil {
			return nil, err
		}
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// editGenesis applies the edits to the genesis app state and validates the result.
func (c *Chain) editGenesis(edits []func(appState map[string]any) error) error {
	if len(edits) == 0 {
		return nil
	}
	path := filepath.Join(c.Home, "config", "genesis.json")
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
	_, err = c.run("genesis", "validate", "--home", c.Home)
	return err
}

func (c *Chain) start() error {
	logf, err := os.OpenFile(c.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	c.cmd = exec.Command(c.Bin, "start", "--home", c.Home, "--log_no_color")
	c.cmd.Env = cleanEnv()
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start tfgridd: %w", err)
	}
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, ch chan struct{}) { _ = cmd.Wait(); close(ch) }(c.cmd, c.exited)
	deadline := time.Now().Add(90 * time.Second)
	for {
		if h, err := c.Height(); err == nil && h >= 2 {
			if conn, err := net.DialTimeout("tcp", c.GRPC, time.Second); err == nil {
				conn.Close()
				return nil
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("tfgridd exited during start-up; log:\n%s", c.LogTail(40))
		default:
		}
		if time.Now().After(deadline) {
			c.Stop()
			return fmt.Errorf("tfgridd not ready after 90 s; log:\n%s", c.LogTail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends SIGTERM to the node (SIGKILL after 30 s) and waits.
func (c *Chain) Stop() {
	if c.cmd == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// LogTail returns the last n lines of the node's log.
func (c *Chain) LogTail(n int) string { return tailFile(c.LogPath, n) }

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Height is the latest block height.
func (c *Chain) Height() (int64, error) {
	resp, err := http.Get(c.RPC + "/status")
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

func (c *Chain) run(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Env = cleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tfgridd %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.Bytes(), nil
}

type txResponse struct {
	TxHash string `json:"txhash"`
	Code   uint32 `json:"code"`
	RawLog string `json:"raw_log"`
	Events []struct {
		Type       string `json:"type"`
		Attributes []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"attributes"`
	} `json:"events"`
}

func (r txResponse) attr(typ, key string) string {
	for _, ev := range r.Events {
		if ev.Type == typ {
			for _, a := range ev.Attributes {
				if a.Key == key {
					return strings.Trim(a.Value, `"`)
				}
			}
		}
	}
	return ""
}

// Tx runs `tfgridd tx tfgrid ARGS --from from` and waits until it is committed; a failed tx is an error.
func (c *Chain) Tx(from string, args ...string) (txResponse, error) {
	full := append([]string{"tx", "tfgrid"}, args...)
	full = append(full, "--from", from, "--yes", "--output", "json", "--keyring-backend", "test", "--home", c.Home,
		"--chain-id", ChainID, "--node", strings.Replace(c.RPC, "http://", "tcp://", 1), "--gas", "2000000")
	out, err := c.run(full...)
	if err != nil {
		return txResponse{}, err
	}
	var res txResponse
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("tx %v: output %s: %w", args, out, err)
	}
	if res.Code != 0 {
		return res, fmt.Errorf("tx %v from %s refused: code %d: %s", args, from, res.Code, res.RawLog)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := c.run("query", "tx", res.TxHash, "--output", "json", "--node", strings.Replace(c.RPC, "http://", "tcp://", 1))
		if err == nil {
			var done txResponse
			if err := json.Unmarshal(out, &done); err == nil {
				if done.Code != 0 {
					return done, fmt.Errorf("tx %v from %s failed: code %d: %s", args, from, done.Code, done.RawLog)
				}
				return done, nil
			}
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("tx %s (%v) not committed after 30 s", res.TxHash, args)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *Chain) twinArgs(relays []string, e2eKey []byte) []string {
	var args []string
	for _, r := range relays {
		args = append(args, "--relays", r)
	}
	// Without a key, register none (the CLI would register the derived one by default).
	return append(args, "--e2e-key", hex.EncodeToString(e2eKey))
}

// CreateTwin registers the twin of account from and returns its id.
func (c *Chain) CreateTwin(from string, relays []string, e2eKey []byte) (uint64, error) {
	res, err := c.Tx(from, append([]string{"create-twin"}, c.twinArgs(relays, e2eKey)...)...)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseUint(res.attr("tfgrid.tfgrid.v1.EventTwinCreated", "twin_id"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("create-twin from %s: no twin id in the events: %w", from, err)
	}
	return id, nil
}

// UpdateTwin replaces the relays and e2e key of from's twin.
func (c *Chain) UpdateTwin(from string, relays []string, e2eKey []byte) error {
	_, err := c.Tx(from, append([]string{"update-twin"}, c.twinArgs(relays, e2eKey)...)...)
	return err
}

// CreateTwins registers several twins concurrently (name → relays, e2e key) and returns their ids.
func (c *Chain) CreateTwins(specs map[string]TwinSpec) (map[string]uint64, error) {
	ids := map[string]uint64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	sem := make(chan struct{}, 4)
	for name, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			id, err := c.CreateTwin(name, s.Relays, s.E2EKey)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			ids[name] = id
		}()
	}
	wg.Wait()
	return ids, firstErr
}

// TwinSpec is a twin to create.
type TwinSpec struct {
	Relays []string
	E2EKey []byte
}

func setTOML(path, section, key, value string) error {
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

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TFGRIDD_") {
			env = append(env, kv)
		}
	}
	return env
}

// PID of the node process.
func (c *Chain) PID() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Restart stops the node (SIGTERM) and starts it again on the same home and ports.
func (c *Chain) Restart() error {
	c.Stop()
	return c.start()
}
