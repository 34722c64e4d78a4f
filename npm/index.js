// Browser / worker / bundler entry of the wasm-sse package.
// Loads and instantiates the wasm before the module finishes evaluating (top-level await),
// so users import and call: no manual init step.
import init from './wasm_sse.js';

await init({ module_or_path: new URL('./wasm_sse_bg.wasm', import.meta.url) });

export { SseClient, SseError } from './client.js';
export { version } from './wasm_sse.js';
