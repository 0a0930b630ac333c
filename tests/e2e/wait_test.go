package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/testnet"
	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// derivedE2EKey is the e2e key `create-twin` registers by default for account acc: the one derived
// from its private key (rmb.E2EPublicKey).
func (c *chain) derivedE2EKey(acc string) []byte {
	c.t.Helper()
	pub, err := rmb.E2EPublicKey(c.accountKey(acc))
	require.NoError(c.t, err)
	return pub
}

// runIn runs tfgridd with args and stdin.
func (c *chain) runIn(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tfgriddBin, args...)
	cmd.Env = testnet.CleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// testWait checks the two ways to wait for a tx: `tx ... --wait` and `query wait-tx`, including a tx
// committed long before the wait starts (which the SDK's event-based wait-tx missed), several
// waits at once, a tx that fails in its block, and a hash that never commits.
func testWait(t *testing.T, c *chain) {
	// --wait prints the committed result (height, events), not the broadcast receipt.
	full := append([]string{"tx", "tfgrid", "update-twin", "--relays", "ws://127.0.0.1:8080", "--wait"}, c.txFlags("bob")...)
	out := c.mustRun(full...)
	var res txResponse
	require.NoError(t, json.Unmarshal(out, &res), "one JSON document: %s", out)
	require.Zero(t, res.Code, "%s", res.RawLog)
	require.NotEqual(t, "0", res.Height, "the committed result carries its block height")
	bobTwin := idOf(t, res, "tfgrid.tfgrid.v1.EventTwinUpdated", "twin_id")

	// update-twin (as create-twin) registered the e2e key derived from bob's account key.
	tw := readBack(c, twinQ(bobTwin), fmt.Sprintf("/tfgrid/tfgrid/v1/twins/%d", bobTwin), "twin", u(bobTwin)).Twin
	require.Equal(t, c.derivedE2EKey("bob"), tw.E2EKey)

	// wait-tx on a tx committed long ago, by argument and piped from the tx command's output.
	time.Sleep(2 * time.Second)
	out = c.mustRun("query", "wait-tx", res.TxHash, "--output", "json", "--node", c.rpc)
	var again txResponse
	require.NoError(t, json.Unmarshal(out, &again), "%s", out)
	require.Equal(t, res.TxHash, again.TxHash)
	require.Equal(t, res.Height, again.Height)
	stdout, stderr, err := c.runIn(`{"height":"0","txhash":"`+res.TxHash+`","code":0}`, "query", "wait-tx", "--output", "json", "--node", c.rpc)
	require.NoError(t, err, "stderr: %s", stderr)
	require.Contains(t, stdout, res.Height)

	// Several waits at once, each from its own account: every one sees its own tx committed.
	accs := []string{"alice", "farmer", "node1", "validator"}
	results := make([]txResponse, len(accs))
	errs := make([]error, len(accs))
	var wg sync.WaitGroup
	for i, acc := range accs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"tx", "tfgrid", "update-twin", "--relays", fmt.Sprintf("ws://127.0.0.1:%d", 9000+i), "--wait"}, c.txFlags(acc)...)
			if acc == "validator" { // it has no twin: a bank send instead
				args = append([]string{"tx", "bank", "send", acc, c.addrs["bob"], "1utft", "--wait"}, c.txFlags(acc)...)
			}
			stdout, stderr, err := c.run(args...)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %v: %s", acc, err, stderr)
				return
			}
			if err := json.Unmarshal([]byte(stdout), &results[i]); err != nil {
				errs[i] = fmt.Errorf("%s: %v: %s", acc, err, stdout)
			}
		}()
	}
	wg.Wait()
	for i, acc := range accs {
		require.NoError(t, errs[i], acc)
		require.Zero(t, results[i].Code, "%s: %s", acc, results[i].RawLog)
		require.NotEqual(t, "0", results[i].Height, "%s: %+v", acc, results[i])
	}

	// A tx that fails in its block (fixed gas: no simulation) makes --wait exit 1 with the error.
	full = append([]string{"tx", "tfgrid", "create-farm", "a", "--wait", "--gas", txGas}, c.txFlags("farmer")...)
	stdout, stderr, err = c.run(full...)
	require.Error(t, err, "stdout: %s", stdout)
	require.Contains(t, stderr, "failed in block")
	require.Contains(t, stderr, types.ErrInvalidFarmName.Error())
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), "%s", stdout)
	require.Equal(t, types.ErrInvalidFarmName.ABCICode(), res.Code)

	// A hash that never commits: a clear timeout, no usage text.
	unknown := strings.Repeat("AB", 32)
	_, stderr, err = c.run("query", "wait-tx", unknown, "--timeout", "2s", "--node", c.rpc)
	require.Error(t, err)
	require.Contains(t, stderr, "tx "+unknown+" is not in a block after 2s")
	require.NotContains(t, stderr, "Usage:")
	_, stderr, err = c.run("query", "wait-tx", "xyz", "--node", c.rpc)
	require.Error(t, err)
	require.Contains(t, stderr, `tx hash "xyz": want 64 hex digits`)
	require.NotContains(t, stderr, "Usage:")
}
