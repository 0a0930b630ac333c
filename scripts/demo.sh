#!/usr/bin/env bash
# Deploys examples/webserver.json (busybox httpd with a volume) as alice on the localnet's node, shows
# its state and output, waits for the node's first consumption report and shows the bill. Needs a
# running `make localnet` started as root (with its node agent).
#
#   make demo                      # what it runs: TFGRIDD=build/tfgridd ./scripts/demo.sh
#
# Environment: TFGRIDD (the binary), LOCALNET_DIR (default <repo>/.localnet), GRPC_PORT (9090).
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

[[ -x "$TFGRIDD" ]] || die "$TFGRIDD is not an executable (run make build)"
[[ -f "$LOCALNET/node.id" ]] || die "no node agent in $LOCALNET: start it first with sudo make localnet (in another shell)"
NODE="$(cat "$LOCALNET/node.id")"

step "the deployment: $FILE (hash $(tfgridd deployment hash "$FILE"))"
# A node takes one contract per deployment hash: give this run's copy its own description.
copy="$(mktemp --suffix .json)"
trap 'rm -f "$copy"' EXIT
sed "s/\"description\": \"a busybox web server/\"description\": \"demo $(date +%s): a busybox web server/" "$FILE" >"$copy"

step "deploy on node $NODE as alice"
out="$(tfgridd deployment deploy "$copy" --node "$NODE" "${as_alice[@]}" 2>&1)" || die "$out"
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

echo
echo "contract $CONTRACT runs on node $NODE. Cancel it (workloads removed, IP freed, deposit returned):"
echo "  $TFGRIDD deployment cancel $CONTRACT --from alice --home $HOME_DIR"
