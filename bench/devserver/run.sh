#!/usr/bin/env bash
# Dev-server load benchmark: sse-devserver and the better-sse peer, same load, same run.
#
#   bash bench/devserver/run.sh                  # 10,000 connections, 10 events/s, 20 s each
#   bash bench/devserver/run.sh -n 2000 -d 10    # any sse-load flag (see --help)
#
# Loopback only (127.0.0.1); every phase is time-bounded and the servers it starts are
# stopped before it exits. Needs node and `npm install` (better-sse) for the peer; pass
# `--target devserver` to skip it.
set -euo pipefail
cd "$(dirname "$0")/../.."

# 10,000 client sockets plus 10,000 server sockets: each process needs its own headroom.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi

# The workspace release profile is tuned for wasm size (opt-level "z"); the bench profile is
# opt-level 3. Its artifacts land in <target>/release.
target_dir=${CARGO_TARGET_DIR:-target}
cargo build --quiet --profile bench -p wasm-sse-devserver -p wasm-sse-loadtest
exec timeout 900 "$target_dir/release/sse-load" \
  --devserver-bin "$target_dir/release/sse-devserver" \
  --node-script bench/devserver/better-sse-server.mjs "$@"
