#!/usr/bin/env bash
# Builds everything and starts the dev server with the live demo on http://127.0.0.1:8080 and
# its Leptos version on /leptos/ (extra arguments go to sse-devserver, e.g.
# `npm start -- --addr 127.0.0.1:9000`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/build.sh
cargo build --release -p wasm-sse-devserver
# The demo's Leptos version, served at /leptos/ (www/leptos/ is a build output, not in git).
EXAMPLE_BUILD_ONLY=1 bash scripts/example.sh leptos
rm -rf www/leptos
cp -r .tmp/examples/leptos www/leptos
echo "[start] open the demo page at the address below (Ctrl-C stops the server)"
exec "${CARGO_TARGET_DIR:-target}/release/sse-devserver" --www www --pkg dist "$@"
