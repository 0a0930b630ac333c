package cmd

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

func states(s ...deployment.ResultState) []deployment.Workload {
	var ws []deployment.Workload
	for i, st := range s {
		ws = append(ws, deployment.Workload{Name: string(rune('a' + i)), Type: deployment.TypeVolume, Result: deployment.Result{State: st}})
	}
	return ws
}

func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	require.False(t, p.tty, "a buffer is not a terminal")
	p.show(states("", ""))
	p.show(states(deployment.StateInit, deployment.StateOk)) // a: unchanged (init), b: ok
	p.show(states(deployment.StateError, deployment.StateOk))
	require.Equal(t, "workload a (volume): init\nworkload b (volume): init\nworkload b (volume): ok\nworkload a (volume): error\n", out.String())
}

func TestProgressTerminalLine(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, tty: true}
	p.show(states(deployment.StateInit, deployment.StateOk))
	p.show(states(deployment.StateOk, deployment.StateOk))
	require.Equal(t, "\r\033[K[1/2 ok] a:init b:ok\r\033[K[2/2 ok] a:ok b:ok\n", out.String())
}

func TestBytesOf(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 512: "512 B", 64 << 20: "64.0 MiB", 2 << 30: "2 GiB", 3<<30 + 1<<20: "3073.0 MiB"} {
		require.Equal(t, want, bytesOf(n))
	}
}

func TestParseContractID(t *testing.T) {
	id, err := parseContractID("12")
	require.NoError(t, err)
	require.EqualValues(t, 12, id)
	for _, bad := range []string{"0", "-1", "x", ""} {
		_, err := parseContractID(bad)
		require.ErrorContains(t, err, "want a positive integer", bad)
	}
}

func TestNodeIDFlagIgnoresTFGRIDDNode(t *testing.T) {
	t.Setenv("TFGRIDD_NODE", "tcp://127.0.0.1:26657") // the RPC URL of every other command
	t.Setenv("TFGRIDD_TIMEOUT", "7s")
	cmd := deploymentDeployCmd()
	require.NoError(t, flagsFromEnv(cmd))
	node, err := cmd.Flags().GetUint64(flagNodeID)
	require.NoError(t, err)
	require.Zero(t, node)
	timeout, err := cmd.Flags().GetDuration(flagTimeout)
	require.NoError(t, err)
	require.Equal(t, "7s", timeout.String(), "other flags still come from the environment")
}
