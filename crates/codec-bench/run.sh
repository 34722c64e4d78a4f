#!/usr/bin/env bash
# Builds and runs the codec benchmark: this parser (native and wasm-in-Node) against
# sse-stream, sse-codec, eventsource-stream (Rust) and eventsource-parser (npm), all fed
# 64 KiB chunks of the same deterministic streams. Prints a markdown table.
#
# usage: bash crates/codec-bench/run.sh      (from anywhere; takes about two minutes)
#        WASM_SIMD128=1 bash crates/codec-bench/run.sh   builds the wasm with the simd128
#        target feature (Node 20 supports it; browsers since 2021), which enables the
#        SIMD paths of memchr and simdutf8. The default build (and the npm package) has it off.
# needs: the wasm32-unknown-unknown target, wasm-bindgen-cli 0.2.130, Node 20 and
# `npm install` done at the repository root (for eventsource-parser).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
out="$target/codec-bench"
mkdir -p "$out/data"

# The bench profile is opt-level 3 (like release; the npm wasm uses the size-tuned
# wasm-release profile, so this measures the parser at full speed).
cargo build --quiet -p wasm-sse-codec-bench --profile bench --bin codec-bench
if [ "${WASM_SIMD128:-}" = 1 ]; then
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
fi
cargo build --quiet -p wasm-sse-codec-bench --profile bench --lib --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir "$out/pkg" \
  "$target/wasm32-unknown-unknown/release/wasm_sse_codec_bench.wasm"

# The repository is "type": "module"; the nodejs bindings are CommonJS.
echo '{"type": "commonjs"}' > "$out/pkg/package.json"

bench="$target/release/codec-bench"
"$bench" gen "$out/data"
echo "native parsers..." >&2
"$bench" run "$out/data" > "$out/native.jsonl"
"$bench" long-line >> "$out/native.jsonl"
echo "node parsers..." >&2
node crates/codec-bench/node-bench.mjs "$out/data" "$out/pkg" "$out/native.jsonl"
