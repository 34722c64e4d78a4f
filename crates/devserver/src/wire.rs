//! Bytes on the wire: every `text/event-stream` frame the server writes is built here.
//!
//! The event encoder is isolated in [`encode_event`] so that the server can switch to the
//! workspace codec's encoder with a one-line change.

use bytes::{BufMut, Bytes, BytesMut};
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

/// The `hugeBytes` fault event: `event: huge` with `n` bytes of `x` in a single data line.
pub(crate) fn huge_event(n: usize) -> Bytes {
    let mut out = BytesMut::with_capacity(n + 32);
    out.put_slice(b"event: huge\ndata: ");
    out.put_bytes(b'x', n);
    out.put_slice(b"\n\n");
    out.freeze()
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
