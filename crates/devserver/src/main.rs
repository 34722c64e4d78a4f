//! `sse-devserver` binary.
fn main() {}
