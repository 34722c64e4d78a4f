//! The names of the transports and request methods.

use core::fmt;

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
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name as HTTP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}
