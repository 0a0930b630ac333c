// Package e2e runs the node agent end to end: a real tfgridd chain, a real rmb-relay and the real
// zos-agent binary (as root: runc, loop devices, mounts), driven by a user client on rmb/peer and
// chainclient. `go test -short` skips it.
//
//	make build build-agent && TFGRIDD_BIN=$PWD/build/tfgridd ZOS_AGENT_BIN=$PWD/build/zos-agent go test ./zos-agent/e2e/ -count=1 -v
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

const mib = 1 << 20

func TestAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: real chain, relay and agent")
	}
	g := startGrid(t, gridOptions{users: []string{"alice", "bob", "carol", "dave"}})
	client := g.client

	var running uint64
	t.Run("deploy a container with a 64 MiB volume", func(t *testing.T) {
		d := g.machineDeployment("alice", 64*mib, 256*mib, "busybox")
		id := g.deploy(t, "alice", d, "alice")
		rec := g.waitState(t, "alice", id, deployment.StateOk)
		require.Len(t, rec.Workloads, 3) // volume, machine, network
		wid := engine.WorkloadID(id, "vm")
		limit, err := os.ReadFile("/sys/fs/cgroup/memory" + g.cgroupsPath(t, wid) + "/memory.limit_in_bytes")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(256*mib), strings.TrimSpace(string(limit)))
		logFile := filepath.Join(g.dataDir, "containers", "tfz-"+wid, "output.log")
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(logFile)
			return strings.Contains(string(b), "filled")
		}, 30*time.Second, 200*time.Millisecond, "the machine's fill script did not finish")
		out, _ := os.ReadFile(logFile)
		require.Contains(t, string(out), "No space left on device", "writing past the volume")
		running = id
	})

	t.Run("refusals", func(t *testing.T) {
		alice := g.users["alice"]
		base := g.machineDeployment("alice", 64*mib, 256*mib, "busybox")
		cases := []struct {
			name   string
			prep   func() ([]byte, uint64)
			sender string
			want   string
		}{
			{"wrong hash", func() ([]byte, uint64) {
				id := g.contract(t, alice, g.node, strings.Repeat("ab", 32), 0, capacityOf(t, base))
				return g.signed(t, base, id, "alice"), id
			}, "alice", "deployment_hash"},
			{"wrong twin", func() ([]byte, uint64) {
				raw, id := g.prepared(t, base, "alice", g.node, 0)
				return raw, id
			}, "bob", "is not the sender twin"},
			{"another node's contract", func() ([]byte, uint64) {
				return g.prepared(t, base, "alice", g.node2, 0)
			}, "alice", "is not this node"},
			{"cancelled contract", func() ([]byte, uint64) {
				raw, id := g.prepared(t, base, "alice", g.node, 0)
				_, err := alice.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: alice.bc.Address(), ContractId: id})
				require.NoError(t, err)
				return raw, id
			}, "alice", "CONTRACT_STATE_DELETED"},
			{"more IPs than reserved", func() ([]byte, uint64) {
				d := base
				d.Workloads = append(append([]deployment.Workload{}, base.Workloads...), workload("pub", deployment.TypeIP, deployment.PublicIP{V4: true}))
				return g.prepared(t, d, "alice", g.node, 0)
			}, "alice", "public_ips_count reserves 0"},
			{"missing image", func() ([]byte, uint64) {
				return g.prepared(t, g.machineDeployment("alice", 64*mib, 256*mib, "nosuchimage"), "alice", g.node, 0)
			}, "alice", `image "nosuchimage"`},
			{"more capacity than the contract reserves", func() ([]byte, uint64) {
				under := capacityOf(t, base)
				under.MRU -= mib // the user's consent bounds the deployment: one MiB short is refused
				return g.preparedReserving(t, base, "alice", g.node, 0, under)
			}, "alice", "the contract reserves"},
			{"2-of-3 with one signature", func() ([]byte, uint64) {
				return g.prepared(t, g.multisig(), "alice", g.node, 0)
			}, "alice", "weight"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				raw, id := c.prep()
				err := g.peer[c.sender].Call(context.Background(), g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil)
				require.Error(t, err)
				require.Contains(t, err.Error(), c.want)
				require.Error(t, g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": id}, nil),
					"a refused deployment is not stored")
			})
		}
		t.Run("more memory than the node has free", func(t *testing.T) {
			// The chain refuses to reserve it, so no deployment can ask for it (the engine's own
			// admission against the machine's free memory is tested in zos-agent/engine).
			big := g.machineDeployment("alice", 64*mib, 1<<40, "busybox")
			raw, err := json.Marshal(big)
			require.NoError(t, err)
			hash, err := deployment.HashJSON(raw)
			require.NoError(t, err)
			_, err = alice.bc.Send(context.Background(), &sctypes.MsgCreateNodeContract{Creator: alice.bc.Address(), NodeId: g.node,
				DeploymentHash: hash, Resources: tftypes.Resources{Cru: 1, Mru: 1 << 40, Sru: 64 * mib}})
			require.ErrorContains(t, err, sctypes.ErrInsufficientCapacity.Error())
		})
		t.Run("2-of-3 with two signatures", func(t *testing.T) {
			raw, id := g.prepared(t, g.multisig(), "alice", g.node, 0, "bob")
			require.NoError(t, g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.deploy", json.RawMessage(raw), nil))
			g.waitState(t, "alice", id, deployment.StateOk)
		})
		t.Run("delete over RMB", func(t *testing.T) {
			err := g.peer["alice"].Call(context.Background(), g.nodeTw, "zos.deployment.delete", map[string]uint64{"contract_id": running}, nil)
			require.ErrorContains(t, err, "cancel the contract instead")
		})
		t.Run("another twin's deployment is not found", func(t *testing.T) {
			err := g.peer["bob"].Call(context.Background(), g.nodeTw, "zos.deployment.get", map[string]uint64{"contract_id": running}, nil)
			require.ErrorContains(t, err, "not found")
		})
	})

	t.Run("agent killed and restarted", func(t *testing.T) {
		require.NotZero(t, running)
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		wid := engine.WorkloadID(running, "vm")
		before, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		g.agent.Kill()
		after, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		require.Equal(t, container.StatusRunning, after.Status, "the machine outlives the agent")
		require.NoError(t, g.agent.Start())
		g.waitState(t, "alice", running, deployment.StateOk)
		again, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		require.Equal(t, before.Pid, again.Pid, "reattached, not started twice")
		list, err := drv.List(context.Background())
		require.NoError(t, err)
		n := 0
		for _, s := range list {
			if s.ID == "tfz-"+wid {
				n++
			}
		}
		require.Equal(t, 1, n)
	})

	t.Run("consumption reports reach the chain", func(t *testing.T) {
		require.Eventually(t, func() bool {
			res, err := client.Billing.Contract(context.Background(), &billingtypes.QueryContractRequest{Id: running})
			return err == nil && res.Billing.LastReport != nil && res.Billing.LastReport.Cru == 1 &&
				res.Billing.LastReport.Mru == 256*mib && res.Billing.LastReport.Sru == 64*mib+500*mib
		}, 30*time.Second, 500*time.Millisecond)
	})

	var daves uint64
	t.Run("reports are charged to the twin as the pricing policy says", func(t *testing.T) {
		d := g.machineDeployment("dave", 16*mib, 256*mib, "busybox")
		daves = g.deploy(t, "dave", d, "dave")
		g.waitState(t, "dave", daves, deployment.StateOk)
		want := capacityOf(t, d)
		usage := billingtypes.Usage{Cru: want.CRU, Sru: want.SRU, Hru: want.HRU, Mru: want.MRU}
		// The agent's reports set the contract's usage: from then on every settlement charges it.
		require.Eventually(t, func() bool {
			res, err := client.Billing.Contract(context.Background(), &billingtypes.QueryContractRequest{Id: daves})
			return err == nil && res.Billing.Usage == usage
		}, 30*time.Second, 300*time.Millisecond, "the reported usage reaches billing")
		from := g.height(t)
		to, events := from, []heightEvent(nil)
		// Two settlements after the usage is set are enough to compare; a loaded machine makes
		// blocks, and so settlements, slower than settleEvery.
		for deadline := time.Now().Add(90 * time.Second); len(events) < 2 && time.Now().Before(deadline); {
			time.Sleep(settleEvery * time.Second)
			next := g.height(t)
			events = append(events, g.events(t, to, next, settlementsOf(daves))...)
			to = next
		}
		require.GreaterOrEqual(t, len(events), 2, "settlements every %d s; the contract's events: %v", settleEvery,
			g.events(t, from, to, func(m proto.Message) bool { return true }))

		p := g.pricing(t)
		total := sdkmath.ZeroInt()
		paidInBlock := map[int64]sdkmath.Int{}
		for _, ev := range events {
			e := ev.msg.(*billingtypes.EventContractSettled)
			paid, ok := paidInBlock[ev.height]
			if !ok {
				paid = sdkmath.ZeroInt()
			}
			// The discount follows what dave holds when the settlement runs.
			held := g.balance(t, "dave", ev.height-1).Sub(paid)
			amount, level := p.charge(want, uint64(e.PeriodEnd-e.PeriodStart), held)
			require.Equal(t, amount.String(), e.Amount, "settlement [%d, %d] at block %d", e.PeriodStart, e.PeriodEnd, ev.height)
			require.Equal(t, level, e.DiscountLevel, "settlement [%d, %d]", e.PeriodStart, e.PeriodEnd)
			paidInBlock[ev.height] = paid.Add(amount)
			total = total.Add(amount)
		}
		require.True(t, total.IsPositive(), "charged something")
		all := g.events(t, from, to, func(m proto.Message) bool {
			c, ok := m.(interface{ GetContractId() uint64 })
			return ok && c.GetContractId() == daves
		})
		require.Equal(t, g.balance(t, "dave", from).Sub(total).String(), g.balance(t, "dave", to).String(),
			"dave's balance fell by exactly the settlements %v; all the contract's events: %v", events, all)
	})

	t.Run("grace freezes the machine, a top-up thaws it", func(t *testing.T) {
		require.NotZero(t, daves)
		freezer := "/sys/fs/cgroup/freezer" + g.cgroupsPath(t, engine.WorkloadID(daves, "vm")) + "/freezer.state"
		require.Equal(t, "THAWED", readTrimmed(t, freezer))
		// dave keeps less than one settlement costs, so the next one leaves a debt: grace.
		g.drain(t, "dave", 10)
		g.waitContract(t, daves, sctypes.ContractStateGracePeriod)
		require.Eventually(t, func() bool { return readTrimmed(t, freezer) == "FROZEN" }, 15*time.Second, 200*time.Millisecond)
		g.waitState(t, "dave", daves, deployment.StatePaused)

		// A top-up and a settlement pay the debt: the contract leaves grace and the machine runs.
		alice := g.users["alice"]
		_, err := alice.bc.Send(context.Background(),
			&banktypes.MsgSend{FromAddress: alice.bc.Address(), ToAddress: g.users["dave"].bc.Address(), Amount: sdk.NewCoins(sdk.NewInt64Coin("utft", 1_000_000_000))},
			&billingtypes.MsgSettleContract{Creator: alice.bc.Address(), ContractId: daves})
		require.NoError(t, err)
		g.waitContract(t, daves, sctypes.ContractStateCreated)
		require.Eventually(t, func() bool { return readTrimmed(t, freezer) == "THAWED" }, 15*time.Second, 200*time.Millisecond)
		g.waitState(t, "dave", daves, deployment.StateOk)
	})

	t.Run("chain stopped for a minute, then back", func(t *testing.T) {
		require.NotZero(t, running)
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		wid := engine.WorkloadID(running, "vm")
		volume := filepath.Join(g.dataDir, "disks", "tfz-"+engine.WorkloadID(running, "vol"))
		before, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		stoppedAt := g.height(t)
		last := g.billing(t, running, stoppedAt).LastReport
		require.NotNil(t, last, "reported before the outage")

		g.chain.Stop()
		down := time.Now()
		for time.Since(down) < time.Minute {
			st, err := drv.State(context.Background(), wid)
			require.NoError(t, err)
			require.Equal(t, container.StatusRunning, st.Status, "the machine runs while the chain is down")
			require.Equal(t, before.Pid, st.Pid, "not restarted")
			require.True(t, mounted(t, volume), "the volume stays mounted while the chain is down")
			time.Sleep(5 * time.Second)
		}
		require.NoError(t, g.chain.Restart())
		up := time.Now()

		// Reports resume, and the ones measured while the chain was down reach it too: the windows
		// of the contract's reports follow each other from the last one before the outage.
		require.Eventually(t, func() bool {
			res, err := client.Billing.Contract(context.Background(), &billingtypes.QueryContractRequest{Id: running})
			return err == nil && res.Billing.LastReport != nil && res.Billing.LastReport.Timestamp > up.Unix()
		}, 60*time.Second, 500*time.Millisecond, "reports resume after the restart")
		reports := g.events(t, stoppedAt, g.height(t), reportsOf(running))
		prev := last.Timestamp
		for _, ev := range reports {
			r := ev.msg.(*billingtypes.EventConsumptionReported).Report
			require.Equal(t, prev, r.Timestamp-int64(r.Window), "report at %d (window %d) follows the one at %d", r.Timestamp, r.Window, prev)
			prev = r.Timestamp
		}
		require.Greater(t, prev, up.Unix(), "the reports without a gap reach past the restart: the outage is covered")
		st, err := drv.State(context.Background(), wid)
		require.NoError(t, err)
		require.Equal(t, before.Pid, st.Pid)
		g.waitState(t, "alice", running, deployment.StateOk)
	})

	t.Run("cancel tears everything down", func(t *testing.T) {
		alice := g.users["alice"]
		_, err := alice.bc.Send(context.Background(), &sctypes.MsgCancelContract{Creator: alice.bc.Address(), ContractId: running})
		require.NoError(t, err)
		drv, err := container.New(g.dataDir)
		require.NoError(t, err)
		disks, err := disk.New(g.dataDir)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			_, cerr := drv.State(context.Background(), engine.WorkloadID(running, "vm"))
			_, derr := disks.Get(engine.WorkloadID(running, "vol"))
			return cerr != nil && derr != nil
		}, 15*time.Second, 200*time.Millisecond)
		f := filepath.Join(g.dataDir, "disks", "tfz-"+engine.WorkloadID(running, "vol"))
		backendtest.AssertDiskGone(t, f+".img", f)
	})
}
