// Package agentnet starts the node agent for end-to-end tests (apart from testnet, so that the
// programs using testnet do not link the agent's backends).
package agentnet

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/testnet"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
)

// Start runs zos-agent (bin) as the account keyName of the chain's keyring, joining farm, with its
// data in dir/agent holding a busybox image, quick periods (reports every 3 s) and 16× CPU
// overcommit, and the extra flags. t's cleanup stops it, shows its log if t failed and clears what it
// left on the machine. It returns the agent and its data directory.
func Start(t *testing.T, bin string, chain *testnet.Chain, relayURL, keyName string, farm uint64, dir string, extra ...string) (*testnet.Agent, string) {
	t.Helper()
	dataDir := filepath.Join(dir, "agent")
	store, err := image.Open(dataDir)
	require.NoError(t, err)
	_, err = store.Import(backendtest.WriteRootfsTar(t, dir), "busybox")
	require.NoError(t, err)
	ports, err := testnet.FreePorts(1)
	require.NoError(t, err)
	args := append([]string{"--chain-grpc", chain.GRPC, "--chain-rpc", chain.RPC, "--chain-id", testnet.ChainID, "--relays", relayURL,
		"--keyring-dir", chain.Home, "--key-name", keyName, "--farm-id", fmt.Sprint(farm), "--data-dir", dataDir,
		"--storage", dataDir + ":ssd", "--cpu-overcommit", "16", "--block-time", "1s", "--report-period", "3s",
		"--reconcile-period", "2s", "--uptime-period", "1m"}, extra...)
	agent := testnet.NewAgent(bin, fmt.Sprintf("127.0.0.1:%d", ports[0]), filepath.Join(dir, "agent.log"), args...)
	t.Cleanup(func() {
		agent.Stop()
		if t.Failed() {
			t.Logf("agent log:\n%s", agent.LogTail(60))
		}
		testnet.ClearAgentMachine(dataDir)
	})
	require.NoError(t, agent.Start(), "agent")
	return agent, dataDir
}
