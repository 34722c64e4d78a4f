//! The names of the wasm-sse wire protocol (`docs/protocol.md`), defined once: the headers,
//! query parameters and fault parameters that the client, `sse-devserver` and the tests spell.
//!
//! Only names live here, no behaviour: what each one means is in `docs/protocol.md`.
//!
//! ```
//! use wasm_sse_codec::protocol::{fault, query};
//!
//! let url = format!(
//!     "/events?{}=chat&{}={}&{}=3",
//!     query::TOPIC,
//!     query::TRANSPORT,
//!     query::TRANSPORT_LONG_POLL,
//!     fault::CLOSE_AFTER,
//! );
//! assert_eq!(url, "/events?topic=chat&transport=long-poll&closeAfter=3");
//! ```

/// Paths of the dev server's routes.
pub mod path {
    /// The event stream and its long-poll twin: `GET` (or `POST`) `/events?topic=T`.
    pub const EVENTS: &str = "/events";
    /// Publishing one event: `POST /publish?topic=T` with a JSON body.
    pub const PUBLISH: &str = "/publish";
    /// Liveness and the count of open event responses: `{"status":"ok","connections":N}`.
    pub const HEALTHZ: &str = "/healthz";
    /// Chaos settings and per-topic fault counters (only with `--chaos SEED`).
    pub const CHAOS: &str = "/chaos";
    /// Cuts the live event responses opened with a [`CONN`](super::query::CONN) label, in the
    /// middle of an event: `POST /control/drop` with `{"conn": LABEL}`.
    pub const CONTROL_DROP: &str = "/control/drop";
    /// Puts a topic in an outage (`503` with `Retry-After` on its event routes) for a few
    /// seconds: `POST /control/outage` with `{"topic": T, "seconds": S}`.
    pub const CONTROL_OUTAGE: &str = "/control/outage";
}

/// Header names, in lower case: the form HTTP/2 sends and `http::HeaderName::from_static`
/// accepts. HTTP compares header names case-insensitively; `docs/protocol.md` writes them
/// `Last-Event-ID`, `Long-Poll-Cursor` and `Long-Poll-Ahead`.
pub mod header {
    /// `Last-Event-ID` (request): the cursor to resume after. It wins over the
    /// [`query::LAST_EVENT_ID`](super::query::LAST_EVENT_ID) parameter.
    pub const LAST_EVENT_ID: &str = "last-event-id";
    /// `Long-Poll-Cursor` (long-poll answer): the last event ID its body sets, so that the
    /// next poll can be sent before the body is read.
    pub const LONG_POLL_CURSOR: &str = "long-poll-cursor";
    /// `Long-Poll-Ahead` (long-poll answer): the last event IDs of the full batches that the
    /// next polls would be answered with, comma-separated, in order.
    pub const LONG_POLL_AHEAD: &str = "long-poll-ahead";
}

/// Query parameters of the event routes that are not faults, and their values.
pub mod query {
    /// The topic to subscribe or publish to (default [`DEFAULT_TOPIC`]).
    pub const TOPIC: &str = "topic";
    /// The topic used when [`TOPIC`] is absent; the demo ticker publishes to it.
    pub const DEFAULT_TOPIC: &str = "demo";
    /// Which transport answers: [`TRANSPORT_SSE`] (default) or [`TRANSPORT_LONG_POLL`].
    pub const TRANSPORT: &str = "transport";
    /// [`TRANSPORT`] value: the streaming `text/event-stream` response.
    pub const TRANSPORT_SSE: &str = "sse";
    /// [`TRANSPORT`] value accepted as a synonym of [`TRANSPORT_SSE`].
    pub const TRANSPORT_STREAM: &str = "stream";
    /// [`TRANSPORT`] value: one long-poll request.
    pub const TRANSPORT_LONG_POLL: &str = "long-poll";
    /// [`TRANSPORT`] value accepted as a synonym of [`TRANSPORT_LONG_POLL`].
    pub const TRANSPORT_LONGPOLL: &str = "longpoll";
    /// The cursor to resume after, where no `Last-Event-ID` header can be sent.
    pub const LAST_EVENT_ID: &str = "lastEventId";
    /// Long polling: how long an answer may be held waiting for an event, in milliseconds.
    pub const TIMEOUT_MS: &str = "timeoutMs";
    /// Long polling: the body format, [`FORMAT_SSE`] (default) or [`FORMAT_JSON`].
    pub const FORMAT: &str = "format";
    /// [`FORMAT`] value: a `text/event-stream` body.
    pub const FORMAT_SSE: &str = "sse";
    /// [`FORMAT`] value: a JSON array of `{"id", "event", "data"}` objects.
    pub const FORMAT_JSON: &str = "json";
    /// Replay routes: `0` ends the response after the last block (long polling: answers at
    /// once past the last block); default `1`, stay open like a live topic.
    pub const HOLD: &str = "hold";
    /// A label the client picks for its event responses, so that
    /// [`CONTROL_DROP`](super::path::CONTROL_DROP) can cut them (same characters as a topic).
    pub const CONN: &str = "conn";
}

/// Fault-injection query parameters of `/events` and the replay routes (the table in
/// `docs/protocol.md`, "Fault injection"). Every name here is one the dev server parses, and
/// [`ALL`](self::fault::ALL) lists each of them once.
pub mod fault {
    /// `closeAfter=N`: end the response cleanly after `N` events with IDs.
    pub const CLOSE_AFTER: &str = "closeAfter";
    /// `status=S`: answer status `S` (200..=599) instead of the stream.
    pub const STATUS: &str = "status";
    /// `retryAfter=S`: the `Retry-After` value, in seconds, of an injected status.
    pub const RETRY_AFTER: &str = "retryAfter";
    /// `redirectLoop=1`: with a `3xx` [`STATUS`], redirect to the request URL itself.
    pub const REDIRECT_LOOP: &str = "redirectLoop";
    /// `contentType=V`: send `Content-Type: V`, body unchanged.
    pub const CONTENT_TYPE: &str = "contentType";
    /// `stallMs=T`: send the headers, then nothing for `T` ms.
    pub const STALL_MS: &str = "stallMs";
    /// `trickle=B`: cut the body into pieces of at most `B` bytes.
    pub const TRICKLE: &str = "trickle";
    /// `trickleMs=T`: the pause between [`TRICKLE`] pieces.
    pub const TRICKLE_MS: &str = "trickleMs";
    /// `retry=X`: send `retry: X` instead of the default reconnection hint.
    pub const RETRY: &str = "retry";
    /// `hugeBytes=N`: one `event: huge` whose data is `N` bytes on a single line.
    pub const HUGE_BYTES: &str = "hugeBytes";
    /// `invalidUtf8=1`: one `event: invalid-utf8` whose data holds invalid UTF-8.
    pub const INVALID_UTF8: &str = "invalidUtf8";
    /// `delayMs=T`: wait `T` ms before sending the headers.
    pub const DELAY_MS: &str = "delayMs";
    /// `echo=1`: first an `event: request` describing the request as the server saw it.
    pub const ECHO: &str = "echo";
    /// `buffer=1`: behave like a proxy that holds the whole body back until the end.
    pub const BUFFER: &str = "buffer";
    /// `bufferMs=T`: with [`BUFFER`], end the held response after `T` ms.
    pub const BUFFER_MS: &str = "bufferMs";

    /// Every fault parameter, in the order of the table in `docs/protocol.md`.
    pub const ALL: [&str; 15] = [
        CLOSE_AFTER,
        STATUS,
        RETRY_AFTER,
        REDIRECT_LOOP,
        CONTENT_TYPE,
        STALL_MS,
        TRICKLE,
        TRICKLE_MS,
        RETRY,
        HUGE_BYTES,
        INVALID_UTF8,
        DELAY_MS,
        ECHO,
        BUFFER,
        BUFFER_MS,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_are_distinct_and_disjoint_from_the_other_parameters() {
        let others = [
            query::TOPIC,
            query::TRANSPORT,
            query::LAST_EVENT_ID,
            query::TIMEOUT_MS,
            query::FORMAT,
            query::HOLD,
            query::CONN,
        ];
        for (i, name) in fault::ALL.iter().enumerate() {
            assert!(!fault::ALL[..i].contains(name), "{name} listed twice");
            assert!(
                !others.contains(name),
                "{name} is both a fault and a parameter"
            );
        }
    }

    #[test]
    fn header_names_are_lower_case_tokens() {
        for name in [
            header::LAST_EVENT_ID,
            header::LONG_POLL_CURSOR,
            header::LONG_POLL_AHEAD,
        ] {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
        }
    }
}
