#!/usr/bin/env bash
# Benchmarks the node agent (make bench-agent): starts a real tfgridd chain, an rmb-relay and
# zos-agent (root: runc, loop devices, QEMU), then measures the latency from the RMB deploy request
# to every workload `ok` for a container with a 16 MiB volume, over 50 sequential deployments and
# with 10 concurrent deployers; on a node with a public network (a farm in namespaces), for a
# container with a network and a public IP (20 sequential) and for a TCG virtual machine with the
# same, to ok and to its first answer on its public IP (5), each VM's boot broken down in a `VM n:`
# line (zos-agent/e2e/bench_test.go, build tag bench); and the public-IP path's TCP throughput
# each way with and without the nftables rules (zos-agent/backend/publicip/bench_test.go). The result is also written to build/bench-agent.txt.
# Record it in docs/benchmarks.md (section bench-agent).
#
# Environment: TFGRIDD (default build/tfgridd), ZOS_AGENT (default build/zos-agent),
# RMB_RELAY (default build/rmb-relay).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TFGRIDD="${TFGRIDD:-build/tfgridd}"
ZOS_AGENT="${ZOS_AGENT:-build/zos-agent}"
RMB_RELAY="${RMB_RELAY:-build/rmb-relay}"
die() { echo "bench-agent: ERROR: $*" >&2; exit 1; }
[[ $EUID == 0 ]] || die "run as root (containers, loop devices, mounts)"
[[ -x "$TFGRIDD" ]] || die "$TFGRIDD not found: run make build"
[[ -x "$ZOS_AGENT" ]] || die "$ZOS_AGENT not found: run make build-agent"
[[ -x "$RMB_RELAY" ]] || die "$RMB_RELAY not found: run make build-rmb"
mkdir -p build
{
  echo "# zos-agent benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on this machine share its cores)"
  TFGRIDD_BIN="$ROOT/$TFGRIDD" ZOS_AGENT_BIN="$ROOT/$ZOS_AGENT" RMB_RELAY_BIN="$ROOT/$RMB_RELAY" \
    go test -tags bench ./zos-agent/e2e/ -run '^TestBench(Deploy|PublicDeploy)$' -count=1 -v -timeout 40m |
    grep -E 'BENCH|machine:|first deployment|bench_test.go|^(--- |ok|FAIL|PASS)|Error' || true
  go test -tags bench ./zos-agent/backend/publicip/ -run '^TestBenchPublicPath$' -count=1 -v -timeout 5m |
    grep -E 'BENCH|bench_test.go|^(--- |ok|FAIL|PASS)|Error' || true
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee build/bench-agent.txt
[[ $(grep -c '^ok' build/bench-agent.txt) == 2 ]] && ! grep -q '^FAIL' build/bench-agent.txt || die "the benchmark failed (see above)"
