//! wasm-sse: Server-Sent Events client for WebAssembly.
