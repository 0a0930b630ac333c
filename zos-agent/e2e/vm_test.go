package e2e

import (
	"context"
	"encoding/json"
	"fmt"
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

// A VM image deployed through the chain and RMB runs as a QEMU virtual machine on its public IP,
// its volume shared through virtio-fs; it keeps running, the same process with the same volume,
// through an agent restart; cancelled, nothing of it is left.
func TestAgentVM(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay, agent and QEMU")
	}
	g, internet := netGrid(t)
	importGuest(t, g)
	d := publicDeployment(g, "alice", "guest", "")
	withVolume(t, &d, "/data")
	raw, id := g.prepared(t, d, "alice", g.node, 1)
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
	volume := filepath.Join(g.dataDir, "disks", "tfz-"+engine.WorkloadID(id, "vol"))
	guestSharesVolume(t, internet, public.Addr(), volume)
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
	guestSharesVolume(t, internet, public.Addr(), volume)
	var rec vm.Record
	data, err := os.ReadFile(filepath.Join(g.dataDir, "vms", "tfz-"+machine, "record.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &rec))
	require.Len(t, rec.Shares, 1)

	g.cancelAndWait(t, "alice", id)
	_, err = q.State(context.Background(), machine)
	require.ErrorIs(t, err, vm.ErrNotFound)
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(before.Pid), "cmdline"))
	require.False(t, err == nil && strings.Contains(string(cmdline), machine), "QEMU still runs after cancel")
	cmdline, err = os.ReadFile(filepath.Join("/proc", strconv.Itoa(rec.Shares[0].Pid), "cmdline"))
	require.False(t, err == nil && strings.HasPrefix(string(cmdline), rec.Shares[0].Name+"\x00"), "virtiofsd still runs after cancel")
	_, err = os.Stat(volume)
	require.ErrorIs(t, err, os.ErrNotExist, "the volume after cancel")
	got, err := backendtest.Fetch(internet, netip.Addr{}, public, 2*time.Second)
	require.Error(t, err, "the public IP still answers after cancel: %q", got)
}

// withVolume gives d's machine "vm" a 64 MiB volume "vol" mounted at mountpoint.
func withVolume(t *testing.T, d *deployment.Deployment, mountpoint string) {
	t.Helper()
	for i, w := range d.Workloads {
		if w.Name == "vm" {
			var m deployment.ZMachine
			require.NoError(t, json.Unmarshal(w.Data, &m))
			m.Mounts = append(m.Mounts, deployment.MachineMount{Name: "vol", Mountpoint: mountpoint})
			d.Workloads[i] = workload("vm", deployment.TypeZMachine, m)
		}
	}
	d.Workloads = append(d.Workloads, workload("vol", deployment.TypeVolume, deployment.Volume{Size: 64 * mib}))
}

// guestSharesVolume checks the test guest's volume "vol" at /data both ways: the file the guest
// wrote at boot is in the node's volume directory, and a file the node writes now the guest serves
// from its mount.
func guestSharesVolume(t *testing.T, internet string, guest netip.Addr, volume string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(volume, backendtest.GuestShareFile))
	require.NoError(t, err)
	require.Equal(t, backendtest.GuestShareMarker+" vol\n", string(got), "the guest's file in the volume")
	want := fmt.Sprintf("written on the node at %d\n", time.Now().UnixNano())
	require.NoError(t, os.WriteFile(filepath.Join(volume, "from-node"), []byte(want), 0o644))
	resp, err := backendtest.HTTPGet(internet, netip.AddrPortFrom(guest, backendtest.GuestHTTPPort), "/data/from-node", 5*time.Second)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(resp, "\r\n\r\n"+want), "the guest serves the node's file as %q, want %q", resp, want)
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
