// Renames wasm-bindgen's glue (wasm_sse.js in dist/ or $WASM_SSE_DIST) after the wasm's imports, exports and import
// module were minified by `wasm-opt --minify-imports-and-exports-and-modules` (scripts/build.sh).
// wasm-bindgen names each import after its JS function plus a 16-hex-digit hash, which gzip
// cannot compress and which the wasm and the glue both carry; the short names ship once.
//
// Usage: node scripts/minify-names.mjs MAP.json   (the mapping wasm-opt printed)
// Fails, leaving the glue untouched, if a name is not found where the glue is expected to
// hold it, so a new wasm-bindgen version cannot ship a glue that does not match its wasm.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const map = JSON.parse(readFileSync(process.argv[2], 'utf8'));
// The build's output directory (scripts/build.sh's WASM_SSE_DIST; dist/ by default).
const root = fileURLToPath(new URL('..', import.meta.url));
const out = pathToFileURL(resolve(root, process.env.WASM_SSE_DIST ?? 'dist') + '/');
const glueFile = new URL('wasm_sse.js', out);
const wasmFile = new URL('wasm_sse_bg.wasm', out);
let glue = readFileSync(glueFile, 'utf8');

const fail = (message) => {
  console.error(`[minify-names] ${message}`);
  process.exit(1);
};
// Replaces `pattern` (which must match exactly `count` times, or at least once if undefined).
const replace = (pattern, to, count) => {
  const found = glue.match(pattern)?.length ?? 0;
  if (found === 0 || (count !== undefined && found !== count)) {
    fail(`${pattern} found ${found} times in the glue`);
  }
  glue = glue.replace(pattern, to);
};

// Imports: the keys of the object the glue passes to the module, one each.
for (const [, name, short] of map.imports) {
  replace(new RegExp(`(?<=\\n\\s*)${name}(?=: )`, 'g'), short, 1);
}
// The import module: every import of the minified wasm is in one module.
const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmFile))).map((i) => i.module));
if (modules.size !== 1) fail(`imports from ${modules.size} modules`);
replace(/"\.\/wasm_sse_bg\.js": import0/g, `"${[...modules][0]}": import0`, 1);
// Exports: every `wasm.name` of the glue. Exports the glue does not use are fine.
const exported = new Set();
for (const [name, short] of map.exports) {
  exported.add(short);
  if (new RegExp(`\\bwasm\\.${name}\\b`).test(glue)) {
    replace(new RegExp(`\\bwasm\\.${name}\\b`, 'g'), `wasm.${short}`);
  }
}
for (const [, name] of glue.matchAll(/\bwasm\.(\w+)/g)) {
  if (!exported.has(name)) fail(`wasm.${name} is not a minified export`);
}
// The glue's own wrappers of closure exports carry the same hashes: local names, shortened.
let wrapper = 0;
for (const name of new Set(glue.match(/\bwasm_bindgen__convert__closures_____invoke__h[0-9a-f]{16}\b/g))) {
  replace(new RegExp(`\\b${name}\\b`, 'g'), `invoke${wrapper++}`);
}
writeFileSync(glueFile, glue);
