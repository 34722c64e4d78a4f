#!/usr/bin/env bash
# Prints the native instructions per event of the fetch-streaming path: the codec's parser,
# the client's fast path (dedupe, handlers) and an `on_json` handler decoding the benchmark's
# `tick` payload (the ignored test `client::tests::per_event_cost_of_the_fetch_path`), counted
# by `valgrind --tool=callgrind` inside `feed_chunk` only, so building the stream is not
# counted. Instruction counts do not depend on the machine's load: use this to compare two
# versions of the code; the browser benchmark (bench/client/run.mjs) gives the events/s.
#
# usage: bash scripts/per-event.sh [events]     (default 20000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
case $count in '' | *[!0-9]*) echo "usage: bash scripts/per-event.sh [events]" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

binary=$(cargo test --release --lib -p wasm-sse --no-run --message-format=json 2>/dev/null |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    for (const line of s.split("\n")) {
      try {
        const m = JSON.parse(line);
        if (m.reason === "compiler-artifact" && m.target.name === "wasm_sse" && m.profile.test && m.executable) console.log(m.executable);
      } catch {}
    }
  })')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
PER_EVENT_COUNT=$count valgrind --tool=callgrind --callgrind-out-file="$out" \
  --collect-atstart=no --toggle-collect='wasm_sse::transport::fetch::feed_chunk*' \
  "$binary" --ignored --exact client::tests::per_event_cost_of_the_fetch_path --test-threads=1 \
  >/dev/null 2>&1
total=$(sed -n 's/^summary: //p; s/^totals: //p' "$out" | head -n 1)
echo "fetch path, $count events: $((total / count)) instructions per event ($total in feed_chunk)"
