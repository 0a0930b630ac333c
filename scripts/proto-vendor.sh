#!/usr/bin/env bash
# Refreshes third_party/proto: the third-party .proto files that our protos (proto/) and the SDK
# query services of the OpenAPI document (scripts/proto-sdk-openapi.txt) import, transitively,
# copied unchanged (Apache-2.0 headers kept) from the Go module cache at the versions the root
# go.mod selects. The well-known types (google/protobuf/*) are not vendored: protoc and buf ship them.
#
# Usage: scripts/proto-vendor.sh [OUT_DIR]   (default: <repo>/third_party/proto)
# Needs Go and protoc (Debian: protobuf-compiler). scripts/protocheck.sh runs it into a temporary
# directory and fails if the committed copy differs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/third_party/proto}"

die() {
  echo "proto-vendor: ERROR: $*" >&2
  exit 1
}
command -v go >/dev/null || die "go is not on PATH"
command -v protoc >/dev/null || die "protoc is not on PATH (Debian package protobuf-compiler)"
cd "$ROOT"

# module -> proto root inside it. The order is the include order.
MODULES=(
  "github.com/cosmos/cosmos-sdk:proto"
  "github.com/cosmos/gogoproto:."
  "github.com/cosmos/cosmos-proto:proto"
  "github.com/grpc-ecosystem/grpc-gateway:third_party/googleapis"
)

INCLUDES=(-I proto)
ROOTS=()
declare -A MODULE_OF_ROOT=()
for entry in "${MODULES[@]}"; do
  mod="${entry%%:*}" sub="${entry#*:}"
  version="$(GOWORK=off go list -m -f '{{.Version}}' "$mod")" || die "$mod is not in the root go.mod's build list"
  dir="$(GOWORK=off go list -m -f '{{.Dir}}' "$mod")"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    GOWORK=off go mod download "$mod@$version" || die "go mod download $mod@$version failed"
    dir="$(GOWORK=off go list -m -f '{{.Dir}}' "$mod")"
  fi
  root="$(cd "$dir/$sub" && pwd)"
  INCLUDES+=(-I "$root")
  ROOTS+=("$root")
  MODULE_OF_ROOT["$root"]="$mod $version"
done

mapfile -t SEEDS < <(find proto -name '*.proto' -type f | sed 's|^proto/||' | LC_ALL=C sort)
mapfile -t SDK_SERVICES < <(grep -vE '^\s*(#|$)' scripts/proto-sdk-openapi.txt)

TMP="$(mktemp -d "${TMPDIR:-/tmp}/proto-vendor.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# --dependency_out lists every file the seeds import, transitively, as paths on disk.
# protoc takes one input file per --dependency_out.
for seed in "${SEEDS[@]}" "${SDK_SERVICES[@]}"; do
  protoc "${INCLUDES[@]}" --dependency_out="$TMP/deps.one" -o "$TMP/set.binpb" "$seed" ||
    die "protoc cannot compile $seed against the module cache"
  { cat "$TMP/deps.one"; echo; } >>"$TMP/deps"
done
mapfile -t FILES < <(sed -e 's/^[^:]*://' -e 's/\\$//' "$TMP/deps" | tr ' ' '\n' | grep '\.proto$' | LC_ALL=C sort -u)

rm -rf "$TMP/out" && mkdir -p "$TMP/out"
declare -A USED=()
for f in "${FILES[@]}"; do
  [[ "$f" == proto/* || "$f" == "$ROOT"/proto/* ]] && continue
  found=""
  for r in "${ROOTS[@]}"; do
    if [[ "$f" == "$r"/* ]]; then
      found="$r"
      break
    fi
  done
  [[ -n "$found" ]] || continue # the well-known types, from protoc's own include directory
  rel="${f#"$found"/}"
  mkdir -p "$TMP/out/$(dirname "$rel")"
  cp "$f" "$TMP/out/$rel"
  chmod 0644 "$TMP/out/$rel"
  USED["$found"]=1
done

{
  echo "# Vendored third-party protos"
  echo
  echo "Written by \`scripts/proto-vendor.sh\`; do not edit. These are the files our protos under \`proto/\`"
  echo "and the SDK query services listed in \`scripts/proto-sdk-openapi.txt\` import, transitively,"
  echo "copied unchanged from these Go modules (the versions the root \`go.mod\` selects). They are"
  echo "Apache-2.0 (cosmos-sdk, cosmos-proto, googleapis) and BSD-3-Clause (gogoproto) licensed; their"
  echo "headers are kept. The well-known types (\`google/protobuf/*\`) ship with protoc and buf."
  echo
  echo "| module | version | proto root in the module |"
  echo "|---|---|---|"
  for entry in "${MODULES[@]}"; do
    mod="${entry%%:*}" sub="${entry#*:}"
    for r in "${!USED[@]}"; do
      read -r m v <<<"${MODULE_OF_ROOT[$r]}"
      [[ "$m" == "$mod" ]] && echo "| \`$m\` | $v | \`$sub\` |"
    done
  done
  echo
  echo "Compile every tfgrid proto with nothing but the repository:"
  echo
  echo '```sh'
  echo 'protoc -I proto -I third_party/proto -o /dev/null $(find proto -name "*.proto")'
  echo '```'
  echo
  echo "Refresh after a dependency bump: \`scripts/proto-vendor.sh\`, then \`make proto-gen\`."
} >"$TMP/out/README.md"

mkdir -p "$(dirname "$OUT")"
rm -rf "$OUT"
cp -R "$TMP/out" "$OUT"
echo "proto-vendor: wrote $(find "$OUT" -name '*.proto' | wc -l) files into $OUT" >&2
