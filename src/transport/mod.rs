//! Transports: the ways the client reaches a server. Each one turns its I/O into
//! [`TransportEvent`]s sent down a channel, and releases everything it holds on `Drop`.

use std::fmt;

use futures::channel::mpsc::UnboundedSender;

use crate::Event;

pub(crate) mod eventsource;

/// Which transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// The browser's own [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource).
    EventSource,
}

impl TransportKind {
    /// The transport's name as the JS API reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::EventSource => "eventsource",
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a live transport reports to the client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TransportEvent {
    /// The connection is open: headers accepted, events may follow.
    Open,
    /// A complete event was dispatched.
    Event(Event),
    /// The connection ended; the browser will not retry it by itself.
    Closed,
    /// The connection failed and the browser is retrying on its own.
    Error,
}

/// Where a transport sends what it sees.
pub(crate) type Sink = UnboundedSender<TransportEvent>;
