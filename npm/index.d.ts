// Types of the wasm-sse package: the exports of the wasm module, already initialised.
export * from './wasm_sse.js';
