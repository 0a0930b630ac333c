#!/usr/bin/env bash
# bench-billing.sh — the billing EndBlocker on states of 10k, 100k and 1M live node contracts.
#
#   make bench-billing                              # = ./scripts/bench-billing.sh
#   SIZES=10000,100000 ./scripts/bench-billing.sh   # smaller states only
#   SCHEDULE=runway ./scripts/bench-billing.sh      # the runway schedule's steady state (lag, contract-hours)
#   PROFILE=1 ./scripts/bench-billing.sh            # + a CPU profile and its `pprof -top` summary
#
# The benchmark (x/billing/bench) writes each state directly through the keepers' collections into
# the app's own multistore — IAVL (cosmos-sdk store/v2 + cosmos/iavl) over goleveldb — committed in
# batches, checks the chain's invariants on it, and reopens the app on it (a cold IAVL cache, as after
# a node restart). It then measures BLOCKS blocks: per block one EndBlocker call on a fresh cache of
# the last commit (wall time and the CPU time of its OS thread), then Write + Commit (timed apart).
# See docs/benchmarks.md ("bench-billing") for the method and the numbers.
#
# Environment (all optional):
#   SIZES      comma-separated contract counts (default 10000,100000,1000000)
#   SCHEDULE   when the contracts come due (default: all due at once; each block settles the cap of
#              200, 5 s blocks):
#              hourly  the previous design as a baseline: max_settlement_interval = settlement_interval
#                      (1 h), n contracts due per hour from the first block on, 6 s blocks
#              runway  the runway schedule's steady state: default params (max_settlement_interval
#                      24 h), every owner funded with at least 72 h of its contracts' hourly ceilings,
#                      n contracts due per 24 h from the first block on, 6 s blocks
#              hourly and runway report the settlement lag (block time − due time) p50/p99/max and when
#              each settled contract is next due; every run reports contract-hours billed per CPU-second
#   BLOCKS     measured blocks per state (default 40 when all are due, 600 = 1 h of 6 s blocks otherwise)
#   CACHE=0    build every state afresh; by default a state is built once per (layout version,
#              schedule, size) under build/bench-billing-cache/ and each run measures a copy of it
#   DB         goleveldb | memdb under IAVL (default goleveldb; memdb is never cached)
#   LEVELDB    app | sdk: open goleveldb as tfgridd does (app.OpenDB: 256 MiB block cache; default) or
#              with the SDK's defaults (8 MiB), for an A/B of the cache
#   PROFILE=1  write a CPU profile to OUT_DIR/bench-billing.cpu and its top functions under the
#              EndBlocker to OUT_DIR/bench-billing.pprof.txt (profiling costs a little time)
#   OUT_DIR    where the log (bench-billing.txt) and profiles go (default build/)
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
SIZES=${SIZES:-10000,100000,1000000}
SCHEDULE=${SCHEDULE:-}
if [[ -n $SCHEDULE ]]; then
	BLOCKS=${BLOCKS:-600}
else
	BLOCKS=${BLOCKS:-40}
fi
CACHE=${CACHE:-1}
DB=${DB:-goleveldb}
LEVELDB=${LEVELDB:-app}
PROFILE=${PROFILE:-0}
OUT_DIR=${OUT_DIR:-build}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd) # the test runs in its package's directory
LOG=$OUT_DIR/bench-billing.txt
CACHE_DIR=
if [[ $CACHE != 0 ]]; then
	CACHE_DIR=$PWD/build/bench-billing-cache
	mkdir -p "$CACHE_DIR"
fi

{
	echo "# bench-billing $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# sizes=$SIZES schedule=${SCHEDULE:-all-due} blocks=$BLOCKS store=iavl/$DB leveldb-opts=$LEVELDB cache=${CACHE_DIR:-off}"
	echo "# nproc=$(nproc) cpu=\"$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)\" $($GO version)"
	echo "# mem: $(awk '/^MemTotal/ {printf "%.1f GiB total", $2/1048576} /^MemAvailable/ {printf ", %.1f GiB available", $2/1048576}' /proc/meminfo 2>/dev/null)"
	echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	echo "# commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet -- x/ app/ 2>/dev/null || echo ' + uncommitted changes in x/ or app/')"
} | tee "$LOG"

args=(./x/billing/bench -run '^$' -bench '^BenchmarkEndBlock$' -benchtime "${BLOCKS}x" -timeout 180m -v)
if [[ $PROFILE == 1 ]]; then
	args+=(-cpuprofile "$OUT_DIR/bench-billing.cpu" -o "$OUT_DIR/bench-billing.test")
fi
BILLING_BENCH_SIZES=$SIZES BILLING_BENCH_DB=$DB BILLING_BENCH_LEVELDB=$LEVELDB BILLING_BENCH_SCHEDULE=$SCHEDULE BILLING_BENCH_CACHE=$CACHE_DIR \
	$GO test "${args[@]}" 2>&1 | tee -a "$LOG"

echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$LOG"
if [[ $PROFILE == 1 ]]; then
	$GO tool pprof -top -cum -focus 'keeper.\(\*Keeper\).EndBlocker' "$OUT_DIR/bench-billing.test" "$OUT_DIR/bench-billing.cpu" \
		>"$OUT_DIR/bench-billing.pprof.txt" 2>/dev/null || true
	echo "# profile: $OUT_DIR/bench-billing.cpu, summary: $OUT_DIR/bench-billing.pprof.txt"
fi
echo
echo "Summary (wall time is inflated on a loaded machine; the CPU time of the EndBlock thread is not):"
grep -E 'RESULT ' "$LOG" | sed -E 's/^.*RESULT /RESULT /'
echo "Targets (issue 13 §1): lag p99 <= one block, EndBlock CPU p95 <= 100 ms, >= 20,000 settlements (or contract-hours billed) per CPU-second. Log: $LOG"
