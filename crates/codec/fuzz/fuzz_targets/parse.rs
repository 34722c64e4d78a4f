//! Parses arbitrary bytes and checks: no panic; memory bounded by the limit after every
//! chunk; the same items (and whether a size error happened) however the input is chunked:
//! in one piece, in the chunk size drawn, one byte at a time; no error without a limit;
//! no dispatched event above the limit; without a limit, the items equal a naive
//! transcription of the standard (`tests/common`); every event re-encodes (`EventBuilder`)
//! to a stream that reads back as the same event; `reset` gives a fresh parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_sse_codec::{EventBuilder, Item, Parser};

#[path = "../../tests/common/mod.rs"]
mod common;

/// Parses `chunks` with the limit, checking the memory bound after every chunk.
fn parse<'a>(parser: &mut Parser, chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<Item>, bool) {
    let limit = parser.max_event_size();
    let mut items = Vec::new();
    let mut errors = false;
    for chunk in chunks {
        errors |= parser.feed(chunk, |item| items.push(item)).is_err();
        assert!(parser.buffered_len() <= limit, "memory bound");
    }
    parser.finish();
    (items, errors)
}

fuzz_target!(|input: &[u8]| {
    // The first bytes choose the limit and the chunk size; the rest is the stream.
    let Some((&[limit, chunk], stream)) = input.split_first_chunk::<2>() else {
        return;
    };
    // 255 means no limit; otherwise 0..=1016 bytes.
    let limit = if limit == 255 {
        usize::MAX
    } else {
        usize::from(limit) * 4
    };
    let chunk = usize::from(chunk).max(1);

    let mut parser = Parser::with_max_event_size(limit);
    let whole = parse(&mut parser, [stream]);
    let (items, errors) = &whole;
    parser.reset();
    assert_eq!(parse(&mut parser, [stream]), whole, "after reset");

    let fresh = || Parser::with_max_event_size(limit);
    let chunked = parse(&mut fresh(), stream.chunks(chunk));
    assert_eq!(chunked, whole, "chunk size {chunk}");
    assert_eq!(
        parse(&mut fresh(), stream.chunks(1)),
        whole,
        "byte at a time"
    );

    if limit == usize::MAX {
        assert!(!errors, "an error without a limit");
        assert_eq!(items, &common::reference(stream), "reference");
    }

    let mut encoded = Vec::new();
    let mut events = Vec::new();
    for item in items {
        if let Item::Event(event) = item {
            // The data buffer held the data plus one LF.
            assert!(event.data().len() < limit, "event above the limit");
            EventBuilder::from(event)
                .encode_into(&mut encoded)
                .expect("a parsed event is encodable");
            events.push(item.clone());
        }
    }
    let (reparsed, _) = parse(&mut Parser::with_max_event_size(usize::MAX), [&encoded[..]]);
    assert_eq!(reparsed, events, "re-encoded events read back");
});
