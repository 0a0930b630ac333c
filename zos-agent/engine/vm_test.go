package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

func TestMain(m *testing.M) { backendtest.MainWithGuest(m) }

// vmDeployment is a VM with a private network interface, a zmount and a public IP.
func vmDeployment(twin, contract uint64, listenPort uint16) deployment.Deployment {
	key := make([]byte, 32)
	rand.Read(key)
	return deployment.Deployment{TwinID: twin, ContractID: contract,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: twin, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{
			workload("net", deployment.TypeNetwork, 0, deployment.Network{IPRange: "10.1.0.0/16", Subnet: "10.1.3.0/24",
				WireGuardPrivateKey: base64.StdEncoding.EncodeToString(key), WireGuardListenPort: listenPort}),
			workload("data", deployment.TypeZMount, 0, deployment.ZMount{Size: 16 * mib}),
			workload("pub", deployment.TypeIP, 0, deployment.PublicIP{V4: true}),
			workload("vm", deployment.TypeZMachine, 0, deployment.ZMachine{FList: "guest",
				Network: deployment.MachineNetwork{PublicIP: "pub",
					Interfaces: []deployment.MachineInterface{{Network: "net", IP: "10.1.3.2"}}},
				ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib},
				Mounts:          []deployment.MachineMount{{Name: "data", Mountpoint: "/data"}}}),
		}}
}

// guestVMDeployment imports the test guest as flist "guest" and returns vmDeployment for a twin of
// this run (its network namespace's name is unique); at cleanup it removes whatever a failed test
// left of it: the machine, its links, its disks, the network.
func (n *vmNode) guestVMDeployment(t *testing.T, contract uint64, listenPort uint16) *deployment.Deployment {
	t.Helper()
	if _, err := n.b.Images.Import(backendtest.WriteGuestImage(t), "guest"); err != nil {
		t.Fatal(err)
	}
	var twinBytes [2]byte
	rand.Read(twinBytes[:])
	twin := 900_000 + uint64(binary.BigEndian.Uint16(twinBytes[:]))
	d := vmDeployment(twin, contract, listenPort)
	t.Cleanup(func() {
		ctx := context.Background()
		id := engine.WorkloadID(contract, "vm")
		n.b.VMs.Delete(ctx, id)
		n.b.PublicIPs.Delete(engine.WorkloadID(contract, "pub"))
		n.b.Networks.Detach(uint32(twin), "net", id)
		n.b.Networks.Release(engine.WorkloadID(contract, "net"), uint32(twin), "net")
		for _, w := range d.Workloads {
			if w.Type == deployment.TypeZMount || w.Type == deployment.TypeVolume {
				n.b.Disks.Delete(ctx, engine.WorkloadID(contract, w.Name))
			}
		}
		n.stop()
	})
	return &d
}

// deployGuestVM deploys d, its ip workload on public, waits until every workload is ok and returns
// the network's info and the machine's record.
func (n *vmNode) deployGuestVM(t *testing.T, d *deployment.Deployment, public netip.Prefix) (network.Info, vm.Record) {
	t.Helper()
	if err := n.e.Deploy(*d, engine.Grant{IPs: []engine.ReservedIP{{IP: public, Gateway: n.farm.Gateway.Addr()}}}); err != nil {
		t.Fatal(err)
	}
	rec := waitStatesWithin(t, n.e, d.ContractID, deployment.StateOk, 60*time.Second)
	var netInfo network.Info
	var machine vm.Record
	if err := json.Unmarshal(rec.Objects["net"], &netInfo); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rec.Objects["vm"], &machine); err != nil {
		t.Fatal(err)
	}
	return netInfo, machine
}

// vmNode is an engine with every backend, on a farm's public network built by the test.
type vmNode struct {
	dir  string
	farm *backendtest.Farm
	b    engine.Backends
	st   *store.Store
	e    *engine.Engine
	stop func()
}

func newVMNode(t *testing.T) *vmNode {
	t.Helper()
	backendtest.RequireRoot(t)
	n := &vmNode{dir: t.TempDir(), farm: backendtest.NewFarm(t, netip.MustParsePrefix("203.0.113.1/24"))}
	n.b = backends(t, n.dir)
	var err error
	if n.b.Networks, err = network.New(network.Config{DataDir: n.dir, UplinkNS: n.farm.Uplink}); err != nil {
		t.Fatal(err)
	}
	n.b.PublicIPs, err = publicip.New(publicip.Config{DataDir: n.dir, UplinkNS: n.farm.Uplink,
		Interface: backendtest.FarmUplinkInterface, Gateway: n.farm.Gateway.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.b.PublicIPs.Uninstall() })
	n.start(t)
	return n
}

// start runs an engine with a new VM backend over the node's data directory: called again, it is
// an agent restart, which finds its machines through their records and QMP sockets.
func (n *vmNode) start(t *testing.T) {
	t.Helper()
	q, err := vm.NewQEMU(vm.Config{DataDir: n.dir})
	if err != nil {
		t.Fatal(err)
	}
	n.b.VMs = q
	if n.st, err = store.Open(filepath.Join(n.dir, "agent.db")); err != nil {
		t.Fatal(err)
	}
	n.e = engine.New(n.st, n.b, engine.Options{
		Total:         capacity.Resources{CRU: 4, MRU: 2 << 30, SRU: 8 << 30},
		SystemReserve: 2 << 30, CPUOvercommit: 2,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.e.Run(ctx) }()
	n.stop = func() { cancel(); <-done; n.st.Close() }
}

// A zmachine of a VM image runs as a QEMU virtual machine: reached on its private IP from the
// network's namespace and on its public IP from the internet, its zmount written by the guest,
// billed like a container; paused, it answers nothing on either (not even a TCP handshake on the
// public IP); it survives an agent restart and answers again once resumed; deleted, nothing of it
// is left on the node.
func TestVMZMachine(t *testing.T) {
	n := newVMNode(t)
	ctx := context.Background()
	const contract = 41
	d := n.guestVMDeployment(t, contract, 51900)
	id := engine.WorkloadID(contract, "vm")
	public := netip.MustParsePrefix("203.0.113.10/24")
	started := time.Now()
	netInfo, machine := n.deployGuestVM(t, d, public)
	if machine.Pid == 0 || len(machine.Taps) != 2 {
		t.Fatalf("machine record %+v: want a pid and two taps", machine)
	}
	private := netip.MustParseAddrPort("10.1.3.2:80")
	publicAddr := netip.AddrPortFrom(public.Addr(), 80)
	if err := backendtest.Eventually(netInfo.NetNSPath, netip.Addr{}, private, backendtest.GuestReply, 90*time.Second); err != nil {
		console, _ := os.ReadFile(machine.ConsoleLog)
		t.Fatalf("the guest does not answer on its private IP: %v\nconsole:\n%s", err, console)
	}
	t.Logf("guest answered on its private IP %s after Deploy", time.Since(started).Round(time.Millisecond))
	if err := backendtest.Eventually(n.farm.Internet, netip.Addr{}, publicAddr, backendtest.GuestReply, 10*time.Second); err != nil {
		t.Fatalf("the guest does not answer on its public IP from the internet: %v", err)
	}

	disk, err := n.b.Disks.Get(engine.WorkloadID(contract, "data"))
	if err != nil || disk.LoopDevice != "" {
		t.Fatalf("zmount %+v (%v): want it detached from the node while the guest has it", disk, err)
	}
	if written, err := os.ReadFile(disk.File); err != nil || !strings.HasPrefix(string(written), backendtest.GuestDiskMarker) {
		t.Fatalf("the guest did not write its zmount %s (%v)", disk.File, err)
	}
	alloc, err := n.e.Allocations()
	if err != nil || alloc[contract].CRU != 1 || alloc[contract].MRU != 256*mib || alloc[contract].IPv4 != 1 {
		t.Fatalf("allocation of the VM's contract: %+v (%v), want 1 cru, 256 MiB mru, 1 IPv4", alloc[contract], err)
	}

	// Grace: the guest stops, and its public IP completes no handshake.
	if err := n.e.Pause(contract); err != nil {
		t.Fatal(err)
	}
	waitStatesWithin(t, n.e, contract, deployment.StatePaused, 30*time.Second)
	if st, err := n.b.VMs.State(ctx, id); err != nil || st.Status != vm.StatusPaused {
		t.Fatalf("paused VM: %+v %v", st, err)
	}
	if err := backendtest.Connect(n.farm.Internet, publicAddr, 2*time.Second); err == nil {
		t.Fatal("a TCP handshake with a paused VM's public IP completed")
	}
	if got, err := backendtest.Fetch(netInfo.NetNSPath, netip.Addr{}, private, 2*time.Second); err == nil {
		t.Fatalf("the paused guest answered %q on its private IP", got)
	}

	// The agent restarts while the VM is paused: the VM is reattached, not started again.
	n.stop()
	n.start(t)
	if st, err := n.b.VMs.State(ctx, id); err != nil || st.Status != vm.StatusPaused || st.Pid != machine.Pid {
		t.Fatalf("after the restart: %+v %v, want pid %d paused", st, err, machine.Pid)
	}
	if err := n.e.Resume(contract); err != nil {
		t.Fatal(err)
	}
	waitStatesWithin(t, n.e, contract, deployment.StateOk, 30*time.Second)
	if err := backendtest.Eventually(n.farm.Internet, netip.Addr{}, publicAddr, backendtest.GuestReply, 15*time.Second); err != nil {
		t.Fatalf("resumed guest on its public IP: %v", err)
	}
	if err := backendtest.Eventually(netInfo.NetNSPath, netip.Addr{}, private, backendtest.GuestReply, 15*time.Second); err != nil {
		t.Fatalf("resumed guest on its private IP: %v", err)
	}

	if err := n.e.Delete(contract, "test done"); err != nil {
		t.Fatal(err)
	}
	waitStatesWithin(t, n.e, contract, deployment.StateDeleted, 30*time.Second)
	if _, err := n.b.VMs.State(ctx, id); !errors.Is(err, vm.ErrNotFound) {
		t.Errorf("VM after delete: %v, want ErrNotFound", err)
	}
	if cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(machine.Pid), "cmdline")); err == nil && strings.Contains(string(cmdline), machine.PidFile) {
		t.Errorf("QEMU pid %d still runs after delete", machine.Pid)
	}
	for _, tap := range machine.Taps {
		if tap.NetNS == netInfo.NetNSPath {
			backendtest.AssertNetNSGone(t, netInfo.NetNS) // the network went with its last user, the tap with it
		} else {
			backendtest.AssertNoLink(t, tap.NetNS, tap.Name)
		}
	}
	for _, path := range []string{machine.Dir, machine.QMPSocket} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists after delete (%v)", path, err)
		}
	}
	backendtest.AssertDiskGone(t, disk.File, disk.MountPoint)
	if ips, err := n.b.PublicIPs.List(); err != nil || len(ips) != 0 {
		t.Errorf("public IPs after delete: %+v %v", ips, err)
	}
	if got, err := backendtest.Fetch(n.farm.Internet, netip.Addr{}, publicAddr, 2*time.Second); err == nil {
		t.Errorf("the public IP answers %q after delete", got)
	}
}

// A VM image is refused, naming the workload and why, on a node without a VM backend, with an
// environment, or mounting a volume where the kernel command line cannot say.
func TestVMRefusals(t *testing.T) {
	f := newFixture(t)
	if _, err := f.b.Images.Import(backendtest.WriteVMImage(t, []byte("kernel"), nil), "guest"); err != nil {
		t.Fatal(err)
	}
	vmMachine := func(env map[string]string, mount, mountpoint string) deployment.Deployment {
		d := volumeMachine(3, 64*mib)
		m := machine(256*mib, "")
		m.FList, m.Entrypoint, m.Env = "guest", "", env
		m.Mounts = []deployment.MachineMount{{Name: mount, Mountpoint: mountpoint}}
		d.Workloads = append(d.Workloads, workload("disk", deployment.TypeZMount, 0, deployment.ZMount{Size: 16 * mib}))
		d.Workloads[1] = workload("vm", deployment.TypeZMachine, 0, m)
		return d
	}
	if err := f.e.Deploy(vmMachine(nil, "disk", "/data"), engine.Grant{}); err == nil || !errors.Is(err, engine.ErrUnsupported) ||
		!strings.Contains(err.Error(), `flist "guest" is a virtual machine image`) {
		t.Fatalf("a VM on a node without a VM backend: %v", err)
	}
	// The same backends with a VM backend, under an engine of their own that admits only (it
	// never runs: admission refuses first).
	withVMs := f.b
	var err error
	if withVMs.VMs, err = vm.NewQEMU(vm.Config{DataDir: f.dir}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := engine.New(st, withVMs, engine.Options{Total: capacity.Resources{CRU: 4, MRU: 2 << 30, SRU: 8 << 30}, CPUOvercommit: 1})
	for name, tc := range map[string]struct {
		d    deployment.Deployment
		want string
	}{
		"env": {vmMachine(map[string]string{"A": "b"}, "disk", "/data"), `workload "vm": env: a virtual machine has no environment`},
		"volume mountpoint with a space": {vmMachine(nil, "vol", "/my data"),
			`workload "vm": mounts[0].mountpoint "/my data": a virtual machine learns it from the kernel command line`},
		"volume mountpoint with a comma": {vmMachine(nil, "vol", "/a,b"), `mounts[0].mountpoint "/a,b"`},
		"nine volumes":                   {nineVolumes(vmMachine(nil, "vol", "/data")), `workload "vm": mounts: 9 volumes, a virtual machine takes at most 8`},
	} {
		t.Run(name, func(t *testing.T) {
			err := e.Deploy(tc.d, engine.Grant{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if _, err := e.Get(3); err == nil {
				t.Fatal("refused deployment stored")
			}
		})
	}
}

// nineVolumes gives d's machine "vm" eight more volumes, nine in all.
func nineVolumes(d deployment.Deployment) deployment.Deployment {
	for i, w := range d.Workloads {
		if w.Name != "vm" {
			continue
		}
		var m deployment.ZMachine
		_ = json.Unmarshal(w.Data, &m)
		for v := range 8 {
			name := fmt.Sprintf("vol%d", v)
			d.Workloads = append(d.Workloads, workload(name, deployment.TypeVolume, 0, deployment.Volume{Size: 16 * mib}))
			m.Mounts = append(m.Mounts, deployment.MachineMount{Name: name, Mountpoint: "/" + name})
		}
		d.Workloads[i] = workload("vm", deployment.TypeZMachine, 0, m)
	}
	return d
}

// Grace cuts a container's public path too: a frozen container's kernel would still complete TCP
// handshakes on its public IP; with the link cut, none completes until the contract resumes.
func TestGraceCutsAContainersPublicIP(t *testing.T) {
	n := newVMNode(t)
	ctx := context.Background()
	if _, err := n.b.Images.Import(backendtest.WriteRootfsTar(t, t.TempDir()), "busybox"); err != nil {
		t.Fatal(err)
	}
	const contract = 42
	id := engine.WorkloadID(contract, "web")
	t.Cleanup(func() {
		n.b.PublicIPs.Delete(engine.WorkloadID(contract, "pub"))
		n.b.Containers.Delete(ctx, id)
		n.b.Images.UnmountRootfs(id)
		network.DeleteMachineNS(id)
		n.stop()
	})
	web := deployment.ZMachine{FList: "busybox", Network: deployment.MachineNetwork{PublicIP: "pub"},
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib}, Entrypoint: "/bin/nc -ll -p 80 -e /bin/true"}
	d := deployment.Deployment{TwinID: 7, ContractID: contract,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: 7, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{
			workload("pub", deployment.TypeIP, 0, deployment.PublicIP{V4: true}),
			workload("web", deployment.TypeZMachine, 0, web),
		}}
	public := netip.MustParsePrefix("203.0.113.11/24")
	if err := n.e.Deploy(d, engine.Grant{IPs: []engine.ReservedIP{{IP: public, Gateway: n.farm.Gateway.Addr()}}}); err != nil {
		t.Fatal(err)
	}
	waitStates(t, n.e, contract, deployment.StateOk)
	addr := netip.AddrPortFrom(public.Addr(), 80)
	connects := func(within time.Duration) error {
		deadline := time.Now().Add(within)
		for {
			err := backendtest.Connect(n.farm.Internet, addr, time.Second)
			if err == nil || time.Now().After(deadline) {
				return err
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := connects(10 * time.Second); err != nil {
		t.Fatalf("the container's public IP before grace: %v", err)
	}
	if err := n.e.Pause(contract); err != nil {
		t.Fatal(err)
	}
	waitStates(t, n.e, contract, deployment.StatePaused)
	if st, err := n.b.Containers.State(ctx, id); err != nil || st.Status != "paused" {
		t.Fatalf("container during grace: %+v %v", st, err)
	}
	if err := backendtest.Connect(n.farm.Internet, addr, 2*time.Second); err == nil {
		t.Fatal("a TCP handshake with a paused container's public IP completed")
	}
	if err := n.e.Resume(contract); err != nil {
		t.Fatal(err)
	}
	waitStates(t, n.e, contract, deployment.StateOk)
	if err := connects(10 * time.Second); err != nil {
		t.Fatalf("the container's public IP after resume: %v", err)
	}
}
