#!/usr/bin/env bash
# Installs what is missing to build (default), also to test (`setup.sh test`), or only what
# the native checks need (`setup.sh native`: the wasm target for clippy and the npm dev
# dependencies for the docs check; `test.sh quick`).
# Idempotent and quiet when everything is already there, so the test command and CI call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
mode=${1:-build}
log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. npm dev dependencies from the committed lockfile (binaryen's wasm-opt, TypeScript, peers for
# benchmarks, the package linters, Deno and Bun for the package test, the docs' link checker).
if ! npm ls --depth=0 >/dev/null 2>&1; then
  log "installing npm dev dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
[ "$mode" = native ] && exit 0

# 3. wasm-bindgen-cli at exactly the version Cargo.lock resolved (the crates take a caret range).
want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "installing wasm-bindgen-cli $want (found: ${have:-none}); this takes a few minutes"
  # No --locked: the registry mirror can lag some of the CLI's locked dependencies.
  cargo install wasm-bindgen-cli --version "$want"
fi

# 4. For tests: Debian's Chromium and ChromeDriver (a test tool's own browser download fails here).
if [ "$mode" = test ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing chromium and chromium-driver from Debian"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi
