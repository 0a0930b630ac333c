#!/usr/bin/env bash
# Regenerates, from proto/, offline:
#   - Go code (gogoproto messages, gRPC services, grpc-gateway v1 REST handlers): every file whose
#     go_package is <module>/<dir> is written to <dir>/ (e.g. x/tfgrid/types/query.pb.go);
#   - docs/static/openapi.json: one OpenAPI v2 document of the REST routes of our modules and of the
#     SDK modules the node serves (SDK_OPENAPI_PROTOS below).
#
# Needs only Go. The generators are pinned in tools/go.mod and installed into tools/bin on first use
# (and again whenever tools/ or the Go version changes). The proto dependencies (cosmos-sdk, gogoproto,
# cosmos-proto, googleapis) are copied into third_party/proto from the Go module cache, at the versions
# the root go.mod selects; nothing is fetched from the buf registry.
#
# Environment (protocheck.sh sets both when it regenerates into a temporary copy):
#   PROTO_TOOLS_BIN  where the generators live (default: <repo>/tools/bin)
#   PROTO_GOMOD_DIR  the Go module whose build list selects the proto dependencies (default: <repo>)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="${PROTO_TOOLS_BIN:-$ROOT/tools/bin}"
GOMOD_DIR="${PROTO_GOMOD_DIR:-$ROOT}"
TOOLS=(buf protoc-gen-gocosmos protoc-gen-grpc-gateway protoc-gen-openapiv2 openapi-finalize protoc-gen-tfgrid-amino)
OPENAPI_TITLE="tfgrid REST API"

# SDK query services the node serves; their REST routes go into the OpenAPI document too.
SDK_OPENAPI_PROTOS=(
  cosmos/auth/v1beta1/query.proto
  cosmos/authz/v1beta1/query.proto
  cosmos/bank/v1beta1/query.proto
  cosmos/base/node/v1beta1/query.proto
  cosmos/base/tendermint/v1beta1/query.proto
  cosmos/consensus/v1/query.proto
  cosmos/distribution/v1beta1/query.proto
  cosmos/evidence/v1beta1/query.proto
  cosmos/feegrant/v1beta1/query.proto
  cosmos/gov/v1/query.proto
  cosmos/gov/v1beta1/query.proto
  cosmos/slashing/v1beta1/query.proto
  cosmos/staking/v1beta1/query.proto
  cosmos/tx/v1beta1/service.proto
  cosmos/upgrade/v1beta1/query.proto
)

log() { echo "protocgen: $*" >&2; }
die() {
  echo "protocgen: ERROR: $*" >&2
  exit 1
}
trap 'echo "protocgen: ERROR: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

cd "$ROOT"
command -v go >/dev/null || die "go is not on PATH"
gomod() { (cd "$GOMOD_DIR" && GOWORK=off go "$@"); }
MODULE="$(gomod list -m -f '{{.Path}}')" || die "cannot read the module path from $GOMOD_DIR/go.mod"
[[ -n "$MODULE" ]] || die "empty module path in go.mod"

# ---------------------------------------------------------------------------------------------
# 1. Generators: install tools/go.mod's `tool`s into $TOOLS_BIN when missing or stale.
tools_fingerprint() {
  {
    go env GOVERSION
    cat "$ROOT/tools/go.mod" "$ROOT/tools/go.sum"
    (cd "$ROOT/tools" && find . -path ./bin -prune -o -name '*.go' -type f -print | LC_ALL=C sort | xargs -r cat)
  } | sha256sum | cut -d' ' -f1
}
want="$(tools_fingerprint)"
have="$(cat "$TOOLS_BIN/.fingerprint" 2>/dev/null || true)"
stale=0
[[ "$want" == "$have" ]] || stale=1
for t in "${TOOLS[@]}"; do [[ -x "$TOOLS_BIN/$t" ]] || stale=1; done
if ((stale)); then
  log "installing generators from tools/go.mod into $TOOLS_BIN (the first build takes a few minutes)"
  mkdir -p "$TOOLS_BIN"
  (cd "$ROOT/tools" && GOWORK=off GOBIN="$TOOLS_BIN" go install tool) || die "go install tool (in tools/) failed"
  for t in "${TOOLS[@]}"; do [[ -x "$TOOLS_BIN/$t" ]] || die "tools/go.mod does not provide $t"; done
  echo "$want" >"$TOOLS_BIN/.fingerprint"
fi
export PATH="$TOOLS_BIN:$PATH"
log "using $(buf --version 2>&1 | head -n1 | sed 's/^/buf /')"

# ---------------------------------------------------------------------------------------------
# 2. third_party/proto from the Go module cache (the versions the root go.mod selects).
module_dir() { # module -> its directory in the module cache (downloaded if needed)
  local m="$1" dir version
  dir="$(gomod list -m -f '{{.Dir}}' "$m")" || die "$m is not in the build list of $MODULE"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    version="$(gomod list -m -f '{{.Version}}' "$m")"
    log "downloading $m@$version"
    gomod mod download "$m@$version" || die "go mod download $m@$version failed"
    dir="$(gomod list -m -f '{{.Dir}}' "$m")"
  fi
  [[ -n "$dir" && -d "$dir" ]] || die "no module cache directory for $m"
  echo "$dir"
}
TP="$ROOT/third_party/proto"
log "assembling third_party/proto from the Go module cache"
sdk="$(module_dir github.com/cosmos/cosmos-sdk)"
gogo="$(module_dir github.com/cosmos/gogoproto)"
cproto="$(module_dir github.com/cosmos/cosmos-proto)"
gw="$(module_dir github.com/grpc-ecosystem/grpc-gateway)"
if [[ -d "$TP" ]]; then chmod -R u+w "$TP" && rm -rf "$TP"; fi
mkdir -p "$TP/gogoproto" "$TP/cosmos_proto" "$TP/google/api"
for d in amino cosmos tendermint; do
  [[ -d "$sdk/proto/$d" ]] || die "$sdk/proto/$d not found"
  cp -R "$sdk/proto/$d" "$TP/"
done
cp "$gogo/gogoproto/gogo.proto" "$TP/gogoproto/"
cp "$cproto/proto/cosmos_proto/cosmos.proto" "$TP/cosmos_proto/"
for f in annotations http httpbody; do
  cp "$gw/third_party/googleapis/google/api/$f.proto" "$TP/google/api/"
done
chmod -R u+w "$TP"

# Our proto roots: proto/<dir> for every top-level dir holding .proto files (tfgrid, rmb, ...).
mapfile -t OUR_ROOTS < <(cd "$ROOT" && find proto -name '*.proto' -type f | cut -d/ -f1-2 | LC_ALL=C sort -u)
((${#OUR_ROOTS[@]})) || die "no .proto files under proto/"
OUR_PATHS=()
for r in "${OUR_ROOTS[@]}"; do OUR_PATHS+=(--path "$r"); done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/protocgen.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# 3. Go code.
log "buf generate (gocosmos, grpc-gateway) for ${OUR_ROOTS[*]}"
buf generate --template buf.gen.gogo.yaml -o "$WORK/go" "${OUR_PATHS[@]}"

mapfile -t GEN_GO < <(cd "$WORK/go" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
((${#GEN_GO[@]})) || die "buf generate produced no Go files"
declare -A DEST_DIRS=()
for f in "${GEN_GO[@]}"; do
  [[ "$f" == "$MODULE"/* ]] || die "$f: go_package must be under $MODULE/ (check the option go_package in proto/)"
  [[ "$f" == *.pb.go || "$f" == *.pb.gw.go ]] || die "unexpected generated file $f"
  DEST_DIRS["$(dirname "${f#"$MODULE"/}")"]=1
done
# Remove previously generated files from the target dirs, so a deleted or renamed .proto leaves nothing behind.
for d in "${!DEST_DIRS[@]}"; do
  [[ -d "$ROOT/$d" ]] || continue
  while IFS= read -r -d '' old; do
    if head -n1 "$old" | grep -q '^// Code generated by protoc-gen-'; then rm -f "$old"; fi
  done < <(find "$ROOT/$d" -maxdepth 1 -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -print0)
done
for f in "${GEN_GO[@]}"; do
  rel="${f#"$MODULE"/}"
  mkdir -p "$ROOT/$(dirname "$rel")"
  cp "$WORK/go/$f" "$ROOT/$rel"
  chmod 0644 "$ROOT/$rel"
done
log "wrote ${#GEN_GO[@]} Go files into: $(printf '%s/\n' "${!DEST_DIRS[@]}" | LC_ALL=C sort | xargs)"

# ---------------------------------------------------------------------------------------------
# 4. OpenAPI.
SDK_PATHS=()
for p in "${SDK_OPENAPI_PROTOS[@]}"; do
  [[ -f "$TP/$p" ]] || die "SDK proto $p not found in $sdk/proto (update SDK_OPENAPI_PROTOS)"
  SDK_PATHS+=(--path "third_party/proto/$p")
done
log "buf generate (openapiv2) for ${OUR_ROOTS[*]} and ${#SDK_OPENAPI_PROTOS[@]} SDK services"
buf generate --template buf.gen.openapi.yaml -o "$WORK/openapi" "${OUR_PATHS[@]}" "${SDK_PATHS[@]}"
[[ -f "$WORK/openapi/openapi.swagger.json" ]] || die "protoc-gen-openapiv2 wrote no openapi.swagger.json"
mkdir -p "$ROOT/docs/static"
openapi-finalize -title "$OPENAPI_TITLE" -in "$WORK/openapi/openapi.swagger.json" -out "$ROOT/docs/static/openapi.json"
log "wrote docs/static/openapi.json"
