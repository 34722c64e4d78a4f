#!/usr/bin/env bash
# The test command, in three tiers; each installs what it needs first:
#
#   bash scripts/test.sh quick    # fmt, clippy (host and wasm32), native tests: no browser,
#                                 # no npm build (minutes on a warm build)
#   bash scripts/test.sh browser  # the npm build, browser tests in headless Chromium and Node
#                                 # tests against the real dev server, the hooks, the demo page
#                                 # (tests/node/demo.test.mjs, among the node tests)
#   bash scripts/test.sh full     # both, plus fuzzing, the soak, the size figure and the chaos
#                                 # run (the default; `npm test` and CI)
#
# `full` runs every step below in this order; the others skip the steps outside their tier.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n== %s\n' "$*"; }

tier=${1:-full}
case "$tier" in
  quick | browser | full) ;;
  *)
    echo "usage: bash scripts/test.sh [quick|browser|full]  (default: full)" >&2
    exit 2
    ;;
esac
# True when the current tier is one of the arguments (`full` runs every step).
in_tier() { [ "$tier" = full ] || [[ " $* " == *" $tier "* ]]; }

step "setup"
if [ "$tier" = quick ]; then bash scripts/setup.sh native; else bash scripts/setup.sh test; fi

if in_tier browser; then
step "wasm-bindgen CLI matches Cargo.lock"
# The crates take a caret range of wasm-bindgen; Cargo.lock fixes the version, and the CLI
# must be that exact one (its glue must match the wasm-bindgen the wasm was built with).
lock_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
cli_version=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$cli_version" != "$lock_version" ]; then
  echo "wasm-bindgen CLI: ${cli_version:-missing}; Cargo.lock's wasm-bindgen: $lock_version. They must be" \
    "the same: \`cargo install wasm-bindgen-cli --version $lock_version\` (bash scripts/setup.sh does it)" >&2
  exit 1
fi
echo "wasm-bindgen $cli_version"
fi

if in_tier quick; then
step "format"
cargo fmt --all -- --check

step "clippy (host)"
cargo clippy --workspace --all-targets -- -D warnings

step "clippy (wasm32)"
cargo clippy -p wasm-sse -p wasm-sse-codec -p wasm-sse-npm --lib --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p wasm-sse-npm --all-targets --features bench --target wasm32-unknown-unknown -- -D warnings # the benchmark's build
cargo clippy -p wasm-sse --tests --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p wasm-sse --no-default-features --lib --target wasm32-unknown-unknown -- -D warnings # the npm package's build
cargo clippy -p wasm-sse-hooks -p wasm-sse-leptos -p wasm-sse-yew -p leptos-app -p yew-app --all-targets --target wasm32-unknown-unknown -- -D warnings

step "native tests"
cargo test

step "docs (warnings are errors: broken intra-doc links too)"
# The libraries as docs.rs builds them: the client crates for wasm32, the others natively.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --lib -p wasm-sse -p wasm-sse-codec -p wasm-sse-devserver
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p wasm-sse -p wasm-sse-hooks -p wasm-sse-leptos -p wasm-sse-yew \
  --target wasm32-unknown-unknown
# The crate without its default features (the npm package's build): its links hold there too.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p wasm-sse --no-default-features --target wasm32-unknown-unknown

step "docs check: links and anchors resolve, the testing guide's code is the code of its tests"
node scripts/check-docs.mjs
fi

if in_tier full; then
step "fuzz the codec (20 s per target; the documented run: bash scripts/fuzz.sh 300)"
bash scripts/fuzz.sh 20
# The fuzz crate is its own workspace: format and lint it separately.
cargo fmt --manifest-path crates/codec/fuzz/Cargo.toml -- --check
cargo clippy --manifest-path crates/codec/fuzz/Cargo.toml --all-targets -- -D warnings

step "dev-server soak (CI size: 100 clients, 10 s, 20 events/s, 10% churn; full run: scripts/soak.sh)"
bash scripts/soak.sh --ci

step "dev-server abuse (3 s per attack; documented run: bash bench/devserver/abuse.sh)"
bash bench/devserver/abuse.sh --secs 3
fi

if in_tier browser; then
step "npm package"
bash scripts/build.sh

step "exports: RawClient in the npm wasm, none in a Rust app's (the Leptos example)"
cargo build -p leptos-app --target wasm32-unknown-unknown
node scripts/check-exports.mjs

step "dev server"
# shellcheck source=scripts/devserver.sh
source scripts/devserver.sh
# /orders replays the testing guide's orders (docs/testing.md, tests/guide.rs).
start_devserver --replay /orders=tests/guide/orders.sse

step "browser tests (headless Chromium)"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
SSE_DEVSERVER_URL=$DEVSERVER_URL cargo test -p wasm-sse --target wasm32-unknown-unknown

step "Leptos and Yew hooks (headless Chromium)"
SSE_DEVSERVER_URL=$DEVSERVER_URL cargo test -p wasm-sse-leptos -p wasm-sse-yew --target wasm32-unknown-unknown
cargo test -p wasm-sse-hooks -p wasm-sse-leptos -p wasm-sse-yew --lib --tests # host: server rendering opens nothing
cargo test -p wasm-sse-hooks --doc

step "demo page: its Leptos version into www/leptos/ (served at /leptos/)"
# From the debug build of the exports step above; the page itself is tested with the node
# tests below (tests/node/demo.test.mjs: headless Chromium, screenshots in .tmp/demo*.png).
rm -rf www/leptos
wasm-bindgen --target web --no-typescript --out-name leptos_app --out-dir www/leptos \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/debug/leptos-app.wasm"
cp examples/leptos-app/index.html www/leptos/
fi

if in_tier full; then
step "package size"
node scripts/size.mjs

step "npm package from a clean clone: pack, publint, attw, then Node, Deno, Bun, Chromium (ESM, workers)"
node --test --test-reporter=spec tests/package/
# The Node tests below install this tarball (the Vite app and the installed-package pages).
WASM_SSE_TARBALL="$PWD/.tmp/package/wasm-sse-$(node -p "require('./package.json').version").tgz"
export WASM_SSE_TARBALL

step "crates: cargo package (every crate meant for crates.io, built from its packaged sources)"
# `cargo package --workspace` verifies each crate against the packaged tarballs of the others,
# through a local registry under target/package. Cargo treats a registry crate of a given version
# as immutable: it unpacks it once into $CARGO_HOME/registry/src/<hash of that path>/ and keeps
# its compiled form in the target directory, and reuses both without looking at the tarball. A
# checkout at the same path (a CI that clones to one place and keeps CARGO_HOME, or a second run
# here) would verify against the previous run's codec. So both go first: the unpacked copies of
# this workspace's crates, and their build records, which only makes cargo build them again.
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  case "$dir" in */index.crates.io-*) continue ;; esac
  rm -rf "$dir"wasm-sse-*
done
rm -rf "${CARGO_TARGET_DIR:-target}"/debug/.fingerprint/wasm-sse-*
cargo package --workspace --locked --allow-dirty --exclude wasm-sse-codec-bench --exclude wasm-sse-npm \
  --exclude wasm-sse-loadtest --exclude wasm-sse-test-support --exclude leptos-app --exclude yew-app

step "dev server installs as a user installs it (cargo install --path crates/devserver)"
rm -rf .tmp/install
cargo install --quiet --locked --path crates/devserver --root .tmp/install --target-dir "${CARGO_TARGET_DIR:-target}"
.tmp/install/bin/sse-devserver --version | grep -qx "sse-devserver $(node -p "require('./package.json').version")"
.tmp/install/bin/sse-devserver --help | grep -q -- '--replay'
fi

if in_tier browser; then
step "node tests (Node and headless Chromium; cross-tab sharing: tests/node/share.test.mjs)"
SSE_DEVSERVER_URL=$DEVSERVER_URL node --test tests/node/
fi

if in_tier full; then
step "chaos: 1,000 events per client through 50+ forced disconnects and a server restart (headless Chromium and Node; long run: node scripts/chaos.mjs)"
node scripts/chaos.mjs --events 1000 --restarts 1
fi
