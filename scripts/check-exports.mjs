// Checks where the npm package's bindings end up: the npm wasm (crates/npm, as cargo built it
// for scripts/build.sh, before its export names are minified) must export `RawClient`, and a
// Rust app's wasm (the Leptos example, which depends on wasm-sse) must not: the library
// exports nothing to JavaScript.
//
//   node scripts/check-exports.mjs [npm.wasm] [app.wasm]
//
// Defaults: $CARGO_TARGET_DIR (or target)/wasm32-unknown-unknown/wasm-release/wasm_sse_npm.wasm
// and .../debug/leptos-app.wasm (`cargo build -p leptos-app --target wasm32-unknown-unknown`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const wasmDir = join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'wasm32-unknown-unknown');
const [npmWasm = join(wasmDir, 'wasm-release', 'wasm_sse_npm.wasm'), appWasm = join(wasmDir, 'debug', 'leptos-app.wasm')] =
  process.argv.slice(2);

/** The names a wasm file exports. */
const exportsOf = (file) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(file))).map((e) => e.name);
/** The exports belonging to the npm package's API: `RawClient`'s methods and its destructor. */
const bindings = (names) => names.filter((name) => name.toLowerCase().includes('rawclient'));

let failed = false;
const npm = bindings(exportsOf(npmWasm));
if (npm.length === 0) {
  console.error(`${npmWasm}: no RawClient export (the npm wasm must carry the bindings)`);
  failed = true;
} else {
  console.log(`${npmWasm}: ${npm.length} RawClient exports (${npm.join(', ')})`);
}
const app = bindings(exportsOf(appWasm));
if (app.length > 0) {
  console.error(`${appWasm}: exports the npm package's bindings: ${app.join(', ')}`);
  failed = true;
} else {
  console.log(`${appWasm}: no RawClient export`);
}
process.exit(failed ? 1 : 0);
