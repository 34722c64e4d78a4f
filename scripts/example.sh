#!/usr/bin/env bash
# Builds an example app to wasm and serves it with the dev server, fed by its `demo` topic:
#
#   bash scripts/example.sh leptos    # examples/leptos-app
#   bash scripts/example.sh yew       # examples/yew-app
#   bash scripts/example.sh yew --addr 127.0.0.1:9000   # extra arguments go to the server
#
# The app is built with `cargo build --target wasm32-unknown-unknown` (profile `release`, or
# $EXAMPLE_PROFILE, e.g. `wasm-release` for the smallest wasm) and `wasm-bindgen --target web`
# into .tmp/examples/<name>/ with its index.html; then `sse-devserver --www .tmp/examples/<name>`
# serves it and prints its URL (default http://127.0.0.1:8080). EXAMPLE_BUILD_ONLY=1 stops
# after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

name=${1:-}
case "$name" in
  leptos | yew) shift ;;
  *) echo "usage: bash scripts/example.sh leptos|yew [dev server arguments...]" >&2; exit 2 ;;
esac
app="$name-app"
out=".tmp/examples/$name"
profile=${EXAMPLE_PROFILE:-release}
target_dir=${CARGO_TARGET_DIR:-target}

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown
command -v wasm-bindgen >/dev/null || bash scripts/setup.sh

cargo build --target wasm32-unknown-unknown --profile "$profile" -p "$app"
rm -rf "$out"
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-name "${name}_app" --out-dir "$out" \
  "$target_dir/wasm32-unknown-unknown/$profile/$app.wasm"
cp "examples/$app/index.html" "$out/"
echo "built $out ($(du -k "$out/${name}_app_bg.wasm" | cut -f1) KiB of wasm)"
[ "${EXAMPLE_BUILD_ONLY:-0}" = 1 ] && exit 0

echo "serving the $name dashboard; open the URL below"
exec cargo run -q -p wasm-sse-devserver -- --www "$out" --pkg dist "$@"
