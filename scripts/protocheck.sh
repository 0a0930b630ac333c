#!/usr/bin/env bash
# Fails if the committed generated code is stale, if our protos do not pass buf lint / buf format,
# if third_party/proto differs from what scripts/proto-vendor.sh copies from the Go module cache, or
# if plain protoc cannot compile every tfgrid proto with only repository paths
# (-I proto -I third_party/proto; Debian package protobuf-compiler).
#
# It regenerates into a temporary copy of the generation inputs (buf*.yaml, proto/, third_party/,
# scripts/protocgen.sh, scripts/proto-sdk-openapi.txt, tools/, ts-client's buf.gen.yaml and scripts/)
# and compares the result with the working tree: every *.pb.go and
# *.pb.gw.go (outside tools/, third_party/, build/), docs/static/openapi.json and ts-client/src/generated/ must exist and be
# identical, and no such file may exist that generation does not produce. The working tree is never
# written to, except that the generators are installed into tools/bin and ts-client's npm
# dependencies into ts-client/node_modules (both gitignored) if missing.
# PROTOCHECK_TS=0 skips ts-client (for a machine without node; CI installs node and checks it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROTO_TOOLS_BIN="${PROTO_TOOLS_BIN:-$ROOT/tools/bin}" PROTO_GOMOD_DIR="$ROOT"

log() { echo "protocheck: $*" >&2; }
die() {
  echo "protocheck: ERROR: $*" >&2
  exit 1
}

TMP="$(mktemp -d "${TMPDIR:-/tmp}/protocheck.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
COPY="$TMP/tree"

# --- 0. vendored protos: up to date, and enough for plain protoc --------------------------------
command -v protoc >/dev/null || die "protoc is not on PATH (Debian package protobuf-compiler)"
log "checking third_party/proto against the Go module cache (scripts/proto-vendor.sh)"
"$ROOT/scripts/proto-vendor.sh" "$TMP/vendored" 2>/dev/null || die "scripts/proto-vendor.sh failed"
if ! diff -r "$TMP/vendored" "$ROOT/third_party/proto" >"$TMP/vendor.diff"; then
  sed -n '1,20s/^/  /p' "$TMP/vendor.diff" >&2
  die "third_party/proto is out of date: run scripts/proto-vendor.sh and commit the result"
fi
log "protoc -I proto -I third_party/proto over every tfgrid proto"
mapfile -t OUR_PROTOS < <(cd "$ROOT" && find proto -name '*.proto' -type f | sed 's|^proto/||' | LC_ALL=C sort)
(cd "$ROOT" && protoc -I proto -I third_party/proto -o "$TMP/tfgrid.binpb" "${OUR_PROTOS[@]}") ||
  die "protoc cannot compile proto/ with only repository paths"

# --- 1. regenerate into a copy ------------------------------------------------------------------
log "copying the generation inputs to a temporary tree"
mkdir -p "$COPY/scripts" "$COPY/tools"
cd "$ROOT"
cp buf.yaml "$COPY/"
cp buf.gen.*.yaml "$COPY/"
cp -R proto third_party "$COPY/"
cp scripts/protocgen.sh scripts/proto-sdk-openapi.txt "$COPY/scripts/"
mkdir -p "$COPY/ts-client"
cp -R ts-client/buf.gen.yaml ts-client/scripts "$COPY/ts-client/"
tar -C tools --exclude=./bin -cf - . | tar -C "$COPY/tools" -xf - || die "cannot copy tools/"

log "regenerating (scripts/protocgen.sh in the copy)"
"$COPY/scripts/protocgen.sh" || die "generation failed"
check_ts="${PROTOCHECK_TS:-1}"
if [[ "$check_ts" != 0 ]]; then
  command -v node >/dev/null || die "node is not on PATH: install nodejs and npm (or set PROTOCHECK_TS=0 to skip ts-client)"
  if [[ ! -x "$ROOT/ts-client/node_modules/.bin/protoc-gen-ts_proto" ]]; then
    log "installing ts-client's dependencies (npm ci)"
    (cd "$ROOT/ts-client" && npm ci --no-audit --no-fund) || die "npm ci in ts-client failed"
  fi
  log "regenerating ts-client (ts-client/scripts/gen.sh in the copy)"
  TS_PROTO_BIN="$ROOT/ts-client/node_modules/.bin" "$COPY/ts-client/scripts/gen.sh" || die "ts-client generation failed"
else
  log "WARNING: PROTOCHECK_TS=0: ts-client/src/generated is not checked"
fi

# --- 2. compare ---------------------------------------------------------------------------------
generated_files() { # dir -> sorted relative paths of generated files in it
  (cd "$1" && {
    find . \( -path ./.git -o -path ./tools -o -path ./third_party -o -path ./build -o -path ./node_modules \) -prune \
      -o -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' \) -print
    [[ ! -f docs/static/openapi.json ]] || echo ./docs/static/openapi.json
    [[ "$check_ts" == 0 || ! -d ts-client/src/generated ]] || find ./ts-client/src/generated -type f
  } | sed 's|^\./||' | LC_ALL=C sort)
}
generated_files "$COPY" >"$TMP/want"
generated_files "$ROOT" >"$TMP/have"

status=0
missing="$(LC_ALL=C comm -23 "$TMP/want" "$TMP/have")"
extra="$(LC_ALL=C comm -13 "$TMP/want" "$TMP/have")"
differ=""
while IFS= read -r f; do
  cmp -s "$COPY/$f" "$ROOT/$f" || differ+="$f"$'\n'
done < <(LC_ALL=C comm -12 "$TMP/want" "$TMP/have")
differ="${differ%$'\n'}"

if [[ -n "$missing" ]]; then
  status=1
  echo "protocheck: generated files missing from the tree:" >&2
  sed 's/^/  missing  /' <<<"$missing" >&2
fi
if [[ -n "$extra" ]]; then
  status=1
  echo "protocheck: generated-looking files that generation no longer produces:" >&2
  sed 's/^/  extra    /' <<<"$extra" >&2
fi
if [[ -n "$differ" ]]; then
  status=1
  echo "protocheck: generated files that differ from a fresh generation (- committed, + fresh):" >&2
  while IFS= read -r f; do
    stat="$(diff -u "$ROOT/$f" "$COPY/$f" | grep -E '^[-+]' | grep -vE '^(---|\+\+\+) ' |
      awk '/^-/{d++} /^\+/{a++} END{printf "-%d/+%d lines", d, a}')" || true
    echo "  differs  $f ($stat)" >&2
    diff -u --label "committed/$f" --label "fresh/$f" "$ROOT/$f" "$COPY/$f" | sed -n '3,14p' | sed 's/^/           /' >&2 || true
  done <<<"$differ"
fi
if ((status)); then
  die "generated code is out of date: run ./scripts/protocgen.sh (make proto-gen) and ts-client/scripts/gen.sh (make ts-gen) and commit the result"
fi
log "generated code is up to date ($(wc -l <"$TMP/want") files)"

# --- 3. lint and format (our protos only) -------------------------------------------------------
export PATH="$PROTO_TOOLS_BIN:$PATH"
cd "$COPY"
mapfile -t OUR_ROOTS < <(find proto -name '*.proto' -type f | cut -d/ -f1-2 | LC_ALL=C sort -u)
OUR_PATHS=()
for r in "${OUR_ROOTS[@]}"; do OUR_PATHS+=(--path "$r"); done

log "buf lint ${OUR_ROOTS[*]}"
buf lint "${OUR_PATHS[@]}" || die "buf lint failed (rules: buf.yaml)"

# Unformatted protos fail the check; PROTOCHECK_FORMAT=warn only reports them.
format_mode="${PROTOCHECK_FORMAT:-strict}"
log "buf format check ${OUR_ROOTS[*]} (mode: $format_mode)"
if ! buf format -d --exit-code "${OUR_PATHS[@]}" >"$TMP/format.diff"; then
  files="$(grep -E '^\+\+\+ ' "$TMP/format.diff" | awk '{print $2}' | LC_ALL=C sort -u | xargs)"
  hint="run: tools/bin/buf format -w $(printf -- '--path %s ' "${OUR_ROOTS[@]}")then ./scripts/protocgen.sh"
  if [[ "$format_mode" == strict ]]; then
    sed -n '1,60s/^/  /p' "$TMP/format.diff" >&2
    die "protos are not buf-formatted ($files); $hint"
  fi
  log "WARNING: protos are not buf-formatted ($files; $(grep -cE '^[-+][^-+]' "$TMP/format.diff") changed lines); $hint"
fi
log "OK"
