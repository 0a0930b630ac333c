package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

// A volume mounted by a VM zmachine is a virtio-fs share of the volume's directory, mounted by the
// guest where the workload says: what the guest writes is in the volume on the node, what the node
// has in the volume the guest serves. An agent restart reattaches the running machine and its
// share daemon; a daemon that died while the agent was down makes the restarted agent start the
// machine afresh, the volume's files kept. Delete leaves no daemon, socket or volume.
func TestVMVolume(t *testing.T) {
	n := newVMNode(t)
	ctx := context.Background()
	const contract = 43
	d := n.guestVMDeployment(t, contract, 51901)
	d.Workloads = append(d.Workloads, workload("shared", deployment.TypeVolume, 0, deployment.Volume{Size: 64 * mib}))
	for i, w := range d.Workloads {
		if w.Name == "vm" {
			m, err := decodeMachine(w)
			if err != nil {
				t.Fatal(err)
			}
			m.Mounts = append(m.Mounts, deployment.MachineMount{Name: "shared", Mountpoint: "/srv/shared/"})
			d.Workloads[i] = workload("vm", deployment.TypeZMachine, 0, m)
		}
	}
	id := engine.WorkloadID(contract, "vm")
	volumeID := engine.WorkloadID(contract, "shared")
	netInfo, machine := n.deployGuestVM(t, d, netip.MustParsePrefix("203.0.113.12/24"))
	if len(machine.Shares) != 1 || machine.Shares[0].Tag != "shared" {
		t.Fatalf("machine record %+v: want one share tagged shared", machine)
	}
	volume, err := n.b.Disks.Get(volumeID)
	if err != nil || volume.LoopDevice == "" || machine.Shares[0].Source != volume.MountPoint {
		t.Fatalf("volume %+v (%v): want it mounted on the node and shared (share %+v)", volume, err, machine.Shares[0])
	}
	private := netip.MustParseAddr("10.1.3.2")
	web := netip.AddrPortFrom(private, backendtest.GuestHTTPPort)
	guestWrote := filepath.Join(volume.MountPoint, backendtest.GuestShareFile)
	// waitForGuest waits until the guest answers and has written its file into the volume.
	waitForGuest := func(rec vm.Record) {
		t.Helper()
		if err := backendtest.Eventually(netInfo.NetNSPath, netip.Addr{}, netip.AddrPortFrom(private, 80), backendtest.GuestReply, 90*time.Second); err != nil {
			console, _ := os.ReadFile(rec.ConsoleLog)
			t.Fatalf("the guest does not answer on its private IP: %v\nconsole:\n%s", err, console)
		}
		if got, err := os.ReadFile(guestWrote); err != nil || string(got) != backendtest.GuestShareMarker+" shared\n" {
			console, _ := os.ReadFile(rec.ConsoleLog)
			t.Fatalf("the guest's file in the volume: %q (%v)\nconsole:\n%s", got, err, console)
		}
	}
	// guestServes checks that the guest serves the node's file from its mount of the volume.
	guestServes := func(name string) {
		t.Helper()
		want := fmt.Sprintf("written on the node at %d\n", time.Now().UnixNano())
		if err := os.WriteFile(filepath.Join(volume.MountPoint, name), []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := backendtest.HTTPGet(netInfo.NetNSPath, web, "/srv/shared/"+name, 5*time.Second)
		if err != nil || !strings.Contains(got, " 200 ") || !strings.HasSuffix(got, "\r\n\r\n"+want) {
			t.Fatalf("GET /srv/shared/%s from the guest: %q (%v), want %q", name, got, err, want)
		}
	}
	waitForGuest(machine)
	guestServes("first")

	// Restart with everything running: the machine and its daemon are reattached, not restarted.
	n.stop()
	n.start(t)
	waitStatesWithin(t, n.e, contract, deployment.StateOk, 30*time.Second)
	if st, err := n.b.VMs.State(ctx, id); err != nil || st.Status != vm.StatusRunning || st.Pid != machine.Pid {
		t.Fatalf("after the restart: %+v %v, want pid %d running", st, err, machine.Pid)
	}
	guestServes("second")

	// The share daemon dies while the agent is down: the restarted agent starts the machine afresh.
	n.stop()
	if err := os.Remove(guestWrote); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(machine.Shares[0].Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n.start(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := n.b.VMs.State(ctx, id)
		if err == nil && st.Status == vm.StatusRunning && st.Pid != machine.Pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the machine with a dead share daemon was not started afresh: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The engine keeps the first record; the backend's own is the new machine's.
	var restarted vm.Record
	if data, err := os.ReadFile(filepath.Join(machine.Dir, "record.json")); err != nil || json.Unmarshal(data, &restarted) != nil ||
		len(restarted.Shares) != 1 || restarted.Shares[0].Pid == machine.Shares[0].Pid {
		t.Fatalf("record of the restarted machine %+v (%v): want a new share daemon", restarted, err)
	}
	waitStatesWithin(t, n.e, contract, deployment.StateOk, 30*time.Second)
	waitForGuest(restarted)
	guestServes("third")
	if _, err := os.Stat(filepath.Join(volume.MountPoint, "first")); err != nil {
		t.Errorf("the volume lost a file across the machine's restart: %v", err)
	}

	if err := n.e.Delete(contract, "test done"); err != nil {
		t.Fatal(err)
	}
	waitStatesWithin(t, n.e, contract, deployment.StateDeleted, 30*time.Second)
	for _, m := range []vm.Record{machine, restarted} {
		for _, pid := range []int{m.Pid, m.Shares[0].Pid} {
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
				(strings.Contains(string(cmdline), m.PidFile) || strings.HasPrefix(string(cmdline), m.Shares[0].Name+"\x00")) {
				t.Errorf("pid %d (%q) still runs after delete", pid, cmdline)
			}
		}
	}
	for _, path := range []string{restarted.Dir, restarted.Shares[0].Socket} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after delete (%v)", path, err)
		}
	}
	backendtest.AssertDiskGone(t, volume.File, volume.MountPoint)
}

func decodeMachine(w deployment.Workload) (*deployment.ZMachine, error) {
	data, err := w.DecodeData()
	if err != nil {
		return nil, err
	}
	m, ok := data.(*deployment.ZMachine)
	if !ok {
		return nil, fmt.Errorf("workload %q is a %s", w.Name, w.Type)
	}
	return m, nil
}
