#!/usr/bin/env bash
# Builds the npm package into dist/: the wasm of crates/npm (size-optimised profile),
# wasm-bindgen's glue, wasm-opt -Oz, and the hand-written entry points from npm/.
#
# For tests: WASM_SSE_DIST=DIR builds into DIR instead of dist/, and WASM_SSE_FEATURES adds
# cargo features of crates/npm (`test-panic`: a hidden export that panics; never published).
# For the client benchmark: WASM_SSE_PROFILE=wasm-speed builds with opt-level 3 and runs
# wasm-opt -O3 instead of -Oz (never published).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh build

out=${WASM_SSE_DIST:-dist}
export WASM_SSE_DIST=$out
profile=${WASM_SSE_PROFILE:-wasm-release}
case $profile in
  wasm-release) opt=(-Oz --converge) ;;
  wasm-speed) opt=(-O3) ;;
  *) echo "WASM_SSE_PROFILE: wasm-release or wasm-speed, not $profile" >&2; exit 2 ;;
esac
cargo build --lib --target wasm32-unknown-unknown --profile "$profile" -p wasm-sse-npm \
  ${WASM_SSE_FEATURES:+--features "$WASM_SSE_FEATURES"}
rm -rf "$out" && mkdir -p "$out"
# `--encode-into always`: no fallback for engines without `TextEncoder.encodeInto`, which all
# engines that run this wasm (it needs reference types) have.
wasm-bindgen --target web --encode-into always --out-dir "$out" --out-name wasm_sse \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/$profile/wasm_sse_npm.wasm"
# The features rustc enables by default for wasm32-unknown-unknown, so wasm-opt may keep using them.
features="--enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-reference-types --enable-multivalue"
# `--low-memory-unused` lets wasm-opt fold a pointer's constant offset (under 1 KiB) into its
# loads and stores, which differs only if the addition wrapped around to the first KiB of
# memory. No valid pointer wraps: memory is a few MiB (rustc links the stack first, growing
# down from 1 MiB towards 0, then the data and the heap).
node_modules/.bin/wasm-opt "${opt[@]}" --low-memory-unused --strip-debug --strip-producers $features \
  "$out/wasm_sse_bg.wasm" -o "$out/wasm_sse_bg.wasm"
# One-letter import, export and module names instead of wasm-bindgen's hashed ones, in the wasm
# and in the glue (scripts/minify-names.mjs): the hashes do not compress. The target_features
# section goes too: engines ignore it; only tools such as wasm-opt read it.
node_modules/.bin/wasm-opt --minify-imports-and-exports-and-modules --strip-target-features $features \
  "$out/wasm_sse_bg.wasm" -o "$out/wasm_sse_bg.wasm" > "$out/names.json"
node scripts/minify-names.mjs "$out/names.json"
rm "$out/names.json"
cp npm/index.d.ts npm/init.d.ts "$out/"
# The SseClient layer and wasm-bindgen's glue ship minified (Oxc's minifier, in rolldown):
# without comments and whitespace, with short local names (smaller gzipped than comment
# stripping alone). Only mangling: no compression passes, which rewrite the code;
# `keepNames`, so classes and functions keep their `name` (`SseError`, `SseClient`). The
# glue's comments are the Rust doc comments of crates/npm/src/ and its `@ts-self-types` pointer to
# the raw declarations, which are not shipped.
node --input-type=module -e "
  import { minifySync } from 'rolldown/utils';
  import { readFileSync, rmSync, writeFileSync } from 'node:fs';
  const options = { module: true, compress: false, mangle: { keepNames: true } };
  const out = process.env.WASM_SSE_DIST + '/';
  const minify = (file) => {
    const result = minifySync(file, readFileSync(file, 'utf8'), options);
    if (result.errors.length) throw new Error(file + ': ' + result.errors.map((e) => e.message).join('; '));
    return result.code;
  };
  const header = '// wasm-sse: the SseClient layer. Commented source: npm/client.js in the repository.\\n';
  writeFileSync(out + 'client.js', header + minify('npm/client.js'));
  // The Rust crates' inline JS (wasm-bindgen snippets, e.g. src/transport/eventsource.rs)
  // goes into the glue: one module for a page to load, not one more per snippet.
  const glue = readFileSync(out + 'wasm_sse.js', 'utf8').replace(
    /^import \\{ ([\\w, ]+) \\} from '\\.\\/(snippets\\/[^']+)';\\n/gm,
    (_, names, path) => {
      const code = readFileSync(out + path, 'utf8');
      for (const name of names.split(', ')) {
        if (!code.includes('export function ' + name + '(')) throw new Error(path + ' does not export ' + name);
      }
      return code.replace(/^export function /gm, 'function ') + '\\n';
    });
  if (glue.includes('./snippets/')) throw new Error('wasm_sse.js: a snippet import left that the build cannot inline');
  rmSync(out + 'snippets', { recursive: true, force: true });
  writeFileSync(out + 'wasm_sse.js', glue);
  writeFileSync(out + 'wasm_sse.js', minify(out + 'wasm_sse.js'));
  // The entry points only lose their comment lines (110 B gzipped for index.js): their
  // new URL('./wasm_sse_bg.wasm', import.meta.url) stays exactly the form bundlers look for.
  for (const file of ['index.js', 'node.js', 'init.js']) {
    writeFileSync(out + file, readFileSync('npm/' + file, 'utf8').replace(/^\\/\\/.*\\n/gm, ''));
  }
"
# The public types are npm/index.d.ts; wasm-bindgen's raw declarations are not the API.
rm -f "$out/.gitignore" "$out/wasm_sse.d.ts" "$out/wasm_sse_bg.wasm.d.ts"
echo "[build] $out/ ready: $(ls "$out" | tr '\n' ' ')"
