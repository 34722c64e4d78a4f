# Sourced by the test scripts: starts the (debug) dev server on a free loopback port.
# Sets DEVSERVER_URL and DEVSERVER_PID; the server is stopped when the calling shell exits.
# The shell's copy of scripts/devserver.mjs (Node scripts and tests) and of
# crates/test-support (Rust tests and tools): same binary, same address line.
start_devserver() {
  mkdir -p .tmp
  local log=.tmp/devserver.log
  local bin=${SSE_DEVSERVER_BIN:-${CARGO_TARGET_DIR:-target}/debug/sse-devserver}
  [ -n "${SSE_DEVSERVER_BIN:-}" ] || cargo build -q -p wasm-sse-devserver
  "$bin" --addr 127.0.0.1:0 --www www --pkg dist "$@" >"$log" 2>&1 &
  DEVSERVER_PID=$!
  trap 'kill "$DEVSERVER_PID" 2>/dev/null || true' EXIT
  DEVSERVER_URL=
  for _ in $(seq 200); do
    DEVSERVER_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n1 || true)
    [ -n "$DEVSERVER_URL" ] && break
    kill -0 "$DEVSERVER_PID" 2>/dev/null || { cat "$log"; echo "dev server exited" >&2; return 1; }
    sleep 0.05
  done
  [ -n "$DEVSERVER_URL" ] || { cat "$log"; echo "dev server did not report its address" >&2; return 1; }
  export DEVSERVER_URL
  echo "dev server at $DEVSERVER_URL (log: $log)"
}
