//! Property tests: encode-then-parse is the identity, parsing is chunking-invariant and
//! agrees with a naive reference implementation of the standard.
#![allow(clippy::unwrap_used)]

mod common;

use common::{ev, lines, parse_chunks, reference};
use proptest::prelude::*;
use wasm_sse_codec::{EventBuilder, Item, Parser};

/// Bytes drawn mostly from the stream format's own tokens, so that generated streams hit
/// the interesting paths (fields, terminators, BOMs, split UTF-8, invalid bytes).
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"data"[..]),
        Just(&b"event"[..]),
        Just(&b"id"[..]),
        Just(&b"retry"[..]),
        Just(&b":"[..]),
        Just(&b" "[..]),
        Just(&b"\n"[..]),
        Just(&b"\r"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\n\n"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xEF\xBB"[..]),
        Just(&b"\xE2\x82"[..]),
        Just(&b"\xAC"[..]),
        Just(&b"\xFF"[..]),
        Just(&b"\x00"[..]),
        Just(&b"7"[..]),
        Just(&b"x"[..]),
        Just("\u{1F600}".as_bytes()),
    ];
    let tokens = prop::collection::vec(token, 0..60).prop_map(|t| t.concat());
    prop_oneof![4 => tokens, 1 => prop::collection::vec(any::<u8>(), 0..200)]
}

/// Split points (as fractions of the length) to cut a stream into chunks.
fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..1000, 0..8)
}

fn chunked<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c * input.len() / 1000).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for p in points {
        chunks.push(&input[start..p]);
        start = p;
    }
    chunks.push(&input[start..]);
    chunks
}

#[derive(Debug, Clone)]
struct Block {
    comment: Option<String>,
    event_type: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    data: Option<String>,
}

fn block() -> impl Strategy<Value = Block> {
    let text = "(?s).{0,12}|[ \r\n:a]{0,6}";
    (
        prop::option::of(text),
        prop::option::of("[^\r\n]{0,8}"),
        prop::option::of("[^\r\n\0]{0,8}"),
        prop::option::of(any::<u64>()),
        prop::option::of(text),
    )
        .prop_map(|(comment, event_type, id, retry, data)| Block {
            comment,
            event_type,
            id,
            retry,
            data,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Encoding blocks then parsing them (in arbitrary chunks) gives back exactly what was
    /// encoded: comments line by line, retry values, and events with the same type
    /// ("message" for none or ""), data (line breaks normalised to LF) and id (persisting).
    #[test]
    fn encode_then_parse_is_identity(blocks in prop::collection::vec(block(), 0..8), cuts in cuts()) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        let mut last_id = String::new();
        for b in &blocks {
            let mut builder = EventBuilder::new();
            if let Some(c) = &b.comment {
                builder = builder.comment(c);
                expected.extend(lines(c).into_iter().map(Item::Comment));
            }
            if let Some(t) = &b.event_type {
                builder = builder.event(t);
            }
            if let Some(id) = &b.id {
                builder = builder.id(id);
                last_id.clone_from(id);
            }
            if let Some(r) = b.retry {
                builder = builder.retry(r);
                expected.push(Item::Retry(r));
            }
            if let Some(d) = &b.data {
                builder = builder.data(d);
                let t = b.event_type.as_deref().filter(|t| !t.is_empty()).unwrap_or("message");
                expected.push(ev(t, &lines(d).join("\n"), &last_id));
            }
            builder.encode_into(&mut stream).unwrap();
            // The String flavour writes the same bytes.
            let mut s = String::new();
            builder.encode_into_string(&mut s).unwrap();
            prop_assert!(stream.ends_with(s.as_bytes()));
        }
        let (items, errors) = parse_chunks(chunked(&stream, &cuts), usize::MAX);
        prop_assert_eq!(errors, 0);
        prop_assert_eq!(items, expected);
    }

    /// Any chunking of any byte stream gives the same items (and size errors or not) as
    /// parsing it in one piece. (`feed` reports at most one error per chunk, so only
    /// whether there were errors is compared.)
    #[test]
    fn chunking_invariance(input in stream(), cuts in cuts(), limit in prop_oneof![Just(usize::MAX), 0usize..40]) {
        let (items, errors) = parse_chunks([&input[..]], limit);
        let (split_items, split_errors) = parse_chunks(chunked(&input, &cuts), limit);
        prop_assert_eq!(&split_items, &items);
        prop_assert_eq!(split_errors > 0, errors > 0);
        let (byte_items, byte_errors) = parse_chunks(input.chunks(1), limit);
        prop_assert_eq!(&byte_items, &items);
        prop_assert_eq!(byte_errors > 0, errors > 0);
    }

    /// Handing spent buffers back through `feed_recycling` changes nothing: the same items
    /// and errors as `feed`, whatever the buffers hold, and the same memory bound.
    #[test]
    fn recycling_changes_nothing(input in stream(), cuts in cuts(), limit in prop_oneof![Just(usize::MAX), 0usize..40]) {
        let (items, errors) = parse_chunks(chunked(&input, &cuts), limit);
        let mut parser = Parser::with_max_event_size(limit);
        let mut recycled = Vec::new();
        let mut recycled_errors = 0;
        for chunk in chunked(&input, &cuts) {
            let fed = parser.feed_recycling(chunk, |item| {
                let spent = match &item {
                    // The whole buffer (type and id too), left dirty for the parser to clear.
                    Item::Event(event) => {
                        let mut buf = event.clone().into_data();
                        buf.push_str(event.event_type());
                        buf.push_str(event.id());
                        buf
                    }
                    Item::Comment(text) => text.clone(),
                    Item::Retry(_) => String::with_capacity(16),
                };
                recycled.push(item);
                Some(spent)
            });
            recycled_errors += usize::from(fed.is_err());
            prop_assert!(parser.buffered_len() <= limit);
        }
        parser.finish();
        prop_assert_eq!(recycled, items);
        prop_assert_eq!(recycled_errors, errors);
    }

    /// The parser agrees with a literal transcription of the standard (decode everything,
    /// then split lines and interpret) on arbitrary bytes.
    #[test]
    fn agrees_with_reference(input in stream()) {
        prop_assert_eq!(parse_chunks([&input[..]], usize::MAX).0, reference(&input));
    }
}
