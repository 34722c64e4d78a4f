//! The client: the handle users hold, the streams it hands out, and the shell that runs
//! the connection engine.
//!
//! ```text
//!  transports (EventSource, fetch, long polling) ──► reports ──┐
//!  page lifecycle (online, pageshow, ...) ──────────────────────┼──► driver ──► Engine
//!  Client handle (subscribe, close, drop) ──────────────────────┘      ▲   (decides)
//!  transports' fast path: each event ──► Engine::admit ──► Dispatcher, handlers
//! ```
//!
//! The [`Engine`](crate::engine::Engine) makes every decision; the driver
//! ([`driver`]) does what it asks (connect, cancel, tell the user) and feeds it what
//! happens. When the driver ends (close, drop of the handle, or the policy stops) it drops
//! the transport, the timers and the page listeners, which removes every listener and
//! cancels every timer, and every stream ends.

use alloc::borrow::ToOwned;
use alloc::string::String;
#[cfg(feature = "streams")]
use alloc::vec::Vec;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt;

use crate::channel::{unbounded, UnboundedSender};
#[cfg(feature = "std")]
use serde::de::DeserializeOwned;

mod builder;
mod driver;
#[cfg(feature = "streams")]
mod streams;

pub use builder::{ClientBuilder, HeaderProvider, RetryHook};
#[cfg(feature = "streams")]
pub use streams::{EventStream, LifecycleStream};

#[cfg(feature = "streams")]
use crate::dispatch::Dispatcher;
use crate::dispatch::Filter;
use crate::engine::reconnect::StopReason;
use crate::engine::{
    CloseReason, Config, Engine, Lifecycle, PageSignal, ReadyState, ShareRole, TransportKind,
};
use crate::handlers::{self, Handler, SharedHandlers};
use crate::transport::{Body, Deliver};
#[cfg(feature = "std")]
use crate::typed::{decode_data, variant_names, DecodeError, JsonStream, TypedStream};
use crate::{env, Error, Event, ResponseHead};
use builder::Options;
use driver::Driver;

/// What the driver receives from the handle and the page.
#[derive(Debug)]
enum Command {
    /// Register this event type with the transport.
    Listen(String),
    /// Close for good.
    Close,
    /// Drop the connection and open a new one now.
    Reconnect,
    /// Use this URL from the next connection attempt on.
    SetUrl(String),
    /// Send this body from the next connection attempt on.
    SetBody(Body),
    /// A page-lifecycle signal.
    Page(PageSignal),
    /// A signal of the cross-tab sharing (the lock, the page).
    Share(crate::share::Signal),
}

impl From<crate::share::Signal> for Command {
    fn from(signal: crate::share::Signal) -> Self {
        Self::Share(signal)
    }
}

impl From<PageSignal> for Command {
    fn from(signal: PageSignal) -> Self {
        Self::Page(signal)
    }
}

/// What the handle, the driver and the fast path share besides the engine.
#[derive(Default)]
struct Shared {
    #[cfg(feature = "streams")]
    dispatcher: Dispatcher,
    #[cfg(feature = "streams")]
    lifecycle: Vec<UnboundedSender<Lifecycle>>,
    /// [`Client::close`] was called: the state reads `Closed` at once.
    closing: bool,
    /// The driver finished: every stream has ended.
    closed: bool,
    handlers: SharedHandlers,
    /// The head of the last response accepted (fetch-based transports).
    response: Option<ResponseHead>,
    /// The start of the body of the last error response.
    error_body: Option<String>,
    /// This client's part in the sharing of its stream.
    role: Option<ShareRole>,
}

/// The transports' fast path for events (see [`Sink`](crate::transport::Sink)): through the
/// engine's exactly-once filter, then straight to the subscribers and handlers, in the
/// transport's own callback.
fn fast_path(engine: Rc<RefCell<Engine>>, shared: Rc<RefCell<Shared>>) -> Deliver {
    Rc::new(move |mut event| {
        if engine.borrow_mut().admit(&mut event) {
            let handlers = {
                #[cfg_attr(not(feature = "streams"), allow(unused_mut))]
                let mut shared = shared.borrow_mut();
                #[cfg(feature = "streams")]
                shared.dispatcher.dispatch(&event);
                Rc::clone(&shared.handlers)
            };
            // Handlers run with nothing borrowed: they may use the client.
            handlers::call(&handlers, &event);
        }
        event
    })
}

/// A Server-Sent Events client.
///
/// Dropping the client closes it: the connection is closed, its listeners and timers are
/// released, and every stream it handed out ends.
///
/// # Example
///
/// Streams and handlers side by side; both see every event once, in order, across
/// reconnections.
///
/// ```no_run
/// use futures::StreamExt;
/// use wasm_sse::{Client, Lifecycle};
///
/// #[derive(serde::Deserialize)]
/// struct Tick {
///     count: u64,
/// }
///
/// # async fn demo() -> Result<(), wasm_sse::Error> {
/// let client = Client::connect("/events?topic=demo")?;
///
/// // A synchronous handler, called in the event's own browser task; removed when dropped.
/// let _handler = client.on_json::<Tick>("tick", |tick, event| {
///     if let Ok(tick) = tick {
///         web_sys::console::log_1(&format!("{} (id {})", tick.count, event.last_event_id).into());
///     }
/// });
///
/// // A stream of lifecycle changes: connecting, open, reconnecting, closed.
/// let mut lifecycle = client.lifecycle();
/// while let Some(change) = lifecycle.next().await {
///     if let Lifecycle::Closed { reason } = change {
///         web_sys::console::warn_1(&format!("closed: {reason:?}").into());
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "dropping the client closes the connection"]
pub struct Client {
    url: String,
    engine: Rc<RefCell<Engine>>,
    shared: Rc<RefCell<Shared>>,
    commands: UnboundedSender<Command>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("ready_state", &self.ready_state())
            .field("transport", &self.transport())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client for `url`.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            options: Options::new(),
        }
    }

    /// Connects to `url` with the default options.
    pub fn connect(url: impl Into<String>) -> Result<Client, Error> {
        Self::builder(url).connect()
    }

    pub(super) fn start(builder: ClientBuilder) -> Client {
        let o = &builder.options;
        let config = Config {
            url: builder.url.clone(),
            transport: o.transport,
            // A leader passes on every event type, which only a body read whole can give
            // (`EventSource` delivers the named types it listens for).
            needs_fetch: o.needs_fetch() || o.share.is_some(),
            same_origin: env::is_same_origin(&builder.url),
            has_event_source: env::has_event_source(),
            has_fetch_streams: env::has_fetch_streams(),
            policy: o.policy.clone(),
            seed: env::random_seed(),
            idle_timeout: o.idle_timeout,
            connect_timeout: o.connect_timeout,
            long_poll_timeout: o.long_poll_timeout,
            stall_downgrade: o.stall_downgrade,
            pause_when_hidden: o.pause_when_hidden,
            has_retry_hook: o.retry_hook.is_some(),
            last_event_id: o.last_event_id.clone().unwrap_or_default(),
            last_event_id_param: o.last_event_id_param.clone(),
            close_on_end: o.close_on_end,
        };
        let engine = Rc::new(RefCell::new(Engine::new(config, env::now())));
        let shared = Rc::new(RefCell::new(Shared::default()));
        let (commands, command_rx) = unbounded();
        let share_key = o.share_key(&builder.url);
        let driver = Driver::new(builder.options, Rc::clone(&engine), Rc::clone(&shared));
        let driver = driver.run(command_rx, commands.clone(), share_key);
        wasm_bindgen_futures::spawn_local(driver);
        Client {
            url: builder.url,
            engine,
            shared,
            commands,
        }
    }

    /// The URL this client connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The connection's current state.
    pub fn ready_state(&self) -> ReadyState {
        if self.shared.borrow().closing {
            return ReadyState::Closed;
        }
        self.engine.borrow().ready_state()
    }

    /// The transport of the current (or last) connection; `None` before the first attempt.
    pub fn transport(&self) -> Option<TransportKind> {
        self.engine.borrow().transport()
    }

    /// This client's part in the sharing of its stream across tabs (see
    /// [`ClientBuilder::share`]): `None` when the stream is not shared, where sharing is not
    /// available (Node), while the client's page is hidden away, before the election and
    /// once closed. Its changes come as [`Lifecycle::Shared`].
    pub fn shared(&self) -> Option<ShareRole> {
        self.shared.borrow().role
    }

    /// The ID of the last event delivered (or given to
    /// [`ClientBuilder::last_event_id`]); `""` when none.
    pub fn last_event_id(&self) -> String {
        self.engine.borrow().last_event_id().to_owned()
    }

    /// Why the reconnection policy stopped the client, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.engine.borrow().close_reason() {
            Some(CloseReason::Stopped(stop)) => Some(stop.clone()),
            _ => None,
        }
    }

    /// Calls `handler` with every event of type `event_type`, synchronously, in the
    /// browser task that delivered the event (like an `EventSource` listener), until the
    /// returned [`Handler`] is dropped or the client closes. The fastest way to consume
    /// events: no stream, no task switch.
    pub fn on(
        &self,
        event_type: impl Into<String>,
        handler: impl FnMut(&Event) + 'static,
    ) -> Handler {
        let name = event_type.into();
        self.listen_for(name.clone());
        let handlers = Rc::clone(&self.shared.borrow().handlers);
        handlers::add(&handlers, Filter::Type(name), handler)
    }

    /// Calls `handler` with every event, whatever its type; see [`on`](Self::on).
    pub fn on_any(&self, handler: impl FnMut(&Event) + 'static) -> Handler {
        let handlers = Rc::clone(&self.shared.borrow().handlers);
        handlers::add(&handlers, Filter::All, handler)
    }

    #[cfg(feature = "std")]
    /// Calls `handler` with the data of every event of type `event_type` decoded as JSON
    /// into `T` (an `Err` carrying the whole event when it does not decode), and the event
    /// itself, borrowed as in [`on`](Self::on) (its type and last event ID); like the JS
    /// package's `on(type, (data, event) => ...)`.
    ///
    /// The fastest typed path: the payload is decoded straight from the event's buffer and
    /// nothing else is copied. To keep what it receives, see
    /// [`Message::from_event`](crate::Message::from_event); for owned messages throughout,
    /// [`subscribe_json`](Self::subscribe_json).
    pub fn on_json<T: DeserializeOwned>(
        &self,
        event_type: impl Into<String>,
        mut handler: impl FnMut(Result<T, DecodeError>, &Event) + 'static,
    ) -> Handler {
        self.on(event_type, move |event| handler(decode_data(event), event))
    }

    #[cfg(feature = "std")]
    /// The events of one type with their data decoded as JSON into `T`.
    ///
    /// Data that is not valid JSON, or not of `T`'s shape, gives an `Err` item carrying
    /// the whole event; the stream goes on. Ends when the client closes.
    pub fn subscribe_json<T: DeserializeOwned>(
        &self,
        event_type: impl Into<String>,
    ) -> JsonStream<T> {
        JsonStream::new(self.subscribe(event_type))
    }

    #[cfg(feature = "std")]
    /// Every event decoded into the user's event enum `E`, one variant per event type:
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// #[serde(tag = "event", content = "data", rename_all = "lowercase")]
    /// enum Feed {
    ///     Tick { n: u64 },
    ///     Note(String),
    /// }
    /// # fn demo(client: &wasm_sse::Client) {
    /// let feed = client.typed::<Feed>();
    /// # }
    /// ```
    ///
    /// The variant names are registered as event types. An event type without a variant
    /// gives an `Err` item ([`DecodeErrorKind::UnknownEvent`](crate::DecodeErrorKind)), as
    /// does data that does not decode; the stream goes on. Ends when the client closes.
    pub fn typed<E: DeserializeOwned>(&self) -> TypedStream<E> {
        let variants = variant_names::<E>();
        for name in variants {
            self.listen_for((*name).to_owned());
        }
        TypedStream::new(self.events(), variants)
    }

    /// Calls `handler` with every change of the connection's state from now on,
    /// synchronously, as the client makes it, until the returned [`Handler`] is dropped or
    /// the client closes (the last change is [`Lifecycle::Closed`]). Nothing of the client
    /// is borrowed while it runs: it may use the client.
    pub fn on_lifecycle(&self, handler: impl FnMut(&Lifecycle) + 'static) -> Handler {
        let handlers = Rc::clone(&self.shared.borrow().handlers);
        handlers::add_lifecycle(&handlers, handler)
    }

    /// Makes sure events of type `name` reach [`on_any`](Self::on_any) (and the `events`
    /// stream, with the `streams` feature): the browser's `EventSource` delivers named events
    /// only to listeners registered for the name. [`on`](Self::on) registers its name by
    /// itself, as do `subscribe` and `typed` (features `streams` and `std`).
    pub fn listen_for(&self, name: String) {
        let _ = self.commands.unbounded_send(Command::Listen(name));
    }

    /// The status and headers of the last response the client accepted over fetch
    /// streaming or long polling (`None` before, and over `EventSource`, which does not
    /// show them). Cross-origin, only the headers the server exposes
    /// (`Access-Control-Expose-Headers`) are there.
    pub fn response(&self) -> Option<ResponseHead> {
        self.shared.borrow().response.clone()
    }

    /// The start of the body of the last error response (an HTTP status the client does
    /// not accept), at most 4 KiB of it as text, so the application can show the server's
    /// message; `None` when none came or it was empty.
    pub fn error_body(&self) -> Option<String> {
        self.shared.borrow().error_body.clone()
    }

    /// Uses `url` from the next connection attempt on (for example when the filter or
    /// cursor of an app changes); [`reconnect`](Self::reconnect) to switch at once. The
    /// transport choice follows the new URL's origin.
    pub fn set_url(&mut self, url: impl Into<String>) {
        self.url = url.into();
        let _ = self
            .commands
            .unbounded_send(Command::SetUrl(self.url.clone()));
    }

    /// Sends `body` as text from the next connection attempt on (see
    /// [`ClientBuilder::body`]).
    pub fn set_body(&self, body: impl Into<String>) {
        let _ = self
            .commands
            .unbounded_send(Command::SetBody(Body::Text(body.into())));
    }

    /// Sends `body`, any value `fetch` accepts, from the next connection attempt on (see
    /// [`ClientBuilder::body_js`]).
    pub fn set_body_js(&self, body: wasm_bindgen::JsValue) {
        let _ = self
            .commands
            .unbounded_send(Command::SetBody(Body::Js(body)));
    }

    /// Drops the connection and opens a new one at once, resuming after the last event
    /// delivered (for example after changing what the server should send). Not counted as
    /// a failure by the reconnection policy; nothing happens once the client is closed.
    pub fn reconnect(&self) {
        let _ = self.commands.unbounded_send(Command::Reconnect);
    }

    /// Closes the connection for good. Every stream ends once the driver has released the
    /// connection (at the next turn of the event loop).
    pub fn close(&self) {
        let _ = self.commands.unbounded_send(Command::Close);
        self.shared.borrow_mut().closing = true;
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The per-event cost of the fetch-streaming path, for `scripts/per-event.sh`, which
    /// runs it under `valgrind --tool=callgrind` counting only `feed_chunk` (and what it
    /// calls) and divides by the number of events: the codec's parser, the client's fast path
    /// (dedupe, handlers) and an `on_json` handler decoding the benchmark's `tick` payload,
    /// exactly as in the browser minus the I/O. Native instructions, not wasm time, but
    /// repeatable to the instruction, whatever else the machine is doing.
    #[test]
    #[ignore = "a measurement: run by scripts/per-event.sh"]
    fn per_event_cost_of_the_fetch_path() {
        use crate::transport::fetch::feed_chunk;
        use crate::transport::Sink;

        #[derive(serde::Deserialize)]
        struct Tick {
            n: u64,
            price: f64,
            symbol: String,
        }

        let count: u64 = std::env::var("PER_EVENT_COUNT").map_or(20_000, |n| n.parse().unwrap());
        // The benchmark's stream (bench/client/run.mjs).
        let mut stream = String::new();
        for n in 1..=count {
            stream += &format!(
                "id: {n}\nevent: tick\ndata: {{\"n\":{n},\"price\":{}.25,\"symbol\":\"ABC\"}}\n\n",
                (n * 7) % 1000
            );
        }
        let engine = Rc::new(RefCell::new(Engine::new(
            Config::testing("/events"),
            core::time::Duration::ZERO,
        )));
        let shared = Rc::new(RefCell::new(Shared::default()));
        let handlers = Rc::clone(&shared.borrow().handlers);
        let checksum = Rc::new(core::cell::Cell::new(0.0));
        let sum = Rc::clone(&checksum);
        let _handler = handlers::add(
            &handlers,
            Filter::Type("tick".into()),
            // As `Client::on_json` registers it.
            move |event| {
                let tick = decode_data::<Tick>(event).unwrap();
                let id = event.last_event_id.len() as f64;
                sum.set(sum.get() + tick.n as f64 + tick.price + id + tick.symbol.len() as f64);
            },
        );
        let (reports, _keep) = unbounded();
        let sink = Sink::new(reports, fast_path(Rc::clone(&engine), Rc::clone(&shared)));
        let mut parser = wasm_sse_codec::Parser::new();
        let mut events = 0;
        for chunk in stream.as_bytes().chunks(64 * 1024) {
            events += feed_chunk(&mut parser, chunk, &sink).events;
        }
        assert_eq!(events as u64, count);
        assert_eq!(engine.borrow().last_event_id(), count.to_string());
        assert!(checksum.get() > 0.0);
    }
}
