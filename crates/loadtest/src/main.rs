//! `sse-load`: load tool for sse-devserver.
fn main() {}
