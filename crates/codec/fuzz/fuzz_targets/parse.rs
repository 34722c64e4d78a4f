//! Parses arbitrary bytes: no panic, memory bounded by the limit, and the same items
//! however the input is chunked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_sse_codec::{Item, Parser};

fuzz_target!(|input: &[u8]| {
    // The first bytes choose the limit and the chunk size; the rest is the stream.
    let Some((&[limit, chunk], stream)) = input.split_first_chunk::<2>() else {
        return;
    };
    let limit = usize::from(limit) * 4;
    let chunk = usize::from(chunk).max(1);

    let parse = |chunk: usize| {
        let mut parser = Parser::with_max_event_size(limit);
        let mut items: Vec<Item> = Vec::new();
        let mut errors = false;
        for piece in stream.chunks(chunk) {
            errors |= parser.feed(piece, |item| items.push(item)).is_err();
            assert!(parser.buffered_len() <= limit, "memory bound");
        }
        parser.finish();
        (items, errors)
    };
    let whole = parse(stream.len().max(1));
    assert_eq!(parse(chunk), whole, "chunking changed the result");
});
