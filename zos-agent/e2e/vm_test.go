package e2e

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

func TestMain(m *testing.M) { backendtest.MainWithGuest(m) }

// A VM image deployed through the chain and RMB runs as a QEMU virtual machine on its public IP;
// it keeps running, the same process, through an agent restart; cancelled, nothing of it is left.
func TestAgentVM(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay, agent and QEMU")
	}
	g, internet := netGrid(t)
	importGuest(t, g)
	raw, id := g.prepared(t, publicDeployment(g, "alice", "guest", ""), "alice", g.node, 1)
	g.call(t, "alice", "zos.deployment.deploy", json.RawMessage(raw), nil)
	public := netip.AddrPortFrom(publicIPOf(t, g.waitState(t, "alice", id, deployment.StateOk)), 80)
	eventuallyAnswers := func() {
		t.Helper()
		var got string
		var err error
		require.Eventually(t, func() bool {
			got, err = backendtest.Fetch(internet, netip.Addr{}, public, time.Second)
			return err == nil && got == backendtest.GuestReply
		}, 2*time.Minute, 300*time.Millisecond, "the VM on %s: %q %v", public, got, err)
	}
	eventuallyAnswers()
	q, err := vm.NewQEMU(vm.Config{DataDir: g.dataDir})
	require.NoError(t, err)
	machine := engine.WorkloadID(id, "vm")
	before, err := q.State(context.Background(), machine)
	require.NoError(t, err)
	require.Equal(t, vm.StatusRunning, before.Status)

	g.agent.Kill()
	require.NoError(t, g.agent.Start())
	eventuallyAnswers()
	after, err := q.State(context.Background(), machine)
	require.NoError(t, err)
	require.Equal(t, before.Pid, after.Pid, "the agent restart reattached the VM, not started another")

	g.cancelAndWait(t, "alice", id)
	_, err = q.State(context.Background(), machine)
	require.ErrorIs(t, err, vm.ErrNotFound)
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(before.Pid), "cmdline"))
	require.False(t, err == nil && strings.Contains(string(cmdline), machine), "QEMU still runs after cancel")
	got, err := backendtest.Fetch(internet, netip.Addr{}, public, 2*time.Second)
	require.Error(t, err, "the public IP still answers after cancel: %q", got)
}

// importGuest puts the test guest into the agent's image store as "guest".
func importGuest(t *testing.T, g *grid) {
	store, err := image.Open(g.dataDir)
	require.NoError(t, err)
	_, err = store.Import(backendtest.WriteGuestImage(t), "guest")
	require.NoError(t, err)
}

// publicDeployment is owner's machine of flist (a container running entrypoint, or a VM) on its
// network with a public IP.
func publicDeployment(g *grid, owner, flist, entrypoint string) deployment.Deployment {
	twin := g.users[owner].twin
	n := g.onNetwork()
	n.PublicIP = "pub"
	return deployment.Deployment{TwinID: twin,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: twin, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{
			privateNetwork(twin),
			workload("pub", deployment.TypeIP, deployment.PublicIP{V4: true}),
			workload("vm", deployment.TypeZMachine, deployment.ZMachine{FList: flist, Network: n,
				ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib}, Entrypoint: entrypoint}),
		}}
}

// publicIPOf is the address the deployment's ip workload took.
func publicIPOf(t *testing.T, d deployment.Deployment) netip.Addr {
	for _, w := range d.Workloads {
		if w.Type == deployment.TypeIP {
			var taken engine.IPResult
			require.NoError(t, json.Unmarshal(w.Result.Data, &taken))
			return netip.MustParsePrefix(taken.IP).Addr()
		}
	}
	t.Fatal("the deployment has no ip workload")
	return netip.Addr{}
}
