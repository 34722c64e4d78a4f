#!/usr/bin/env bash
# Dev-server abuse run: each attack of the dev server's threat table (docs/devserver-security.md)
# against a fresh server with default flags, for a bounded time each; prints the server's peak
# RSS per attack while a well-behaved client checks it loses nothing.
#
#   bash bench/devserver/abuse.sh              # 10 s per attack (the documented run)
#   bash bench/devserver/abuse.sh --secs 3     # the full test tier's short run
#   bash bench/devserver/abuse.sh --only huge  # one attack (see `sse-load abuse --help`)
#
# Exit status 1 when an attack pushed the server's peak RSS over --budget-mib (128: the
# default retention budget of 64 MiB plus 64 MiB) or the well-behaved client missed,
# repeated or reordered an event. Loopback only; the whole run is under `timeout`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"

# Up to about 1,100 held sockets per attack, in sse-load and in the server.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi

target_dir=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p wasm-sse-devserver -p wasm-sse-loadtest
exec timeout 1200 "$target_dir/release/sse-load" abuse \
  --devserver-bin "$target_dir/release/sse-devserver" "$@"
