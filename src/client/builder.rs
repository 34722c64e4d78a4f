//! [`ClientBuilder`]: the client's options, their defaults and their checks.

use alloc::string::String;
use alloc::vec::Vec;

use alloc::rc::Rc;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use futures::future::LocalBoxFuture;
use futures::FutureExt;

use super::Client;
use crate::engine::reconnect::{Failure, ReconnectPolicy};
use crate::engine::{text, Method, TransportKind};
use crate::transport::Body;
use crate::Error;

/// Decides, for a failure the policy would stop on (an HTTP error status, a wrong content
/// type), whether to retry after all: for example after refreshing credentials.
pub type RetryHook = Rc<dyn Fn(&Failure) -> bool>;

/// Produces request headers before every connection attempt (for example a fresh access
/// token); see [`ClientBuilder::headers_with`].
pub type HeaderProvider =
    Rc<dyn Fn() -> LocalBoxFuture<'static, Result<Vec<(String, String)>, String>>>;

/// Builds a [`Client`]; start with [`Client::builder`].
///
/// Every option has a default, stated on its method; [`connect`](Self::connect) checks them
/// and opens the connection.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use wasm_sse::reconnect::ReconnectPolicy;
/// use wasm_sse::Client;
///
/// # async fn fresh_token() -> Result<String, String> { Ok(String::new()) }
/// # fn demo() -> Result<(), wasm_sse::Error> {
/// let client = Client::builder("/events?topic=orders")
///     // Called before every connection attempt, so a reconnection sends a fresh token.
///     .headers_with(|| async {
///         let token = fresh_token().await?;
///         Ok(vec![("authorization".to_string(), format!("Bearer {token}"))])
///     })
///     .reconnect(ReconnectPolicy::new().max_delay(Duration::from_secs(10)).max_attempts(20))
///     .idle_timeout(Duration::from_secs(45))
///     .connect()?;
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `.connect()`"]
pub struct ClientBuilder {
    pub(super) url: String,
    pub(super) options: Options,
}

#[derive(Clone)]
pub(super) struct Options {
    pub(super) with_credentials: bool,
    pub(super) event_types: Vec<String>,
    pub(super) policy: ReconnectPolicy,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) long_poll_timeout: Option<Duration>,
    pub(super) transport: Option<TransportKind>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) method: Method,
    pub(super) body: Option<Body>,
    pub(super) fetch: Option<js_sys::Function>,
    pub(super) pause_when_hidden: bool,
    pub(super) last_event_id: Option<String>,
    pub(super) last_event_id_param: String,
    pub(super) max_event_size: usize,
    pub(super) retry_hook: Option<RetryHook>,
    pub(super) header_provider: Option<HeaderProvider>,
    pub(super) stall_downgrade: Option<Duration>,
    pub(super) close_on_end: bool,
    /// Share the stream across tabs: `Some("")` under the default key, `Some(key)` under
    /// the page's own key.
    pub(super) share: Option<String>,
}

impl Options {
    /// The options' defaults, each stated on its builder method.
    pub(super) fn new() -> Self {
        Self {
            with_credentials: false,
            event_types: Vec::new(),
            policy: ReconnectPolicy::new(),
            idle_timeout: None,
            connect_timeout: None,
            long_poll_timeout: Some(crate::engine::DEFAULT_LONG_POLL_TIMEOUT),
            transport: None,
            headers: Vec::new(),
            method: Method::Get,
            body: None,
            fetch: None,
            pause_when_hidden: false,
            last_event_id: None,
            last_event_id_param: wasm_sse_codec::protocol::query::LAST_EVENT_ID.into(),
            max_event_size: wasm_sse_codec::DEFAULT_MAX_EVENT_SIZE,
            retry_hook: None,
            header_provider: None,
            stall_downgrade: Some(crate::engine::DEFAULT_STALL_DOWNGRADE),
            close_on_end: false,
            share: None,
        }
    }

    /// The share key, if the stream is shared.
    pub(super) fn share_key(&self, url: &str) -> Option<String> {
        let key = self.share.as_deref()?;
        if !key.is_empty() {
            return Some(key.into());
        }
        let body = match &self.body {
            Some(Body::Text(text)) => Some(text.as_str()),
            _ => None,
        };
        Some(crate::share::default_key(
            url,
            self.with_credentials,
            self.method.as_str(),
            body,
            &self.headers,
        ))
    }

    /// Whether only the fetch-based transports can carry the request.
    pub(super) fn needs_fetch(&self) -> bool {
        !self.headers.is_empty()
            || self.header_provider.is_some()
            || self.method != Method::Get
            || self.body.is_some()
            || self.close_on_end
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
            .field("long_poll_timeout", &o.long_poll_timeout)
            .field("transport", &o.transport)
            .field("headers", &o.headers)
            .field("method", &o.method)
            .field("pause_when_hidden", &o.pause_when_hidden)
            .field("last_event_id", &o.last_event_id)
            .field("last_event_id_param", &o.last_event_id_param)
            .field("max_event_size", &o.max_event_size)
            .field("stall_downgrade", &o.stall_downgrade)
            .field("close_on_end", &o.close_on_end)
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
    /// that name. [`Client::on`] registers its name by itself (as do `Client::subscribe` and
    /// `Client::on_json`, with the `streams` and `std` features), so this is only needed for
    /// named events that [`Client::on_any`] (or the `Client::events` stream) should see; the
    /// other transports see every event anyway.
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

    /// Give up on a streaming connection attempt (`EventSource`, fetch streaming) that has
    /// not opened after this long, and reconnect. Default: `None`: wait as long as the
    /// browser does, like `EventSource` itself, which has no connect timeout (a server may
    /// send its response head only with its first event, as WSGI servers do).
    ///
    /// Long polls are not cut by it: a poll the server holds has not answered yet either;
    /// see [`long_poll_timeout`](Self::long_poll_timeout).
    ///
    /// Besides dead networks, this catches a browser `EventSource` that was answered with a
    /// wrong content type on a body that stays open: Chromium then neither opens nor reports
    /// an error. The retry goes over fetch, which sees the content type and stops with a
    /// typed error.
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.connect_timeout = timeout.into();
        self
    }

    /// Give up on a long poll the server has not answered after this long, and reconnect
    /// ([`Failure::IdleTimeout`]). Default: 90 s, well above the time servers hold a poll
    /// (the dev server holds 25 s; common servers hold 30 to 60 s). `None` waits as long as
    /// the browser does. A held poll is a healthy poll: the client stays
    /// [`ReadyState::Open`](crate::ReadyState::Open) across polls.
    pub fn long_poll_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.long_poll_timeout = timeout.into();
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

    /// The request body as text, sent with a method other than [`Method::Get`] (fetch-based
    /// transports only; set a `content-type` [`header`](Self::header) for JSON). Default:
    /// none.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.options.body = Some(Body::Text(body.into()));
        self
    }

    /// The request body as any value `fetch` accepts: a `FormData`, `URLSearchParams`,
    /// `Blob`, `ArrayBuffer` or string (fetch sets the content type of the first three).
    /// Otherwise as [`body`](Self::body).
    pub fn body_js(mut self, body: wasm_bindgen::JsValue) -> Self {
        self.options.body = Some(Body::Js(body));
        self
    }

    /// A `fetch` function to call instead of the global one, with a `Request`, for the
    /// fetch-based transports: a proxy in Node, instrumentation, a service binding in an
    /// edge runtime, a test double. It must return a `Promise` of a `Response`. Default:
    /// `globalThis.fetch`.
    pub fn fetch_with(mut self, fetch: js_sys::Function) -> Self {
        self.options.fetch = Some(fetch);
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
    /// dropped and reported as [`Lifecycle::EventTooLarge`](crate::Lifecycle::EventTooLarge). Default: 1 MiB.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.options.max_event_size = bytes;
        self
    }

    /// Switch to long polling, for the rest of the client's life, on evidence of a proxy
    /// that buffers whole responses: a streaming connection (`EventSource` or fetch
    /// streaming) opened, then nothing at all arrived for at least this long, and then the
    /// whole body came in one burst at its end. The switch is reported as
    /// [`Lifecycle::Downgraded`](crate::Lifecycle::Downgraded) before the next
    /// [`Lifecycle::Connecting`](crate::Lifecycle::Connecting). Default: 10 s. `None` turns
    /// it off; it is off too when [`transport`](Self::transport) forces a transport.
    ///
    /// Silence alone is not evidence: a quiet server that sends nothing for minutes after
    /// its head keeps its stream, and so does one that speaks after a long silence and
    /// keeps the stream open. A proxy that buffers without ever closing is not detected;
    /// force [`TransportKind::LongPoll`] behind one.
    pub fn stall_downgrade(mut self, after: impl Into<Option<Duration>>) -> Self {
        self.options.stall_downgrade = after.into();
        self
    }

    /// Ends the client when the server ends the stream cleanly, instead of reconnecting:
    /// the one-shot stream of a request whose answer is complete when its body ends (an
    /// LLM completion, a report), with [`Lifecycle::Closed`](crate::Lifecycle::Closed) and
    /// [`CloseReason::Ended`](crate::CloseReason::Ended). Network errors, 5xx and the other
    /// failures still retry and resume. Needs a body the client reads itself: the
    /// automatic choice is fetch streaming, and with [`TransportKind::EventSource`] (which
    /// cannot tell a clean end from a lost connection) or [`TransportKind::LongPoll`]
    /// `connect` fails with [`Error::InvalidOption`]. Default: `false`.
    pub fn close_on_end(mut self, yes: bool) -> Self {
        self.options.close_on_end = yes;
        self
    }

    /// Shares the stream with every client of the same origin (tabs, windows, iframes,
    /// workers) that opens it with the same `key`: one of them (the leader) holds the one
    /// network connection and passes its events on to the others (followers), and another
    /// takes over, resuming after its own last event ID, when the leader goes away. Every
    /// client keeps its whole API and sees every event once, in order (events need IDs for
    /// that across a change of leader); [`Client::shared`](crate::Client::shared) tells its
    /// role. The key must stand for the same stream and the same user: pages that agree on
    /// it share whatever credentials the leader sends. Where `navigator.locks` or
    /// `BroadcastChannel` is missing (Node, old browsers) the client connects on its own.
    /// An empty key means [`share_by_request`](Self::share_by_request). See
    /// `docs/sharing.md`. Default: not shared.
    pub fn share(mut self, key: impl Into<String>) -> Self {
        self.options.share = Some(key.into());
        self
    }

    /// Shares the stream (see [`share`](Self::share)) under a key made of the request: the
    /// URL, the credentials mode, the method, the body and the static headers. A client
    /// with headers from [`headers_with`](Self::headers_with) or a body that is not text
    /// must give its own key (`connect` fails with [`Error::InvalidOption`] otherwise): a
    /// stream is never shared across credentials the page did not name. Default: not
    /// shared.
    pub fn share_by_request(self) -> Self {
        self.share("")
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

    pub(super) fn validate(&self) -> Result<(), Error> {
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
                reason: "EventSource cannot send headers, a method or a body, nor tell a clean end"
                    .into(),
            });
        }
        if o.close_on_end && o.transport == Some(TransportKind::LongPoll) {
            return Err(Error::InvalidOption {
                option: "close_on_end",
                reason: "long polling has no stream to end; use fetch streaming".into(),
            });
        }
        if o.body.is_some() && o.method == Method::Get {
            return Err(Error::InvalidOption {
                option: "body",
                reason: "a GET request cannot carry a body; use another method".into(),
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
                    reason: text::quoted(name) + " is not a valid header name",
                });
            }
        }
        if o.share.as_deref() == Some("")
            && (o.header_provider.is_some() || matches!(o.body, Some(Body::Js(_))))
        {
            return Err(Error::InvalidOption {
                option: "share",
                reason:
                    "headers from a function or a body that is not text need an explicit share key"
                        .into(),
            });
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
    fn a_key_by_request_refuses_what_may_differ_between_pages() {
        let with_provider = Client::builder("/events")
            .headers_with(|| async { Ok(Vec::new()) })
            .share_by_request();
        assert_eq!(option_of(&refused(with_provider)), "share");
        let with_js_body = Client::builder("/events")
            .method(Method::Post)
            .body_js(wasm_bindgen::JsValue::NULL)
            .share_by_request();
        assert_eq!(option_of(&refused(with_js_body)), "share");
        // A key of the page's own is accepted with both.
        let named = Client::builder("/events")
            .headers_with(|| async { Ok(Vec::new()) })
            .share("user-1");
        assert!(named.validate().is_ok());
    }

    #[test]
    fn the_key_by_request_names_everything_that_makes_the_stream() {
        let key = |b: ClientBuilder| b.options.share_key(&b.url);
        let plain = Client::builder("/a").share_by_request();
        assert_eq!(key(Client::builder("/a")), None);
        let base = key(plain.clone());
        assert!(base.is_some());
        for other in [
            Client::builder("/b").share_by_request(),
            plain.clone().with_credentials(true),
            plain.clone().method(Method::Post),
            plain.clone().method(Method::Post).body("x"),
            plain.clone().header("x-user", "1"),
        ] {
            assert_ne!(key(other), base);
        }
        assert_eq!(key(plain.share("mine")), Some("mine".into()));
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
            "invalid option body: a GET request cannot carry a body; use another method"
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
}
