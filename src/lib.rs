//! # wasm-sse
//!
//! A [Server-Sent Events](https://html.spec.whatwg.org/multipage/server-sent-events.html)
//! client for WebAssembly: the browser's
//! [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource) underneath,
//! with `futures::Stream`s of events on top.
//!
//! ```no_run
//! use futures::StreamExt;
//!
//! # async fn demo() -> Result<(), wasm_sse::Error> {
//! let client = wasm_sse::Client::connect("/events?topic=demo")?;
//! let mut ticks = client.subscribe("tick");
//! while let Some(event) = ticks.next().await {
//!     println!("{}: {}", event.last_event_id, event.data);
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod dispatch;
mod engine;
mod env;
mod error;
mod event;
mod handlers;
mod page;
mod transport;
mod typed;

#[cfg(target_arch = "wasm32")]
mod js;

pub use client::{Client, ClientBuilder, EventStream, HeaderProvider, LifecycleStream, RetryHook};
pub use engine::reconnect;
pub use engine::{CloseReason, Lifecycle, Method, ReadyState, TransportKind};
pub use error::Error;
pub use event::Event;
pub use handlers::Handler;
pub use typed::{DecodeError, DecodeErrorKind, JsonStream, Message, TypedStream};

// With the `talc` feature (the npm package is built with it), wasm builds allocate with Talc
// rather than Rust's default dlmalloc: the client makes a few small allocations per event
// (an event's buffer and strings, a typed payload's fields), which Talc serves in fewer
// instructions, from less code (about 8 KiB of dlmalloc leave the module). Only where
// wasm has no threads: Talc's single-threaded wasm allocator takes no lock.
#[cfg(all(
    feature = "talc",
    target_family = "wasm",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
