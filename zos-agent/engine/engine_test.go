package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

const mib = 1 << 20

type fixture struct {
	dir    string
	st     *store.Store
	b      engine.Backends
	e      *engine.Engine
	cancel context.CancelFunc
	done   chan struct{}
}

func backends(t *testing.T, dir string) engine.Backends {
	t.Helper()
	c, err := container.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := image.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := disk.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Backends{Containers: c, Images: im, Disks: d}
}

// start runs an engine over the fixture's data directory (a restarted agent when called again).
func (f *fixture) start(t *testing.T) {
	t.Helper()
	st, err := store.Open(filepath.Join(f.dir, "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	f.st, f.b = st, backends(t, f.dir)
	f.e = engine.New(st, f.b, engine.Options{
		Total:         capacity.Resources{CRU: 4, MRU: 2 << 30, SRU: 8 << 30},
		SystemReserve: 2 << 30, CPUOvercommit: 2,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go func() { defer close(f.done); _ = f.e.Run(ctx) }()
}

func (f *fixture) stop() {
	f.cancel()
	<-f.done
	f.st.Close()
}

func newFixture(t *testing.T) *fixture {
	backendtest.RequireRoot(t)
	f := &fixture{dir: t.TempDir()}
	f.start(t)
	if _, err := f.b.Images.Import(backendtest.WriteRootfsTar(t, t.TempDir()), "busybox"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Whatever a failed test left: containers, roots, disks.
		ctx := context.Background()
		if states, err := f.b.Containers.List(ctx); err == nil {
			for _, s := range states {
				id := strings.TrimPrefix(s.ID, "tfz-")
				_ = f.b.Containers.Delete(ctx, id)
				_ = f.b.Images.UnmountRootfs(id)
			}
		}
		for _, id := range []string{"1-vol", "1-data", "2-vol", "2-data"} {
			_ = f.b.Disks.Delete(ctx, id)
		}
		f.stop()
	})
	return f
}

func workload(name, typ string, version uint32, data any) deployment.Workload {
	raw, _ := json.Marshal(data)
	return deployment.Workload{Version: version, Name: name, Type: typ, Data: raw}
}

func machine(memory uint64, script string, mounts ...deployment.MachineMount) deployment.ZMachine {
	return deployment.ZMachine{FList: "busybox",
		Network:         deployment.MachineNetwork{Interfaces: []deployment.MachineInterface{{Network: "net", IP: "10.1.3.2"}}},
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: memory},
		Mounts:          mounts, Entrypoint: "/bin/sh -c '" + script + "'"}
}

func volumeMachine(contract uint64, volSize uint64) deployment.Deployment {
	return deployment.Deployment{TwinID: 7, ContractID: contract,
		SignatureRequirement: deployment.SignatureRequirement{Requests: []deployment.SignatureRequest{{TwinID: 7, Weight: 1}}, WeightRequired: 1},
		Workloads: []deployment.Workload{
			workload("vol", deployment.TypeVolume, 0, deployment.Volume{Size: volSize}),
			workload("vm", deployment.TypeZMachine, 0, machine(256*mib, "echo started; sleep 3600", deployment.MachineMount{Name: "vol", Mountpoint: "/data"})),
		}}
}

func waitStates(t *testing.T, e *engine.Engine, contract uint64, want deployment.ResultState) store.Record {
	t.Helper()
	return waitStatesWithin(t, e, contract, want, 30*time.Second)
}

func waitStatesWithin(t *testing.T, e *engine.Engine, contract uint64, want deployment.ResultState, within time.Duration) store.Record {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rec, err := e.Get(contract)
		if err == nil {
			all := true
			for _, w := range rec.Deployment.Workloads {
				all = all && w.Result.State == want
			}
			if all {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("contract %d: workloads not all %s: %+v (%v)", contract, want, rec.Deployment.Workloads, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func status(t *testing.T, f *fixture, id string) container.State {
	t.Helper()
	st, err := f.b.Containers.State(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDeployPauseRestartGrowDelete(t *testing.T) {
	f := newFixture(t)
	if err := f.e.Deploy(volumeMachine(1, 64*mib), engine.Grant{}); err != nil {
		t.Fatal(err)
	}
	waitStates(t, f.e, 1, deployment.StateOk)
	first := status(t, f, "1-vm")
	if first.Status != container.StatusRunning {
		t.Fatalf("container %+v, want running", first)
	}
	limit, err := os.ReadFile("/sys/fs/cgroup/memory" + f.b.Containers.CgroupsPath("1-vm") + "/memory.limit_in_bytes")
	if err != nil || strings.TrimSpace(string(limit)) != fmt.Sprint(256*mib) {
		t.Fatalf("memory limit %q (%v), want %d", limit, err, 256*mib)
	}
	allocs, err := f.e.Allocations()
	if err != nil || allocs[1].MRU != 256*mib || allocs[1].CRU != 1 || allocs[1].SRU != 64*mib+500*mib {
		t.Fatalf("allocation %+v (%v)", allocs[1], err)
	}

	// A second deployment asking more memory than is free is refused and stores nothing.
	big := volumeMachine(2, 64*mib)
	big.Workloads[1] = workload("vm", deployment.TypeZMachine, 0, machine(2<<30, "sleep 1"))
	if err := f.e.Deploy(big, engine.Grant{}); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("deploy beyond free memory: %v", err)
	}
	if _, err := f.e.Get(2); err == nil {
		t.Fatal("a refused deployment was stored")
	}

	if err := f.e.Pause(1); err != nil {
		t.Fatal(err)
	}
	waitStates(t, f.e, 1, deployment.StatePaused)
	if st := status(t, f, "1-vm"); st.Status != container.StatusPaused {
		t.Fatalf("after pause: %+v", st)
	}

	// Restart the engine: the paused container is reattached, not started again.
	f.stop()
	f.start(t)
	time.Sleep(200 * time.Millisecond)
	if st := status(t, f, "1-vm"); st.Pid != first.Pid || st.Status != container.StatusPaused {
		t.Fatalf("after restart: %+v, want pid %d paused", st, first.Pid)
	}
	if err := f.e.Resume(1); err != nil {
		t.Fatal(err)
	}
	waitStates(t, f.e, 1, deployment.StateOk)

	// Update: the volume grows (machine stopped, disk grown offline, machine started again).
	next := volumeMachine(1, 128*mib)
	next.Version = 1
	next.Workloads[0].Version = 1
	if err := f.e.Update(next, engine.Grant{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := f.b.Disks.Get("1-vol")
		if err == nil && d.Size == 128*mib {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("volume not grown: %+v %v", d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec := waitStates(t, f.e, 1, deployment.StateOk)
	if rec.Deployment.Version != 1 {
		t.Fatalf("version %d after update", rec.Deployment.Version)
	}

	if err := f.e.Delete(1, "contract canceled"); err != nil {
		t.Fatal(err)
	}
	waitStates(t, f.e, 1, deployment.StateDeleted)
	if _, err := f.b.Containers.State(context.Background(), "1-vm"); err == nil {
		t.Fatal("container still exists after delete")
	}
	d := filepath.Join(f.dir, "disks", "tfz-1-vol")
	backendtest.AssertDiskGone(t, d+".img", d)
	changes, err := f.st.Changes(1)
	if err != nil || len(changes) < 8 {
		t.Fatalf("change log %d entries (%v)", len(changes), err)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	st, err := f.e.Statistics()
	if err != nil || !slices.Contains(st.UnsupportedTypes, deployment.TypeIP) || slices.Contains(st.UnsupportedTypes, deployment.TypeZMachine) {
		t.Fatalf("unsupported types without a public network: %v (%v)", st.UnsupportedTypes, err)
	}
	missing := volumeMachine(2, 64*mib)
	missing.Workloads[1] = workload("vm", deployment.TypeZMachine, 0, deployment.ZMachine{FList: "nosuchimage",
		Network:         deployment.MachineNetwork{Interfaces: []deployment.MachineInterface{{Network: "net", IP: "10.1.3.2"}}},
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib}})
	unsupported := volumeMachine(2, 64*mib)
	unsupported.Workloads = append(unsupported.Workloads, workload("db", deployment.TypeZDB, 0, deployment.ZDB{Size: 1 << 30, Mode: "user"}))
	odd := volumeMachine(2, 64*mib+1)
	publicIP := volumeMachine(2, 64*mib)
	publicIP.Workloads = append(publicIP.Workloads, workload("pub", deployment.TypeIP, 0, deployment.PublicIP{V4: true}))
	for name, tc := range map[string]struct {
		d    deployment.Deployment
		want string
	}{
		"missing image":    {missing, `image "nosuchimage"`},
		"unsupported type": {unsupported, `type "zdb"`},
		"odd disk size":    {odd, "size 67108865"},
		"public IP on a node without a public network": {publicIP, `workload "pub": type "ip": this node has no public network configured`},
	} {
		t.Run(name, func(t *testing.T) {
			err := f.e.Deploy(tc.d, engine.Grant{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if _, err := f.e.Get(2); err == nil {
				t.Fatal("refused deployment stored")
			}
		})
	}
}
