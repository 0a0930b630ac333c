#!/usr/bin/env bash
# Regenerates ts-client/src/generated/ from proto/tfgrid, offline:
#   - ts-proto (ts-client/node_modules, pinned in package-lock.json): message types and Query clients;
#   - protoc-gen-tfgrid-amino (tools/, installed into tools/bin by scripts/protocgen.sh):
#     tfgrid-msgs.ts, the CosmJS registry entries and amino converters of every Msg.
# buf and the proto dependencies (third_party/proto) are those of scripts/protocgen.sh, which runs
# first when either is missing. Runs `npm ci` in ts-client/ when its node_modules is missing.
#
# Environment (scripts/protocheck.sh sets these when it regenerates into a temporary copy):
#   PROTO_TOOLS_BIN  where buf and protoc-gen-tfgrid-amino live (default: <repo>/tools/bin)
#   TS_PROTO_BIN     the directory holding protoc-gen-ts_proto (default: ts-client/node_modules/.bin)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_BIN="${PROTO_TOOLS_BIN:-$ROOT/tools/bin}"
TS_PROTO_BIN_SET="${TS_PROTO_BIN:-}"
TS_PROTO_BIN="${TS_PROTO_BIN:-$ROOT/ts-client/node_modules/.bin}"
OUT="$ROOT/ts-client/src/generated"

log() { echo "ts-gen: $*" >&2; }
die() {
  echo "ts-gen: ERROR: $*" >&2
  exit 1
}

command -v node >/dev/null || die "node is not on PATH (install nodejs and npm)"
if [[ ! -x "$TS_PROTO_BIN/protoc-gen-ts_proto" && -z "${TS_PROTO_BIN_SET:-}" ]]; then
  log "installing ts-client's dependencies (npm ci)"
  (cd "$ROOT/ts-client" && npm ci --no-audit --no-fund) || die "npm ci in ts-client failed"
fi
[[ -x "$TS_PROTO_BIN/protoc-gen-ts_proto" ]] || die "$TS_PROTO_BIN/protoc-gen-ts_proto not found: run npm ci in ts-client/"
if [[ ! -x "$TOOLS_BIN/buf" || ! -x "$TOOLS_BIN/protoc-gen-tfgrid-amino" || ! -d "$ROOT/third_party/proto" ]]; then
  log "buf, protoc-gen-tfgrid-amino or third_party/proto missing: running scripts/protocgen.sh first"
  PROTO_TOOLS_BIN="$TOOLS_BIN" "$ROOT/scripts/protocgen.sh"
fi
export PATH="$TS_PROTO_BIN:$TOOLS_BIN:$PATH"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ts-gen.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
log "buf generate (ts-proto $(node -p 'require(process.argv[1]).version' "$TS_PROTO_BIN/../ts-proto/package.json"), protoc-gen-tfgrid-amino) for proto/tfgrid"
buf generate --template ts-client/buf.gen.yaml -o "$WORK" --path proto/tfgrid
[[ -f "$WORK/tfgrid-msgs.ts" ]] || die "protoc-gen-tfgrid-amino wrote no tfgrid-msgs.ts"

rm -rf "$OUT"
mkdir -p "$OUT"
cp -R "$WORK/." "$OUT/"
log "wrote $(find "$OUT" -type f | wc -l) files into ts-client/src/generated"
