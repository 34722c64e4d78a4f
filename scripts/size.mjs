// Prints the npm package's transfer size in a browser: the wasm plus the JS a page loads
// (wasm-bindgen's glue, the entry point and the SseClient layer), raw, gzip -9 and brotli.
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const files = ['wasm_sse_bg.wasm', 'wasm_sse.js', 'client.js', 'index.js'];
const row = (name, raw, gz, br) =>
  console.log(`${name.padEnd(20)} ${String(raw).padStart(9)} ${String(gz).padStart(9)} ${String(br).padStart(9)}`);
row('file', 'bytes', 'gzip', 'brotli');
let total = [0, 0, 0];
for (const file of files) {
  const bytes = readFileSync(new URL(`../dist/${file}`, import.meta.url));
  const sizes = [
    bytes.length,
    gzipSync(bytes, { level: 9 }).length,
    brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  ];
  total = total.map((t, i) => t + sizes[i]);
  row(file, ...sizes);
}
row('total', ...total);
console.log(`npm package wasm + JS glue: ${(total[1] / 1024).toFixed(1)} KiB gzipped`);

// The committed budget (size-budget.json): the package may not grow past it.
const budget = JSON.parse(readFileSync(new URL('../size-budget.json', import.meta.url), 'utf8'));
if (total[1] > budget.gzipBytes) {
  console.error(`over the size budget: ${total[1]} B gzipped > ${budget.gzipBytes} B (size-budget.json)`);
  process.exit(1);
}
console.log(`within the size budget: ${total[1]} of ${budget.gzipBytes} B gzipped (size-budget.json)`);
