//! Bytes on the wire: every `text/event-stream` frame the server writes is built here.
//!
//! The event encoder is isolated in [`encode_event`] so that the server can switch to the
//! workspace codec's encoder with a one-line change.

use bytes::Bytes;
use wasm_sse_codec::{EventBuilder, Item, Parser};

/// Encodes one event block (`event:`, `id:`, one `data:` line per line of `data`, blank
/// line) with the workspace codec's encoder; `data` is split on `\r\n`, `\n` and `\r`, so the
/// receiving side reassembles the same text joined by `\n`.
///
/// Callers validate ids and event types first (publish rejects line breaks), so the encoder
/// cannot fail here; if it ever did, nothing would be sent rather than a corrupt block.
pub(crate) fn encode_event(id: Option<&str>, event: Option<&str>, data: &str) -> Bytes {
    let mut b = EventBuilder::new().data(data);
    if let Some(id) = id {
        b = b.id(id);
    }
    if let Some(event) = event {
        b = b.event(event);
    }
    b.to_bytes().map_or_else(|_| Bytes::new(), Bytes::from)
}

/// A comment line followed by a blank line (`: text\n\n`); ignored by parsers, keeps the
/// connection visibly alive.
pub(crate) fn comment(text: &str) -> Bytes {
    EventBuilder::new()
        .comment(text)
        .to_bytes()
        .map_or_else(|_| Bytes::new(), Bytes::from)
}

/// A `retry:` hint block.
pub(crate) fn retry(ms: u64) -> Bytes {
    EventBuilder::new()
        .retry(ms)
        .to_bytes()
        .map_or_else(|_| Bytes::new(), Bytes::from)
}

/// The deterministic invalid-UTF-8 event of the `invalidUtf8` fault.
///
/// Bytes of the data line: `bad `, `FF`, `FE`, ` `, `C3` (a truncated two-byte sequence),
/// ` end`. A conforming decoder yields `"bad \u{FFFD}\u{FFFD} \u{FFFD} end"`.
pub(crate) fn invalid_utf8_event() -> Bytes {
    Bytes::from_static(b"event: invalid-utf8\ndata: bad \xFF\xFE \xC3 end\n\n")
}

/// The piece every `hugeBytes` body is cut from: static, so a huge event costs no memory.
static XS: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// `n` bytes of `x`, as pieces of a static buffer (no allocation but the list).
pub(crate) fn xs(n: usize) -> impl Iterator<Item = Bytes> {
    let full = n / XS.len();
    let rest = n % XS.len();
    std::iter::repeat_n(Bytes::from_static(&XS), full)
        .chain((rest > 0).then(|| Bytes::from_static(&XS[..rest])))
}

/// The `hugeBytes` fault event: `event: huge` with `n` bytes of `x` in a single data line,
/// as pieces (the `x`s are shared static bytes, never allocated per request).
pub(crate) fn huge_event(n: usize) -> Vec<Bytes> {
    let mut out = vec![Bytes::from_static(b"event: huge\ndata: ")];
    out.extend(xs(n));
    out.push(Bytes::from_static(b"\n\n"));
    out
}

/// The `hugeBytes` event as a `format=json` array element (a trailing comma when `more`).
pub(crate) fn huge_json(n: usize, more: bool) -> Vec<Bytes> {
    let mut out = vec![Bytes::from_static(
        b"{\"id\":\"\",\"event\":\"huge\",\"data\":\"",
    )];
    out.extend(xs(n));
    out.push(Bytes::from_static(if more { b"\"}," } else { b"\"}" }));
    out
}

/// A complete body made of shared pieces, sent without copying them, with its exact length
/// (so it goes out with `Content-Length`).
pub(crate) struct Pieces {
    parts: std::collections::VecDeque<Bytes>,
    len: u64,
}

impl Pieces {
    pub(crate) fn new(parts: impl IntoIterator<Item = Bytes>) -> Self {
        let parts: std::collections::VecDeque<Bytes> =
            parts.into_iter().filter(|b| !b.is_empty()).collect();
        let len = parts.iter().map(|b| b.len() as u64).sum();
        Pieces { parts, len }
    }
}

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let next = self.parts.pop_front();
        if let Some(b) = &next {
            self.len -= b.len() as u64;
        }
        std::task::Poll::Ready(next.map(|b| Ok(http_body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

/// The events of `body` (a whole `text/event-stream` body) as a JSON array of
/// `{"id", "event", "data"}` objects, for `format=json` on long-poll answers. Comments and
/// `retry:` lines are dropped; `id` is the event's last event ID, as a client would see it.
pub(crate) fn json_batch(body: &[u8]) -> Bytes {
    let mut parser = Parser::with_max_event_size(usize::MAX);
    let mut events = Vec::new();
    // Without a size limit the parser cannot fail.
    let _ = parser.feed(body, |item| {
        if let Item::Event(e) = item {
            events.push(serde_json::json!({
                "id": e.id(),
                "event": e.event_type(),
                "data": e.data(),
            }));
        }
    });
    serde_json::to_vec(&events).map_or_else(|_| Bytes::from_static(b"[]"), Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_every_line_terminator() {
        let b = encode_event(Some("7"), Some("tick"), "a\r\nb\nc\rd");
        assert_eq!(
            &b[..],
            b"event: tick\nid: 7\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        assert_eq!(&encode_event(None, None, "")[..], b"data:\n\n");
        assert_eq!(&encode_event(None, None, "x\n")[..], b"data: x\ndata:\n\n");
        assert_eq!(&comment("hi")[..], b": hi\n\n");
        assert_eq!(&retry(5)[..], b"retry: 5\n\n");
    }

    #[test]
    fn json_batches_keep_events_only() {
        let body = b": no events\n\nretry: 5\n\nid: 1\nevent: a\ndata: x\ndata: y\n\ndata: z\n\n";
        let v: serde_json::Value = serde_json::from_slice(&json_batch(body)).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!([
                {"id": "1", "event": "a", "data": "x\ny"},
                {"id": "1", "event": "message", "data": "z"},
            ])
        );
        assert_eq!(&json_batch(b"")[..], b"[]");
    }
}
