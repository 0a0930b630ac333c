#!/usr/bin/env bash
# Starts a single-validator tfgrid chain on this machine, in the foreground.
#
#   make localnet                  # build, create a fresh chain under .localnet/, run it
#   RESUME=1 make localnet         # keep .localnet/ and just start it again
#   TFGRIDD=build/tfgridd ./scripts/localnet.sh   # what `make localnet` runs (from any directory)
#
# Everything lives in <repo>/.localnet/ (git-ignored):
#   tfgridd/          the node's home: config/, data/, the test keyring, client.toml (chain id, node,
#                     keyring backend set, so a client only needs --home)
#   logs/tfgridd.log  the node's log
# Accounts (test keyring): validator (bonded), alice, bob, farmer, node1, all funded in utft.
# As root it also runs the node agent: farmer, alice and bob get twins on the relay, a demo farm
# (open registration, one public IP) and zos-agent as node1 with a busybox image (needs runc,
# e2fsprogs and busybox-static). The farm's public network stands in network namespaces:
# tfgl-router holds the farm's gateway, tfgl-uplink the node's public interface (the agent's public
# bridge lives there), and tfgl-inet, behind the router, is "the internet":
#   ip netns exec tfgl-inet curl http://185.69.166.10/
# They stay after Ctrl-C with the workloads (RESUME=1 finds them); a fresh start removes them.
# Without root: chain and relay only.
# Endpoints (loopback only): CometBFT RPC 26657, P2P 26656, gRPC 9090, REST API 1317, relay 8080,
# agent metrics 9100
# (override with RPC_PORT, P2P_PORT, GRPC_PORT, API_PORT, RELAY_PORT, AGENT_METRICS_PORT). Ctrl-C stops everything cleanly.
#
# Environment:
#   TFGRIDD        the tfgridd binary (default: build it into <repo>/build/tfgridd)
#   RESUME=1       keep the existing chain state instead of starting from scratch
#   LOCALNET_DIR   where the state lives (default <repo>/.localnet)
#   LOG_LEVEL      the node's log level (default info)
#   BLOCK_TIME     CometBFT timeout_commit (default 1s)
#   NO_AGENT=1     run no node agent even as root (chain and relay only)
#   ZOS_AGENT      the zos-agent binary (default: build it into <repo>/build/zos-agent)
#   REPORT_PERIOD  how often the agent reports consumption (default 30s)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHAIN_ID="tfgrid-local-1"
DENOM="utft"
LOCALNET="${LOCALNET_DIR:-$ROOT/.localnet}"
NODE_HOME="$LOCALNET/tfgridd"
LOGS="$LOCALNET/logs"
MARKER="$LOCALNET/.tfgrid-localnet" # only a directory holding this file is ever wiped
RESUME="${RESUME:-0}"
LOG_LEVEL="${LOG_LEVEL:-info}"
BLOCK_TIME="${BLOCK_TIME:-1s}"
RPC_PORT="${RPC_PORT:-26657}"
P2P_PORT="${P2P_PORT:-26656}"
GRPC_PORT="${GRPC_PORT:-9090}"
API_PORT="${API_PORT:-1317}"
RELAY_PORT="${RELAY_PORT:-8080}"
RELAY_URL="ws://127.0.0.1:$RELAY_PORT"
AGENT_METRICS_PORT="${AGENT_METRICS_PORT:-9100}"
REPORT_PERIOD="${REPORT_PERIOD:-30s}"
DEMO_FARM="demofarm"
DEMO_IP="${DEMO_IP:-185.69.166.10/24}"
DEMO_GW="${DEMO_GW:-185.69.166.1}"
# The farm's public network (root only): namespaces named with this prefix.
FARM_NS_PREFIX="tfgl-"
NS_UPLINK="${FARM_NS_PREFIX}uplink" NS_ROUTER="${FARM_NS_PREFIX}router" NS_INET="${FARM_NS_PREFIX}inet"
UPLINK_IF="uplink0"

# Accounts and their genesis balances (1 TFT = 1,000,000 utft).
ACCOUNTS=(validator alice bob farmer node1 relay)
VALIDATOR_BALANCE="1000000000000$DENOM" # 1,000,000 TFT
VALIDATOR_BOND="100000000000$DENOM"     #   100,000 TFT self-delegation
USER_BALANCE="10000000000$DENOM"        #    10,000 TFT for each other account

log() { echo "localnet: $*"; }
die() {
  echo "localnet: ERROR: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# 0. The binary.
if [[ -n "${TFGRIDD:-}" ]]; then
  [[ "$TFGRIDD" == /* ]] || TFGRIDD="$PWD/$TFGRIDD"
else
  command -v go >/dev/null || die "go is not on PATH (or set TFGRIDD to a tfgridd binary)"
  log "building tfgridd into $ROOT/build"
  (cd "$ROOT" && go build -o build/tfgridd ./cmd/tfgridd) || die "go build failed"
  TFGRIDD="$ROOT/build/tfgridd"
fi
[[ -x "$TFGRIDD" ]] || die "$TFGRIDD is not an executable (run make build)"

tfgridd() { "$TFGRIDD" "$@"; }
KEYS=(--home "$NODE_HOME" --keyring-backend test)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$RPC_PORT" "$P2P_PORT" "$GRPC_PORT" "$API_PORT" "$RELAY_PORT" "$AGENT_METRICS_PORT"; do
  if port_in_use "$p"; then
    die "127.0.0.1:$p is already in use (another localnet running?); stop it or set RPC_PORT/P2P_PORT/GRPC_PORT/API_PORT/RELAY_PORT/AGENT_METRICS_PORT"
  fi
done

# set_toml FILE SECTION KEY VALUE: sets `KEY = VALUE` inside [SECTION] ("" = top of the file).
set_toml() {
  local file="$1" section="$2" key="$3" value="$4" tmp
  tmp="$(mktemp)"
  awk -v section="$section" -v key="$key" -v value="$value" '
    BEGIN { cur = ""; done = 0 }
    /^\[.*\]$/ { cur = substr($0, 2, length($0) - 2) }
    !done && cur == section && $0 ~ "^" key "[ ]*=" { print key " = " value; done = 1; next }
    { print }
    END { if (!done) exit 3 }
  ' "$file" >"$tmp" || {
    rm -f "$tmp"
    die "$file: no key $key in [${section:-top}]"
  }
  cat "$tmp" >"$file"
  rm -f "$tmp"
}

# set_json_pair FILE OLD NEW: replaces one exact `"key": "value"` pair of the genesis (no jq).
set_json_pair() {
  local file="$1" old="$2" new="$3"
  grep -qF "$old" "$file" || die "$file: $old not found"
  sed -i "s|$old|$new|" "$file"
}

# clear_agent_machine removes what a previous localnet's node agent left running (its workloads
# outlive it so that a restart reattaches them): containers, mounts and loop devices under its data.
clear_agent_machine() {
  local data="$LOCALNET/zos-agent" root id m dev
  [[ -d "$data" ]] || return 0
  log "removing the previous node agent's containers, mounts and loop devices"
  while read -r root; do
    for id in $(runc --root "$root" list -q 2>/dev/null); do
      runc --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    done
  done < <(find "$data" -maxdepth 3 -type d -name runc)
  awk -v d="$data/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  losetup -a 2>/dev/null | awk -F: -v d="$data/" 'index($0, d) { print $1 }' | while read -r dev; do
    losetup -d "$dev" || true
  done
}

# remove_farm_network deletes the namespaces standing in for the farm's public network (with the
# agent's public bridge and veths inside them).
remove_farm_network() {
  local ns
  for ns in "$NS_INET" "$NS_ROUTER" "$NS_UPLINK"; do
    [[ -e "/var/run/netns/$ns" ]] && ip netns del "$ns"
  done
  return 0
}

# ensure_farm_network builds the farm's public network in namespaces, unless it is there: the
# router holds the farm's gateway ($DEMO_GW) facing the node's public interface in the uplink
# namespace, and routes for an "internet" namespace (TEST-NET-2, 198.51.100.0/24).
ensure_farm_network() {
  [[ -e "/var/run/netns/$NS_UPLINK" && -e "/var/run/netns/$NS_ROUTER" && -e "/var/run/netns/$NS_INET" ]] && return 0
  command -v ip >/dev/null || die "ip (iproute2) is needed for the farm's public network"
  remove_farm_network
  log "building the farm's public network in namespaces $NS_ROUTER, $NS_UPLINK and $NS_INET"
  local ns
  for ns in "$NS_UPLINK" "$NS_ROUTER" "$NS_INET"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_ROUTER" link add farm0 type veth peer name "$UPLINK_IF" netns "$NS_UPLINK"
  ip -n "$NS_ROUTER" addr add "$DEMO_GW/${DEMO_IP#*/}" dev farm0
  ip -n "$NS_ROUTER" link add wan0 type veth peer name wan0 netns "$NS_INET"
  ip -n "$NS_ROUTER" addr add 198.51.100.1/24 dev wan0
  ip -n "$NS_INET" addr add 198.51.100.2/24 dev wan0
  ip -n "$NS_ROUTER" link set farm0 up
  ip -n "$NS_ROUTER" link set wan0 up
  ip -n "$NS_UPLINK" link set "$UPLINK_IF" up
  ip -n "$NS_INET" link set wan0 up
  ip -n "$NS_INET" route add default via 198.51.100.1
  ip netns exec "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1
}

# ---------------------------------------------------------------------------------------------
# 1. A fresh chain (unless RESUME=1 and one exists).
create_chain() {
  if [[ -e "$LOCALNET" ]]; then
    if [[ -f "$MARKER" ]]; then
      log "removing the previous chain in $LOCALNET (RESUME=1 keeps it)"
      clear_agent_machine
      [[ "$(id -u)" == 0 ]] && remove_farm_network
      rm -rf "$LOCALNET"
    elif [[ -z "$(ls -A "$LOCALNET")" ]]; then
      rmdir "$LOCALNET"
    else
      die "$LOCALNET exists but was not made by this script; move it away first"
    fi
  fi
  mkdir -p "$LOCALNET" "$LOGS"
  touch "$MARKER"

  log "initialising $NODE_HOME (chain id $CHAIN_ID)"
  tfgridd init localnet --chain-id "$CHAIN_ID" --home "$NODE_HOME" >"$LOGS/init.log" 2>&1 ||
    die "tfgridd init failed: $(tail -n 5 "$LOGS/init.log")"

  log "creating test-keyring accounts: ${ACCOUNTS[*]}"
  local name balance
  for name in "${ACCOUNTS[@]}"; do
    tfgridd keys add "$name" "${KEYS[@]}" --output json >"$LOCALNET/$name.key.json" 2>&1 ||
      die "keys add $name failed: $(cat "$LOCALNET/$name.key.json")"
    chmod 600 "$LOCALNET/$name.key.json" # holds the mnemonic
    balance="$USER_BALANCE"
    [[ "$name" == validator ]] && balance="$VALIDATOR_BALANCE"
    tfgridd genesis add-genesis-account "$name" "$balance" "${KEYS[@]}" >/dev/null
  done

  log "validator gentx: bonding $VALIDATOR_BOND"
  tfgridd genesis gentx validator "$VALIDATOR_BOND" --chain-id "$CHAIN_ID" --moniker localnet "${KEYS[@]}" \
    >>"$LOGS/init.log" 2>&1 || die "gentx failed: $(tail -n 5 "$LOGS/init.log")"
  tfgridd genesis collect-gentxs --home "$NODE_HOME" >>"$LOGS/init.log" 2>&1 ||
    die "collect-gentxs failed: $(tail -n 5 "$LOGS/init.log")"

  # Governance-only messages (pricing/farming policies, params) go through proposals: make the
  # voting period short enough to try them here.
  local genesis="$NODE_HOME/config/genesis.json"
  set_json_pair "$genesis" '"voting_period": "172800s"' '"voting_period": "60s"'
  set_json_pair "$genesis" '"expedited_voting_period": "86400s"' '"expedited_voting_period": "30s"'
  set_json_pair "$genesis" '"max_deposit_period": "172800s"' '"max_deposit_period": "60s"'
  tfgridd genesis validate "$genesis" --home "$NODE_HOME" >/dev/null || die "the genesis does not validate"

  log "configuring: ${BLOCK_TIME} blocks, API and gRPC on loopback"
  local cfg="$NODE_HOME/config/config.toml" app="$NODE_HOME/config/app.toml" client="$NODE_HOME/config/client.toml"
  set_toml "$cfg" consensus timeout_commit "\"$BLOCK_TIME\""
  set_toml "$cfg" rpc laddr "\"tcp://127.0.0.1:$RPC_PORT\""
  set_toml "$cfg" rpc pprof_laddr '""'
  set_toml "$cfg" p2p laddr "\"tcp://127.0.0.1:$P2P_PORT\""
  set_toml "$cfg" p2p pex false
  set_toml "$app" "" minimum-gas-prices "\"0$DENOM\""
  set_toml "$app" api enable true
  set_toml "$app" api address "\"tcp://127.0.0.1:$API_PORT\""
  set_toml "$app" grpc enable true
  set_toml "$app" grpc address "\"127.0.0.1:$GRPC_PORT\""
  # Clients using --home need nothing else.
  set_toml "$client" "" chain-id "\"$CHAIN_ID\""
  set_toml "$client" "" keyring-backend '"test"'
  set_toml "$client" "" node "\"tcp://127.0.0.1:$RPC_PORT\""
}

if [[ "$RESUME" == 1 && -f "$NODE_HOME/config/genesis.json" && -f "$MARKER" ]]; then
  log "resuming the chain in $LOCALNET"
  mkdir -p "$LOGS"
else
  [[ "$RESUME" == 1 ]] && log "RESUME=1 but there is no chain in $LOCALNET yet: creating one"
  create_chain
fi

# ---------------------------------------------------------------------------------------------
# 2. Processes: the node, then (later issues) the off-chain services. cleanup stops them in
#    reverse order on Ctrl-C, on TERM, or when one of them dies.
PIDS=()  # started processes, in start order
NAMES=() # their names, for messages

# stop_pid NAME PID: SIGTERM, then SIGKILL after 30 s.
stop_pid() {
  local name="$1" pid="$2" i
  kill -0 "$pid" 2>/dev/null || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  trap - INT TERM EXIT
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${NAMES[$i]}" "${PIDS[$i]}"
  done
  rm -f "$LOCALNET"/*.pid
}
trap 'echo; cleanup; log "stopped"; exit 0' INT TERM
trap cleanup EXIT

# start_service NAME CMD...: runs CMD in the background, logging to $LOGS/NAME.log.
start_service() {
  local name="$1"
  shift
  "$@" >>"$LOGS/$name.log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
  echo "$!" >"$LOCALNET/$name.pid"
}

height() {
  tfgridd status --node "tcp://127.0.0.1:$RPC_PORT" 2>/dev/null |
    sed -n 's/.*"latest_block_height":"\([0-9]*\)".*/\1/p'
}

log "starting tfgridd (log: $LOGS/tfgridd.log)"
start_service tfgridd "$TFGRIDD" start --home "$NODE_HOME" --log_level "$LOG_LEVEL" --log_no_color
NODE_PID="${PIDS[0]}"
# A resumed chain reports its stored height at once, but serves queries only from its first new
# block: wait for a height above the stored one.
first=""
for ((i = 0; ; i++)); do
  kill -0 "$NODE_PID" 2>/dev/null || {
    tail -n 30 "$LOGS/tfgridd.log" >&2
    [[ "$RESUME" == 1 ]] && log "a chain made by an older tfgridd may not load with this one: run without RESUME=1 to start afresh"
    die "tfgridd exited during start-up (log above)"
  }
  h="$(height || true)"
  [[ -z "$first" && -n "$h" ]] && first="$h"
  [[ -n "$h" && "$h" -ge 1 && ("$RESUME" != 1 || "$h" -gt "$first") ]] && break
  ((i < 600)) || die "no block after 60 s; see $LOGS/tfgridd.log"
  sleep 0.1
done
log "chain is producing blocks (height $h)"

# ---------------------------------------------------------------------------------------------
# 3. Off-chain services, each in its own directory under $LOCALNET, logging to $LOGS/<name>.log.
#    The RMB relay runs as the `relay` account's twin; twins created with --relays $RELAY_URL reach
#    each other through it.
if [[ -n "${RMB_RELAY:-}" ]]; then
  [[ "$RMB_RELAY" == /* ]] || RMB_RELAY="$PWD/$RMB_RELAY"
else
  log "building rmb-relay into $ROOT/build"
  (cd "$ROOT" && go build -o build/rmb-relay ./cmd/rmb-relay) || die "go build of rmb-relay failed"
  RMB_RELAY="$ROOT/build/rmb-relay"
fi
# query_id QUERY ARGS...: the first "id" of `tfgridd query tfgrid QUERY ARGS` (empty if none).
query_id() {
  tfgridd query tfgrid "$@" --home "$NODE_HOME" --output json 2>/dev/null |
    sed -n 's/.*"id": *"\{0,1\}\([0-9][0-9]*\).*/\1/p' | head -n 1
}
# twin_of NAME: the twin id of a local account.
twin_of() { query_id twin-by-account "$(tfgridd keys show "$1" -a "${KEYS[@]}")"; }
RELAY_TWIN="$(twin_of relay || true)"
if [[ -z "$RELAY_TWIN" ]]; then
  log "registering the relay's twin (relay $RELAY_URL)"
  # --wait: the tx is in a block when the command returns; the twin's e2e key is derived from the
  # relay's account key (create-twin's default).
  out="$(tfgridd tx tfgrid create-twin --relays "$RELAY_URL" --from relay -y --wait --home "$NODE_HOME" 2>&1)" ||
    die "the relay's create-twin failed: $out"
  RELAY_TWIN="$(twin_of relay || true)"
  [[ -n "$RELAY_TWIN" ]] || die "the relay's twin is not on chain after its create-twin"
fi
if [[ ! -f "$LOCALNET/relay.key" ]]; then
  (umask 077 && tfgridd keys export relay --unarmored-hex --unsafe --yes "${KEYS[@]}" >"$LOCALNET/relay.key") ||
    die "could not export the relay's key"
fi
log "starting rmb-relay as twin $RELAY_TWIN (log: $LOGS/rmb-relay.log)"
start_service rmb-relay "$RMB_RELAY" --listen "127.0.0.1:$RELAY_PORT" --url "$RELAY_URL" \
  --grpc "127.0.0.1:$GRPC_PORT" --rpc "http://127.0.0.1:$RPC_PORT" --twin-id "$RELAY_TWIN" \
  --key-file "$LOCALNET/relay.key" --data-dir "$LOCALNET/rmb-relay" --log-format text
for ((i = 0; ; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$RELAY_PORT") 2>/dev/null && break
  kill -0 "${PIDS[-1]}" 2>/dev/null || {
    tail -n 30 "$LOGS/rmb-relay.log" >&2
    die "rmb-relay exited during start-up (log above)"
  }
  ((i < 300)) || die "rmb-relay not healthy after 30 s; see $LOGS/rmb-relay.log"
  sleep 0.1
done

# The node agent (as root: it runs containers with runc, loop devices and mounts): a demo farm with
# open registration and one public IP, the farmer's, alice's and bob's twins on the relay, a busybox
# image, and zos-agent as the node1 account. Without root: chain and relay only.
AGENT_STATUS="not running (needs root: sudo make localnet)"
start_agent() {
  local name farm out
  for name in farmer alice bob; do
    if [[ -z "$(twin_of "$name" || true)" ]]; then
      out="$(tfgridd tx tfgrid create-twin --relays "$RELAY_URL" --from "$name" -y --wait --home "$NODE_HOME" 2>&1)" ||
        die "create-twin of $name failed: $out"
    fi
  done
  farm="$(query_id farm-by-name "$DEMO_FARM" || true)"
  if [[ -z "$farm" ]]; then
    log "creating the demo farm $DEMO_FARM (open registration, public IP $DEMO_IP)"
    out="$(tfgridd tx tfgrid create-farm "$DEMO_FARM" --from farmer -y --wait --home "$NODE_HOME" 2>&1)" || die "create-farm failed: $out"
    farm="$(query_id farm-by-name "$DEMO_FARM")"
    out="$(tfgridd tx tfgrid set-farm-open-registration "$farm" true --from farmer -y --wait --home "$NODE_HOME" 2>&1)" ||
      die "set-farm-open-registration failed: $out"
    out="$(tfgridd tx tfgrid add-farm-ip "$farm" "$DEMO_IP" "$DEMO_GW" --from farmer -y --wait --home "$NODE_HOME" 2>&1)" ||
      die "add-farm-ip failed: $out"
  fi
  local data="$LOCALNET/zos-agent"
  if [[ ! -d "$data/images" ]]; then
    log "importing a busybox image into the agent's store"
    local busybox rootfs
    busybox="$(command -v busybox || true)"
    [[ -n "$busybox" ]] || die "busybox is not installed (Debian: apt-get install busybox-static)"
    rootfs="$(mktemp -d)"
    mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,etc,data,root}
    cp "$busybox" "$rootfs/bin/busybox"
    for applet in sh sleep echo cat ls mkdir df dd rm true httpd; do ln -s busybox "$rootfs/bin/$applet"; done
    tar -C "$rootfs" -cf "$LOCALNET/busybox-rootfs.tar" .
    rm -rf "$rootfs"
    "$ZOS_AGENT" image import "$LOCALNET/busybox-rootfs.tar" --name busybox --data-dir "$data" >>"$LOGS/zos-agent.log" 2>&1 ||
      die "image import failed: $(tail -n 5 "$LOGS/zos-agent.log")"
  fi
  ensure_farm_network
  log "starting zos-agent as node1 in farm $farm (log: $LOGS/zos-agent.log)"
  start_service zos-agent "$ZOS_AGENT" run --chain-grpc "127.0.0.1:$GRPC_PORT" --chain-rpc "http://127.0.0.1:$RPC_PORT" \
    --chain-id "$CHAIN_ID" --relays "$RELAY_URL" --keyring-dir "$NODE_HOME" --key-name node1 --farm-id "$farm" \
    --data-dir "$data" --storage "$data:ssd" --metrics-addr "127.0.0.1:$AGENT_METRICS_PORT" --block-time "$BLOCK_TIME" \
    --report-period "$REPORT_PERIOD" --reconcile-period 30s \
    --uplink-netns "$NS_UPLINK" --public-interface "$UPLINK_IF" --public-gateway "$DEMO_GW"
  for ((i = 0; ; i++)); do
    curl -fsS "http://127.0.0.1:$AGENT_METRICS_PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || {
      tail -n 30 "$LOGS/zos-agent.log" >&2
      die "zos-agent exited during start-up (log above; zos-agent check lists what the machine lacks)"
    }
    ((i < 600)) || die "zos-agent not healthy after 60 s; see $LOGS/zos-agent.log"
    sleep 0.1
  done
  NODE_ID="$(query_id node-by-twin "$(twin_of node1)")"
  echo "$NODE_ID" >"$LOCALNET/node.id"
  AGENT_STATUS="node $NODE_ID in farm $farm (metrics http://127.0.0.1:$AGENT_METRICS_PORT/metrics; log $LOGS/zos-agent.log)
                the farm's public network: gateway $DEMO_GW, the internet in namespace $NS_INET"
}
if [[ "${NO_AGENT:-0}" == 1 ]]; then
  AGENT_STATUS="not running (NO_AGENT=1)"
  log "NO_AGENT=1: running the chain and the relay only"
elif [[ "$(id -u)" == 0 ]]; then
  if [[ -n "${ZOS_AGENT:-}" ]]; then
    [[ "$ZOS_AGENT" == /* ]] || ZOS_AGENT="$PWD/$ZOS_AGENT"
  else
    log "building zos-agent into $ROOT/build"
    (cd "$ROOT" && go build -o build/zos-agent ./cmd/zos-agent) || die "go build of zos-agent failed"
    ZOS_AGENT="$ROOT/build/zos-agent"
  fi
  start_agent
else
  log "not root: running the chain and the relay only (the node agent needs root: sudo make localnet)"
fi

# ---------------------------------------------------------------------------------------------
# 4. Summary.
echo
echo "tfgrid localnet is running — chain id $CHAIN_ID, ${BLOCK_TIME} blocks"
echo
echo "  CometBFT RPC  tcp://127.0.0.1:$RPC_PORT"
echo "  REST API      http://127.0.0.1:$API_PORT   (OpenAPI: http://127.0.0.1:$API_PORT/openapi.json)"
echo "  gRPC          127.0.0.1:$GRPC_PORT"
echo "  P2P           tcp://127.0.0.1:$P2P_PORT"
echo "  node home     $NODE_HOME"
echo "  node log      $LOGS/tfgridd.log"
echo "  RMB relay     $RELAY_URL   (twin $RELAY_TWIN; metrics http://127.0.0.1:$RELAY_PORT/metrics; log $LOGS/rmb-relay.log)"
echo "  node agent    $AGENT_STATUS"
echo
echo "accounts (test keyring; mnemonics in $LOCALNET/<name>.key.json):"
for name in "${ACCOUNTS[@]}"; do
  printf '  %-10s %s\n' "$name" "$(tfgridd keys show "$name" -a "${KEYS[@]}")"
done
echo
echo "use it from another shell (client.toml in the home sets the chain id, node and test keyring):"
echo "  export PATH=\"$(dirname "$TFGRIDD"):\$PATH\" TFHOME=\"$NODE_HOME\""
echo "  tfgridd query tfgrid twins --home \$TFHOME"
echo "  tfgridd tx tfgrid create-twin --relays $RELAY_URL --from alice -y --wait --home \$TFHOME"
echo "or, without the client config: --home $NODE_HOME --keyring-backend test --chain-id $CHAIN_ID --node tcp://127.0.0.1:$RPC_PORT"
echo
echo "Ctrl-C stops the chain; RESUME=1 make localnet starts it again with its state."
echo

# Foreground: wait until Ctrl-C (trap above) or until the node dies.
set +e
wait "$NODE_PID"
rc=$?
set -e
if ((rc == 0)); then
  log "tfgridd stopped"
  exit 0
fi
echo "localnet: ERROR: tfgridd exited with status $rc; last lines of its log:" >&2
tail -n 30 "$LOGS/tfgridd.log" >&2
exit 1
