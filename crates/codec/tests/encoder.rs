//! Named tests for the encoder's rules.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ev, parse};
use wasm_sse_codec::{EncodeError, Event, EventBuilder, Item};

fn encode(builder: EventBuilder<'_>) -> String {
    String::from_utf8(builder.to_bytes().unwrap()).unwrap()
}

/// Fields are written as `name: value`, in the order comment, event, id, retry, data.
#[test]
fn encode_all_fields() {
    let b = EventBuilder::new()
        .data("d")
        .retry(1500)
        .id("7")
        .event("tick")
        .comment("hi");
    assert_eq!(
        encode(b),
        ": hi\nevent: tick\nid: 7\nretry: 1500\ndata: d\n\n"
    );
    assert_eq!(encode(EventBuilder::new().retry(0)), "retry: 0\n\n");
    assert_eq!(
        encode(EventBuilder::new().retry(u64::MAX)),
        "retry: 18446744073709551615\n\n"
    );
}

/// Data is split on every line terminator (CRLF, LF, CR) into `data:` lines.
#[test]
fn encode_data_split_on_every_terminator() {
    let b = EventBuilder::new().data("a\r\nb\nc\rd\n");
    assert_eq!(encode(b), "data: a\ndata: b\ndata: c\ndata: d\ndata:\n\n");
    assert_eq!(
        parse(encode(b).as_bytes()),
        [ev("message", "a\nb\nc\nd\n", "")]
    );
    assert_eq!(
        encode(EventBuilder::new().data("\r\r\n")),
        "data:\ndata:\ndata:\n\n"
    );
}

/// Empty data still writes a `data:` line, so the event dispatches (with empty data).
#[test]
fn encode_empty_data_dispatches() {
    assert_eq!(encode(EventBuilder::new().data("")), "data:\n\n");
    assert_eq!(parse(b"data:\n\n"), [ev("message", "", "")]);
}

/// Leading spaces in values survive (the separator space is always written).
#[test]
fn encode_leading_space_preserved() {
    let b = EventBuilder::new().event(" t").id(" 1").data("  x");
    assert_eq!(parse(&b.to_bytes().unwrap()), [ev(" t", "  x", " 1")]);
}

/// An id with CR, LF or NULL is rejected, and nothing is written.
#[test]
fn encode_id_rejects_cr_lf_nul() {
    for id in ["a\rb", "a\nb", "a\0b"] {
        let mut out = b"keep".to_vec();
        assert_eq!(
            EventBuilder::new().id(id).data("x").encode_into(&mut out),
            Err(EncodeError::InvalidId)
        );
        assert_eq!(out, b"keep");
    }
    assert_eq!(
        EncodeError::InvalidId.to_string(),
        "an event id cannot contain CR, LF or NULL"
    );
    // An empty id is valid: it resets the receiver's last event ID.
    assert_eq!(encode(EventBuilder::new().id("")), "id:\n\n");
}

/// An event type with CR or LF is rejected.
#[test]
fn encode_event_type_rejects_cr_lf() {
    for t in ["a\rb", "a\nb"] {
        assert_eq!(
            EventBuilder::new().event(t).to_bytes(),
            Err(EncodeError::InvalidEventType)
        );
    }
    let mut s = String::new();
    assert_eq!(
        EventBuilder::new().event("\n").encode_into_string(&mut s),
        Err(EncodeError::InvalidEventType)
    );
    assert!(s.is_empty());
}

/// Comments: one `:` line per line; the parser reports them line by line.
#[test]
fn encode_comment_lines() {
    let b = EventBuilder::new().comment("a\nb");
    assert_eq!(encode(b), ": a\n: b\n\n");
    assert_eq!(
        parse(encode(b).as_bytes()),
        [Item::Comment("a".into()), Item::Comment("b".into())]
    );
    assert_eq!(encode(EventBuilder::new().comment("")), ":\n\n");
}

/// A parsed event re-encodes to itself (type "message" is left implicit).
#[test]
fn encode_from_event_round_trip() {
    for event in [
        Event::new("message", "a\nb", ""),
        Event::new("tick", "", "42"),
    ] {
        let bytes = EventBuilder::from(&event).to_bytes().unwrap();
        assert_eq!(parse(&bytes), [Item::Event(event)]);
    }
    assert_eq!(
        encode(EventBuilder::from(&Event::new("message", "x", "1"))),
        "id: 1\ndata: x\n\n"
    );
}
