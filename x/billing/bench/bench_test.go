// Package bench measures the billing EndBlocker on large states (`make bench-billing`).
//
// The state is written directly through the keepers' collections (no transactions) into the app's
// own multistore: IAVL trees (cosmos-sdk store/v2 rootmulti + cosmos/iavl) over goleveldb in a
// temporary directory, committed in batches, exactly as a node stores it. Each measured block is
// what FinalizeBlock does for billing: a fresh cache multistore over the last commit, one
// EndBlocker call (timed), then Write + Commit (timed apart).
//
//	go test ./x/billing/bench -run '^$' -bench EndBlock -benchtime 40x -timeout 60m
//	BILLING_BENCH_SIZES=10000 BILLING_BENCH_DB=memdb go test ./x/billing/bench -run '^$' -bench EndBlock -benchtime 10x
package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/collections"
	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/tfgrid/tfgrid/app"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

const (
	// Shape of the grid per contract count n: n/10 user twins (10 contracts each), n/100 nodes (100
	// contracts each), n/1000 farms (10 nodes each).
	contractsPerTwin = 10
	contractsPerNode = 100
	nodesPerFarm     = 10

	commitEvery = 25_000          // contracts per build batch (one IAVL version each)
	blockGap    = 5 * time.Second // between measured blocks
	// scheduleGap is the block time of the hourly schedule (BILLING_BENCH_SCHEDULE=hourly): 6 s blocks.
	scheduleGap = 6 * time.Second
	gib         = 1 << 30
	denom       = app.BondDenom
	settledType = "tfgrid.billing.v1.EventContractSettled"
	failedType  = "tfgrid.billing.v1.EventSettlementFailed"
)

// t0 is the time of the built state: every contract is due at or before it.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type appOptions map[string]any

func (o appOptions) Get(key string) any { return o[key] }

// BenchmarkEndBlock builds states of 10k, 100k and 1M live node contracts (BILLING_BENCH_SIZES
// overrides), all due, and measures the billing EndBlocker at the default cap, one block per b.N.
// With BILLING_BENCH_SCHEDULE=hourly the contracts come due at n per hour from the first block on,
// blocks are 6 s apart, and the settlements' lag (block time − due time) is reported.
func BenchmarkEndBlock(b *testing.B) {
	sizes := []int{10_000, 100_000, 1_000_000}
	if env := os.Getenv("BILLING_BENCH_SIZES"); env != "" {
		sizes = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < contractsPerNode*nodesPerFarm {
				b.Fatalf("BILLING_BENCH_SIZES: %q: want counts ≥ %d", f, contractsPerNode*nodesPerFarm)
			}
			sizes = append(sizes, n)
		}
	}
	// hourly: contracts come due at the rate of n per hour from t0 on (none overdue), blocks are 6 s
	// apart, and the run reports each settlement's lag (block time − due time) instead of asking
	// every block to settle the cap.
	hourly := os.Getenv("BILLING_BENCH_SCHEDULE") == "hourly"
	backend := dbm.GoLevelDBBackend
	if os.Getenv("BILLING_BENCH_DB") == "memdb" {
		backend = dbm.MemDBBackend
	}
	for _, n := range sizes {
		s := build(b, n, backend, hourly)
		b.Run(fmt.Sprintf("contracts=%d", n), s.run)
		s.report(b)
		s.close()
	}
}

// state is one built chain state and the blocks measured on it.
type state struct {
	n       int
	app     *app.App
	db      dbm.DB
	dir     string
	backend dbm.BackendType
	height  int64
	time    time.Time

	hourly   bool
	interval int64   // settlement_interval, s
	lags     []int64 // hourly: block time − due time of every settlement, s

	buildTime time.Duration
	heapMiB   uint64
	cap       uint32
	endBlocks []time.Duration // wall time of every measured EndBlock, in order
	cpu       []time.Duration // CPU time of the EndBlock's thread, when the OS tells it
	commits   []time.Duration
	gas       []uint64 // store gas (KV reads, writes, iterations) of every measured EndBlock
	settled   int
}

// run measures b.N blocks; b.N × max_settlements_per_block must not exceed the contracts still due.
func (s *state) run(b *testing.B) {
	ctxLogger := log.NewNopLogger()
	cms := s.app.CommitMultiStore()
	k := s.app.BillingKeeper
	// One OS thread runs every EndBlock, so its CPU time is the EndBlock's own (GC assists included),
	// not what other processes on a shared machine take from it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	var total, cpuTotal time.Duration
	gap, runSettled := blockGap, 0
	if s.hourly {
		gap = scheduleGap
	}
	for range b.N {
		s.height++
		s.time = s.time.Add(gap)
		ms := cms.CacheMultiStore()
		ctx := sdk.NewContext(ms, cmtproto.Header{ChainID: app.DefaultChainID, Height: s.height, Time: s.time}, false, ctxLogger)

		cpu0, cpuOK := threadCPU()
		b.StartTimer()
		start := time.Now()
		err := k.EndBlocker(ctx)
		took := time.Since(start)
		b.StopTimer()
		if cpu1, ok := threadCPU(); ok && cpuOK {
			s.cpu = append(s.cpu, cpu1-cpu0)
			cpuTotal += cpu1 - cpu0
		}
		if err != nil {
			b.Fatalf("EndBlocker: %v", err)
		}
		settled := 0
		for _, ev := range ctx.EventManager().Events() {
			switch ev.Type {
			case settledType:
				settled++
				if s.hourly {
					s.lags = append(s.lags, s.lag(b, ev))
				}
			case failedType:
				b.Fatalf("a settlement failed: %v", ev)
			}
		}
		if !s.hourly && uint32(settled) != s.cap {
			b.Fatalf("block %d settled %d contracts, want the cap %d: not enough due contracts left for b.N=%d", s.height, settled, s.cap, b.N)
		}

		start = time.Now()
		ms.Write()
		cms.Commit()
		s.commits = append(s.commits, time.Since(start))
		s.endBlocks = append(s.endBlocks, took)
		s.gas = append(s.gas, ctx.GasMeter().GasConsumed())
		s.settled += settled
		runSettled += settled
		total += took
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/endblock")
	b.ReportMetric(float64(runSettled)/total.Seconds(), "settlements/s")
	if cpuTotal > 0 {
		b.ReportMetric(float64(cpuTotal.Microseconds())/1000/float64(b.N), "cpu-ms/endblock")
		b.ReportMetric(float64(runSettled)/cpuTotal.Seconds(), "settlements/cpu-s")
	}
}

// lag is a settlement's block time less its due time: the state's contracts were due one
// settlement_interval after they were last settled (the event's period_start).
func (s *state) lag(b *testing.B, ev sdk.Event) int64 {
	var start, end int64
	for _, a := range ev.Attributes {
		if a.Key != "period_start" && a.Key != "period_end" {
			continue
		}
		raw, err := strconv.Unquote(a.Value)
		if err != nil {
			b.Fatalf("%s %q: %v", a.Key, a.Value, err)
		}
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			b.Fatalf("%s %q: %v", a.Key, a.Value, err)
		}
		if a.Key == "period_start" {
			start = v
		} else {
			end = v
		}
	}
	return end - (start + s.interval)
}

// report logs the distribution of every block measured on this state.
func (s *state) report(b *testing.B) {
	if len(s.endBlocks) == 0 {
		return
	}
	eb := slices.Clone(s.endBlocks)
	slices.Sort(eb)
	cm := slices.Clone(s.commits)
	slices.Sort(cm)
	var sum time.Duration
	for _, d := range s.endBlocks {
		sum += d
	}
	mean := sum / time.Duration(len(eb))
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	line := fmt.Sprintf("RESULT contracts=%d store=iavl/%s build=%s heap=%dMiB blocks=%d settled=%d cap=%d "+
		"endblock_ms: mean=%s p50=%s p95=%s max=%s first=%s | settlements/s=%.0f | commit_ms: p50=%s p95=%s",
		s.n, s.backend, s.buildTime.Round(time.Second), s.heapMiB, len(eb), s.settled, s.cap,
		ms(mean), ms(pct(eb, 0.5)), ms(pct(eb, 0.95)), ms(eb[len(eb)-1]), ms(s.endBlocks[0]),
		float64(s.settled)/sum.Seconds(), ms(pct(cm, 0.5)), ms(pct(cm, 0.95)))
	if len(s.cpu) == len(s.endBlocks) {
		cpu := slices.Clone(s.cpu)
		slices.Sort(cpu)
		var cpuSum time.Duration
		for _, d := range cpu {
			cpuSum += d
		}
		line += fmt.Sprintf(" | endblock_cpu_ms: mean=%s p50=%s p95=%s max=%s | settlements/cpu-s=%.0f",
			ms(cpuSum/time.Duration(len(cpu))), ms(pct(cpu, 0.5)), ms(pct(cpu, 0.95)), ms(cpu[len(cpu)-1]),
			float64(s.settled)/cpuSum.Seconds())
	}
	// The store work of a block, in gas: the same from 10k to 1M contracts if nothing scans them.
	gas := slices.Clone(s.gas)
	slices.Sort(gas)
	line += fmt.Sprintf(" | store_gas/endblock: min=%d p50=%d max=%d", gas[0], gas[len(gas)/2], gas[len(gas)-1])
	var load string
	if bz, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(bz))[:3], " ")
		line += " | loadavg " + load
	}
	if s.hourly && len(s.lags) > 0 {
		lags := slices.Clone(s.lags)
		slices.Sort(lags)
		at := func(p float64) int64 { return lags[min(len(lags)-1, int(float64(len(lags))*p))] }
		due := int64(len(eb)) * int64(scheduleGap/time.Second) * int64(s.n) / s.interval
		line += fmt.Sprintf(" | hourly schedule, %s blocks: came due ≈%d, settled %d, lag_s p50=%d p99=%d max=%d",
			scheduleGap, due, len(lags), at(0.5), at(0.99), lags[len(lags)-1])
	}
	b.Log(line) // a benchmark's log is always printed
}

func (s *state) close() {
	_ = s.db.Close()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
	s.app = nil
	runtime.GC()
}

// build writes n live node contracts and everything they refer to, all due at t0 (hourly: due from t0
// on, n per settlement interval), and commits.
func build(b *testing.B, n int, backend dbm.BackendType, hourly bool) *state {
	b.Helper()
	start := time.Now()
	s := &state{n: n, backend: backend, time: t0, hourly: hourly}
	// Fewer GC cycles while building (bounded to 6 GiB), the defaults again for the measurement.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(6 << 30))
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	var err error
	if backend == dbm.MemDBBackend {
		s.db = dbm.NewMemDB()
	} else {
		s.dir, err = os.MkdirTemp("", "billing-bench-")
		if err != nil {
			b.Fatal(err)
		}
		s.db, err = dbm.NewDB("application", backend, s.dir)
		if err != nil {
			b.Fatal(err)
		}
	}
	s.app = app.NewApp(log.NewNopLogger(), s.db, true,
		appOptions{flags.FlagHome: b.TempDir()},
		baseapp.SetChainID(app.DefaultChainID),
		baseapp.SetIAVLCacheSize(781250), // app.toml's default iavl-cache-size
	)
	a := s.app
	cms := a.CommitMultiStore()
	ac := a.AccountKeeper.AddressCodec()

	// batch runs fn on a fresh cache of the last commit, then writes and commits it (one version).
	batch := func(fn func(ctx sdk.Context) error) {
		b.Helper()
		s.height++
		ms := cms.CacheMultiStore()
		ctx := sdk.NewContext(ms, cmtproto.Header{ChainID: app.DefaultChainID, Height: s.height, Time: t0}, false, log.NewNopLogger())
		if err := fn(ctx); err != nil {
			b.Fatalf("build (%d contracts): %v", n, err)
		}
		ms.Write()
		cms.Commit()
	}

	users, nodes := n/contractsPerTwin, n/contractsPerNode
	farms := max(1, nodes/nodesPerFarm)
	// Twin ids: farmers 1..farms, node twins next, users last.
	farmerTwin := func(f int) uint64 { return uint64(1 + f) }
	nodeTwin := func(i int) uint64 { return uint64(1 + farms + i) }
	userTwin := func(u int) uint64 { return uint64(1 + farms + nodes + u) }
	twins := farms + nodes + users
	addrOf := func(twin uint64) sdk.AccAddress {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("billing-bench-twin"), twin))
		return sdk.AccAddress(h[:20])
	}
	foundation := sdk.AccAddress(authtypes.NewModuleAddress("foundation")).String()

	// Genesis of the modules billing touches: params, the default pricing policy and the price.
	batch(func(ctx sdk.Context) error {
		if err := a.AccountKeeper.Params.Set(ctx, authtypes.DefaultParams()); err != nil {
			return err
		}
		if err := a.BankKeeper.SetParams(ctx, banktypes.DefaultParams()); err != nil {
			return err
		}
		gs, err := tfgridtypes.DefaultGenesis(ac)
		if err != nil {
			return err
		}
		if err := a.TfgridKeeper.InitGenesis(ctx, *gs); err != nil {
			return err
		}
		if err := a.SmartcontractKeeper.InitGenesis(ctx, *sctypes.DefaultGenesis()); err != nil {
			return err
		}
		return a.BillingKeeper.InitGenesis(ctx, *billingtypes.DefaultGenesis(foundation))
	})
	var params billingtypes.Params
	batch(func(ctx sdk.Context) error {
		params, err = a.BillingKeeper.Params.Get(ctx)
		s.cap = params.MaxSettlementsPerBlock
		return err
	})
	if s.cap != 200 {
		b.Fatalf("max_settlements_per_block %d: the default is 200", s.cap)
	}

	// Twins with accounts; users funded on a log scale (1,000 to 1,000,000 TFT, so every discount
	// tier occurs) except 1 % holding nothing, whose contracts go into grace.
	supply := sdkmath.ZeroInt()
	for lo := 0; lo < twins; lo += commitEvery {
		batch(func(ctx sdk.Context) error {
			for i := lo; i < min(twins, lo+commitEvery); i++ {
				id := uint64(1 + i)
				addr := addrOf(id)
				account, err := ac.BytesToString(addr)
				if err != nil {
					return err
				}
				a.AccountKeeper.SetAccount(ctx, a.AccountKeeper.NewAccountWithAddress(ctx, addr))
				pub := sha256.Sum256(addr)
				twin := tfgridtypes.Twin{Id: id, Account: account, Pubkey: append([]byte{2}, pub[:]...), Relays: []string{"wss://relay.grid.example:443"}}
				if err := a.TfgridKeeper.Twins.Set(ctx, id, twin); err != nil {
					return err
				}
				if id < userTwin(0) || i%100 == 0 {
					continue
				}
				// 10^(9 + 3·f) utft, f in [0, 1): 1,000 TFT .. 1,000,000 TFT.
				f := float64((i*7919)%1000) / 1000
				amount := sdkmath.NewInt(int64(1e9 * math.Pow(10, 3*f)))
				if err := a.BankKeeper.Balances.Set(ctx, collections.Join(addr, denom), amount); err != nil {
					return err
				}
				supply = supply.Add(amount)
			}
			return a.TfgridKeeper.TwinSeq.Set(ctx, uint64(twins))
		})
	}

	// Farms and nodes; every node reported uptime 10 minutes before t0 (online).
	batch(func(ctx sdk.Context) error {
		for f := range farms {
			farm := tfgridtypes.Farm{Id: uint64(1 + f), Name: fmt.Sprintf("farm-%d", 1+f), TwinId: farmerTwin(f), PricingPolicyId: 1}
			if err := a.TfgridKeeper.Farms.Set(ctx, farm.Id, farm); err != nil {
				return err
			}
		}
		for i := range nodes {
			node := tfgridtypes.Node{
				Id: uint64(1 + i), FarmId: uint64(1 + i%farms), TwinId: nodeTwin(i),
				// Room for what its 100 contracts reserve.
				Resources:     tfgridtypes.Resources{Cru: 1024, Sru: 64000 * gib, Hru: 200000 * gib, Mru: 2048 * gib},
				Location:      tfgridtypes.Location{City: "Ghent", Country: "Belgium", Latitude: "51.05", Longitude: "3.72"},
				Interfaces:    []tfgridtypes.Interface{{Name: "eth0", Mac: "52:54:00:12:34:56", Ips: []string{"10.0.0.2/24"}}},
				Certification: tfgridtypes.NodeCertificationDIY, SerialNumber: fmt.Sprintf("BENCH-%08d", i),
				Created: t0.Unix() - 86400, FarmingPolicyId: 1,
				Power:      tfgridtypes.Power{State: tfgridtypes.PowerStateUp, Target: tfgridtypes.PowerStateUp, Since: t0.Unix() - 86400},
				LastUptime: tfgridtypes.Uptime{ReportedAt: t0.Unix() - 600, Uptime: 86400},
			}
			if i%10 == 0 {
				node.Certification = tfgridtypes.NodeCertificationCertified
			}
			if err := a.TfgridKeeper.Nodes.Set(ctx, node.Id, node); err != nil {
				return err
			}
			if err := a.BillingKeeper.NodeClocks.Set(ctx, node.Id, benchClock(node)); err != nil {
				return err
			}
		}
		if err := a.TfgridKeeper.FarmSeq.Set(ctx, uint64(farms)); err != nil {
			return err
		}
		return a.TfgridKeeper.NodeSeq.Set(ctx, uint64(nodes))
	})

	// The contracts: each with its indexes, billing state and queue entry. Usage varies; every tenth
	// holds a public IP of its farm; three in ten have unbilled NU. Due times spread over the hour
	// before t0, each last settled one interval earlier.
	interval := int64(params.SettlementInterval)
	s.interval = interval
	reserved := map[uint64]tfgridtypes.Resources{} // node id → what its contracts reserve
	for lo := 1; lo <= n; lo += commitEvery {
		batch(func(ctx sdk.Context) error {
			for i := lo; i < min(n+1, lo+commitEvery); i++ {
				id := uint64(i)
				nodeIdx := i % nodes
				nodeID, farmID := uint64(1+nodeIdx), uint64(1+nodeIdx%farms)
				h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, id))
				usage := billingtypes.Usage{
					Cru: uint64(1 + i%8), Mru: uint64(1+i%16) * gib, Sru: uint64(25+(i%20)*25) * gib, Hru: uint64(i%3) * 1000 * gib,
				}
				// The node reported exactly what the contract reserves.
				nc := &sctypes.NodeContract{
					NodeId: nodeID, DeploymentHash: hex.EncodeToString(h[:]), DeploymentData: h[:], PublicIpsCount: 0,
					Resources: tfgridtypes.Resources{Cru: usage.Cru, Sru: usage.Sru, Hru: usage.Hru, Mru: usage.Mru},
				}
				if i%10 == 0 {
					k := i / 10
					gw := fmt.Sprintf("%d.%d.%d.1", 20+k>>16, (k>>8)&255, k&255)
					ip := fmt.Sprintf("%d.%d.%d.2", 20+k>>16, (k>>8)&255, k&255)
					nc.PublicIpsCount = 1
					nc.PublicIps = []sctypes.ContractPublicIP{{Ip: ip + "/24", Gateway: gw}}
					if err := a.TfgridKeeper.PublicIPs.Set(ctx, ip, tfgridtypes.PublicIP{Ip: ip + "/24", Gateway: gw, ContractId: id, FarmId: farmID}); err != nil {
						return err
					}
				}
				twin := userTwin(i % users)
				c := sctypes.Contract{
					Id: id, TwinId: twin, State: sctypes.ContractStateCreated, CreatedAt: t0.Unix() - 7*86400,
					Deposit: sdkmath.NewInt(1_000_000), Kind: &sctypes.Contract_NodeContract{NodeContract: nc},
				}
				sk := a.SmartcontractKeeper
				if err := sk.Contracts.Set(ctx, id, c); err != nil {
					return err
				}
				if err := sk.ContractsByTwin.Set(ctx, collections.Join(twin, id)); err != nil {
					return err
				}
				if err := sk.ContractByNodeHash.Set(ctx, collections.Join(nodeID, nc.DeploymentHash), id); err != nil {
					return err
				}
				if err := sk.NodeContractsByNodeTwin.Set(ctx, collections.Join3(nodeID, twin, id)); err != nil {
					return err
				}
				if err := sk.TwinContractHistory.Set(ctx, collections.Join(twin, id)); err != nil {
					return err
				}
				reserved[nodeID], _ = reserved[nodeID].Add(nc.Resources)

				due := t0.Unix() - int64(i%3600)
				if hourly {
					due = t0.Unix() + int64(i-1)*interval/int64(n) // n per interval, from t0 on
				}
				bill := billingtypes.ContractBilling{
					ContractId: id, LastSettled: due - interval, NextDue: due,
					StandardOverdraft: sdkmath.ZeroInt(), ExtraOverdraft: sdkmath.ZeroInt(), UnbilledNu: sdkmath.LegacyZeroDec(),
					Usage: usage,
				}
				clock := benchClock(tfgridtypes.Node{Id: nodeID, Created: t0.Unix() - 86400, LastUptime: tfgridtypes.Uptime{ReportedAt: t0.Unix() - 600}})
				bill.OnlineClock, bill.PoweredClock = clock.OnlineAt(bill.LastSettled), clock.PoweredAt(bill.LastSettled)
				if i%10 < 3 {
					bill.UnbilledNu = billingtypes.NUCost(50000, uint64(1+i%5)*1_000_000_000)
				}
				if err := a.BillingKeeper.Contracts.Set(ctx, id, bill); err != nil {
					return err
				}
				if err := a.BillingKeeper.Queue.Set(ctx, collections.Join(due, id)); err != nil {
					return err
				}
			}
			return a.SmartcontractKeeper.ContractSeq.Set(ctx, uint64(n))
		})
	}
	// The deposits sit in the contract module's account; the supply covers every balance.
	batch(func(ctx sdk.Context) error {
		for nodeID, r := range reserved {
			if err := a.SmartcontractKeeper.NodeReserved.Set(ctx, nodeID, r); err != nil {
				return err
			}
		}
		deposits := sdkmath.NewInt(int64(n) * 1_000_000)
		mod := a.AccountKeeper.GetModuleAccount(ctx, sctypes.ModuleName)
		if err := a.BankKeeper.Balances.Set(ctx, collections.Join(mod.GetAddress(), denom), deposits); err != nil {
			return err
		}
		return a.BankKeeper.Supply.Set(ctx, denom, supply.Add(deposits))
	})
	s.buildTime = time.Since(start)

	// The state is what the chain's invariants expect (walks everything once; not timed).
	check := time.Now()
	batch(func(ctx sdk.Context) error {
		if err := a.BillingKeeper.CheckInvariants(ctx); err != nil {
			return err
		}
		return a.SmartcontractKeeper.CheckInvariants(ctx)
	})
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.heapMiB = m.HeapInuse >> 20
	b.Logf("built %d contracts (%d twins, %d nodes, %d farms) in %s (invariants checked in %s), heap in use %d MiB",
		n, twins, nodes, farms, s.buildTime.Round(time.Millisecond), time.Since(check).Round(time.Millisecond), s.heapMiB)
	if s.dir != "" {
		b.Logf("database: %s (%s)", dirSize(s.dir), filepath.Base(s.dir))
	}
	s.time = t0
	return s
}

func dirSize(dir string) string {
	var total int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return nil
	})
	return fmt.Sprintf("%d MiB", total>>20)
}

// benchClock is the billing clock of a bench node: started when the node was created, up and online
// since (node_offline_after is the default 2 h).
func benchClock(node tfgridtypes.Node) billingtypes.NodeClock {
	return billingtypes.NewNodeClock(node.Id, node.Created, node.LastUptime.ReportedAt, 2*3600, true)
}
