// Package bench measures the billing EndBlocker on large states (`make bench-billing`).
//
// The state is written directly through the keepers' collections (no transactions) into the app's
// own multistore: IAVL trees (cosmos-sdk store/v2 rootmulti + cosmos/iavl) over goleveldb in a
// temporary directory, committed in batches, exactly as a node stores it; the app is then reopened on
// it, as a restarted node would be. Each measured block is what FinalizeBlock does for billing: a fresh
// cache multistore over the last commit, one EndBlocker call (timed), then Write + Commit (timed apart).
//
//	go test ./x/billing/bench -run '^$' -bench EndBlock -benchtime 40x -timeout 60m
//	BILLING_BENCH_SIZES=10000 BILLING_BENCH_DB=memdb go test ./x/billing/bench -run '^$' -bench EndBlock -benchtime 10x
//	BILLING_BENCH_SCHEDULE=runway BILLING_BENCH_CACHE=$PWD/build/bench-billing-cache go test ./x/billing/bench ...
package bench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"

	abci "github.com/cometbft/cometbft/abci/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/tfgrid/tfgrid/app"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
)

const (
	settledType = "tfgrid.billing.v1.EventContractSettled"
	failedType  = "tfgrid.billing.v1.EventSettlementFailed"
)

// schedule is when the built state's contracts come due and how far apart the measured blocks are.
type schedule string

const (
	// allDue: every contract is due at t0 and every block settles the cap; blocks 5 s apart.
	allDue schedule = "due"
	// hourly is the previous design, as a baseline: max_settlement_interval = settlement_interval (1 h),
	// so every contract is settled hourly; n contracts come due per hour from t0 on, blocks 6 s apart.
	hourly schedule = "hourly"
	// runway is the runway schedule's steady state: the default max_settlement_interval (24 h) and
	// owners funded for a long runway, so every contract is settled daily; n contracts come due per
	// max_settlement_interval from t0 on, blocks 6 s apart.
	runway schedule = "runway"
)

// timed schedules model time: contracts come due while the blocks run, and each settlement's lag is
// recorded.
func (sc schedule) timed() bool { return sc != allDue }

func (sc schedule) blockGap() time.Duration {
	if sc.timed() {
		return 6 * time.Second
	}
	return 5 * time.Second
}

func scheduleFromEnv(b *testing.B) schedule {
	switch env := os.Getenv("BILLING_BENCH_SCHEDULE"); env {
	case "":
		return allDue
	case string(hourly), string(runway):
		return schedule(env)
	default:
		b.Fatalf("BILLING_BENCH_SCHEDULE %q: want hourly, runway or nothing (every contract due)", env)
		return ""
	}
}

// BenchmarkEndBlock measures the billing EndBlocker, one block per b.N, on states of 10k, 100k and
// 1M live node contracts (BILLING_BENCH_SIZES overrides) on the schedule BILLING_BENCH_SCHEDULE names.
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
	sched := scheduleFromEnv(b)
	backend := dbm.GoLevelDBBackend
	if os.Getenv("BILLING_BENCH_DB") == "memdb" {
		backend = dbm.MemDBBackend
	}
	for _, n := range sizes {
		s := prepare(b, n, backend, sched)
		b.Run(fmt.Sprintf("contracts=%d/schedule=%s", n, sched), s.run)
		s.report(b)
		s.close()
	}
}

// state is one built chain state, opened for measuring, and the blocks measured on it.
type state struct {
	built   builtState
	app     *app.App
	db      dbm.DB
	dir     string // the directory of the measured copy, removed on close; "" for memdb
	backend dbm.BackendType
	// leveldbOpts is how goleveldb was opened: app (tfgridd's options) or sdk (the SDK's defaults).
	leveldbOpts string
	cached      bool // the state was copied from the cache, not built by this run
	stateMiB    int64
	heapMiB     uint64
	height      int64
	time        time.Time

	endBlocks      []time.Duration // wall time of every measured EndBlock, in order
	cpu            []time.Duration // CPU time of the EndBlock's thread, when the OS tells it
	commits        []time.Duration
	gas            []uint64 // store gas (KV reads, writes, iterations) of every measured EndBlock
	settled        int
	settledSeconds int64   // the settled periods (period_end − period_start) added up
	lags           []int64 // timed schedules: block time − due time of every settlement, s
	respaced       []int64 // timed schedules: seconds from each settlement to its contract's next due time
}

// run measures b.N blocks; with every contract due, b.N × max_settlements_per_block must not exceed
// the contracts still due.
func (s *state) run(b *testing.B) {
	cms := s.app.CommitMultiStore()
	k := s.app.BillingKeeper
	sched := s.built.Schedule
	// One OS thread runs every EndBlock, so its CPU time is the EndBlock's own (GC assists included),
	// not what other processes on a shared machine take from it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	var total, cpuTotal time.Duration
	runSettled, runSeconds := 0, int64(0)
	for range b.N {
		s.height++
		s.time = s.time.Add(sched.blockGap())
		ms := cms.CacheMultiStore()
		ctx := sdk.NewContext(ms, s.header(), false, log.NewNopLogger())

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
		s.gas = append(s.gas, ctx.GasMeter().GasConsumed())
		settled := s.record(b, ctx.EventManager().Events())
		if !sched.timed() && uint32(len(settled)) != s.built.Cap {
			b.Fatalf("block %d settled %d contracts, want the cap %d: not enough due contracts left for b.N=%d", s.height, len(settled), s.built.Cap, b.N)
		}

		start = time.Now()
		ms.Write()
		cms.Commit()
		s.commits = append(s.commits, time.Since(start))
		s.endBlocks = append(s.endBlocks, took)
		if sched.timed() {
			s.recordRespacing(b, settled)
		}
		runSettled += len(settled)
		for _, ev := range settled {
			runSeconds += ev.PeriodEnd - ev.PeriodStart
		}
		total += took
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/endblock")
	b.ReportMetric(float64(runSettled)/total.Seconds(), "settlements/s")
	if cpuTotal > 0 {
		b.ReportMetric(float64(cpuTotal.Microseconds())/1000/float64(b.N), "cpu-ms/endblock")
		b.ReportMetric(float64(runSettled)/cpuTotal.Seconds(), "settlements/cpu-s")
		b.ReportMetric(float64(runSeconds)/3600/cpuTotal.Seconds(), "contract-h/cpu-s")
	}
}

func (s *state) header() cmtproto.Header {
	return cmtproto.Header{ChainID: app.DefaultChainID, Height: s.height, Time: s.time}
}

// record tallies a block's settlements (and on a timed schedule their lag) and returns them; a failed
// settlement ends the benchmark.
func (s *state) record(b *testing.B, events sdk.Events) []*billingtypes.EventContractSettled {
	var settled []*billingtypes.EventContractSettled
	for _, ev := range events {
		switch ev.Type {
		case failedType:
			b.Fatalf("a settlement failed: %v", ev)
		case settledType:
			msg, err := sdk.ParseTypedEvent(abci.Event(ev))
			if err != nil {
				b.Fatalf("%s: %v", settledType, err)
			}
			e := msg.(*billingtypes.EventContractSettled)
			settled = append(settled, e)
			s.settledSeconds += e.PeriodEnd - e.PeriodStart
			if s.built.Schedule.timed() {
				s.lags = append(s.lags, s.lag(b, e))
			}
		}
	}
	s.settled += len(settled)
	return settled
}

// lag is a settlement's block time less its due time. The built state's contracts are due one
// spacing after their last settlement (the event's period_start), and a contract settled during the
// run is next due one spacing later too (recordRespacing reports whether it is).
func (s *state) lag(b *testing.B, e *billingtypes.EventContractSettled) int64 {
	lag := e.PeriodEnd - (e.PeriodStart + s.built.Spacing)
	if lag < 0 {
		b.Fatalf("contract %d settled %d s before it was due: the built state's spacing is not %d s", e.ContractId, -lag, s.built.Spacing)
	}
	return lag
}

// recordRespacing reads, on the committed state, when each contract just settled is next due: the
// spacing the schedule gave it (not timed).
func (s *state) recordRespacing(b *testing.B, settled []*billingtypes.EventContractSettled) {
	view := sdk.NewContext(s.app.CommitMultiStore().CacheMultiStore(), s.header(), false, log.NewNopLogger())
	for _, e := range settled {
		bill, err := s.app.BillingKeeper.Contracts.Get(view, e.ContractId)
		if err != nil {
			b.Fatalf("billing state of contract %d after its settlement: %v", e.ContractId, err)
		}
		s.respaced = append(s.respaced, bill.NextDue-e.PeriodEnd)
	}
}

// report logs the distribution of every block measured on this state.
func (s *state) report(b *testing.B) {
	if len(s.endBlocks) == 0 {
		return
	}
	eb := sorted(s.endBlocks)
	cm := sorted(s.commits)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	sum := total(s.endBlocks)
	build := s.built.BuildTime.Round(time.Second).String()
	if s.cached {
		build = "cached(built in " + build + ")"
	}
	store := string(s.backend)
	if s.leveldbOpts != "" {
		store += "(" + s.leveldbOpts + ")"
	}
	line := fmt.Sprintf("RESULT contracts=%d schedule=%s store=iavl/%s build=%s state=%dMiB heap=%dMiB blocks=%d settled=%d cap=%d "+
		"endblock_ms: mean=%s p50=%s p95=%s max=%s first=%s | settlements/s=%.0f | commit_ms: p50=%s p95=%s",
		s.built.Contracts, s.built.Schedule, store, build, s.stateMiB, s.heapMiB, len(eb), s.settled, s.built.Cap,
		ms(sum/time.Duration(len(eb))), ms(at(eb, 0.5)), ms(at(eb, 0.95)), ms(eb[len(eb)-1]), ms(s.endBlocks[0]),
		float64(s.settled)/sum.Seconds(), ms(at(cm, 0.5)), ms(at(cm, 0.95)))
	if len(s.cpu) == len(s.endBlocks) {
		cpu := sorted(s.cpu)
		cpuSum := total(cpu)
		line += fmt.Sprintf(" | endblock_cpu_ms: mean=%s p50=%s p95=%s max=%s | settlements/cpu-s=%.0f | contract-hours/cpu-s=%.0f",
			ms(cpuSum/time.Duration(len(cpu))), ms(at(cpu, 0.5)), ms(at(cpu, 0.95)), ms(cpu[len(cpu)-1]),
			float64(s.settled)/cpuSum.Seconds(), float64(s.settledSeconds)/3600/cpuSum.Seconds())
	}
	// The store work of a block, in gas: the same from 10k to 1M contracts if nothing scans them.
	gas := sorted(s.gas)
	line += fmt.Sprintf(" | store_gas/endblock: min=%d p50=%d max=%d", gas[0], at(gas, 0.5), gas[len(gas)-1])
	if bz, err := os.ReadFile("/proc/loadavg"); err == nil {
		line += " | loadavg " + strings.Join(strings.Fields(string(bz))[:3], " ")
	}
	if s.built.Schedule.timed() && len(s.lags) > 0 {
		lags, respaced := sorted(s.lags), sorted(s.respaced)
		gap := s.built.Schedule.blockGap()
		due := int64(len(eb)) * int64(gap/time.Second) * int64(s.built.Contracts) / s.built.Spacing
		line += fmt.Sprintf(" | %s schedule, %s blocks: came due ≈%d, settled %d, lag_s p50=%d p99=%d max=%d, next due after min=%ds max=%ds",
			s.built.Schedule, gap, due, len(lags), at(lags, 0.5), at(lags, 0.99), lags[len(lags)-1], respaced[0], respaced[len(respaced)-1])
	}
	b.Log(line) // a benchmark's log is always printed
}

func sorted[T int64 | uint64 | time.Duration](xs []T) []T {
	c := slices.Clone(xs)
	slices.Sort(c)
	return c
}

// at is the p-quantile of sorted values.
func at[T any](sorted []T, p float64) T {
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func total(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum
}
