#!/usr/bin/env bash
# bench-chain.sh — committed tx/s of tfgrid registry transactions (MsgCreateTwin,
# MsgCreateFarm) and node contracts (MsgCreateNodeContract without and with a
# public IP) against plain bank sends, on one fresh single-node chain.
#
#   make bench-chain                                # = TFGRIDD=build/tfgridd ./scripts/bench-chain.sh
#   ACCOUNTS=20000 ./scripts/bench-chain.sh         # bigger phases
#   PROFILE=1 ./scripts/bench-chain.sh              # + a CPU profile of the node per phase
#
# Steps: build cmd/tfgrid-loadgen; create a chain in a temp dir (one validator,
# ACCOUNTS deterministic accounts and the contract farmers funded by editing
# genesis.json directly); run
# the node on free loopback ports; run `tfgrid-loadgen run`, which pre-signs
# every phase, broadcasts it, walks the committed blocks and prints the tables.
# See docs/benchmarks.md for the method and the numbers.
#
# Environment (all optional):
#   TFGRIDD         node binary (default build/tfgridd, built if missing)
#   ACCOUNTS        funded accounts = txs per phase (default 10000)
#   PHASES          phase order (default: twin and farm once, then three rounds
#                   of nc and nc-ip; every measured phase is bracketed by bank
#                   phases on the same node). nc and nc-ip need the twin phase
#                   before them; the first of them sets up ACCOUNTS/256 farms of
#                   256 public IPs per nc-ip phase, one node each (untimed).
#   TIMEOUT_COMMIT  CometBFT timeout_commit (default 200ms)
#   MEMPOOL_SIZE    CometBFT mempool size (default 100000)
#   APP_DB          app-db-backend of the node's state (default: the node's own,
#                   goleveldb; pebbledb is built in)
#   INDEXER         CometBFT tx indexer: kv (the default of a node, indexes every
#                   event attribute) or null (what many validators run)
#   MODE            grpc-sync | rpc-sync | rpc-async (default grpc-sync)
#   WORKERS         broadcasting goroutines (default 64)
#   LOADGEN_ARGS    extra flags for `tfgrid-loadgen run` (see tfgrid-loadgen run -h)
#   JSON_OUT        also write the report as JSON to this file
#   PROFILE=1       take a CPU profile of the node in each phase (node pprof
#                   server); profiles and `pprof -top` summaries go to PROFILE_DIR
#                   (default build/bench-profiles). Profiling costs a little
#                   throughput: quote the numbers of runs without it.
#   KEEP=1          keep the temp dir (chain home, node log)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
GO=${GO:-go}
TFGRIDD=${TFGRIDD:-build/tfgridd}
ACCOUNTS=${ACCOUNTS:-10000}
PHASES=${PHASES:-bank,twin,bank,farm,bank,nc,bank,nc-ip,bank,nc,bank,nc-ip,bank,nc,bank,nc-ip,bank}
IP_ROUNDS=$(tr ',' '\n' <<<"$PHASES" | grep -cx 'nc-ip' || true)
TIMEOUT_COMMIT=${TIMEOUT_COMMIT:-200ms}
MEMPOOL_SIZE=${MEMPOOL_SIZE:-100000}
INDEXER=${INDEXER:-kv}
APP_DB=${APP_DB:-}
MODE=${MODE:-grpc-sync}
WORKERS=${WORKERS:-64}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
JSON_OUT=${JSON_OUT:-}
PROFILE=${PROFILE:-0}
PROFILE_DIR=${PROFILE_DIR:-$ROOT/build/bench-profiles}
KEEP=${KEEP:-0}
CHAIN_ID=tfgrid-local-1

T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }
say() { echo "[bench-chain $(elapsed)] $*"; }

if [[ ! -x $TFGRIDD ]]; then
	say "building $TFGRIDD"
	$GO build -o "$TFGRIDD" ./cmd/tfgridd
fi
TFGRIDD=$(cd "$(dirname "$TFGRIDD")" && pwd)/$(basename "$TFGRIDD")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tfgrid-bench.XXXXXX")
HOME_DIR=$WORK/home
LOADGEN=$WORK/tfgrid-loadgen
NODE_PID=

cleanup() {
	local rc=$?
	if [[ -n $NODE_PID ]] && kill -0 "$NODE_PID" 2>/dev/null; then
		kill -TERM "$NODE_PID" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$NODE_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$NODE_PID" 2>/dev/null && kill -KILL "$NODE_PID" 2>/dev/null || true
	fi
	if [[ $rc -ne 0 && -f $WORK/node.log ]]; then
		echo "--- last lines of the node log ($WORK/node.log) ---" >&2
		tail -n 30 "$WORK/node.log" >&2 || true
	fi
	if [[ $KEEP == 1 || $rc -ne 0 ]]; then
		echo "kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The numbers are only worth quoting on an otherwise idle machine: say how busy it is.
load_before=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load_before" -v n="$(nproc)" 'BEGIN { exit !(l > 0.5 * n) }'; then
	say "WARNING: load average $load_before on $(nproc) cores before the run; other processes will skew the numbers (see the 'other CPU s' column)"
fi

say "building the load generator"
$GO build -o "$LOADGEN" ./cmd/tfgrid-loadgen

# --- chain -------------------------------------------------------------------
say "creating a chain with $ACCOUNTS funded accounts in $HOME_DIR"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2; exit 1; }; }
q "$TFGRIDD" init bench --chain-id "$CHAIN_ID" --home "$HOME_DIR"
q "$TFGRIDD" keys add validator --keyring-backend test --home "$HOME_DIR"
q "$TFGRIDD" genesis add-genesis-account validator 1000000000000utft --keyring-backend test --home "$HOME_DIR"
q "$TFGRIDD" genesis gentx validator 100000000utft --chain-id "$CHAIN_ID" --keyring-backend test --home "$HOME_DIR"
q "$TFGRIDD" genesis collect-gentxs --home "$HOME_DIR"
"$LOADGEN" genesis -genesis "$HOME_DIR/config/genesis.json" -accounts "$ACCOUNTS" -ip-rounds "$IP_ROUNDS"
q "$TFGRIDD" genesis validate "$HOME_DIR/config/genesis.json" --home "$HOME_DIR"

read -r P_RPC P_P2P P_GRPC P_PPROF P_ABCI < <("$LOADGEN" ports -n 5)
CFG=$HOME_DIR/config/config.toml
APP=$HOME_DIR/config/app.toml
# Every listener on loopback and on ports picked free just now, so a localnet on
# the default ports is left alone.
sed -i \
	-e "s|^proxy_app = .*|proxy_app = \"tcp://127.0.0.1:$P_ABCI\"|" \
	-e "/^\[rpc\]/,/^\[/ s|^laddr = .*|laddr = \"tcp://127.0.0.1:$P_RPC\"|" \
	-e "/^\[p2p\]/,/^\[/ s|^laddr = .*|laddr = \"tcp://127.0.0.1:$P_P2P\"|" \
	-e "s|^pprof_laddr = .*|pprof_laddr = \"127.0.0.1:$P_PPROF\"|" \
	-e "s|^timeout_commit = .*|timeout_commit = \"$TIMEOUT_COMMIT\"|" \
	-e "/^\[mempool\]/,/^\[/ s|^size = .*|size = $MEMPOOL_SIZE|" \
	-e "/^\[tx_index\]/,/^\[/ s|^indexer = .*|indexer = \"$INDEXER\"|" \
	-e "s|^prometheus = .*|prometheus = false|" \
	"$CFG"
sed -i \
	-e "s|^minimum-gas-prices = .*|minimum-gas-prices = \"0utft\"|" \
	-e "s|^app-db-backend = .*|app-db-backend = \"$APP_DB\"|" \
	-e "/^\[api\]/,/^\[/ s|^enable = .*|enable = false|" \
	-e "/^\[grpc\]/,/^\[/ s|^address = .*|address = \"127.0.0.1:$P_GRPC\"|" \
	-e "/^\[grpc-web\]/,/^\[/ s|^enable = .*|enable = false|" \
	-e "/^\[telemetry\]/,/^\[/ s|^enabled = .*|enabled = false|" \
	"$APP"
for want in "timeout_commit = \"$TIMEOUT_COMMIT\"" "size = $MEMPOOL_SIZE" "indexer = \"$INDEXER\"" "pprof_laddr = \"127.0.0.1:$P_PPROF\""; do
	grep -qF "$want" "$CFG" || { echo "config.toml: could not set $want" >&2; exit 1; }
done
grep -qF "address = \"127.0.0.1:$P_GRPC\"" "$APP" || { echo "app.toml: could not set the gRPC address" >&2; exit 1; }

# --- node ----------------------------------------------------------------------
say "starting tfgridd (rpc 127.0.0.1:$P_RPC, grpc 127.0.0.1:$P_GRPC, timeout_commit $TIMEOUT_COMMIT, mempool $MEMPOOL_SIZE)"
"$TFGRIDD" start --home "$HOME_DIR" --log_level warn --log_no_color >"$WORK/node.log" 2>&1 &
NODE_PID=$!

# --- load ----------------------------------------------------------------------
args=(
	-grpc "127.0.0.1:$P_GRPC" -rpc "http://127.0.0.1:$P_RPC" -chain-id "$CHAIN_ID"
	-accounts "$ACCOUNTS" -phases "$PHASES" -mode "$MODE" -workers "$WORKERS" -node-pid "$NODE_PID"
)
if [[ $PROFILE == 1 ]]; then
	mkdir -p "$PROFILE_DIR"
	args+=(-pprof "http://127.0.0.1:$P_PPROF" -profile-dir "$PROFILE_DIR")
fi
[[ -n $JSON_OUT ]] && args+=(-json "$JSON_OUT")
# shellcheck disable=SC2086 # LOADGEN_ARGS is a list of flags
"$LOADGEN" run "${args[@]}" $LOADGEN_ARGS

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $($GO version | cut -d' ' -f3)"
echo "node: timeout_commit $TIMEOUT_COMMIT, mempool size $MEMPOOL_SIZE, log level warn, tx indexer $INDEXER, app db ${APP_DB:-goleveldb}"
echo "load average: $load_before before the run, $(cut -d' ' -f1 /proc/loadavg) after"

if [[ $PROFILE == 1 ]]; then
	for p in "$PROFILE_DIR"/*.pprof; do
		[[ -f $p ]] || continue
		name=$(basename "$p" .pprof)
		$GO tool pprof -traces "$TFGRIDD" "$p" 2>/dev/null >"$PROFILE_DIR/$name.traces.txt" || true
		$GO tool pprof -top -cum -nodecount=60 "$TFGRIDD" "$p" 2>/dev/null >"$PROFILE_DIR/$name.top.txt" || true
		$GO tool pprof -top -cum -nodecount=60 -focus='x/tfgrid/keeper' "$TFGRIDD" "$p" 2>/dev/null >"$PROFILE_DIR/$name.tfgrid.txt" || true
		echo
		echo "=== node CPU profile, phase $name ($PROFILE_DIR/$name.pprof) ==="
		"$LOADGEN" profile-split <"$PROFILE_DIR/$name.traces.txt" || true
	done
	echo "(go tool pprof -http=: $TFGRIDD <profile>; *.top.txt and *.tfgrid.txt hold text summaries)"
fi
say "done"
