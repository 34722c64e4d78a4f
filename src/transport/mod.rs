//! Transports: the ways the client reaches a server.
//!
//! Every transport is opened with a [`Request`] and a [`Sink`]; it reports what happens as
//! [`TransportEvent`]s down that sink and releases everything it holds (listeners, timers,
//! in-flight requests) when dropped. The client gives each connection attempt a fresh
//! channel, so a report that races with a drop is simply never read.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;

use crate::reconnect::Failure;
use crate::Event;

pub(crate) mod eventsource;
pub(crate) mod fetch;
pub(crate) mod longpoll;

/// Which transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// The browser's own [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource).
    EventSource,
    /// [`fetch`](https://developer.mozilla.org/en-US/docs/Web/API/Fetch_API) with the
    /// response body read as a stream and parsed in wasm.
    Fetch,
    /// Repeated `fetch` requests, each answered with a complete batch of events.
    LongPoll,
}

impl TransportKind {
    /// The transport's name as the JS API reports it: `"eventsource"`, `"fetch"` or `"long-poll"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::EventSource => "eventsource",
            TransportKind::Fetch => "fetch",
            TransportKind::LongPoll => "long-poll",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HTTP request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `GET` (the default, and the only method `EventSource` can use).
    #[default]
    Get,
    /// `POST`, with the request's body.
    Post,
}

/// Everything a transport needs to open one connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// The URL to open, already carrying the resume query parameter when one is wanted.
    pub(crate) url: String,
    /// The last event ID seen, sent as the `Last-Event-ID` header by the transports that
    /// can set headers (`EventSource` cannot).
    pub(crate) last_event_id: Option<String>,
    /// Send credentials (cookies) cross-origin.
    pub(crate) with_credentials: bool,
    /// Extra request headers (not for `EventSource`).
    pub(crate) headers: Vec<(String, String)>,
    /// Request method (not for `EventSource`).
    pub(crate) method: Method,
    /// Request body, with `Method::Post`.
    pub(crate) body: Option<String>,
    /// Event types to listen for besides `message` (only `EventSource` needs them).
    pub(crate) event_types: Vec<String>,
    /// The largest event the parser accepts, in bytes.
    pub(crate) max_event_size: usize,
    /// The query parameter that carries the last event ID where no header can
    /// (`EventSource` reconnects we start, long polling); default `lastEventId`.
    pub(crate) last_event_id_param: String,
}

/// `url` with the query parameter `key` set to `value` (replacing any earlier `key`),
/// keeping the fragment in place. Pure string work, so it runs the same in browsers,
/// workers and Node, and for relative URLs.
pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    // `split_once` rather than slicing at an index: no char-boundary panic path (and its
    // formatting code) in the wasm.
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut out = String::with_capacity(url.len() + key.len() + value.len() + 2);
    out.push_str(path);
    out.push('?');
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split('=').next().unwrap_or_default();
        if name != key {
            out.push_str(pair);
            out.push('&');
        }
    }
    percent_encode(key, &mut out);
    out.push('=');
    percent_encode(value, &mut out);
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `text` in double quotes, with `"`, `\\` and ASCII control characters escaped, for error
/// messages. Like `format!("{text:?}")` for the text these messages quote, but without the
/// formatting machinery and Unicode tables that `Debug` links into the wasm.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii_control() => {
                let byte = c as u8;
                out.push_str("\\u{");
                if byte >= 16 {
                    out.push(char::from(HEX[usize::from(byte >> 4)]));
                }
                out.push(char::from(HEX[usize::from(byte & 15)]));
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `n` in decimal, without the formatting machinery.
pub(crate) fn decimal(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

/// What a live transport reports to the client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TransportEvent {
    /// The connection is open: status and content type accepted, events may follow.
    Open,
    /// A complete event was dispatched.
    Event(Event),
    /// The stream set a new reconnection time (`retry:`).
    Retry(Duration),
    /// Bytes arrived that were not an event (a comment, a partial event): the connection is alive.
    Activity,
    /// An event exceeded the maximum size and was dropped; the stream goes on.
    EventTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The native `EventSource` lost its connection and is reconnecting on its own
    /// (with the `Last-Event-ID` header).
    Interrupted,
    /// The native `EventSource` gave up: the server answered with a status other than 200,
    /// a wrong content type or 204, which the browser does not tell apart. The client
    /// finds out which by trying again over a transport that can see the response.
    Rejected,
    /// The connection ended for this reason; the transport is finished.
    Failed(Failure),
}

/// Delivers one event to the client's subscribers, synchronously, and hands it back once
/// spent (nothing keeps it: handlers only borrow it, subscribers get clones), so that the
/// transport can build the next event in its buffers instead of allocating new ones.
pub(crate) type Deliver = Rc<dyn Fn(Event) -> Event>;

/// Where a transport sends what it sees.
///
/// Events take the fast path: straight into the client's subscribers, inside the
/// transport's own callback, with no task switch (the browser hands `EventSource` events
/// over one task at a time, so an extra hop per event would cost a large share of the
/// throughput). Everything else (open, failures, activity, `retry:`) goes down the channel
/// to the client's driver. The first event of a connection is also announced there as
/// activity, so the driver knows when data started to flow.
#[derive(Clone)]
pub(crate) struct Sink {
    reports: UnboundedSender<TransportEvent>,
    deliver: Option<Deliver>,
    announced: Rc<Cell<bool>>,
    /// The event the last delivery handed back, until a transport takes it to reuse.
    spare: Rc<Cell<Option<Event>>>,
}

impl Sink {
    /// A sink that delivers events through `deliver` and reports the rest on `reports`.
    pub(crate) fn new(reports: UnboundedSender<TransportEvent>, deliver: Deliver) -> Self {
        Self {
            reports,
            deliver: Some(deliver),
            announced: Rc::default(),
            spare: Rc::default(),
        }
    }

    /// Reports `report`; fails once the client stopped listening to this connection.
    pub(crate) fn unbounded_send(&self, report: TransportEvent) -> Result<(), Closed> {
        if self.reports.is_closed() {
            return Err(Closed);
        }
        match (report, &self.deliver) {
            (TransportEvent::Event(event), Some(deliver)) => {
                if !self.announced.replace(true) {
                    self.reports
                        .unbounded_send(TransportEvent::Activity)
                        .map_err(|_| Closed)?;
                }
                self.spare.set(Some(deliver(event)));
                Ok(())
            }
            (report, _) => self.reports.unbounded_send(report).map_err(|_| Closed),
        }
    }

    /// An event already delivered, whose `String`s a transport may clear and fill with the
    /// next event's (saving their allocations); `None` when there is none to spare.
    pub(crate) fn take_spare(&self) -> Option<Event> {
        self.spare.take()
    }

    /// Whether the client stopped listening to this connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.reports.is_closed()
    }
}

/// Every report, events included, goes down the channel (used by the transports' tests).
impl From<UnboundedSender<TransportEvent>> for Sink {
    fn from(reports: UnboundedSender<TransportEvent>) -> Self {
        Self {
            reports,
            deliver: None,
            announced: Rc::default(),
            spare: Rc::default(),
        }
    }
}

/// The client no longer listens to this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// A live connection over one of the transports; dropping it closes the connection.
pub(crate) enum Live {
    EventSource(eventsource::NativeEventSource),
    // Held for their `Drop`, which aborts the connection.
    #[allow(dead_code)]
    Fetch(fetch::FetchStream),
    #[allow(dead_code)]
    LongPoll(longpoll::LongPoll),
}

impl Live {
    /// Starts delivering events of type `name` (only `EventSource` needs to be told).
    pub(crate) fn add_event_type(&mut self, name: &str) {
        if let Live::EventSource(source) = self {
            source.add_event_type(name);
        }
    }
}

/// Opens a connection over `kind`.
pub(crate) fn open(
    kind: TransportKind,
    request: &Request,
    sink: Sink,
) -> Result<Live, crate::Error> {
    Ok(match kind {
        TransportKind::EventSource => {
            Live::EventSource(eventsource::NativeEventSource::open(request, sink)?)
        }
        TransportKind::Fetch => Live::Fetch(fetch::FetchStream::open(request, sink)?),
        TransportKind::LongPoll => Live::LongPoll(longpoll::LongPoll::open(request, sink)?),
    })
}

#[cfg(test)]
mod tests {
    use super::{decimal, quoted, with_query};

    #[test]
    fn quoted_matches_debug_for_the_text_it_quotes() {
        for text in [
            "",
            "x-token",
            "bad name",
            "a\"b\\c",
            "tab\there",
            "new\nline",
            "é ü",
        ] {
            assert_eq!(quoted(text), format!("{text:?}"));
        }
    }

    #[test]
    fn decimal_matches_display() {
        for n in [0, 7, 10, 99, 1000, 15000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn with_query_adds_replaces_and_keeps_the_fragment() {
        let cases = [
            // no query yet
            ("/events", "/events?lastEventId=7"),
            // appended after existing parameters
            ("/events?topic=a", "/events?topic=a&lastEventId=7"),
            // an earlier value is replaced, not duplicated
            (
                "/events?lastEventId=1&topic=a",
                "/events?topic=a&lastEventId=7",
            ),
            // the fragment stays last
            ("http://h/e?topic=a#x", "http://h/e?topic=a&lastEventId=7#x"),
            // a trailing `?` or `&` leaves no empty pair behind
            ("/e?", "/e?lastEventId=7"),
            ("/e?a=1&", "/e?a=1&lastEventId=7"),
        ];
        for (url, want) in cases {
            assert_eq!(with_query(url, "lastEventId", "7"), want, "{url}");
        }
    }

    #[test]
    fn with_query_percent_encodes_the_value() {
        assert_eq!(
            with_query("/e", "lastEventId", "a b&c=d/é"),
            "/e?lastEventId=a%20b%26c%3Dd%2F%C3%A9"
        );
    }
}
