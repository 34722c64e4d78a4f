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
//!
//! ## Features
//!
//! - `std` (default): typed decoding (`on_json`, `subscribe_json`, `typed`, with serde),
//!   `Send` streams and std's panic handling; includes `streams`.
//! - `streams`: the streams, `events`, `subscribe` and `lifecycle`. Handlers (`on`,
//!   `on_any`, `on_lifecycle`) need no feature.
//!
//! Without default features the crate is `no_std` + `alloc`, as the npm package builds it.

// Without `std` (the npm package's wasm): `core` + `alloc` only (see the `std` feature).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod channel;
mod client;
mod dispatch;
mod engine;
mod env;
mod error;
mod event;
mod handlers;
mod page;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod panic;
mod share;
mod transport;
#[cfg(feature = "std")]
mod typed;
mod vocabulary;

pub use client::{Client, ClientBuilder, HeaderProvider, RetryHook};
#[cfg(feature = "streams")]
pub use client::{EventStream, LifecycleStream};
pub use engine::reconnect;
pub use engine::{CloseReason, Lifecycle, Method, ReadyState, ShareRole, TransportKind};
pub use error::Error;
pub use event::Event;
pub use handlers::Handler;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[doc(hidden)]
pub use panic::set_panic_hook;
pub use transport::ResponseHead;
#[cfg(feature = "std")]
pub use typed::{DecodeError, DecodeErrorKind, JsonStream, Message, TypedStream};
