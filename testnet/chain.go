// Package testnet runs real processes for end-to-end tests and benchmarks: a single-validator
// tfgridd chain in a temporary home on free loopback ports, twins registered through the tfgridd
// CLI, and rmb-relay processes. Every process is started by PID,
// dies with its parent (Pdeathsig) and is stopped by its PID.
package testnet

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

// Chain is a running single-validator tfgridd chain whose accounts the test holds the keys of.
type Chain struct{ *Node }

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
	n, err := NewNode(bin, dir, false)
	if err != nil {
		return nil, err
	}
	if err := n.InitChain("testnet", nil, accounts); err != nil {
		return nil, err
	}
	if err := n.EditGenesis(o.genesis...); err != nil {
		return nil, err
	}
	if err := n.Configure(); err != nil {
		return nil, err
	}
	if err := n.Start(2); err != nil {
		return nil, err
	}
	return &Chain{Node: n}, nil
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

// Tx runs `tfgridd tx tfgrid ARGS --from from --wait`: it returns once the tx is in a block; a
// refused or failed tx is an error.
func (c *Chain) Tx(from string, args ...string) (txResponse, error) {
	full := append([]string{"tx", "tfgrid"}, args...)
	full = append(full, "--from", from, "--yes", "--wait", "--output", "json", "--keyring-backend", "test", "--home", c.Home,
		"--chain-id", ChainID, "--node", c.TendermintRPC(), "--gas", "2000000")
	out, err := c.Run(full...)
	if err != nil {
		return txResponse{}, fmt.Errorf("tx %v from %s: %w", args, from, err)
	}
	var res txResponse
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("tx %v: output %s: %w", args, out, err)
	}
	return res, nil
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
