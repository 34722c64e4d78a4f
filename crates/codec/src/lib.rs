//! Sans-IO, spec-exact `text/event-stream` (Server-Sent Events) parser and encoder.
//!
//! - [`Parser`]: an incremental parser implementing [Parsing an event stream] and
//!   [Interpreting an event stream] of the WHATWG HTML Standard. Feed it byte chunks of any
//!   size; it reports [`Item`]s: dispatched [`Event`]s, `retry` values and comments. It runs
//!   in linear time, never depends on chunk boundaries, and bounds memory with a maximum
//!   event size.
//! - [`EventBuilder`]: writes events (and comments, ids, retry values) that the parser and
//!   browsers read back exactly.
//! - [`protocol`]: the header and query-parameter names of the wasm-sse wire protocol (the
//!   client, its dev server and their tests spell them from here).
//!
//! ```
//! use wasm_sse_codec::{EventBuilder, Item, Parser};
//!
//! let mut stream = Vec::new();
//! EventBuilder::new().event("tick").id("1").data("line 1\nline 2").encode_into(&mut stream)?;
//! EventBuilder::new().comment("keep-alive").encode_into(&mut stream)?;
//!
//! let mut parser = Parser::new();
//! let mut items = Vec::new();
//! for chunk in stream.chunks(5) {
//!     parser.feed(chunk, |item| items.push(item))?;
//! }
//! parser.finish();
//! match &items[0] {
//!     Item::Event(event) => {
//!         assert_eq!(event.event_type(), "tick");
//!         assert_eq!(event.data(), "line 1\nline 2");
//!         assert_eq!(event.id(), "1");
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert_eq!(items[1], Item::Comment("keep-alive".into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [Parsing an event stream]: https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
//! [Interpreting an event stream]: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
#![forbid(unsafe_code)]
// `core` + `alloc` only (the npm package's wasm has no `std`); the tests use `std`.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod encoder;
mod event;
mod parser;
pub mod protocol;

pub use encoder::{EncodeError, EventBuilder};
pub use event::{Event, Item};
pub use parser::{ParseError, Parser, DEFAULT_MAX_EVENT_SIZE};
