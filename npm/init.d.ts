// Types of `wasm-sse/init`: the package's API plus `initialize`, for environments without
// top-level await (module service workers) and apps that load the wasm from their own URL.
export * from './index.js';

/**
 * Fetches and instantiates the package's wasm, once: later calls return the same promise.
 * `SseClient` can be constructed after it resolves.
 *
 * @param source where to load the wasm from (default: `wasm_sse_bg.wasm` next to this
 *   module), or its bytes, a `Response` or a compiled `WebAssembly.Module`.
 */
export function initialize(
  source?: string | URL | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;
