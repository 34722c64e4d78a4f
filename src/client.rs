//! The client: the handle users hold, the streams it hands out, and the task that drives
//! the connection through the reconnection policy.
//!
//! ```text
//!  transport callbacks ──► per-connection channel ──┐
//!  page lifecycle (online, pageshow, ...) ──────────┼──► driver task ──► Dispatcher ──► streams
//!  Client handle (subscribe, close, drop) ──────────┘        │
//!                                                  Backoff (reconnect policy), Dedupe
//! ```
//!
//! The driver task owns the transport, the timers and the page listeners; when it ends
//! (close, drop of the handle, or the policy stops) all of them are dropped, which removes
//! every listener and cancels every timer, and every stream ends.

use std::cell::RefCell;
use std::fmt;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use std::future::Future;

use futures::future::{Either, Fuse, FusedFuture, LocalBoxFuture};
use futures::stream::FusedStream;
use futures::{future, FutureExt, Stream, StreamExt};
use gloo_timers::future::TimeoutFuture;
use serde::de::DeserializeOwned;

use crate::dedupe::{Dedupe, DEFAULT_WINDOW};
use crate::dispatch::{Dispatcher, Filter};
use crate::handlers::{self, Handler, SharedHandlers};
use crate::page::{PageEvents, PageSignal};
use crate::reconnect::{Backoff, Decision, Failure, ReconnectPolicy, StopReason};
use crate::transport::{self, Deliver, Method, Request, Sink, TransportEvent, TransportKind};
use crate::typed::{decode_data, variant_names, DecodeError, JsonStream, TypedStream};
use crate::{env, Error, Event};

/// Decides, for a failure the policy would stop on (an HTTP error status, a wrong content
/// type), whether to retry after all: for example after refreshing credentials.
pub type RetryHook = Rc<dyn Fn(&Failure) -> bool>;

/// Produces request headers before every connection attempt (for example a fresh access
/// token); see [`ClientBuilder::headers_with`].
pub type HeaderProvider =
    Rc<dyn Fn() -> LocalBoxFuture<'static, Result<Vec<(String, String)>, String>>>;

/// Builds a [`Client`]; start with [`Client::builder`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `.connect()`"]
pub struct ClientBuilder {
    url: String,
    options: Options,
}

#[derive(Clone)]
struct Options {
    with_credentials: bool,
    event_types: Vec<String>,
    policy: ReconnectPolicy,
    idle_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    transport: Option<TransportKind>,
    headers: Vec<(String, String)>,
    method: Method,
    body: Option<String>,
    pause_when_hidden: bool,
    last_event_id: Option<String>,
    last_event_id_param: String,
    max_event_size: usize,
    retry_hook: Option<RetryHook>,
    header_provider: Option<HeaderProvider>,
    stall_downgrade: Option<Duration>,
}

impl Options {
    /// Whether only the fetch-based transports can carry the request.
    fn needs_fetch(&self) -> bool {
        !self.headers.is_empty()
            || self.header_provider.is_some()
            || self.method != Method::Get
            || self.body.is_some()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("with_credentials", &o.with_credentials)
            .field("event_types", &o.event_types)
            .field("policy", &o.policy)
            .field("idle_timeout", &o.idle_timeout)
            .field("connect_timeout", &o.connect_timeout)
            .field("transport", &o.transport)
            .field("headers", &o.headers)
            .field("method", &o.method)
            .field("pause_when_hidden", &o.pause_when_hidden)
            .field("last_event_id", &o.last_event_id)
            .field("last_event_id_param", &o.last_event_id_param)
            .field("max_event_size", &o.max_event_size)
            .field("stall_downgrade", &o.stall_downgrade)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Send cookies and HTTP authentication with cross-origin requests, like
    /// [`EventSource.withCredentials`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource/withCredentials).
    /// Default: `false`.
    pub fn with_credentials(mut self, yes: bool) -> Self {
        self.options.with_credentials = yes;
        self
    }

    /// Event types to listen for from the start, besides `message`. Default: none.
    ///
    /// The browser's `EventSource` only delivers named events to listeners registered for
    /// that name. [`Client::subscribe`] registers its name by itself, so this is only needed
    /// for named events that [`Client::events`] should see; the other transports see every
    /// event anyway.
    pub fn event_types<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options
            .event_types
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// The reconnection policy. Default: [`ReconnectPolicy::new()`] (1 s initial delay,
    /// doubling, capped at 30 s, full jitter, no limits, reset after 5 s healthy).
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// Treat a connection that receives nothing (no event, and for the fetch-based
    /// transports no byte, heartbeat comments included) for this long as dead, and
    /// reconnect. Default: `None` (off).
    ///
    /// The browser's `EventSource` hides comments, so over that transport only events count:
    /// choose a timeout longer than the longest quiet period between events.
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.idle_timeout = timeout.into();
        self
    }

    /// Give up on a connection attempt that has not opened after this long, and reconnect.
    /// Default: 15 s. `None` waits as long as the browser does.
    ///
    /// Besides slow networks, this catches a browser `EventSource` that was answered with a
    /// wrong content type on a body that stays open: Chromium then neither opens nor reports
    /// an error. The retry goes over fetch, which sees the content type and stops with a
    /// typed error.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.connect_timeout = timeout.into();
        self
    }

    /// Use this transport only, instead of choosing automatically. Default: `None` (choose:
    /// custom headers, method or body need fetch streaming; so does a same-origin URL where
    /// response bodies stream (it is the faster transport); otherwise the native
    /// `EventSource` where it exists, else fetch streaming where response bodies stream,
    /// else long polling).
    pub fn transport(mut self, kind: impl Into<Option<TransportKind>>) -> Self {
        self.options.transport = kind.into();
        self
    }

    /// Adds a request header (fetch-based transports only). Default: none.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.headers.push((name.into(), value.into()));
        self
    }

    /// Calls `provider` before every connection attempt and sends the headers it returns,
    /// after those of [`header`](Self::header) (fetch-based transports only): the place to
    /// refresh an access token. An `Err` closes the client with
    /// [`Error::HeaderProvider`]. Default: none.
    pub fn headers_with<F, Fut>(mut self, provider: F) -> Self
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Result<Vec<(String, String)>, String>> + 'static,
    {
        self.options.header_provider = Some(Rc::new(move || provider().boxed_local()));
        self
    }

    /// The request method (fetch-based transports only). Default: [`Method::Get`].
    pub fn method(mut self, method: Method) -> Self {
        self.options.method = method;
        self
    }

    /// The request body, sent with [`Method::Post`] (fetch-based transports only).
    /// Default: none.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.options.body = Some(body.into());
        self
    }

    /// Close the connection while the page is hidden and reconnect (resuming) when it is
    /// visible again. Default: `false`.
    pub fn pause_when_hidden(mut self, yes: bool) -> Self {
        self.options.pause_when_hidden = yes;
        self
    }

    /// Resume after this event ID on the first connection too, as if it had been received.
    /// Default: none.
    pub fn last_event_id(mut self, id: impl Into<String>) -> Self {
        self.options.last_event_id = Some(id.into());
        self
    }

    /// The query parameter that carries the last event ID where no `Last-Event-ID` header
    /// can be sent (an `EventSource` the client reopens, long polling).
    /// Default: `"lastEventId"`.
    pub fn last_event_id_param(mut self, name: impl Into<String>) -> Self {
        self.options.last_event_id_param = name.into();
        self
    }

    /// The largest event the fetch-based transports accept, in bytes; a larger event is
    /// dropped and reported as [`Lifecycle::EventTooLarge`]. Default: 1 MiB.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.options.max_event_size = bytes;
        self
    }

    /// Switch to long polling, for the rest of the client's life, when a streaming
    /// connection (`EventSource` or fetch streaming) opens but then receives nothing at all
    /// for this long: no event and, over fetch, no byte (the server's `: connected` and
    /// heartbeat comments count). That is the mark of a proxy that buffers whole responses.
    /// The switch is reported as [`Lifecycle::Downgraded`] before the next
    /// [`Lifecycle::Connecting`]. Default: 10 s. `None` turns it off; it is off too when
    /// [`transport`](Self::transport) forces a transport.
    ///
    /// The browser's `EventSource` hides comments, so over that transport only events
    /// count: a stream that is quiet for this long right after opening is switched too.
    pub fn stall_downgrade(mut self, after: impl Into<Option<Duration>>) -> Self {
        self.options.stall_downgrade = after.into();
        self
    }

    /// Asked before giving up on a failure the policy stops on (HTTP 4xx other than 408 and
    /// 429, a wrong content type); returning `true` retries instead. Default: none (stop).
    pub fn retry_on(mut self, hook: impl Fn(&Failure) -> bool + 'static) -> Self {
        self.options.retry_hook = Some(Rc::new(hook));
        self
    }

    /// Checks the options, opens the connection and returns the client that owns it.
    ///
    /// Must be called inside a wasm-bindgen runtime (a browser, a worker or Node).
    pub fn connect(self) -> Result<Client, Error> {
        self.validate()?;
        Ok(Client::start(self))
    }

    fn validate(&self) -> Result<(), Error> {
        let o = &self.options;
        if self.url.is_empty() {
            return Err(Error::InvalidUrl {
                url: self.url.clone(),
                reason: "the URL is empty".into(),
            });
        }
        if o.needs_fetch() && o.transport == Some(TransportKind::EventSource) {
            return Err(Error::InvalidOption {
                option: "transport",
                reason: "EventSource cannot send headers, a method or a body".into(),
            });
        }
        if o.body.is_some() && o.method == Method::Get {
            return Err(Error::InvalidOption {
                option: "body",
                reason: "a GET request cannot carry a body; use Method::Post".into(),
            });
        }
        for (name, _) in &o.headers {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid {
                return Err(Error::InvalidOption {
                    option: "headers",
                    reason: transport::quoted(name) + " is not a valid header name",
                });
            }
        }
        if o.last_event_id_param.is_empty() {
            return Err(Error::InvalidOption {
                option: "last_event_id_param",
                reason: "the parameter name is empty".into(),
            });
        }
        Ok(())
    }
}

/// The connection's state, as
/// [`EventSource.readyState`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource/readyState)
/// names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// Connecting, or waiting to reconnect.
    Connecting,
    /// Open: events flow.
    Open,
    /// Closed for good.
    Closed,
}

/// A change in the connection's life, from [`Client::lifecycle`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Lifecycle {
    /// A connection attempt starts after `delay` (attempt `0` is the first connection;
    /// reconnections count from 1 within each outage).
    Connecting {
        /// The attempt number.
        attempt: u32,
        /// How long the client waits before opening the connection.
        delay: Duration,
        /// The transport the attempt will use.
        transport: TransportKind,
    },
    /// The connection is open.
    Open {
        /// The transport in use.
        transport: TransportKind,
    },
    /// The connection was lost; a `Connecting` (or `Closed`) follows.
    Reconnecting {
        /// Why the connection ended.
        reason: Failure,
    },
    /// A streaming transport opened but nothing arrived within
    /// [`ClientBuilder::stall_downgrade`]: the client switched transports for good. A
    /// `Connecting` over the new transport follows.
    Downgraded {
        /// The transport given up.
        from: TransportKind,
        /// The transport used from now on.
        to: TransportKind,
        /// Why, for logs.
        reason: String,
    },
    /// An event larger than the configured maximum was dropped; the stream goes on.
    EventTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
    /// The client closed for good; every stream ends after this.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a client closed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`Client::close`] was called or the client was dropped.
    Requested,
    /// The reconnection policy stopped: HTTP 204, a fatal error, or its limits.
    Stopped(StopReason),
    /// The connection could not be created at all (for example the browser refused the URL).
    Error(Error),
}

/// What the driver receives besides transport reports.
#[derive(Debug)]
enum Command {
    /// Register this event type with the transport.
    Listen(String),
    /// Close for good.
    Close,
    /// A page-lifecycle signal.
    Page(PageSignal),
}

impl From<PageSignal> for Command {
    fn from(signal: PageSignal) -> Self {
        Self::Page(signal)
    }
}

struct Shared {
    dispatcher: Dispatcher,
    lifecycle: Vec<UnboundedSender<Lifecycle>>,
    ready_state: Option<ReadyState>,
    transport: Option<TransportKind>,
    /// The ID to resume after: the last non-empty last-event-ID delivered (or given).
    last_event_id: String,
    dedupe: Dedupe,
    /// Events delivered so far: the idle watchdog watches it move.
    delivered: u64,
    stop: Option<StopReason>,
    closed: bool,
    handlers: SharedHandlers,
}

impl Shared {
    /// A client's state before its first connection, resuming after `last_event_id`.
    fn new(last_event_id: String) -> Self {
        Self {
            dispatcher: Dispatcher::default(),
            lifecycle: Vec::new(),
            ready_state: Some(ReadyState::Connecting),
            transport: None,
            last_event_id,
            dedupe: Dedupe::new(DEFAULT_WINDOW),
            delivered: 0,
            stop: None,
            closed: false,
            handlers: SharedHandlers::default(),
        }
    }

    fn emit(&mut self, change: Lifecycle) {
        self.lifecycle
            .retain(|tx| tx.unbounded_send(change.clone()).is_ok());
    }

    /// Hands one event from the current connection to the stream subscribers, unless it
    /// is a replay of one already delivered; returns whether it was admitted (then it goes
    /// to the handlers too). The event is borrowed, not taken, so that the transport gets
    /// it back to reuse its buffers.
    fn deliver(&mut self, event: &mut Event) -> bool {
        self.delivered += 1;
        if !self.dedupe.admit(&event.last_event_id) {
            return false;
        }
        if event.last_event_id.is_empty() {
            // The last event ID persists across reconnections (as in `EventSource`), but a
            // new connection's parser starts empty: carry the resumed ID over.
            event.last_event_id.clone_from(&self.last_event_id);
        } else {
            self.last_event_id.clone_from(&event.last_event_id);
        }
        self.dispatcher.dispatch(event);
        true
    }
}

/// The transports' fast path for events (see [`Sink`]): straight to the subscribers and
/// handlers, in the transport's own callback.
fn fast_path(shared: Rc<RefCell<Shared>>) -> Deliver {
    Rc::new(move |mut event| {
        let admitted = shared.borrow_mut().deliver(&mut event);
        if admitted {
            // Handlers run with nothing borrowed: they may use the client.
            let handlers = Rc::clone(&shared.borrow().handlers);
            handlers::call(&handlers, &event);
        }
        event
    })
}

/// A Server-Sent Events client.
///
/// Dropping the client closes it: the connection is closed, its listeners and timers are
/// released, and every stream it handed out ends.
#[must_use = "dropping the client closes the connection"]
pub struct Client {
    url: String,
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
            options: Options {
                with_credentials: false,
                event_types: Vec::new(),
                policy: ReconnectPolicy::new(),
                idle_timeout: None,
                connect_timeout: Some(Duration::from_secs(15)),
                transport: None,
                headers: Vec::new(),
                method: Method::Get,
                body: None,
                pause_when_hidden: false,
                last_event_id: None,
                last_event_id_param: "lastEventId".into(),
                max_event_size: wasm_sse_codec::DEFAULT_MAX_EVENT_SIZE,
                retry_hook: None,
                header_provider: None,
                stall_downgrade: Some(Duration::from_secs(10)),
            },
        }
    }

    /// Connects to `url` with the default options.
    pub fn connect(url: impl Into<String>) -> Result<Client, Error> {
        Self::builder(url).connect()
    }

    fn start(config: ClientBuilder) -> Client {
        let (commands, command_rx) = unbounded();
        let shared = Rc::new(RefCell::new(Shared::new(
            config.options.last_event_id.clone().unwrap_or_default(),
        )));
        let driver = Driver {
            backoff: Backoff::new(config.options.policy.clone(), env::random_seed()),
            event_types: config.options.event_types.clone(),
            use_fetch: false,
            same_origin: env::is_same_origin(&config.url),
            downgraded: false,
            online: crate::page::is_online(),
            hidden: false,
            url: config.url.clone(),
            options: config.options,
            shared: Rc::clone(&shared),
        };
        wasm_bindgen_futures::spawn_local(driver.run(command_rx, commands.clone()));
        Client {
            url: config.url,
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
        self.shared
            .borrow()
            .ready_state
            .unwrap_or(ReadyState::Connecting)
    }

    /// The transport of the current (or last) connection; `None` before the first attempt.
    pub fn transport(&self) -> Option<TransportKind> {
        self.shared.borrow().transport
    }

    /// The ID of the last event delivered (or given to
    /// [`ClientBuilder::last_event_id`]); `""` when none.
    pub fn last_event_id(&self) -> String {
        self.shared.borrow().last_event_id.clone()
    }

    /// Why the reconnection policy stopped the client, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.shared.borrow().stop.clone()
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

    /// Every event, whatever its type, in arrival order. Ends when the client closes.
    pub fn events(&self) -> EventStream {
        EventStream(self.shared.borrow_mut().dispatcher.subscribe(Filter::All))
    }

    /// The events of one type, in arrival order. Ends when the client closes.
    pub fn subscribe(&self, event_type: impl Into<String>) -> EventStream {
        let name = event_type.into();
        self.listen_for(name.clone());
        EventStream(
            self.shared
                .borrow_mut()
                .dispatcher
                .subscribe(Filter::Type(name)),
        )
    }

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

    /// Changes of the connection's state, from now on. Ends after [`Lifecycle::Closed`].
    pub fn lifecycle(&self) -> LifecycleStream {
        let (tx, rx) = unbounded();
        let mut shared = self.shared.borrow_mut();
        if !shared.closed {
            shared.lifecycle.push(tx);
        }
        LifecycleStream(rx)
    }

    /// Makes sure events of type `name` reach [`events`](Self::events) (the browser's
    /// `EventSource` delivers named events only to listeners registered for the name).
    /// [`on`](Self::on) and [`subscribe`](Self::subscribe) call it; call it for a type that
    /// only [`on_any`](Self::on_any) or [`events`](Self::events) receives.
    pub fn listen_for(&self, name: String) {
        let _ = self.commands.unbounded_send(Command::Listen(name));
    }

    /// Closes the connection for good. Every stream ends once the driver has released the
    /// connection (at the next turn of the event loop).
    pub fn close(&self) {
        let _ = self.commands.unbounded_send(Command::Close);
        let mut shared = self.shared.borrow_mut();
        if !shared.closed {
            shared.ready_state = Some(ReadyState::Closed);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}

/// How a connection (or a wait) ended.
enum Outcome {
    /// The connection failed; ask the policy.
    Failed(Failure),
    /// Reconnect at once, without counting a failure (page restored, visible again).
    Restart,
    /// Close for good.
    Close,
    /// The transport could not be created (a URL the browser refuses): close for good.
    Error(Error),
    /// A streaming connection opened but stayed silent: switch to long polling (why).
    Downgrade(String),
}

/// The task behind a [`Client`].
struct Driver {
    url: String,
    options: Options,
    shared: Rc<RefCell<Shared>>,
    backoff: Backoff,
    event_types: Vec<String>,
    /// Native `EventSource` failed once: resume over fetch, which sends `Last-Event-ID`
    /// and sees status codes.
    use_fetch: bool,
    /// The URL has the page's origin: automatic selection prefers fetch streaming.
    same_origin: bool,
    /// A streaming transport stayed silent after opening: long polling from now on.
    downgraded: bool,
    online: bool,
    hidden: bool,
}

impl Driver {
    async fn run(
        mut self,
        mut commands: UnboundedReceiver<Command>,
        self_tx: UnboundedSender<Command>,
    ) {
        // Page signals join the command channel, so one poll serves both.
        let _page = PageEvents::listen(self_tx, self.options.pause_when_hidden);
        self.hidden = self.options.pause_when_hidden && crate::page::page_hidden();

        let mut attempt = 0;
        let mut delay = Duration::ZERO;
        let reason = loop {
            let kind = self.choose_transport();
            self.shared.borrow_mut().emit(Lifecycle::Connecting {
                attempt,
                delay,
                transport: kind,
            });
            if let Some(reason) = self.wait(delay, &mut commands).await {
                break reason;
            }
            let outcome = self.connect(kind, &mut commands).await;
            let failure = match outcome {
                Outcome::Close => break CloseReason::Requested,
                Outcome::Error(error) => break CloseReason::Error(error),
                Outcome::Restart => {
                    (attempt, delay) = (0, Duration::ZERO);
                    continue;
                }
                Outcome::Downgrade(reason) => {
                    self.downgraded = true;
                    self.set_state(ReadyState::Connecting);
                    self.shared.borrow_mut().emit(Lifecycle::Downgraded {
                        from: kind,
                        to: TransportKind::LongPoll,
                        reason,
                    });
                    (attempt, delay) = (0, Duration::ZERO);
                    continue;
                }
                Outcome::Failed(failure) => failure,
            };
            self.set_state(ReadyState::Connecting);
            self.shared.borrow_mut().emit(Lifecycle::Reconnecting {
                reason: failure.clone(),
            });
            let retry_fatal = failure.is_fatal()
                && self
                    .options
                    .retry_hook
                    .as_ref()
                    .is_some_and(|hook| hook(&failure));
            match self.backoff.on_failure(&failure, env::now(), retry_fatal) {
                Decision::Retry {
                    attempt: next,
                    delay: wait,
                } => (attempt, delay) = (next, wait),
                Decision::Stop(stop) => break CloseReason::Stopped(stop),
            }
        };
        self.finish(reason);
    }

    /// Waits `delay` (and, while offline or paused, for the page to come back).
    /// Returns `Some` when the client must close instead.
    async fn wait(
        &mut self,
        delay: Duration,
        commands: &mut UnboundedReceiver<Command>,
    ) -> Option<CloseReason> {
        let mut timer = sleep(delay);
        loop {
            let blocked = !self.online || self.hidden;
            if timer.is_terminated() && !blocked {
                return None;
            }
            // Commands first, then the timer (a `poll_fn`, not `select_biased!`: see `Step`).
            let command = future::poll_fn(|cx| match commands.poll_next_unpin(cx) {
                Poll::Ready(command) => Poll::Ready(Some(command)),
                Poll::Pending => timer.poll_unpin(cx).map(|()| None),
            })
            .await;
            let Some(command) = command else { continue };
            match command {
                None | Some(Command::Close) => return Some(CloseReason::Requested),
                Some(Command::Listen(name)) => self.add_event_type(name),
                Some(Command::Page(PageSignal::Online)) => {
                    self.online = true;
                    // Back online: skip the rest of the backoff wait.
                    if !timer.is_terminated() {
                        timer = sleep(self.backoff_now());
                    }
                }
                Some(Command::Page(signal)) => self.on_page(signal),
            }
        }
    }

    /// The remaining wait once the browser is back online (a `Retry-After` still counts).
    fn backoff_now(&mut self) -> Duration {
        match self.backoff.retry_now(env::now()) {
            Decision::Retry { delay, .. } => delay,
            Decision::Stop(_) => Duration::ZERO,
        }
    }

    fn on_page(&mut self, signal: PageSignal) {
        match signal {
            PageSignal::Online => self.online = true,
            PageSignal::Offline => self.online = false,
            PageSignal::Hidden(hidden) => self.hidden = hidden && self.options.pause_when_hidden,
            PageSignal::Restored => {}
        }
    }

    fn add_event_type(&mut self, name: String) {
        if !self.event_types.contains(&name) {
            self.event_types.push(name);
        }
    }

    fn choose_transport(&self) -> TransportKind {
        if let Some(kind) = self.options.transport {
            return kind;
        }
        if self.downgraded {
            return TransportKind::LongPoll;
        }
        let o = &self.options;
        // Measured (bench/client): fetch streaming delivers 3-7x the events/s of the
        // browser's `EventSource`, sees status codes, content types and heartbeat comments,
        // and sends `Last-Event-ID` itself. It is preferred wherever it is a plain
        // same-origin request; cross-origin, `EventSource` stays the default, because a
        // resume over fetch sends `Last-Event-ID`, which needs a CORS preflight that
        // servers written for `EventSource` may not answer.
        let fetch_streams = env::has_fetch_streams();
        let prefer_fetch = self.same_origin && fetch_streams;
        if !o.needs_fetch() && !self.use_fetch && !prefer_fetch && env::has_event_source() {
            TransportKind::EventSource
        } else if fetch_streams {
            TransportKind::Fetch
        } else {
            TransportKind::LongPoll
        }
    }

    fn request(&self, kind: TransportKind) -> Request {
        let o = &self.options;
        let resume = {
            let shared = self.shared.borrow();
            (!shared.last_event_id.is_empty()).then(|| shared.last_event_id.clone())
        };
        // An `EventSource` we open cannot send `Last-Event-ID`: the query parameter carries it.
        let url = match (&resume, kind) {
            (Some(id), TransportKind::EventSource) => {
                transport::with_query(&self.url, &o.last_event_id_param, id)
            }
            _ => self.url.clone(),
        };
        Request {
            url,
            last_event_id: resume,
            with_credentials: o.with_credentials,
            headers: o.headers.clone(),
            method: o.method,
            body: o.body.clone(),
            event_types: self.event_types.clone(),
            max_event_size: o.max_event_size,
            last_event_id_param: o.last_event_id_param.clone(),
        }
    }

    /// Opens one connection and runs it until it ends.
    async fn connect(
        &mut self,
        kind: TransportKind,
        commands: &mut UnboundedReceiver<Command>,
    ) -> Outcome {
        let (reports_tx, mut reports) = unbounded();
        let sink = Sink::new(reports_tx, fast_path(Rc::clone(&self.shared)));
        let mut request = self.request(kind);
        if let Some(provider) = self.options.header_provider.clone() {
            let mut pending = provider();
            // Commands first, then the headers (a `poll_fn`, not `select_biased!`: see `Step`).
            let headers = loop {
                let next = future::poll_fn(|cx| match commands.poll_next_unpin(cx) {
                    Poll::Ready(command) => Poll::Ready(Either::Left(command)),
                    Poll::Pending => pending.poll_unpin(cx).map(Either::Right),
                })
                .await;
                match next {
                    Either::Left(None | Some(Command::Close)) => return Outcome::Close,
                    Either::Left(Some(Command::Listen(name))) => self.add_event_type(name),
                    Either::Left(Some(Command::Page(signal))) => self.on_page(signal),
                    Either::Right(headers) => break headers,
                }
            };
            match headers {
                Ok(headers) => request.headers.extend(headers),
                Err(reason) => return Outcome::Error(Error::HeaderProvider(reason)),
            }
        }
        let mut live = match transport::open(kind, &request, sink) {
            Ok(live) => live,
            Err(error) => return Outcome::Error(error),
        };
        let mut seen = {
            let mut shared = self.shared.borrow_mut();
            shared.transport = Some(kind);
            shared.dedupe.on_connect();
            shared.delivered
        };
        // The watchdog looks at the delivery counter a few times per idle period instead of
        // re-arming a timer per event: it fires between 1 and 1.25 idle timeouts after the
        // last sign of life.
        let idle = self.options.idle_timeout;
        let mut last_activity = env::now();
        let mut watchdog = idle.map_or_else(Fuse::terminated, |t| sleep(t / 4));
        let mut opening = self
            .options
            .connect_timeout
            .map_or_else(Fuse::terminated, sleep);
        // Armed at `Open` on a streaming transport chosen automatically, disarmed by the
        // first report of anything received: silence until it fires means a buffering proxy.
        let downgrade_after = self
            .options
            .stall_downgrade
            .filter(|_| self.options.transport.is_none() && kind != TransportKind::LongPoll);
        let mut silent = Fuse::terminated();
        loop {
            let step = future::poll_fn(|cx| {
                if let Poll::Ready(command) = commands.poll_next_unpin(cx) {
                    return Poll::Ready(Step::Command(command));
                }
                if let Poll::Ready(report) = reports.poll_next_unpin(cx) {
                    return Poll::Ready(Step::Report(report));
                }
                if watchdog.poll_unpin(cx).is_ready() {
                    return Poll::Ready(Step::Watchdog);
                }
                if opening.poll_unpin(cx).is_ready() {
                    return Poll::Ready(Step::ConnectTimeout);
                }
                silent.poll_unpin(cx).map(|()| Step::Silent)
            })
            .await;
            match step {
                Step::Silent => {
                    let waited = downgrade_after.unwrap_or_default();
                    // Concatenated, not `format!`ed: no formatting machinery in the wasm.
                    let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
                    return Outcome::Downgrade(
                        "nothing arrived within ".to_owned()
                            + &transport::decimal(ms)
                            + " ms of opening over "
                            + kind.as_str()
                            + " (a proxy buffering the response?)",
                    );
                }
                Step::Command(None | Some(Command::Close)) => return Outcome::Close,
                Step::Command(Some(Command::Listen(name))) => {
                    live.add_event_type(&name);
                    self.add_event_type(name);
                }
                Step::Command(Some(Command::Page(signal))) => {
                    self.on_page(signal);
                    if signal == PageSignal::Restored || self.hidden {
                        return Outcome::Restart;
                    }
                }
                Step::Watchdog => {
                    let now = env::now();
                    let delivered = self.shared.borrow().delivered;
                    if delivered != seen {
                        seen = delivered;
                        last_activity = now;
                        self.backoff.on_activity(now);
                    }
                    if let Some(limit) = idle {
                        if now.saturating_sub(last_activity) >= limit {
                            return Outcome::Failed(Failure::IdleTimeout);
                        }
                        watchdog = sleep(limit / 4);
                    }
                }
                Step::ConnectTimeout => {
                    // The browser's `EventSource` does not say why it hangs; fetch will.
                    self.use_fetch = kind == TransportKind::EventSource && env::has_fetch_streams();
                    return Outcome::Failed(Failure::ConnectTimeout);
                }
                Step::Report(None) => return Outcome::Failed(Failure::StreamEnded),
                Step::Report(Some(report)) => {
                    let now = env::now();
                    last_activity = now;
                    if !matches!(report, TransportEvent::Open) {
                        silent = Fuse::terminated();
                    }
                    match report {
                        TransportEvent::Open => {
                            opening = Fuse::terminated();
                            silent = downgrade_after.map_or_else(Fuse::terminated, sleep);
                            self.backoff.on_open();
                            self.set_state(ReadyState::Open);
                            self.shared
                                .borrow_mut()
                                .emit(Lifecycle::Open { transport: kind });
                        }
                        TransportEvent::Event(mut event) => {
                            // Only from sinks without a fast path; see `Sink`.
                            self.backoff.on_activity(now);
                            let admitted = self.shared.borrow_mut().deliver(&mut event);
                            if admitted {
                                let handlers = Rc::clone(&self.shared.borrow().handlers);
                                handlers::call(&handlers, &event);
                            }
                        }
                        TransportEvent::Retry(retry) => self.backoff.set_server_retry(retry),
                        TransportEvent::Activity => self.backoff.on_activity(now),
                        TransportEvent::EventTooLarge { limit } => {
                            self.shared
                                .borrow_mut()
                                .emit(Lifecycle::EventTooLarge { limit });
                        }
                        TransportEvent::Interrupted => {
                            // The browser would reconnect on its own, on its own schedule;
                            // the policy takes over instead, resuming over fetch.
                            self.use_fetch = env::has_fetch_streams();
                            return Outcome::Failed(Failure::Network);
                        }
                        TransportEvent::Rejected => {
                            // Status or content type refused; retry over fetch, which can
                            // tell which (and stops on 204, 401, ...).
                            self.use_fetch = env::has_fetch_streams();
                            return Outcome::Failed(Failure::Network);
                        }
                        TransportEvent::Failed(failure) => return Outcome::Failed(failure),
                    }
                }
            }
        }
    }

    fn set_state(&self, state: ReadyState) {
        let mut shared = self.shared.borrow_mut();
        if shared.ready_state != Some(ReadyState::Closed) {
            shared.ready_state = Some(state);
        }
    }

    fn finish(self, reason: CloseReason) {
        let mut shared = self.shared.borrow_mut();
        shared.ready_state = Some(ReadyState::Closed);
        shared.closed = true;
        if let CloseReason::Stopped(stop) = &reason {
            shared.stop = Some(stop.clone());
        }
        shared.emit(Lifecycle::Closed { reason });
        shared.lifecycle.clear();
        shared.dispatcher.close();
        let handlers = Rc::clone(&shared.handlers);
        drop(shared);
        handlers::clear(&handlers);
    }
}

/// One turn of the connection loop: the first of its inputs that is ready, polled in this
/// order by a `poll_fn` rather than by `futures::select_biased!`, whose expansion (and its
/// panic for when every branch has terminated, which cannot happen here: a closed command
/// or report channel ends the loop, and a finished timer stays pending) is larger in the wasm.
enum Step {
    Command(Option<Command>),
    Report(Option<TransportEvent>),
    Watchdog,
    ConnectTimeout,
    Silent,
}

/// A cancel-on-drop timer that is already done for a zero delay.
fn sleep(delay: Duration) -> Fuse<TimeoutFuture> {
    if delay.is_zero() {
        return Fuse::terminated();
    }
    let millis = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
    TimeoutFuture::new(millis).fuse()
}

/// A stream of [`Event`]s from a [`Client`]; ends (`None`) when the client closes.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct EventStream(UnboundedReceiver<Event>);

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.0.poll_next_unpin(cx)
    }
}

impl FusedStream for EventStream {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

/// A stream of [`Lifecycle`] changes; ends after [`Lifecycle::Closed`].
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct LifecycleStream(UnboundedReceiver<Lifecycle>);

impl Stream for LifecycleStream {
    type Item = Lifecycle;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Lifecycle>> {
        self.0.poll_next_unpin(cx)
    }
}

impl FusedStream for LifecycleStream {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

#[cfg(test)]
mod tests {
    //! The option checks of [`ClientBuilder::connect`]: each bad option is refused with its
    //! typed error before anything is opened (so these run natively).
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The error `connect` refuses `builder` with (it never reaches `Client::start`).
    fn refused(builder: ClientBuilder) -> Error {
        match builder.connect() {
            Err(error) => error,
            Ok(_) => panic!("connect accepted an invalid builder"),
        }
    }

    fn option_of(error: &Error) -> &'static str {
        match error {
            Error::InvalidOption { option, .. } => option,
            other => panic!("not an invalid option: {other:?}"),
        }
    }

    #[test]
    fn an_empty_url_is_an_invalid_url() {
        let error = refused(Client::builder(""));
        assert_eq!(
            error,
            Error::InvalidUrl {
                url: String::new(),
                reason: "the URL is empty".into()
            }
        );
        assert_eq!(error.kind(), "invalid-url");
        assert_eq!(error.to_string(), "invalid URL \"\": the URL is empty");
    }

    #[test]
    fn eventsource_cannot_carry_headers_a_method_or_a_body() {
        let es = || Client::builder("/events").transport(TransportKind::EventSource);
        let refusals = [
            refused(es().header("x-token", "abc")),
            refused(es().headers_with(|| async { Ok(Vec::new()) })),
            refused(es().method(Method::Post)),
            refused(es().method(Method::Post).body("x")),
        ];
        for error in &refusals {
            assert_eq!(option_of(error), "transport", "{error:?}");
            assert_eq!(error.kind(), "invalid-option");
        }
        // The same options with fetch, or chosen automatically, pass the checks.
        for kind in [
            None,
            Some(TransportKind::Fetch),
            Some(TransportKind::LongPoll),
        ] {
            let builder = Client::builder("/events")
                .transport(kind)
                .header("x-token", "abc")
                .method(Method::Post)
                .body("x");
            assert_eq!(builder.validate(), Ok(()), "{kind:?}");
        }
    }

    #[test]
    fn a_body_needs_post() {
        let error = refused(Client::builder("/events").body("x"));
        assert_eq!(option_of(&error), "body");
        assert_eq!(
            error.to_string(),
            "invalid option body: a GET request cannot carry a body; use Method::Post"
        );
    }

    #[test]
    fn header_names_must_be_http_tokens() {
        for name in ["", "bad name", "a:b", "caf\u{e9}", "x\r\ny", "(x)"] {
            let error = refused(Client::builder("/events").header(name, "v"));
            assert_eq!(option_of(&error), "headers", "{name:?}");
        }
        // A bad name after good ones is still found.
        let error = refused(
            Client::builder("/events")
                .header("ok", "1")
                .header("no good", "2"),
        );
        assert!(error.to_string().contains("\"no good\""), "{error}");
        // Every token character is accepted; values are not checked here.
        let builder = Client::builder("/events").header("A-z0-9!#$%&'*+-.^_`|~", "any value");
        assert_eq!(builder.validate(), Ok(()));
    }

    #[test]
    fn the_last_event_id_parameter_cannot_be_empty() {
        let error = refused(Client::builder("/events").last_event_id_param(""));
        assert_eq!(option_of(&error), "last_event_id_param");
    }

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
        let shared = Rc::new(RefCell::new(Shared::new(String::new())));
        let handlers = Rc::clone(&shared.borrow().handlers);
        let checksum = Rc::new(std::cell::Cell::new(0.0));
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
        let sink = Sink::new(reports, fast_path(Rc::clone(&shared)));
        let mut parser = wasm_sse_codec::Parser::new();
        let mut events = 0;
        for chunk in stream.as_bytes().chunks(64 * 1024) {
            events += feed_chunk(&mut parser, chunk, &sink).events;
        }
        assert_eq!(events as u64, count);
        assert_eq!(shared.borrow().last_event_id, count.to_string());
        assert!(checksum.get() > 0.0);
    }
}
