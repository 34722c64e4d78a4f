// Entry of the wasm-sse package without top-level await: `import { initialize, SseClient }
// from 'wasm-sse/init'`. For module service workers, which refuse top-level await, and for
// apps that load the wasm from a URL of their own. `SseClient` can be constructed once the
// promise of `initialize()` has resolved.
import init from './wasm_sse.js';

let ready;

export function initialize(source) {
  ready ??= init({ module_or_path: source ?? new URL('./wasm_sse_bg.wasm', import.meta.url) }).then(() => undefined);
  return ready;
}

export { SseClient, SseError } from './client.js';
export { version } from './wasm_sse.js';
