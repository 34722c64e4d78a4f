//! # wasm-sse-leptos
//!
//! [Leptos](https://leptos.dev) hooks for the [`wasm_sse`] Server-Sent Events client:
//! signals for the connection's state, transport, last error and latest message, plus a
//! bounded queue of every message in order (bursts are never coalesced into one), typed
//! through the client's JSON decoding and serde-enum dispatch.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use wasm_sse_leptos::{use_sse_json, UseSseOptions};
//!
//! #[derive(Clone, serde::Deserialize)]
//! struct Tick { count: u64 }
//!
//! #[component]
//! fn Ticks() -> impl IntoView {
//!     let sse = use_sse_json::<Tick>("/events?topic=demo", "tick", UseSseOptions::new());
//!     view! {
//!         <p>{move || format!("{:?}", sse.ready_state.get())}</p>
//!         <p>{move || sse.latest.get().map(|m| m.data.count)}</p>
//!         <ul>{move || sse.messages.get().into_iter().map(|m| view! { <li>{m.data.count}</li> }).collect_view()}</ul>
//!     }
//! }
//! ```
//!
//! - The connection opens in an [`Effect`], so only in the browser: server rendering (the
//!   `ssr` feature) and hydration never open one and never panic; the state reads
//!   `Connecting` until the browser connects. The crate enables no Leptos mode feature
//!   (`csr`, `ssr`, `hydrate`): the application picks it.
//! - Everything is released when the reactive owner is cleaned up (the component unmounts,
//!   or the URL signal changes and the effect re-runs): the client is closed, its handler
//!   removed and its tasks end. No `Closure::forget` anywhere.
//! - This is a separate crate so that the core crate and the npm package never compile
//!   Leptos.

// The README's examples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

pub use wasm_sse::{ClientBuilder, Event, Message, ReadyState, TransportKind};
pub use wasm_sse_hooks::{SseError, UseSseOptions, DEFAULT_QUEUE_LIMIT};

use wasm_sse_hooks::{
    json_source, open, push_bounded, raw_source, typed_source, Connection, Sink, Source,
};

/// What the `use_sse*` hooks return: signals, plus [`drain`](Self::drain) and
/// [`close`](Self::close). `Copy`, like a signal.
pub struct UseSse<T: Send + Sync + 'static> {
    /// The connection's state: `Connecting` (also while waiting to reconnect, and on the
    /// server), `Open`, `Closed` (after [`close`](Self::close), when the reconnection policy
    /// stops, or once the owner is cleaned up).
    pub ready_state: ReadSignal<ReadyState>,
    /// The transport of the current (or last) connection; `None` before the first attempt.
    pub transport: ReadSignal<Option<TransportKind>>,
    /// The last error: a dropped connection, a stop, or a message that did not decode.
    /// Stays until the next error.
    pub error: ReadSignal<Option<SseError>>,
    /// The latest message.
    pub latest: ReadSignal<Option<T>>,
    /// The most recent messages, oldest first: every message is pushed in order, at most
    /// [`UseSseOptions::queue_limit`] are kept (the oldest are dropped and counted in
    /// [`dropped`](Self::dropped)). [`drain`](Self::drain) takes them out.
    pub messages: ReadSignal<VecDeque<T>>,
    /// Messages dropped from a full queue.
    pub dropped: ReadSignal<u64>,
    /// Messages received so far.
    pub received: ReadSignal<u64>,
    queue: RwSignal<VecDeque<T>>,
    state: RwSignal<ReadyState>,
    closed: StoredValue<bool>,
    connection: StoredValue<Option<Connection>, LocalStorage>,
}

impl<T: Send + Sync + 'static> Clone for UseSse<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for UseSse<T> {}

impl<T: Send + Sync + 'static> std::fmt::Debug for UseSse<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseSse")
            .field("ready_state", &self.ready_state.try_get_untracked())
            .field("transport", &self.transport.try_get_untracked())
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> UseSse<T> {
    /// Takes every queued message out, oldest first, and subscribes the running effect (if
    /// any) to new ones: `Effect::new(move || for m in sse.drain() { ... })` sees every
    /// message exactly once, in order.
    pub fn drain(&self) -> Vec<T> {
        if self.queue.try_with(VecDeque::is_empty).unwrap_or(true) {
            return Vec::new();
        }
        self.queue
            .try_update(|queue| queue.drain(..).collect())
            .unwrap_or_default()
    }

    /// Closes the connection for good; `ready_state` becomes `Closed`. (Cleanup of the
    /// owner does this by itself.)
    pub fn close(&self) {
        self.closed.try_set_value(true);
        let closed = self
            .connection
            .try_with_value(|connection| connection.as_ref().map(Connection::close))
            .flatten();
        if closed.is_none() {
            self.state.try_set(ReadyState::Closed);
        }
    }
}

struct LeptosSink<T: Send + Sync + 'static> {
    state: RwSignal<ReadyState>,
    transport: RwSignal<Option<TransportKind>>,
    error: RwSignal<Option<SseError>>,
    latest: RwSignal<Option<T>>,
    queue: RwSignal<VecDeque<T>>,
    dropped: RwSignal<u64>,
    received: RwSignal<u64>,
    limit: usize,
}

impl<T: Clone + Send + Sync + 'static> Sink<T> for LeptosSink<T> {
    fn message(&self, message: T) {
        self.received.try_update(|n| *n += 1);
        let limit = self.limit;
        let lost = if limit == 0 {
            1
        } else {
            let copy = message.clone();
            self.queue
                .try_update(|queue| push_bounded(queue, copy, limit))
                .unwrap_or(0)
        };
        if lost > 0 {
            self.dropped.try_update(|n| *n += lost);
        }
        self.latest.try_set(Some(message));
    }

    fn error(&self, error: SseError) {
        self.error.try_set(Some(error));
    }

    fn state(&self, ready_state: ReadyState, transport: Option<TransportKind>) {
        if self.state.try_get_untracked() != Some(ready_state) {
            self.state.try_set(ready_state);
        }
        if transport.is_some() && self.transport.try_get_untracked() != Some(transport) {
            self.transport.try_set(transport);
        }
    }
}

fn use_sse_with<T: Clone + Send + Sync + 'static>(
    url: Signal<String>,
    options: UseSseOptions<T>,
    source: Source<T>,
) -> UseSse<T> {
    let state = RwSignal::new(ReadyState::Connecting);
    let transport = RwSignal::new(None);
    let error = RwSignal::new(None);
    let latest = RwSignal::new(None);
    let queue = RwSignal::new(VecDeque::new());
    let dropped = RwSignal::new(0);
    let received = RwSignal::new(0);
    let closed = StoredValue::new(false);
    let connection = StoredValue::new_local(None::<Connection>);

    // Effects run only in the browser (never during server rendering): the connection
    // opens there, after the component is created, and again whenever `url` changes.
    Effect::new(move || {
        let url = url.get();
        if closed.try_get_value().unwrap_or(true) {
            return;
        }
        let sink = Rc::new(LeptosSink {
            state,
            transport,
            error,
            latest,
            queue,
            dropped,
            received,
            limit: options.queue_capacity(),
        });
        let opened = open(&url, &options, &source, sink);
        connection.try_set_value(Some(opened));
        on_cleanup(move || {
            let old = connection.try_update_value(Option::take).flatten();
            drop(old); // closes the client, removes its handler, silences its tasks
        });
    });

    UseSse {
        ready_state: state.read_only(),
        transport: transport.read_only(),
        error: error.read_only(),
        latest: latest.read_only(),
        messages: queue.read_only(),
        dropped: dropped.read_only(),
        received: received.read_only(),
        queue,
        state,
        closed,
        connection,
    }
}

/// Every event from `url`, undecoded: unnamed (`message`) events plus the named types
/// listed in [`UseSseOptions::event_types`]. `url` may be a signal: the connection is
/// replaced when it changes.
pub fn use_sse(url: impl Into<Signal<String>>, options: UseSseOptions<Event>) -> UseSse<Event> {
    use_sse_with(url.into(), options, raw_source())
}

/// The events of type `event_type` from `url`, their data decoded as JSON into `T` (the
/// client's synchronous `on_json` handler: the fastest path). Data that does not decode
/// is reported in `error` ([`SseError::Decode`], carrying the whole event) and skipped.
pub fn use_sse_json<T>(
    url: impl Into<Signal<String>>,
    event_type: impl Into<String>,
    options: UseSseOptions<Message<T>>,
) -> UseSse<Message<T>>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_sse_with(url.into(), options, json_source::<T>(event_type.into()))
}

/// Every event from `url` decoded into the serde enum `E`, one variant per event type
/// (`#[serde(tag = "event", content = "data")]`, as [`wasm_sse::Client::typed`]); the
/// variant names are registered with the connection. Unknown event types and data that
/// does not decode are reported in `error` and skipped.
///
/// ```no_run
/// # use leptos::prelude::*;
/// #[derive(Clone, serde::Deserialize)]
/// #[serde(tag = "event", content = "data", rename_all = "lowercase")]
/// enum Feed {
///     Tick { count: u64 },
///     Note(String),
/// }
/// # fn demo() {
/// let feed = wasm_sse_leptos::use_sse_typed::<Feed>("/events?topic=demo", Default::default());
/// Effect::new(move || {
///     for event in feed.drain() {
///         match event {
///             Feed::Tick { count } => leptos::logging::log!("tick {count}"),
///             Feed::Note(text) => leptos::logging::log!("note {text}"),
///         }
///     }
/// });
/// # }
/// ```
pub fn use_sse_typed<E>(url: impl Into<Signal<String>>, options: UseSseOptions<E>) -> UseSse<E>
where
    E: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_sse_with(url.into(), options, typed_source::<E>())
}
