#!/usr/bin/env bash
# Fuzzes the codec: builds and runs every cargo-fuzz target of crates/codec/fuzz for
# SECONDS_PER_TARGET seconds each (default 300), then prints per target: runs, execs/s,
# time, crashes. Exits 1 if any target crashed (the input is in
# crates/codec/fuzz/artifacts/<target>/; turn it into a test in crates/codec/tests).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Works on the stable toolchain: cargo-fuzz needs nightly flags (-Z sanitizer, sancov),
# which RUSTC_BOOTSTRAP=1 unlocks. Installs cargo-fuzz only when it is missing or at
# another version. The corpus persists in crates/codec/fuzz/corpus/<target> (gitignored),
# so every run starts where the last one stopped. FUZZ_SANITIZER=none|address (default
# address) picks the sanitizer. Needs no stdin (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds=${1:-300}
case $seconds in '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
cargo_fuzz_version=0.13.2
sanitizer=${FUZZ_SANITIZER:-address}
log() { printf '[fuzz] %s\n' "$*"; }

have=$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$cargo_fuzz_version" ]; then
  log "installing cargo-fuzz $cargo_fuzz_version (found: ${have:-none})"
  # --locked first (reproducible); the registry mirror can lag a locked dependency, so retry unlocked.
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked \
    || cargo install cargo-fuzz --version "$cargo_fuzz_version"
fi

# Stable rustc accepts the nightly -Z flags cargo-fuzz passes (-Zsanitizer=address included)
# when RUSTC_BOOTSTRAP=1 is set.
export RUSTC_BOOTSTRAP=1
cd crates/codec/fuzz
targets=$(cargo fuzz list)

# Seeds for `parse` (first byte: limit / 4, 255 = none; second: chunk size; then the stream).
seeds=corpus/parse
if [ ! -d "$seeds" ]; then
  mkdir -p "$seeds"
  printf '\377\003id: 1\nevent: tick\ndata: {"n":1}\n\n: ping\nretry: 5000\n\n' >"$seeds/events"
  printf '\005\001\357\273\277data: a\r\ndata: \342\202\254\r\n\r\ndata: \377\rretry: 7\r\r' >"$seeds/bom-crlf-cr"
  printf '\002\007data: 0123456789\ndata: more\n\ndata: ok\n\n' >"$seeds/limit"
fi

summary=()
crashed=0
for target in $targets; do
  log "building $target (sanitizer: $sanitizer)"
  cargo fuzz build --sanitizer "$sanitizer" "$target"
  mkdir -p "corpus/$target" "artifacts/$target"
  before=$(find "artifacts/$target" -type f | wc -l)
  out=$(mktemp)
  marker=$(mktemp)
  log "running $target for $seconds s"
  start=$(date +%s)
  status=0
  # -timeout: an input taking 10 s is a failure (the parser is linear).
  cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    </dev/null >"$out" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  runs=$(awk '/stat::number_of_executed_units/ { print $NF }' "$out")
  eps=$(awk '/stat::average_exec_per_sec/ { print $NF }' "$out")
  after=$(find "artifacts/$target" -type f | wc -l)
  crashes=$((after - before))
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    crashed=1
    tail -n 40 "$out"
    log "$target FAILED (exit $status); new artifacts:"
    find "$PWD/artifacts/$target" -type f -newer "$marker" -print
  fi
  corpus=$(find "corpus/$target" -type f | wc -l)
  summary+=("$(printf '%-10s %12s %10s %8s %8s %8s' "$target" "${runs:-?}" "${eps:-?}" "${elapsed}s" "$crashes" "$corpus")")
  rm -f "$out" "$marker"
done

printf '\n%-10s %12s %10s %8s %8s %8s\n' target runs execs/s time crashes corpus
printf '%s\n' "${summary[@]}"
exit "$crashed"
