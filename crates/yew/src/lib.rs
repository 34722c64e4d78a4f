//! # wasm-sse-yew
//!
//! [Yew](https://yew.rs) hooks for the [`wasm_sse`] Server-Sent Events client: the
//! connection's state, transport, last error and latest message, plus a bounded queue of
//! every message in order (bursts are never coalesced into one), typed through the client's
//! JSON decoding and serde-enum dispatch. The component re-renders when any of it changes.
//!
//! ```no_run
//! use yew::prelude::*;
//! use wasm_sse_yew::{use_sse_json, UseSseOptions};
//!
//! #[derive(Clone, PartialEq, serde::Deserialize)]
//! struct Tick { count: u64 }
//!
//! #[component]
//! fn Ticks() -> Html {
//!     let sse = use_sse_json::<Tick>("/events?topic=demo", "tick", UseSseOptions::new());
//!     html! {
//!         <>
//!             <p>{ format!("{:?}", sse.ready_state) }</p>
//!             <p>{ sse.latest.as_ref().map(|m| m.data.count) }</p>
//!             <ul>{ for sse.messages.iter().map(|m| html! { <li>{ m.data.count }</li> }) }</ul>
//!         </>
//!     }
//! }
//! ```
//!
//! - The connection opens in an effect, so only in the browser (server rendering never
//!   opens one), and is closed by the effect's destructor: when the component unmounts or
//!   the URL changes. The client's handler is removed and its tasks end; no
//!   `Closure::forget` anywhere. The crate enables no Yew feature (`csr`, `ssr`): the
//!   application picks.
//! - This is a separate crate so that the core crate and the npm package never compile Yew.

// The README's examples compile as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use yew::prelude::*;

pub use wasm_sse::{ClientBuilder, Event, Message, ReadyState, TransportKind};
pub use wasm_sse_hooks::{SseError, UseSseOptions, DEFAULT_QUEUE_LIMIT};

use wasm_sse_hooks::{
    json_source, open, push_bounded, raw_source, typed_source, Connection, Sink, Source,
};

/// The state of one `use_sse*` hook, shared with its connection.
struct State<T> {
    ready_state: ReadyState,
    transport: Option<TransportKind>,
    error: Option<SseError>,
    latest: Option<T>,
    messages: Rc<VecDeque<T>>,
    dropped: u64,
    received: u64,
    limit: usize,
    closed: bool,
    connection: Option<Connection>,
}

/// What the `use_sse*` hooks return: a snapshot taken at render time (the component
/// re-renders when it changes), plus [`drain`](Self::drain) and [`close`](Self::close).
pub struct UseSseHandle<T> {
    /// The connection's state: `Connecting` (also while waiting to reconnect, and on the
    /// server), `Open`, `Closed` (after [`close`](Self::close) or when the reconnection
    /// policy stops).
    pub ready_state: ReadyState,
    /// The transport of the current (or last) connection; `None` before the first attempt.
    pub transport: Option<TransportKind>,
    /// The last error: a dropped connection, a stop, or a message that did not decode.
    /// Stays until the next error.
    pub error: Option<SseError>,
    /// The latest message.
    pub latest: Option<T>,
    /// The most recent messages, oldest first: every message is pushed in order, at most
    /// [`UseSseOptions::queue_limit`] are kept (the oldest are dropped and counted in
    /// [`dropped`](Self::dropped)). [`drain`](Self::drain) takes them out.
    pub messages: Rc<VecDeque<T>>,
    /// Messages dropped from a full queue.
    pub dropped: u64,
    /// Messages received so far.
    pub received: u64,
    state: Rc<RefCell<State<T>>>,
    rerender: UseForceUpdateHandle,
}

impl<T: Clone> Clone for UseSseHandle<T> {
    fn clone(&self) -> Self {
        Self {
            ready_state: self.ready_state,
            transport: self.transport,
            error: self.error.clone(),
            latest: self.latest.clone(),
            messages: Rc::clone(&self.messages),
            dropped: self.dropped,
            received: self.received,
            state: Rc::clone(&self.state),
            rerender: self.rerender.clone(),
        }
    }
}

impl<T: PartialEq> PartialEq for UseSseHandle<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.state, &other.state)
            && self.ready_state == other.ready_state
            && self.transport == other.transport
            && self.error == other.error
            && self.latest == other.latest
            && self.messages == other.messages
            && self.dropped == other.dropped
            && self.received == other.received
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for UseSseHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UseSseHandle")
            .field("ready_state", &self.ready_state)
            .field("transport", &self.transport)
            .field("error", &self.error)
            .field("latest", &self.latest)
            .field("messages", &self.messages.len())
            .field("dropped", &self.dropped)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl<T: Clone> UseSseHandle<T> {
    /// Takes every queued message out, oldest first (including those that arrived after
    /// this render), and re-renders. Call it from an effect or a callback, not while
    /// rendering; [`UseSseOptions::on_message`] is the other way to see every message.
    pub fn drain(&self) -> Vec<T> {
        let taken: Vec<T> = {
            let mut state = self.state.borrow_mut();
            if state.messages.is_empty() {
                return Vec::new();
            }
            Rc::make_mut(&mut state.messages).drain(..).collect()
        };
        self.rerender.force_update();
        taken
    }

    /// Closes the connection for good; `ready_state` becomes `Closed`. (Unmounting does
    /// this by itself.)
    pub fn close(&self) {
        let mut state = self.state.borrow_mut();
        state.closed = true;
        match &state.connection {
            Some(connection) => connection.close(),
            None => {
                state.ready_state = ReadyState::Closed;
                drop(state);
                self.rerender.force_update();
            }
        }
    }
}

struct YewSink<T> {
    state: Rc<RefCell<State<T>>>,
    rerender: UseForceUpdateHandle,
}

impl<T: Clone> Sink<T> for YewSink<T> {
    fn message(&self, message: T) {
        {
            let mut state = self.state.borrow_mut();
            state.received += 1;
            let limit = state.limit;
            let lost = if limit == 0 {
                1
            } else {
                push_bounded(Rc::make_mut(&mut state.messages), message.clone(), limit)
            };
            state.dropped += lost;
            state.latest = Some(message);
        }
        self.rerender.force_update();
    }

    fn error(&self, error: SseError) {
        self.state.borrow_mut().error = Some(error);
        self.rerender.force_update();
    }

    fn state(&self, ready_state: ReadyState, transport: Option<TransportKind>) {
        {
            let mut state = self.state.borrow_mut();
            if state.ready_state == ready_state
                && (transport.is_none() || state.transport == transport)
            {
                return;
            }
            state.ready_state = ready_state;
            if transport.is_some() {
                state.transport = transport;
            }
        }
        self.rerender.force_update();
    }
}

#[hook]
fn use_sse_with<T: Clone + 'static>(
    url: &str,
    options: UseSseOptions<T>,
    source: Source<T>,
) -> UseSseHandle<T> {
    let limit = options.queue_capacity();
    let state = use_mut_ref(move || State {
        ready_state: ReadyState::Connecting,
        transport: None,
        error: None,
        latest: None,
        messages: Rc::new(VecDeque::new()),
        dropped: 0,
        received: 0,
        limit,
        closed: false,
        connection: None,
    });
    let rerender = use_force_update();
    {
        let state = Rc::clone(&state);
        let rerender = rerender.clone();
        // Effects run only in the browser, after the first render, and again when `url`
        // changes; the destructor closes the connection (unmount or a new URL).
        use_effect_with(url.to_owned(), move |url| {
            let closed = state.borrow().closed;
            if !closed {
                let sink = Rc::new(YewSink {
                    state: Rc::clone(&state),
                    rerender,
                });
                let connection = open(url, &options, &source, sink);
                state.borrow_mut().connection = Some(connection);
            }
            move || {
                let connection = state.borrow_mut().connection.take();
                drop(connection); // closes the client, removes its handler, silences its tasks
            }
        });
    }
    let snapshot = state.borrow();
    UseSseHandle {
        ready_state: snapshot.ready_state,
        transport: snapshot.transport,
        error: snapshot.error.clone(),
        latest: snapshot.latest.clone(),
        messages: Rc::clone(&snapshot.messages),
        dropped: snapshot.dropped,
        received: snapshot.received,
        state: Rc::clone(&state),
        rerender,
    }
}

/// Every event from `url`, undecoded: unnamed (`message`) events plus the named types
/// listed in [`UseSseOptions::event_types`]. A new `url` replaces the connection.
#[hook]
pub fn use_sse(url: &str, options: UseSseOptions<Event>) -> UseSseHandle<Event> {
    use_sse_with(url, options, raw_source())
}

/// The events of type `event_type` from `url`, their data decoded as JSON into `T` (the
/// client's synchronous `on_json` handler: the fastest path). Data that does not decode is
/// reported in `error` ([`SseError::Decode`], carrying the whole event) and skipped.
#[hook]
pub fn use_sse_json<T>(
    url: &str,
    event_type: &str,
    options: UseSseOptions<Message<T>>,
) -> UseSseHandle<Message<T>>
where
    T: DeserializeOwned + Clone + 'static,
{
    use_sse_with(url, options, json_source::<T>(event_type.to_owned()))
}

/// Every event from `url` decoded into the serde enum `E`, one variant per event type
/// (`#[serde(tag = "event", content = "data")]`, as [`wasm_sse::Client::typed`]); the
/// variant names are registered with the connection. Unknown event types and data that
/// does not decode are reported in `error` and skipped.
#[hook]
pub fn use_sse_typed<E>(url: &str, options: UseSseOptions<E>) -> UseSseHandle<E>
where
    E: DeserializeOwned + Clone + 'static,
{
    use_sse_with(url, options, typed_source::<E>())
}
