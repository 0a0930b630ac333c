//go:build bench

package e2e

// The deployment benchmark (make bench-agent), built only with the bench tag so that `make test`
// does not run it:
//
//	make build build-agent build-rmb && TFGRIDD_BIN=$PWD/build/tfgridd ZOS_AGENT_BIN=$PWD/build/zos-agent \
//	    RMB_RELAY_BIN=$PWD/build/rmb-relay go test -tags bench ./zos-agent/e2e/ -run TestBenchDeploy -v -count=1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

const (
	benchSequential  = 50 // deployments one after the other
	benchDeployers   = 10 // concurrent deployers
	benchPerDeployer = 3  // deployments per concurrent deployer
	benchPoll        = 20 * time.Millisecond
	benchCall        = 10 * time.Second // an RMB call without an answer by then is retried
)

// TestBenchDeploy measures the latency from the RMB deploy request to every workload `ok` for a
// container with a 16 MiB volume: 50 deployments one after the other (each cancelled, and its
// teardown awaited, before the next), then 10 deployers deploying 3 each at the same time.
func TestBenchDeploy(t *testing.T) {
	deployers := make([]string, benchDeployers)
	for i := range deployers {
		deployers[i] = fmt.Sprintf("user%d", i)
	}
	// Each deployment reserves one core: the 30 concurrent ones fit in 2 CPUs × the grid's overcommit of 16.
	// The users poll every 20 ms: 10 of them ask the node 3,000 times a minute, past the relay's
	// default rate limit (1,000 envelopes a minute per twin), which would drop the node's answers.
	// The benchmark measures the agent, so its relay runs unlimited (as rmb-bench's does).
	g := startGrid(t, gridOptions{users: deployers, relayArgs: []string{"--rate-messages", "0", "--rate-bytes", "0"}})
	t.Logf("machine: %s", machine())

	var sequential []time.Duration
	for i := range benchSequential {
		raw, id := g.prepared(t, benchDeployment(g, "user0"), "user0", g.node, 0)
		sequential = append(sequential, g.timedDeploy(t, "user0", raw, id))
		g.cancelAndWait(t, "user0", id)
		if i == 0 {
			t.Logf("first deployment (image unpacked): %v", sequential[0])
		}
	}
	report(t, "sequential", sequential, 0)

	need := capacityOf(t, benchDeployment(g, "user0"))
	var mu sync.Mutex
	var concurrent []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for _, name := range deployers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range benchPerDeployer {
				raw, id, err := g.prepare(benchDeployment(g, name), name, g.node, 0, need)
				if err != nil {
					t.Error(err)
					return
				}
				d, err := g.tryTimedDeploy(name, raw, id)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				concurrent = append(concurrent, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Len(t, concurrent, benchDeployers*benchPerDeployer, "every concurrent deployment reached ok")
	report(t, fmt.Sprintf("%d concurrent deployers", benchDeployers), concurrent, time.Since(start))
}

const (
	benchPublicContainers = 20 // containers with a network and a public IP, one after the other
	benchVMs              = 5  // TCG virtual machines with a network and a public IP
)

// TestBenchPublicDeploy measures, on a node with a public network (a farm built in namespaces):
// the latency from the RMB deploy request to every workload ok for a container with a private
// network and a public IP (20, one after the other, each cancelled and its teardown awaited
// before the next); and for a virtual machine (QEMU, TCG here) with the same, the time to ok and to
// its first answer on its public IP from the internet namespace (5), with each VM's boot broken
// down (watchBoot) and the farm router's neighbour entry for the IP at ok.
func TestBenchPublicDeploy(t *testing.T) {
	farm := backendtest.NewFarm(t, farmGateway)
	g := startGrid(t, gridOptions{users: []string{"user0"}, farmIPs: farmIPs, farmGateway: farmGateway.Addr().String(),
		agentArgs: farm.AgentArgs()})
	t.Logf("machine: %s", machine())

	var containers []time.Duration
	for range benchPublicContainers {
		raw, id := g.prepared(t, publicDeployment(g, "user0", "busybox", "sleep 3600"), "user0", g.node, 1)
		containers = append(containers, g.timedDeploy(t, "user0", raw, id))
		g.cancelAndWait(t, "user0", id)
	}
	report(t, "container with a network and a public IP, request → ok", containers, 0)

	importGuest(t, g)
	var ok, answered []time.Duration
	for range benchVMs {
		raw, id := g.prepared(t, publicDeployment(g, "user0", "guest", ""), "user0", g.node, 1)
		start := time.Now()
		boot := watchBoot(g, id, start)
		ok = append(ok, g.timedDeploy(t, "user0", raw, id))
		public := publicIPOf(t, g.waitState(t, "user0", id, deployment.StateOk))
		neigh := neighbour(farm.Router, public)
		for {
			got, err := backendtest.Fetch(farm.Internet, netip.Addr{}, netip.AddrPortFrom(public, 80), time.Second)
			if err == nil && got == backendtest.GuestReply {
				break
			}
			require.Less(t, time.Since(start), 2*time.Minute, "the VM does not answer on %s: %q %v", public, got, err)
			time.Sleep(benchPoll)
		}
		answered = append(answered, time.Since(start))
		t.Logf("VM %d: ok %v, %s, first answer %v; the router's neighbour entry for %s at ok: %s (the VM's MAC: %s)", len(answered),
			ok[len(ok)-1].Round(time.Millisecond), boot(), answered[len(answered)-1].Round(time.Millisecond), public, neigh,
			publicip.MAC(engine.WorkloadID(id, "pub")))
		g.cancelAndWait(t, "user0", id)
	}
	report(t, "TCG VM with a network and a public IP, request → ok", ok, 0)
	report(t, "TCG VM with a network and a public IP, request → first answer on its public IP", answered, 0)
}

// benchDeployment is a container with a 16 MiB volume that only sleeps.
func benchDeployment(g *grid, owner string) deployment.Deployment {
	d := g.machineDeployment(owner, 16*mib, 256*mib, "busybox")
	d.Workloads[1] = workload("vm", deployment.TypeZMachine, deployment.ZMachine{FList: "busybox",
		Network:         g.onNetwork(), // the deployments of one deployer share its network
		ComputeCapacity: deployment.ComputeCapacity{CPU: 1, Memory: 256 * mib},
		Mounts:          []deployment.MachineMount{{Name: "vol", Mountpoint: "/data"}},
		Entrypoint:      "sleep 3600"})
	return d
}

func (g *grid) timedDeploy(t *testing.T, owner string, raw []byte, id uint64) time.Duration {
	d, err := g.tryTimedDeploy(owner, raw, id)
	require.NoError(t, err)
	return d
}

// tryTimedDeploy sends the deployment and polls it until every workload is ok: the time from the
// request to the first answer showing ok.
func (g *grid) tryTimedDeploy(owner string, raw []byte, id uint64) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := g.peer[owner].Call(ctx, g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil); err != nil {
		return 0, fmt.Errorf("contract %d: deploy: %w", id, err)
	}
	for deadline := start.Add(time.Minute); time.Now().Before(deadline); time.Sleep(benchPoll) {
		var d deployment.Deployment
		callCtx, cancel := context.WithTimeout(ctx, benchCall)
		err := g.peer[owner].Call(callCtx, g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": id}, &d)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("contract %d: get: %w", id, err)
		}
		ok := len(d.Workloads) > 0
		for _, w := range d.Workloads {
			switch w.Result.State {
			case deployment.StateError:
				return 0, fmt.Errorf("contract %d: workload %s: %s", id, w.Name, w.Result.Message)
			case deployment.StateOk:
			default:
				ok = false
			}
		}
		if ok {
			return time.Since(start), nil
		}
	}
	return 0, fmt.Errorf("contract %d: not ok after a minute", id)
}

// machine describes the machine the benchmark runs on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("%d cores, %s, %s, load average %s", runtime.NumCPU(), model, runtime.Version(), strings.Join(strings.Fields(string(load))[:3], " "))
}

// report logs p50, p99, min, max and, over a wall time, the throughput.
func report(t *testing.T, name string, ds []time.Duration, wall time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s)-1)+0.5))] }
	line := fmt.Sprintf("BENCH %s: n=%d p50=%v p99=%v min=%v max=%v", name, len(s), pct(0.50).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), s[0].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
	if wall > 0 {
		line += fmt.Sprintf(" wall=%v throughput=%.2f deployments/s (contract tx included)", wall.Round(time.Millisecond), float64(len(s))/wall.Seconds())
	}
	t.Log(line)
}

// watchBoot follows contract id's VM from start: when QEMU wrote its pid file, and when the guest's
// console log first showed the kernel, its init's network set-up and GUEST-READY. The returned
// function stops the watch and describes those times since start.
func watchBoot(g *grid, id uint64, start time.Time) func() string {
	dir := filepath.Join(g.dataDir, "vms", "tfz-"+engine.WorkloadID(id, "vm"))
	marks := []string{"Linux version", "Run /init", "GUEST-IP", "GUEST-READY"}
	seen := make([]time.Duration, len(marks))
	var qemu time.Duration
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(benchPoll):
			}
			if fi, err := os.Stat(filepath.Join(dir, "qemu.pid")); err == nil && qemu == 0 {
				qemu = fi.ModTime().Sub(start)
			}
			log, _ := os.ReadFile(filepath.Join(dir, "console.log"))
			for i, m := range marks {
				if seen[i] == 0 && strings.Contains(string(log), m) {
					seen[i] = time.Since(start)
				}
			}
		}
	}()
	return func() string {
		close(done)
		<-stopped
		parts := []string{fmt.Sprintf("QEMU pid file %v", qemu.Round(time.Millisecond))}
		for i, m := range marks {
			at := "not yet" // the guest's server can answer before its init prints GUEST-READY
			if seen[i] > 0 {
				at = seen[i].Round(time.Millisecond).String()
			}
			parts = append(parts, fmt.Sprintf("console %q %s", m, at))
		}
		return strings.Join(parts, ", ")
	}
}

// neighbour is the router namespace's neighbour entry for ip, as ip(8) shows it.
func neighbour(routerNS string, ip netip.Addr) string {
	out, err := exec.Command("nsenter", "--net="+routerNS, "ip", "neigh", "show", ip.String()).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("ip neigh: %v: %s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		return s
	}
	return "none"
}
