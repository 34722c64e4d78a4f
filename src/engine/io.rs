//! What goes into the engine and what comes out: its configuration, its inputs and the
//! actions it asks for.

use alloc::string::String;

use core::time::Duration;

use super::reconnect::{Failure, ReconnectPolicy};
use super::{Lifecycle, TransportKind};
#[cfg(test)]
use super::{DEFAULT_LONG_POLL_TIMEOUT, DEFAULT_STALL_DOWNGRADE};
use crate::Error;

/// What the engine is told once, when the client starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The URL as the user gave it.
    pub(crate) url: String,
    /// A transport the user forced, or `None` to choose.
    pub(crate) transport: Option<TransportKind>,
    /// Custom headers, a method or a body: only the fetch-based transports can send them.
    pub(crate) needs_fetch: bool,
    /// The URL has the page's origin.
    pub(crate) same_origin: bool,
    /// The environment has a native `EventSource`.
    pub(crate) has_event_source: bool,
    /// The environment has `fetch` with streamed response bodies.
    pub(crate) has_fetch_streams: bool,
    /// The reconnection policy.
    pub(crate) policy: ReconnectPolicy,
    /// Seeds the backoff jitter.
    pub(crate) seed: u64,
    /// Reconnect a connection that received nothing for this long.
    pub(crate) idle_timeout: Option<Duration>,
    /// Fail a streaming attempt that has not opened after this long.
    pub(crate) connect_timeout: Option<Duration>,
    /// Fail a long poll that has not been answered after this long.
    pub(crate) long_poll_timeout: Option<Duration>,
    /// The silence before a burst that marks a buffering proxy (`None`: never downgrade).
    pub(crate) stall_downgrade: Option<Duration>,
    /// Close while the page is hidden.
    pub(crate) pause_when_hidden: bool,
    /// A retry hook is installed: fatal failures are put to it ([`Action::AskRetry`]).
    pub(crate) has_retry_hook: bool,
    /// The ID to resume after on the first connection (`""`: none).
    pub(crate) last_event_id: String,
    /// The query parameter that carries the last event ID where no header can.
    pub(crate) last_event_id_param: String,
    /// A clean end of the response body closes the client instead of reconnecting.
    pub(crate) close_on_end: bool,
}

#[cfg(test)]
impl Config {
    /// The defaults of [`ClientBuilder`](crate::ClientBuilder) in a browser page that has
    /// both `EventSource` and fetch streaming, for a cross-origin `url`.
    pub(crate) fn testing(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            transport: None,
            needs_fetch: false,
            same_origin: false,
            has_event_source: true,
            has_fetch_streams: true,
            policy: ReconnectPolicy::new(),
            seed: 7,
            idle_timeout: None,
            connect_timeout: None,
            long_poll_timeout: Some(DEFAULT_LONG_POLL_TIMEOUT),
            stall_downgrade: Some(DEFAULT_STALL_DOWNGRADE),
            pause_when_hidden: false,
            has_retry_hook: false,
            last_event_id: String::new(),
            last_event_id_param: wasm_sse_codec::protocol::query::LAST_EVENT_ID.to_owned(),
            close_on_end: false,
        }
    }
}

/// Something that happened, fed to [`Engine::handle`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    /// The connection opened: an `EventSource` `open`, or a response head the
    /// [`response`] checks accepted.
    Open,
    /// Something arrived on the open connection: its first event, a comment, a partial
    /// event, a long-poll answer (even an empty one).
    Data,
    /// The stream set a new reconnection time (`retry:`).
    Retry(Duration),
    /// An event larger than the limit was dropped; the stream goes on.
    TooLarge(usize),
    /// A long-poll request went out and its answer is awaited (`true`), or its head
    /// arrived (`false`).
    Polling(bool),
    /// The response body ended.
    End,
    /// The native `EventSource` lost its connection and would reconnect on its own.
    Interrupted,
    /// The native `EventSource` gave up (a status or content type it does not say).
    Rejected,
    /// The attempt failed.
    Failed(Failure),
    /// The connection could not be created at all (a URL the browser refuses, a header
    /// provider that failed): close for good.
    Error(Error),
    /// The page went online or offline, hidden or visible, or came back from the cache.
    Page(PageSignal),
    /// The answer of the retry hook to the last [`Action::AskRetry`].
    RetryVerdict(bool),
    /// Nothing happened but time passed (a deadline).
    Timer,
    /// The user closed the client.
    Close,
    /// The user asked for a new connection now, resuming after the last event.
    Reconnect,
}

/// A page-lifecycle change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageSignal {
    /// The browser is back online: reconnect now instead of waiting.
    Online,
    /// The browser went offline: wait for `Online` before reconnecting.
    Offline,
    /// The page came back from the back/forward cache: its connections were closed.
    Restored,
    /// The page became hidden (`true`) or visible (`false`).
    Hidden(bool),
}

/// Something the shell must do, from [`Engine::poll_action`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Open a connection over `transport` to `url`, sending `last_event_id` as the
    /// `Last-Event-ID` header where the transport can (it is in `url` already for an
    /// `EventSource` that resumes).
    Connect {
        /// The transport.
        transport: TransportKind,
        /// The URL to open.
        url: String,
        /// The ID to resume after.
        last_event_id: Option<String>,
    },
    /// Close the current connection (and drop whatever it still reports).
    Cancel,
    /// Tell the user (lifecycle streams and callbacks).
    Emit(Lifecycle),
    /// Ask the retry hook whether to retry after this fatal failure; answer with
    /// [`Input::RetryVerdict`].
    AskRetry(Failure),
}
