#!/usr/bin/env bash
# Benchmarks RMB on loopback (make bench-rmb): starts a real tfgridd chain with the benchmark twins,
# one rmb-relay process (embedded store) and the load generator cmd/rmb-bench, then prints
#   (a) relay throughput with envelopes pre-signed and pre-encrypted by the load generator, and
#   (b) signed + encrypted request→response latency at a fixed rate and the highest sustained rate,
# each with the CPU used by the relay, the peers (load generator) and the chain, and the core count.
# The result is also written to build/bench-rmb.txt. Record it in docs/benchmarks.md (section rmb).
#
# Environment: TFGRIDD (default build/tfgridd), RMB_RELAY (default build/rmb-relay),
# RMB_BENCH_ARGS (extra rmb-bench flags, e.g. "--duration-a 20s --rate 500 --concurrency 1,8,32"),
# RMB_BENCH_NICE (default -10 as root, else 0): the niceness of the benchmark and of the chain and
# relay it starts, so that other work on a shared machine disturbs the measurement less.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TFGRIDD="${TFGRIDD:-build/tfgridd}"
RMB_RELAY="${RMB_RELAY:-build/rmb-relay}"
die() { echo "bench-rmb: ERROR: $*" >&2; exit 1; }
[[ -x "$TFGRIDD" ]] || die "$TFGRIDD not found: run make build"
[[ -x "$RMB_RELAY" ]] || die "$RMB_RELAY not found: run make build-rmb"
mkdir -p build
go build -o build/rmb-bench ./cmd/rmb-bench || die "go build ./cmd/rmb-bench failed"
{
  echo "# rmb benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | awk '{print $3}')"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine share its cores)"
  nice_level="${RMB_BENCH_NICE:-$([[ $EUID == 0 ]] && echo -10 || echo 0)}"
  echo "niceness of the benchmark processes: $nice_level"
  # shellcheck disable=SC2086
  nice -n "$nice_level" ./build/rmb-bench --tfgridd "$TFGRIDD" --relay "$RMB_RELAY" ${RMB_BENCH_ARGS:-}
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee build/bench-rmb.txt
