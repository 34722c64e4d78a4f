//! Criterion benchmarks of the parser: `cargo bench -p wasm-sse-codec`.
//!
//! The streams are those of the peer benchmark (`crates/codec-bench`): 200k small JSON
//! events and 2k events of ~64 kibibytes over 64 `data:` lines, fed in 64 kibibytes chunks, plus a
//! 16 MiB data line fed in 1 kibibyte chunks (the linear-time check). Each iteration parses the
//! whole stream into owned events and counts them.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use wasm_sse_codec::{Item, Parser};

fn small() -> Vec<u8> {
    let mut stream = String::new();
    for n in 0..200_000u64 {
        stream.push_str(&format!(
            "id: {n}\nevent: tick\ndata: {{\"n\":{n},\"ts\":{},\"kind\":\"tick\",\"ok\":true}}\n\n",
            1_700_000_000_000u64 + n * 37
        ));
    }
    stream.into_bytes()
}

fn large() -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut stream = Vec::new();
    for n in 0..2_000usize {
        for line in 0..64usize {
            stream.extend_from_slice(b"data: ");
            let len = if line == 63 { 1016 } else { 1017 };
            stream.extend((0..len).map(|i| alphabet[((n % 16) * 7 + line * 13 + i) % 64]));
            stream.push(b'\n');
        }
        stream.push(b'\n');
    }
    stream
}

fn long_line() -> Vec<u8> {
    let mut line = b"data: ".to_vec();
    line.resize(16 << 20, b'x');
    line.extend_from_slice(b"\n\n");
    line
}

/// Parses `stream` in `chunk`-byte chunks, returning the number of events.
fn parse(stream: &[u8], chunk: usize) -> usize {
    let mut parser = Parser::with_max_event_size(usize::MAX);
    let mut events = 0;
    for piece in stream.chunks(chunk) {
        parser
            .feed(piece, |item| {
                if let Item::Event(event) = item {
                    events += 1;
                    black_box(event.data());
                }
            })
            .unwrap();
    }
    parser.finish();
    events
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    for (name, stream, chunk, events) in [
        ("small, 64 KiB chunks", small(), 64 << 10, 200_000),
        ("large, 64 KiB chunks", large(), 64 << 10, 2_000),
        ("16 MiB line, 1 KiB chunks", long_line(), 1 << 10, 1),
    ] {
        assert_eq!(parse(&stream, chunk), events);
        group.throughput(Throughput::Bytes(stream.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse(black_box(&stream), chunk)));
    }
    group.finish();
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
