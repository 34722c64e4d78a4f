//! One named test per rule of the WHATWG "Parsing an event stream" and "Interpreting an
//! event stream" algorithms. Every case is checked in one chunk, split at every byte
//! position (and at every pair of positions for short inputs), one byte at a time, and
//! against a naive reference implementation (see `common::check`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{check, check_with_limit, ev, parse_chunks};
use wasm_sse_codec::{Item, ParseError, Parser};

/// `name: input => [items]`, each preceded by a comment naming the rule it checks.
macro_rules! cases {
    ($($(#[$doc:meta])* $name:ident: $input:expr => [$($item:expr),* $(,)?];)*) => {
        $(
            $(#[$doc])*
            #[test]
            fn $name() {
                check($input, &[$($item),*]);
            }
        )*
    };
}

fn retry(n: u64) -> Item {
    Item::Retry(n)
}

fn comment(s: &str) -> Item {
    Item::Comment(s.to_owned())
}

const R: &str = "\u{FFFD}";

cases! {
    // ---- UTF-8 decoding with U+FFFD replacement -------------------------------------
    /// Valid multi-byte UTF-8 (2, 3 and 4 bytes) survives, whatever the chunking.
    utf8_multibyte_split_across_chunks: "data: h\u{e9}llo \u{20ac} \u{1d11e} \u{1F600}\n\n".as_bytes()
        => [ev("message", "h\u{e9}llo \u{20ac} \u{1d11e} \u{1F600}", "")];
    /// An invalid byte becomes one U+FFFD.
    utf8_invalid_byte_replaced: b"data: a\xFFb\n\n" => [ev("message", "a\u{FFFD}b", "")];
    /// A truncated sequence (maximal subpart) becomes one U+FFFD, the next byte is kept.
    utf8_truncated_sequence_one_replacement: b"data: \xE2\x82x\n\n" => [ev("message", "\u{FFFD}x", "")];
    /// Surrogates and overlong forms: one U+FFFD per byte, as the Encoding Standard says.
    utf8_surrogate_and_overlong: b"data: \xED\xA0\x80|\xC0\x80|\xF5\n\n"
        => [ev("message", &format!("{R}{R}{R}|{R}{R}|{R}"), "")];
    /// A sequence cut by a line end is not completed by the next line.
    utf8_sequence_cut_by_line_end: b"data: \xE2\x82\ndata: \xAC\n\n"
        => [ev("message", &format!("{R}\n{R}"), "")];
    /// Data and event type are decoded separately even when their bytes would join up.
    utf8_parts_decoded_separately: b"event: \xAC\ndata: \xE2\x82\n\n" => [ev(R, R, "")];
    /// A field name with an invalid byte decodes to a name with U+FFFD: unknown, ignored.
    utf8_invalid_field_name_ignored: b"d\xFFata: x\n\ndata: y\n\n" => [ev("message", "y", "")];
    /// Invalid bytes in the event type, id and comment are replaced too.
    utf8_invalid_in_type_id_comment: b":\xFF\nevent: \xFE\nid: \xC3\ndata: x\n\n"
        => [comment(R), ev(R, "x", R)];
    /// Valid lines before and after invalid ones (several per chunk) decode exactly.
    utf8_invalid_between_valid_lines: b"data: \xC3\xA9\ndata: a\xFFb\nid: \xE2\x82\xAC\n\ndata: \xFE\n\ndata: ok \xE2\x82\xAC\n\n"
        => [ev("message", "\u{e9}\na\u{FFFD}b", "\u{20ac}"), ev("message", R, "\u{20ac}"), ev("message", "ok \u{20ac}", "\u{20ac}")];
    /// A truncated sequence at the very end of the stream is in an unterminated line: dropped.
    utf8_truncated_at_end_of_stream: b"data: x\n\ndata: \xE2\x82" => [ev("message", "x", "")];

    // ---- BOM ----------------------------------------------------------------------------
    /// One leading BOM is stripped (also when split across chunks).
    bom_stripped_at_start: "\u{FEFF}data: x\n\n".as_bytes() => [ev("message", "x", "")];
    /// Only one: a second BOM is part of the first field name, which is then unknown.
    bom_stripped_only_once: "\u{FEFF}\u{FEFF}data: x\n\ndata: y\n\n".as_bytes() => [ev("message", "y", "")];
    /// A BOM after the start of the stream is content.
    bom_not_at_start_is_content: "data: x\n\n\u{FEFF}data: y\n\ndata: \u{FEFF}z\n\n".as_bytes()
        => [ev("message", "x", ""), ev("message", "\u{FEFF}z", "")];
    /// A partial BOM at the start is content (decoding to U+FFFD).
    bom_partial_prefix_is_content: b"\xEF\xBBdata: x\n\ndata: y\n\n" => [ev("message", "y", "")];
    /// A partial BOM followed by a line end is a non-empty line, not a blank line.
    bom_partial_then_line_end: b"\xEF\nx\n\ndata: y\n\n" => [ev("message", "y", "")];
    /// A BOM followed by a blank line and events.
    bom_then_blank_line: "\u{FEFF}\r\ndata: x\r\n\r\n".as_bytes() => [ev("message", "x", "")];
    /// A stream that is only a BOM yields nothing.
    bom_only: "\u{FEFF}".as_bytes() => [];

    // ---- Line terminators ---------------------------------------------------------------
    /// LF ends lines.
    line_end_lf: b"data: a\ndata: b\n\n" => [ev("message", "a\nb", "")];
    /// CRLF ends lines (also when CR and LF are in different chunks).
    line_end_crlf: b"data: a\r\ndata: b\r\n\r\n" => [ev("message", "a\nb", "")];
    /// A lone CR ends lines.
    line_end_cr: b"data: a\rdata: b\r\r" => [ev("message", "a\nb", "")];
    /// Mixed terminators.
    line_end_mixed: b"data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\r" => [ev("message", "a\nb\nc", ""), ev("message", "d", "")];
    /// LF CR is two terminators: the CR is a blank line.
    line_end_lf_cr_is_two: b"data: a\n\rdata: b\n\n" => [ev("message", "a", ""), ev("message", "b", "")];
    /// CR CR LF is a line end then a blank line (CRLF).
    line_end_cr_crlf: b"data: a\r\r\ndata: b\n\n" => [ev("message", "a", ""), ev("message", "b", "")];
    /// A CR at the very end of the stream still ends the line (a blank line dispatches).
    line_end_cr_at_end_of_stream: b"data: a\n\r" => [ev("message", "a", "")];

    // ---- Comments and field parsing -----------------------------------------------------
    /// A line starting with a colon is a comment (one leading space removed).
    comment_line: b": ping\n:pong\n:  two\n:\n" => [comment("ping"), comment("pong"), comment(" two"), comment("")];
    /// A comment inside an event does not end it.
    comment_inside_event: b"data: a\n: c\ndata: b\n\n" => [comment("c"), ev("message", "a\nb", "")];
    /// A line without a colon is a field name with an empty value.
    field_without_colon_has_empty_value: b"data\n\n" => [ev("message", "", "")];
    /// Exactly one space after the colon is removed, no more, and not tabs.
    field_one_leading_space_removed: b"data:x\ndata: x\ndata:  x\ndata:\tx\n\n" => [ev("message", "x\nx\n x\n\tx", "")];
    /// Only the first colon separates name and value.
    field_value_may_contain_colons: b"data: a: b:c\n\n" => [ev("message", "a: b:c", "")];
    /// Unknown fields are ignored, and field names are case-sensitive and exact.
    field_unknown_ignored: b"foo: bar\nData: x\ndata : y\n data: z\nevent\x00: t\ndata: ok\n\n" => [ev("message", "ok", "")];

    // ---- data ---------------------------------------------------------------------------
    /// Each `data` value is appended with an LF; dispatch removes the last LF.
    data_lines_joined_with_lf: b"data: a\ndata: b\ndata: c\n\n" => [ev("message", "a\nb\nc", "")];
    /// An empty `data` field dispatches an event with empty data.
    data_empty_value_dispatches: b"data:\n\n" => [ev("message", "", "")];
    /// Only the last LF is removed.
    data_only_last_lf_removed: b"data\ndata\n\ndata: a\ndata:\n\n" => [ev("message", "\n", ""), ev("message", "a\n", "")];
    /// An empty data buffer means no dispatch, but the event type buffer is reset.
    data_empty_buffer_no_dispatch_resets_type: b"event: foo\n\ndata: x\n\n" => [ev("message", "x", "")];
    /// Blank lines alone dispatch nothing.
    data_blank_lines_only: b"\n\n\r\n\r\r" => [];
    /// The data buffer is reset after dispatch.
    data_buffer_reset_after_dispatch: b"data: a\n\ndata: b\n\n" => [ev("message", "a", ""), ev("message", "b", "")];
    /// NUL and other control characters in data are kept.
    data_keeps_nul_and_controls: b"data: a\x00b\x01\x7f\n\n" => [ev("message", "a\0b\u{1}\u{7f}", "")];

    // ---- event --------------------------------------------------------------------------
    /// `event` sets the type.
    event_sets_type: b"event: tick\ndata: x\n\n" => [ev("tick", "x", "")];
    /// An empty type means "message".
    event_empty_type_is_message: b"event:\ndata: x\n\nevent\ndata: y\n\n" => [ev("message", "x", ""), ev("message", "y", "")];
    /// The last `event` field wins, wherever it is in the block.
    event_last_wins: b"event: a\ndata: x\nevent: b\n\n" => [ev("b", "x", "")];
    /// The type is reset after dispatch.
    event_type_reset_after_dispatch: b"event: a\ndata: x\n\ndata: y\n\n" => [ev("a", "x", ""), ev("message", "y", "")];

    // ---- id -----------------------------------------------------------------------------
    /// `id` sets the last-event-ID buffer, reported with the event.
    id_sets_last_event_id: b"id: 1\ndata: x\n\n" => [ev("message", "x", "1")];
    /// The last event ID persists across events, also events without `id`.
    id_persists_across_events: b"id: 1\ndata: x\n\ndata: y\n\nid: 2\ndata: z\n\n"
        => [ev("message", "x", "1"), ev("message", "y", "1"), ev("message", "z", "2")];
    /// An empty `id` resets the last event ID.
    id_empty_resets: b"id: 1\ndata: x\n\nid\ndata: y\n\n" => [ev("message", "x", "1"), ev("message", "y", "")];
    /// An `id` containing NULL is ignored entirely.
    id_with_nul_ignored: b"id: 1\ndata: x\n\nid: 2\x003\ndata: y\n\nid: \x00\ndata: z\n\n"
        => [ev("message", "x", "1"), ev("message", "y", "1"), ev("message", "z", "1")];
    /// An `id` after the data of the block applies to that event.
    id_after_data_applies: b"data: x\nid: 5\n\n" => [ev("message", "x", "5")];
    /// An `id` in a block without data still sets the buffer for later events.
    id_without_data_persists: b"id: 9\n\ndata: x\n\n" => [ev("message", "x", "9")];
    /// Leading spaces beyond the first are kept.
    id_keeps_extra_spaces: b"id:  7 \ndata: x\n\n" => [ev("message", "x", " 7 ")];

    // ---- retry --------------------------------------------------------------------------
    /// A run of ASCII digits sets the reconnection time, at once (no blank line needed).
    retry_digits: b"retry: 1000\n" => [retry(1000)];
    /// No 32-bit truncation.
    retry_no_32_bit_truncation: b"retry: 4294967296123\n" => [retry(4_294_967_296_123)];
    /// Leading zeros are fine.
    retry_leading_zeros: b"retry: 007\n" => [retry(7)];
    /// Values beyond u64 saturate.
    retry_saturates_beyond_u64: b"retry: 123456789012345678901234567890\n" => [retry(u64::MAX)];
    /// An empty value is ignored.
    retry_empty_ignored: b"retry:\nretry\nretry: \n" => [];
    /// Any non-digit makes the value invalid.
    retry_non_digit_ignored: "retry: 10a\nretry: -1\nretry: 1.5\nretry:  10\nretry: +5\nretry: 1 \nretry: \u{661}\n".as_bytes() => [];
    /// A retry in the middle of an event is reported before it.
    retry_inside_event: b"data: x\nretry: 5\n\n" => [retry(5), ev("message", "x", "")];

    // ---- End of stream ------------------------------------------------------------------
    /// An incomplete event at end of stream is not dispatched.
    end_incomplete_event_dropped: b"data: x\n\ndata: y\n" => [ev("message", "x", "")];
    /// Nor is an unterminated last line processed.
    end_unterminated_line_dropped: b"data: x\n\ndata: y\n\nretry: 5" => [ev("message", "x", ""), ev("message", "y", "")];
    /// A block ended by a CR at the very end dispatches.
    end_cr_terminated_block: b"data: x\r\r" => [ev("message", "x", "")];
}

/// The small-event format used by the benchmark (`id`, `event`, JSON `data`).
#[test]
fn benchmark_stream_shape() {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for n in 0..20 {
        let data = format!("{{\"n\":{n},\"v\":\"x\"}}");
        stream.extend_from_slice(format!("id: {n}\nevent: tick\ndata: {data}\n\n").as_bytes());
        expected.push(ev("tick", &data, &n.to_string()));
    }
    check(&stream, &expected);
    let crlf: Vec<u8> = String::from_utf8(stream)
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    check(&crlf, &expected);
}

// ---- Maximum event size ---------------------------------------------------------------

/// An event beyond the limit is a typed error; it is dropped up to its blank line and the
/// following events parse normally (whatever the chunking).
#[test]
fn max_size_exceeded_is_error_and_event_dropped() {
    let input = b"data: ok\n\ndata: 0123456789\ndata: 0123456789\nid: 3\n\ndata: next\n\n";
    // The oversized event's `id` line came after the limit was hit: ignored.
    check_with_limit(
        input,
        20,
        &[ev("message", "ok", ""), ev("message", "next", "")],
        1,
    );
}

/// Lines before the limit was hit still count (the `id` was set before).
#[test]
fn max_size_id_before_overflow_kept() {
    let input = b"id: 3\ndata: 0123456789\ndata: 0123456789\n\ndata: next\n\n";
    check_with_limit(input, 20, &[ev("message", "next", "3")], 1);
}

/// A single long line (a comment too) beyond the limit is an error.
#[test]
fn max_size_long_line() {
    let input = b": 0123456789012345678901234567890123456789\ndata: a\n\ndata: b\n\n";
    check_with_limit(input, 20, &[ev("message", "b", "")], 1);
}

/// Exactly at the limit is fine: data buffer (values plus one byte each) plus event type
/// plus the line being read.
#[test]
fn max_size_exactly_at_limit() {
    // "data: 123456789" (15) + data buffer "" + type "" = 15 <= 15.
    check_with_limit(
        b"data: 123456789\n\n",
        15,
        &[ev("message", "123456789", "")],
        0,
    );
    check_with_limit(b"data: 1234567890\n\n", 15, &[], 1);
}

/// Each oversized event is one error; memory stays bounded while discarding a huge line,
/// and the parser can be reset and reused.
#[test]
fn max_size_bounded_memory_reset_and_reuse() {
    let mut parser = Parser::with_max_event_size(1024);
    let mut items = Vec::new();
    let mut errors = 0;
    parser.feed(b"data: ", |i| items.push(i)).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        // 4 MiB of a single line, in 64 kibibytes chunks.
        if let Err(e) = parser.feed(&chunk, |i| items.push(i)) {
            assert_eq!(e, ParseError::EventTooLarge { limit: 1024 });
            assert_eq!(
                e.to_string(),
                "event exceeds the maximum event size of 1024 bytes"
            );
            errors += 1;
        }
    }
    assert_eq!(errors, 1);
    assert!(items.is_empty());
    parser
        .feed(b"\n\ndata: after\n\n", |i| items.push(i))
        .unwrap();
    assert_eq!(items, [ev("message", "after", "")]);

    items.clear();
    assert!(parser.feed(&chunk, |i| items.push(i)).is_err());
    parser.reset();
    parser.feed(b"data: fresh\n\n", |i| items.push(i)).unwrap();
    assert_eq!(items, [ev("message", "fresh", "")]);
    assert_eq!(parser.max_event_size(), 1024);
}

/// The default limit is 1 MiB.
#[test]
fn max_size_default_is_one_mib() {
    assert_eq!(Parser::new().max_event_size(), 1 << 20);
    let big = format!("data: {}\n\n", "x".repeat(1 << 20));
    let (items, errors) = parse_chunks([big.as_bytes()], 1 << 20);
    assert_eq!((items.len(), errors), (0, 1));
}

// ---- Parser state ---------------------------------------------------------------------

/// `last_event_id` is the buffer as of the last blank line; a pending `id` does not count.
#[test]
fn last_event_id_committed_at_blank_line() {
    let mut parser = Parser::new();
    let mut items = Vec::new();
    parser.feed(b"id: 1\n", |i| items.push(i)).unwrap();
    assert_eq!(parser.last_event_id(), "");
    parser.feed(b"\n", |i| items.push(i)).unwrap();
    assert_eq!(parser.last_event_id(), "1");
    assert!(items.is_empty());
    parser.feed(b"id: 2\ndata: x\n", |i| items.push(i)).unwrap();
    parser.finish(); // The incomplete event (and its id) is dropped.
    assert_eq!(parser.last_event_id(), "1");
    assert!(items.is_empty());
}

/// After `finish`, a new stream starts: BOM stripped again, buffers empty, last event ID
/// carried over (as browsers do on reconnection).
#[test]
fn finish_starts_new_stream_keeping_last_event_id() {
    let mut parser = Parser::new();
    let mut items = Vec::new();
    parser
        .feed(
            "\u{FEFF}id: 4\ndata: a\n\nevent: t\ndata: partial\r".as_bytes(),
            |i| items.push(i),
        )
        .unwrap();
    parser.finish();
    parser
        .feed("\u{FEFF}\ndata: b\n\n".as_bytes(), |i| items.push(i))
        .unwrap();
    assert_eq!(items, [ev("message", "a", "4"), ev("message", "b", "4")]);
    parser.reset();
    items.clear();
    parser.feed(b"data: c\n\n", |i| items.push(i)).unwrap();
    assert_eq!(items, [ev("message", "c", "")]);
    assert_eq!(parser.last_event_id(), "");
}

/// Accessors and `into_data` of a parsed event.
#[test]
fn event_accessors() {
    let items = common::parse(b"event: e\nid: i\ndata: d\n\n");
    let Item::Event(event) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(
        (event.event_type(), event.data(), event.id()),
        ("e", "d", "i")
    );
    assert_eq!(
        format!("{event:?}"),
        r#"Event { event_type: "e", data: "d", id: "i" }"#
    );
    assert_eq!(event.clone().into_data(), "d");
}
