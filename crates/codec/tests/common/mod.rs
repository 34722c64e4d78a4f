//! Helpers shared by the integration tests: chunked feeding and a naive reference parser.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::collapsible_match
)]

use wasm_sse_codec::{Event, Item, ParseError, Parser};

/// Parses `chunks` as one stream (then `finish`), returning the items and the error count.
pub fn parse_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    max: usize,
) -> (Vec<Item>, usize) {
    let mut parser = Parser::with_max_event_size(max);
    let mut items = Vec::new();
    let mut errors = 0;
    for chunk in chunks {
        match parser.feed(chunk, |item| items.push(item)) {
            Ok(()) => {}
            Err(ParseError::EventTooLarge { limit }) => {
                assert_eq!(limit, max);
                errors += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
        assert!(parser.buffered_len() <= max, "memory bound");
    }
    parser.finish();
    (items, errors)
}

/// Parses `input` in one chunk.
pub fn parse(input: &[u8]) -> Vec<Item> {
    parse_chunks([input], usize::MAX).0
}

/// An event item.
pub fn ev(event_type: &str, data: &str, id: &str) -> Item {
    Item::Event(Event::new(event_type, data, id))
}

/// Checks that `input` parses to `expected` however it is chunked: in one piece, split at
/// every byte position, one byte at a time, with empty chunks in between, and (for short
/// inputs) split at every pair of positions.
pub fn check(input: &[u8], expected: &[Item]) {
    check_with_limit(input, usize::MAX, expected, 0);
}

/// As [`check`], with a maximum event size and the expected number of errors.
pub fn check_with_limit(input: &[u8], max: usize, expected: &[Item], errors: usize) {
    let show = String::from_utf8_lossy(input);
    let whole = parse_chunks([input], max);
    assert_eq!(whole, (expected.to_vec(), errors), "one chunk: {show:?}");
    let bytes = parse_chunks(input.chunks(1), max);
    assert_eq!(bytes, whole, "one byte at a time: {show:?}");
    let with_empty: Vec<&[u8]> = input.chunks(1).flat_map(|c| [c, &[][..]]).collect();
    assert_eq!(
        parse_chunks(with_empty, max),
        whole,
        "with empty chunks: {show:?}"
    );
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        assert_eq!(parse_chunks([a, b], max), whole, "split at {i}: {show:?}");
    }
    if input.len() <= 48 {
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let chunks = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(
                    parse_chunks(chunks, max),
                    whole,
                    "split at {i}, {j}: {show:?}"
                );
            }
        }
    }
    // The reference implementation agrees (it has no size limit).
    if max == usize::MAX {
        assert_eq!(reference(input), whole.0, "reference: {show:?}");
    }
}

/// A deliberately naive, literal transcription of the WHATWG algorithm: decode the whole
/// stream (U+FFFD replacement), strip one leading BOM, split lines, interpret.
pub fn reference(input: &[u8]) -> Vec<Item> {
    let text = String::from_utf8_lossy(input);
    let mut text: &str = &text;
    if let Some(rest) = text.strip_prefix('\u{FEFF}') {
        text = rest;
    }
    let mut items = Vec::new();
    let (mut data, mut event_type, mut id) = (String::new(), String::new(), String::new());
    let chars: Vec<char> = text.chars().collect();
    let mut line = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\r' && c != '\n' {
            line.push(c);
            continue;
        }
        if c == '\r' && chars.get(i) == Some(&'\n') {
            i += 1;
        }
        let l = std::mem::take(&mut line);
        if l.is_empty() {
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            let t = if event_type.is_empty() {
                "message"
            } else {
                &event_type
            };
            items.push(ev(t, &data, &id));
            data.clear();
            event_type.clear();
        } else if let Some(comment) = l.strip_prefix(':') {
            items.push(Item::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_owned(),
            ));
        } else {
            let (name, value) = match l.find(':') {
                Some(p) => (&l[..p], &l[p + 1..]),
                None => (&l[..], ""),
            };
            let value = value.strip_prefix(' ').unwrap_or(value);
            match name {
                "event" => event_type = value.to_owned(),
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "id" => {
                    if !value.contains('\0') {
                        id = value.to_owned();
                    }
                }
                "retry" => {
                    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
                        let n = value
                            .parse::<u128>()
                            .map_or(u64::MAX, |n| u64::try_from(n).unwrap_or(u64::MAX));
                        items.push(Item::Retry(n));
                    }
                }
                _ => {}
            }
        }
    }
    items
}

/// Splits text into lines as the encoder does (on CRLF, LF and CR): the lines an
/// `EventBuilder` writes for multi-line data or comments.
pub fn lines(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(str::to_owned)
        .collect()
}
