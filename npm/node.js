// Node.js entry of the wasm-sse package: reads the wasm next to this file and
// instantiates it synchronously, so `import { SseClient } from 'wasm-sse'` needs no init call.
import { readFileSync } from 'node:fs';
import { initSync } from './wasm_sse.js';

initSync({ module: readFileSync(new URL('./wasm_sse_bg.wasm', import.meta.url)) });

export { SseClient, SseError } from './client.js';
export { version } from './wasm_sse.js';
