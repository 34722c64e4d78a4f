#!/usr/bin/env bash
# Dev-server soak: clients held under steady publishing for a bounded time; the
# server's memory must stay flat and every client's sequence complete.
#
#   bash scripts/soak.sh                 # 1,000 clients, 60 s, 20 events/s (the full soak)
#   bash scripts/soak.sh --ci            # 100 clients, 10 s, 20 events/s, 10% churn (CI)
#   bash scripts/soak.sh -n 2000 -d 120  # any `sse-load soak` flag (see `sse-load soak --help`)
#
# Builds the release dev server and `sse-load`, which starts the server itself on
# 127.0.0.1:0, connects the clients, publishes ids 1..N, samples the server's RSS and prints
# the figures. Exit status 1 when a client missed, repeated or reordered an event, or the RSS
# grew more than --max-growth-pct (10) from the end of the warm-up to the end. Loopback only;
# every phase is time-bounded and the whole run is under `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

preset=()
if [ "${1:-}" = --ci ]; then
  shift
  preset=(--clients 100 --duration 10 --rate 20 --sample-secs 2 --churn 10)
fi

# One socket per client in sse-load and one per client in the server (it inherits the limit):
# 1,000 clients need about 1,100 descriptors per process, above the usual soft limit of 1024.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi

target_dir=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p wasm-sse-devserver -p wasm-sse-loadtest
exec timeout 1200 "$target_dir/release/sse-load" soak \
  --devserver-bin "$target_dir/release/sse-devserver" "${preset[@]}" "$@"
