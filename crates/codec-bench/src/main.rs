//! Peer benchmark for wasm-sse-codec.
fn main() {}
