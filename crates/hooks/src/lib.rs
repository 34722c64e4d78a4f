//! The framework-neutral half of the `wasm-sse` UI hooks: options, the error type, the
//! bounded message queue, and opening a client that reports to a [`Sink`].
//!
//! `wasm-sse-leptos` and `wasm-sse-yew` build their hooks on this crate, so the two share one
//! implementation of how a connection is opened, reported and closed. Application code uses
//! those crates; this one has no framework dependency.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use futures::StreamExt;
use serde::de::DeserializeOwned;
use wasm_sse::reconnect::Failure;
use wasm_sse::{
    Client, ClientBuilder, CloseReason, DecodeError, Event, Handler, Lifecycle, Message,
    ReadyState, TransportKind,
};

/// How many messages the queue keeps unless [`UseSseOptions::queue_limit`] says otherwise.
pub const DEFAULT_QUEUE_LIMIT: usize = 1000;

/// What went wrong, as the hooks' `error` reports it (the last one wins).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SseError {
    /// The client could not be created (invalid URL or option, unsupported environment).
    Connect(wasm_sse::Error),
    /// A connection dropped or failed; the client reconnects by its policy.
    Connection(Failure),
    /// The client closed for good for a reason other than a requested close (the policy
    /// stopped, or the connection could not be created).
    Closed(CloseReason),
    /// An event's data did not decode into the hook's type; the event is carried whole and
    /// the stream goes on.
    Decode(DecodeError),
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::Connect(error) => write!(f, "cannot connect: {error}"),
            SseError::Connection(failure) => write!(f, "connection lost: {failure}"),
            SseError::Closed(CloseReason::Stopped(reason)) => write!(f, "closed: {reason}"),
            SseError::Closed(CloseReason::Error(error)) => write!(f, "closed: {error}"),
            SseError::Closed(reason) => write!(f, "closed: {reason:?}"),
            SseError::Decode(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SseError {}

type Configure = Rc<dyn Fn(ClientBuilder) -> ClientBuilder>;
type OnMessage<T> = Rc<dyn Fn(&T)>;

/// Options of the `use_sse*` hooks; `T` is the hook's message type (inferred from the hook).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use wasm_sse::reconnect::ReconnectPolicy;
/// use wasm_sse_hooks::UseSseOptions;
///
/// let options = UseSseOptions::<String>::new()
///     .queue_limit(50) // the oldest message goes (and is counted) past 50
///     .event_types(["note"])
///     .configure(|builder| {
///         builder
///             .reconnect(ReconnectPolicy::new().max_delay(Duration::from_secs(5)))
///             .idle_timeout(Duration::from_secs(60))
///     });
/// assert_eq!(options.queue_capacity(), 50);
/// ```
pub struct UseSseOptions<T> {
    configure: Option<Configure>,
    event_types: Vec<String>,
    queue_limit: usize,
    on_message: Option<OnMessage<T>>,
    share: Option<String>,
}

impl<T> Default for UseSseOptions<T> {
    fn default() -> Self {
        Self {
            configure: None,
            event_types: Vec::new(),
            queue_limit: DEFAULT_QUEUE_LIMIT,
            on_message: None,
            share: None,
        }
    }
}

impl<T> Clone for UseSseOptions<T> {
    fn clone(&self) -> Self {
        Self {
            configure: self.configure.clone(),
            event_types: self.event_types.clone(),
            queue_limit: self.queue_limit,
            on_message: self.on_message.clone(),
            share: self.share.clone(),
        }
    }
}

impl<T> fmt::Debug for UseSseOptions<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseSseOptions")
            .field("configure", &self.configure.is_some())
            .field("event_types", &self.event_types)
            .field("queue_limit", &self.queue_limit)
            .field("on_message", &self.on_message.is_some())
            .field("share", &self.share)
            .finish()
    }
}

impl<T> UseSseOptions<T> {
    /// The default options: no extra event types, a queue of [`DEFAULT_QUEUE_LIMIT`]
    /// messages, the client's own defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures the [`ClientBuilder`] before it connects (reconnection policy, timeouts,
    /// transport, headers, ...). Called for every connection the hook opens.
    #[must_use]
    pub fn configure(mut self, f: impl Fn(ClientBuilder) -> ClientBuilder + 'static) -> Self {
        self.configure = Some(Rc::new(f));
        self
    }

    /// Named event types `use_sse` should receive besides unnamed (`message`) events: the
    /// browser's `EventSource` delivers a named event only to listeners registered for its
    /// name. (`use_sse_json` and `use_sse_typed` register their names themselves.)
    #[must_use]
    pub fn event_types<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.event_types = names.into_iter().map(Into::into).collect();
        self
    }

    /// How many messages the queue keeps (default [`DEFAULT_QUEUE_LIMIT`]). When it is full
    /// the oldest message is dropped and the `dropped` counter goes up by one; `0` keeps no
    /// queue at all (`latest` and `on_message` still see every message).
    #[must_use]
    pub fn queue_limit(mut self, limit: usize) -> Self {
        self.queue_limit = limit;
        self
    }

    /// Shares the stream with the other tabs of the origin that open it with the same `key`:
    /// one network connection for all of them (see
    /// [`ClientBuilder::share`](wasm_sse::ClientBuilder::share) and docs/sharing.md; an
    /// empty key is [`share_by_request`](Self::share_by_request)). Default: not shared.
    #[must_use]
    pub fn share(mut self, key: impl Into<String>) -> Self {
        self.share = Some(key.into());
        self
    }

    /// Shares the stream under a key made of the request (see
    /// [`ClientBuilder::share_by_request`](wasm_sse::ClientBuilder::share_by_request)).
    /// Default: not shared.
    #[must_use]
    pub fn share_by_request(self) -> Self {
        self.share("")
    }

    /// Calls `f` with every message, in order, synchronously as it arrives (before the
    /// framework re-renders): nothing is coalesced and nothing is dropped.
    #[must_use]
    pub fn on_message(mut self, f: impl Fn(&T) + 'static) -> Self {
        self.on_message = Some(Rc::new(f));
        self
    }
}

impl<T> UseSseOptions<T> {
    /// How many messages the hook's queue keeps (set with
    /// [`queue_limit`](Self::queue_limit)).
    pub fn queue_capacity(&self) -> usize {
        self.queue_limit
    }
}

/// Pushes `item` onto a queue bounded by `limit`; returns how many old items were dropped.
pub fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, limit: usize) -> u64 {
    if limit == 0 {
        return 1;
    }
    let mut dropped = 0;
    while queue.len() >= limit {
        queue.pop_front();
        dropped += 1;
    }
    queue.push_back(item);
    dropped
}

/// Where a connection reports: the framework's state.
pub trait Sink<T> {
    /// One decoded message.
    fn message(&self, message: T);
    /// An error (the last one is kept).
    fn error(&self, error: SseError);
    /// The connection's state changed.
    fn state(&self, ready_state: ReadyState, transport: Option<TransportKind>);
}

/// Attaches a message source to a client: registers what it needs and feeds `deliver`.
/// Returns the handler guard, if any (a stream-fed source ends with the client instead).
pub type Source<T> = Rc<dyn Fn(&Client, Box<dyn FnMut(Result<T, DecodeError>)>) -> Option<Handler>>;

/// Every event `use_sse` receives: unnamed ones and the registered named types.
pub fn raw_source() -> Source<Event> {
    Rc::new(|client, mut deliver| Some(client.on_any(move |event| deliver(Ok(event.clone())))))
}

/// Events of one type, their data decoded as JSON: a synchronous handler (`on_json`).
pub fn json_source<T: DeserializeOwned + 'static>(event_type: String) -> Source<Message<T>> {
    Rc::new(move |client, mut deliver| {
        // The hooks keep each message, so they take owned copies of the type and ID.
        Some(client.on_json::<T>(event_type.clone(), move |data, event| {
            deliver(data.map(|data| Message::from_event(event, data)))
        }))
    })
}

/// Every event decoded into a serde enum (`Client::typed`), fed by a task that ends when the
/// client closes.
pub fn typed_source<E: DeserializeOwned + 'static>() -> Source<E> {
    Rc::new(|client, mut deliver| {
        let mut stream = client.typed::<E>();
        wasm_bindgen_futures::spawn_local(async move {
            while let Some(item) = stream.next().await {
                deliver(item);
            }
        });
        None
    })
}

/// An open connection: dropping it closes the client, removes the handler, and silences
/// every report still in flight.
pub struct Connection {
    alive: Rc<Cell<bool>>,
    handler: Option<Handler>,
    client: Option<Client>,
}

impl Connection {
    /// Closes the client for good (the sink sees the `Closed` state).
    pub fn close(&self) {
        if let Some(client) = &self.client {
            client.close();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.alive.set(false);
        drop(self.handler.take());
        drop(self.client.take()); // closes
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Opens a client for `url` and reports everything to `sink` until the returned
/// [`Connection`] is dropped. Browser only: elsewhere it reports an `Unsupported` error.
pub fn open<T: 'static>(
    url: &str,
    options: &UseSseOptions<T>,
    source: &Source<T>,
    sink: Rc<dyn Sink<T>>,
) -> Connection {
    let alive = Rc::new(Cell::new(true));
    let mut connection = Connection {
        alive: Rc::clone(&alive),
        handler: None,
        client: None,
    };
    if !cfg!(target_arch = "wasm32") {
        sink.error(SseError::Connect(wasm_sse::Error::Unsupported(
            "Server-Sent Events connect in the browser only".into(),
        )));
        sink.state(ReadyState::Closed, None);
        return connection;
    }
    let mut builder = Client::builder(url);
    if !options.event_types.is_empty() {
        builder = builder.event_types(options.event_types.iter().cloned());
    }
    if let Some(key) = &options.share {
        builder = builder.share(key.clone());
    }
    if let Some(configure) = &options.configure {
        builder = configure(builder);
    }
    let client = match builder.connect() {
        Ok(client) => client,
        Err(error) => {
            sink.error(SseError::Connect(error));
            sink.state(ReadyState::Closed, None);
            return connection;
        }
    };
    sink.state(client.ready_state(), client.transport());

    let mut lifecycle = client.lifecycle();
    let watch = Rc::clone(&alive);
    let states = Rc::clone(&sink);
    wasm_bindgen_futures::spawn_local(async move {
        let mut transport = None;
        while let Some(change) = lifecycle.next().await {
            if !watch.get() {
                break;
            }
            match change {
                Lifecycle::Connecting { transport: t, .. } => {
                    transport = Some(t);
                    states.state(ReadyState::Connecting, transport);
                }
                Lifecycle::Open { transport: t } => {
                    transport = Some(t);
                    states.state(ReadyState::Open, transport);
                }
                Lifecycle::Reconnecting { reason } => {
                    states.error(SseError::Connection(reason));
                    states.state(ReadyState::Connecting, transport);
                }
                Lifecycle::Closed { reason } => {
                    if reason != CloseReason::Requested {
                        states.error(SseError::Closed(reason));
                    }
                    states.state(ReadyState::Closed, transport);
                }
                _ => {}
            }
        }
    });

    let on_message = options.on_message.clone();
    let watch = Rc::clone(&alive);
    let deliver = Box::new(move |item: Result<T, DecodeError>| {
        if !watch.get() {
            return;
        }
        match item {
            Ok(message) => {
                if let Some(f) = &on_message {
                    f(&message);
                }
                sink.message(message);
            }
            Err(error) => sink.error(SseError::Decode(error)),
        }
    });
    connection.handler = source(&client, deliver);
    connection.client = Some(client);
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_drops_the_oldest_when_full() {
        let mut queue = VecDeque::new();
        let dropped: u64 = (0..5).map(|i| push_bounded(&mut queue, i, 3)).sum();
        assert_eq!(dropped, 2);
        assert_eq!(queue, [2, 3, 4]);
        assert_eq!(push_bounded(&mut queue, 9, 0), 1);
        assert_eq!(queue.len(), 3);
    }
}
