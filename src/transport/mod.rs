//! Transports: the ways the client reaches a server.
//!
//! Every transport is opened with a [`Request`] and a [`Sink`]; it reports what happens as
//! [`TransportEvent`]s down that sink and releases everything it holds (listeners, timers,
//! in-flight requests) when dropped. The client gives each connection attempt a fresh
//! channel, so a report that races with a drop is simply never read.

use alloc::string::String;
use alloc::vec::Vec;

use alloc::rc::Rc;
use core::cell::Cell;
use core::time::Duration;

use crate::channel::UnboundedSender;

use crate::engine::reconnect::Failure;
pub(crate) use crate::engine::text::{quoted, with_query};
pub(crate) use crate::engine::{Method, TransportKind};
use crate::Event;

pub(crate) mod eventsource;
pub(crate) mod fetch;
#[cfg(all(test, target_arch = "wasm32"))]
mod fetch_tests;
pub(crate) mod longpoll;
#[cfg(all(test, target_arch = "wasm32"))]
pub(crate) mod testing;

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
    /// Request body (not with `Method::Get`): a string, or any body `fetch` accepts.
    pub(crate) body: Option<Body>,
    /// A `fetch` to call instead of the global one.
    pub(crate) fetch: Option<js_sys::Function>,
    /// Event types to listen for besides `message` (only `EventSource` needs them).
    pub(crate) event_types: Vec<String>,
    /// The largest event the parser accepts, in bytes.
    pub(crate) max_event_size: usize,
    /// The query parameter that carries the last event ID where no header can
    /// (`EventSource` reconnects we start, long polling); default `lastEventId`.
    pub(crate) last_event_id_param: String,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// Text (a JS string once sent).
    Text(String),
    /// Any value `fetch` accepts as a body.
    Js(wasm_bindgen::JsValue),
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
    /// A long poll went out and its answer is awaited (`true`), or its head arrived and
    /// was accepted (`false`).
    Polling(bool),
    /// The native `EventSource` lost its connection and is reconnecting on its own
    /// (with the `Last-Event-ID` header).
    Interrupted,
    /// The native `EventSource` gave up: the server answered with a status other than 200,
    /// a wrong content type or 204, which the browser does not tell apart. The client
    /// finds out which by trying again over a transport that can see the response.
    Rejected,
    /// The connection ended for this reason; the transport is finished.
    Failed(Failure),
    /// The head of the response just accepted (fetch-based transports), before `Open`.
    Head(ResponseHead),
    /// The start of an error response's body (at most [`ERROR_BODY_LIMIT`] bytes, as
    /// text), before the `Failed` of its status.
    ErrorBody(String),
}

/// How much of an error response's body the client keeps for the application.
pub(crate) const ERROR_BODY_LIMIT: usize = 4096;

/// The status and headers of a response the client accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseHead {
    /// The HTTP status (200).
    pub status: u16,
    /// The response's headers (those the server exposes, cross-origin).
    pub headers: web_sys::Headers,
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

    /// An event with these fields, written into the strings of the last event delivered
    /// when the client spares it (so a steady stream allocates nothing per event).
    pub(crate) fn event(&self, event_type: &str, last_event_id: &str, data: &str) -> Event {
        let mut event = self.take_spare().unwrap_or_else(|| Event::new("", "", ""));
        refill(&mut event.event_type, event_type);
        refill(&mut event.last_event_id, last_event_id);
        refill(&mut event.data, data);
        event
    }

    /// Whether the client stopped listening to this connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.reports.is_closed()
    }
}

/// `text` in `buffer`, in place of what it held.
fn refill(buffer: &mut String, text: &str) {
    buffer.clear();
    buffer.push_str(text);
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
    /// A follower's channel to the leader of a shared stream.
    #[allow(dead_code)]
    Follower(crate::share::Following),
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
