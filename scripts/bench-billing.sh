#!/usr/bin/env bash
# bench-billing.sh — the billing EndBlocker on states of 10k, 100k and 1M live node contracts.
#
#   make bench-billing                              # = ./scripts/bench-billing.sh
#   SIZES=10000,100000 ./scripts/bench-billing.sh   # smaller states only
#   PROFILE=1 ./scripts/bench-billing.sh            # + a CPU profile and its `pprof -top` summary
#
# The benchmark (x/billing/bench) writes each state directly through the keepers' collections into
# the app's own multistore — IAVL (cosmos-sdk store/v2 + cosmos/iavl) over goleveldb in a temp dir,
# committed in batches — with every contract due, then measures BLOCKS blocks: per block one
# EndBlocker call at the default cap (max_settlements_per_block = 200) on a fresh cache of the last
# commit (wall time and the CPU time of its OS thread), then Write + Commit (timed apart). See
# docs/benchmarks.md ("bench-billing") for the method and the numbers.
#
# Environment (all optional):
#   SIZES      comma-separated contract counts (default 10000,100000,1000000)
#   BLOCKS     measured blocks per state (default 40; each settles 200 distinct contracts)
#   DB         goleveldb | memdb under IAVL (default goleveldb)
#   SCHEDULE=hourly  contracts come due at n per hour from the first block on, 6 s blocks; reports
#              the settlement lag (block time − due time) p50/p99/max instead of settling the cap
#   PROFILE=1  write a CPU profile to OUT_DIR/bench-billing.cpu and its top functions under the
#              EndBlocker to OUT_DIR/bench-billing.pprof.txt (profiling costs a little time)
#   OUT_DIR    where the log (bench-billing.txt) and profiles go (default build/)
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
SIZES=${SIZES:-10000,100000,1000000}
BLOCKS=${BLOCKS:-40}
DB=${DB:-goleveldb}
PROFILE=${PROFILE:-0}
OUT_DIR=${OUT_DIR:-build}
mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/bench-billing.txt

{
	echo "# bench-billing $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# sizes=$SIZES blocks=$BLOCKS store=iavl/$DB"
	echo "# nproc=$(nproc) cpu=\"$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)\" $($GO version)"
	echo "# mem: $(awk '/^MemTotal/ {printf "%.1f GiB total", $2/1048576} /^MemAvailable/ {printf ", %.1f GiB available", $2/1048576}' /proc/meminfo 2>/dev/null)"
	echo "# loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
	echo "# commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet -- x/ app/ 2>/dev/null || echo ' + uncommitted changes in x/ or app/')"
} | tee "$LOG"

args=(./x/billing/bench -run '^$' -bench '^BenchmarkEndBlock$' -benchtime "${BLOCKS}x" -timeout 180m -v)
if [[ $PROFILE == 1 ]]; then
	args+=(-cpuprofile "$OUT_DIR/bench-billing.cpu" -o "$OUT_DIR/bench-billing.test")
fi
BILLING_BENCH_SIZES=$SIZES BILLING_BENCH_DB=$DB BILLING_BENCH_SCHEDULE=${SCHEDULE:-} $GO test "${args[@]}" 2>&1 | tee -a "$LOG"

echo "# loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" | tee -a "$LOG"
if [[ $PROFILE == 1 ]]; then
	$GO tool pprof -top -cum -focus 'keeper.\(\*Keeper\).EndBlocker' "$OUT_DIR/bench-billing.test" "$OUT_DIR/bench-billing.cpu" \
		>"$OUT_DIR/bench-billing.pprof.txt" 2>/dev/null || true
	echo "# profile: $OUT_DIR/bench-billing.cpu, summary: $OUT_DIR/bench-billing.pprof.txt"
fi
echo
echo "Summary (wall time is inflated on a loaded machine; the CPU time of the EndBlock thread is not):"
grep -E 'RESULT ' "$LOG" | sed -E 's/^.*RESULT /RESULT /'
echo "Targets: flat from 10k to 1M, >= 5000 settlements/s, EndBlock <= 100 ms at the default cap. Log: $LOG"
