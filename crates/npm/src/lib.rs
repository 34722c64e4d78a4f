//! The wasm of the wasm-sse npm package: the `#[wasm_bindgen]` exports that `npm/client.js`
//! builds `SseClient` on, written over the public API of the [`wasm_sse`] crate, and the
//! global allocator of that wasm. Built by `scripts/build.sh`; not published to crates.io
//! (Rust apps depend on `wasm-sse`, which exports nothing to JavaScript).
//!
//! On other targets the library is empty.

// `core` + `alloc` in the wasm, with `wasm-sse`'s panic handler (its `std` feature off).
#![cfg_attr(target_arch = "wasm32", no_std)]

#[cfg(target_arch = "wasm32")]
extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod bindings;

#[cfg(any(target_arch = "wasm32", test))]
mod pending;

#[cfg(all(target_arch = "wasm32", feature = "bench"))]
mod bench;

// Talc rather than Rust's default dlmalloc: the client makes a few small allocations per
// event (an event's buffer and strings, a typed payload's fields), which Talc serves in fewer
// instructions, from less code than dlmalloc (docs/benchmarks.md, "Package size", has the
// figures). Only where wasm has no threads: Talc's single-threaded wasm allocator takes no lock.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
