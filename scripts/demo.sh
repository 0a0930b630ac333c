#!/usr/bin/env bash
# Deploys examples/webserver.json (busybox httpd with a volume, on a public IP of the demo farm) as
# alice on the localnet's node, shows its state and output, fetches its page from the namespace
# standing in for the internet, waits for the node's first consumption report and shows the bill,
# then cancels it and checks that the IP no longer answers and is free again. Needs a running
# `sudo make localnet` (with its node agent) and root (its keyring and `ip netns exec`).
#
#   sudo make demo                 # what it runs: TFGRIDD=build/tfgridd ./scripts/demo.sh
#   sudo KEEP=1 make demo          # leave the deployment running (the cancel command is printed)
#
# Environment: TFGRIDD (the binary), LOCALNET_DIR (default <repo>/.localnet), GRPC_PORT (9090),
# KEEP=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCALNET="${LOCALNET_DIR:-$ROOT/.localnet}"
HOME_DIR="$LOCALNET/tfgridd"
TFGRIDD="${TFGRIDD:-$ROOT/build/tfgridd}"
GRPC_PORT="${GRPC_PORT:-9090}"
FILE="${FILE:-$ROOT/examples/webserver.json}"

die() {
  echo "demo: ERROR: $*" >&2
  exit 1
}
step() { printf '\n== %s\n' "$*"; }
tfgridd() { "$TFGRIDD" "$@" --home "$HOME_DIR"; }
as_alice=(--from alice --chain-grpc "127.0.0.1:$GRPC_PORT")

INTERNET_NS="tfgl-inet" # localnet.sh's namespace standing in for the internet
[[ -x "$TFGRIDD" ]] || die "$TFGRIDD is not an executable (run make build)"
[[ "$(id -u)" == 0 ]] || die "run it as root, like the localnet: sudo make demo"
[[ -f "$LOCALNET/node.id" ]] || die "no node agent in $LOCALNET: start it first with sudo make localnet (in another shell)"
NODE="$(cat "$LOCALNET/node.id")"

step "the deployment: $FILE (hash $(tfgridd deployment hash "$FILE"))"
# A node takes one contract per deployment hash: give this run's copy its own description.
copy="$(mktemp --suffix .json)"
trap 'rm -f "$copy"' EXIT
sed "s/\"description\": \"a busybox web server/\"description\": \"demo $(date +%s): a busybox web server/" "$FILE" >"$copy"

step "deploy on node $NODE as alice (one of the farm's public IPs reserved by the contract)"
out="$(tfgridd deployment deploy "$copy" --node "$NODE" --public-ips 1 "${as_alice[@]}" 2>&1)" || die "$out"
echo "$out"
CONTRACT="$(sed -n 's/^contract \([0-9]*\): deployed.*/\1/p' <<<"$out")"
[[ -n "$CONTRACT" ]] || die "no contract id in the output above"

step "its state on the node (tfgridd deployment get $CONTRACT)"
tfgridd deployment get "$CONTRACT" "${as_alice[@]}"

step "the web server's output"
log="$LOCALNET/zos-agent/containers/tfz-$CONTRACT-web/output.log"
for ((i = 0; i < 50; i++)); do
  [[ -s "$log" ]] && break
  sleep 0.2
done
cat "$log" 2>/dev/null || echo "(no output yet in $log)"

IP="$(tfgridd query smartcontract contract "$CONTRACT" --output json | sed -n 's/.*"ip": *"\([0-9.]*\)\/[0-9]*".*/\1/p' | head -n 1)"
[[ -n "$IP" ]] || die "contract $CONTRACT holds no public IP"
step "its page on its public IP $IP, from the internet (ip netns exec $INTERNET_NS curl http://$IP/)"
page=""
for ((i = 0; i < 50; i++)); do
  page="$(ip netns exec "$INTERNET_NS" curl -fsS -m 2 "http://$IP/" 2>/dev/null)" && break
  sleep 0.2
done
[[ -n "$page" ]] || die "http://$IP/ does not answer from $INTERNET_NS"
echo "$page"

step "recover it from the chain (decrypted with alice's key; identical to what was deployed)"
if tfgridd deployment recover "$CONTRACT" "${as_alice[@]}" | cmp -s - "$copy"; then
  echo "recovered file = the deployed file"
else
  die "the recovered file differs from the deployed one"
fi

step "waiting for the node's first consumption report"
for ((i = 0; ; i++)); do
  bill="$(tfgridd query billing contract "$CONTRACT" --output json 2>/dev/null || true)"
  grep -q '"last_report"' <<<"$bill" && break
  ((i < 120)) || die "no consumption report after 120 s (see $LOCALNET/logs/zos-agent.log)"
  sleep 1
done
echo "$bill"
step "alice's costs"
tfgridd query billing twin-costs "$(tfgridd query tfgrid twin-by-account "$(tfgridd keys show alice -a)" --output json |
  sed -n 's/.*"id": *"\{0,1\}\([0-9][0-9]*\).*/\1/p' | head -n 1)"

if [[ "${KEEP:-0}" == 1 ]]; then
  echo
  echo "contract $CONTRACT runs on node $NODE at http://$IP/. Cancel it (workloads removed, IP freed, deposit returned):"
  echo "  $TFGRIDD deployment cancel $CONTRACT --from alice --home $HOME_DIR"
  exit 0
fi

step "cancel: the node removes the workloads, the IP is free again, the deposit returns"
tfgridd deployment cancel "$CONTRACT" "${as_alice[@]}"
for ((i = 0; ; i++)); do
  ip netns exec "$INTERNET_NS" curl -fsS -m 1 "http://$IP/" >/dev/null 2>&1 || break
  ((i < 30)) || die "http://$IP/ still answers after cancel"
  sleep 0.5
done
echo "http://$IP/ no longer answers"
tfgridd query tfgrid farm-public-ips "$(tfgridd query tfgrid node "$NODE" --output json | sed -n 's/.*"farm_id": *"\{0,1\}\([0-9][0-9]*\).*/\1/p' | head -n 1)"
