//! Peer benchmark for wasm-sse-codec (native side).
//!
//! `codec-bench gen DIR` writes the deterministic benchmark streams into `DIR`;
//! `codec-bench run DIR` measures this parser and the Rust peers on them (64 kibibytes chunks,
//! owned event data, events counted) and prints one JSON object per measurement;
//! `codec-bench long-line` measures a 16 MiB line fed in 1 kibibyte chunks (linear-time check).
//! `run.sh` next to this file drives everything and prints the combined table.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::executor::block_on;
use futures::stream::{self, StreamExt};

/// Chunk size used for every parser.
const CHUNK: usize = 64 * 1024;

/// The benchmark streams: (file name, bytes).
fn streams() -> Vec<(&'static str, Vec<u8>)> {
    let mut small = String::new();
    for n in 0..200_000u64 {
        small.push_str(&format!(
            "id: {n}\nevent: tick\ndata: {{\"n\":{n},\"ts\":{},\"kind\":\"tick\",\"ok\":true}}\n\n",
            1_700_000_000_000u64 + n * 37
        ));
    }
    let crlf = small.replace('\n', "\r\n");
    // 2k events of ~64 kibibytes data over 64 `data:` lines; each event is exactly 64 kibibytes on the
    // wire (63 lines of 1024 bytes, one of 1023, the blank line), so that with 64 kibibytes chunks
    // the 16 distinct event contents make 16 distinct chunks (see `chunk`).
    let mut large = String::new();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for n in 0..2_000usize {
        for line in 0..64usize {
            large.push_str("data: ");
            let len = if line == 63 { 1016 } else { 1017 };
            large.extend(
                (0..len).map(|i| char::from(alphabet[((n % 16) * 7 + line * 13 + i) % 64])),
            );
            large.push('\n');
        }
        large.push('\n');
    }
    debug_assert_eq!(large.len(), 2_000 * 65_536);
    vec![
        ("small", small.into_bytes()),
        ("crlf", crlf.into_bytes()),
        ("large", large.into_bytes()),
    ]
}

/// Events and data bytes seen by one run (also keeps the work from being optimised away).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    events: u64,
    data_bytes: u64,
}

fn ours(chunks: &[Bytes]) -> Tally {
    let mut parser = wasm_sse_codec::Parser::with_max_event_size(usize::MAX);
    let mut tally = Tally {
        events: 0,
        data_bytes: 0,
    };
    for chunk in chunks {
        let _ = parser.feed(chunk, |item| {
            if let wasm_sse_codec::Item::Event(event) = item {
                tally.events += 1;
                tally.data_bytes += event.data().len() as u64;
            }
        });
    }
    parser.finish();
    tally
}

fn sse_stream(chunks: &[Bytes]) -> Tally {
    let input = stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
    let mut events = sse_stream::SseByteStream::new(input);
    let mut tally = Tally {
        events: 0,
        data_bytes: 0,
    };
    block_on(async {
        while let Some(Ok(sse)) = events.next().await {
            if let Some(data) = sse.data {
                tally.events += 1;
                tally.data_bytes += data.len() as u64;
            }
        }
    });
    tally
}

/// An `AsyncRead` handing out at most one chunk per read.
struct ChunkReader<'a> {
    chunks: std::slice::Iter<'a, Bytes>,
    current: &'a [u8],
}

impl futures::io::AsyncRead for ChunkReader<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.current.is_empty() {
            self.current = self.chunks.next().map_or(&[][..], |c| &c[..]);
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = &self.current[n..];
        Poll::Ready(Ok(n))
    }
}

fn sse_codec(chunks: &[Bytes]) -> Tally {
    let reader = ChunkReader {
        chunks: chunks.iter(),
        current: &[],
    };
    let mut events = sse_codec::decode_stream(reader);
    let mut tally = Tally {
        events: 0,
        data_bytes: 0,
    };
    block_on(async {
        while let Some(Ok(event)) = events.next().await {
            if let sse_codec::Event::Message { data, .. } = event {
                tally.events += 1;
                tally.data_bytes += data.len() as u64;
            }
        }
    });
    tally
}

fn eventsource_stream(chunks: &[Bytes]) -> Tally {
    use eventsource_stream::Eventsource;
    let input = stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
    let mut events = input.eventsource();
    let mut tally = Tally {
        events: 0,
        data_bytes: 0,
    };
    block_on(async {
        while let Some(Ok(event)) = events.next().await {
            tally.events += 1;
            tally.data_bytes += event.data.len() as u64;
        }
    });
    tally
}

/// Best time of several runs (at least 3, until about `budget` has passed, at most 20).
fn measure(run: impl Fn() -> Tally, budget: Duration) -> (Duration, Tally) {
    let started = Instant::now();
    let mut best = Duration::MAX;
    let mut tally = None;
    for i in 0..20 {
        let t = Instant::now();
        let result = run();
        best = best.min(t.elapsed());
        assert!(tally.is_none_or(|prev| prev == result), "runs disagree");
        tally = Some(result);
        if i >= 2 && started.elapsed() > budget {
            break;
        }
    }
    (
        best,
        tally.unwrap_or(Tally {
            events: 0,
            data_bytes: 0,
        }),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["gen", dir] => {
            for (name, bytes) in streams() {
                let path = Path::new(dir).join(format!("{name}.sse"));
                if let Err(e) = std::fs::write(&path, bytes) {
                    eprintln!("codec-bench: cannot write {}: {e}", path.display());
                    std::process::exit(1);
                }
            }
        }
        ["run", dir, ref only @ ..] => run(Path::new(dir), only),
        ["long-line"] => long_line(),
        // For profilers: parse FILE N times with this parser (or the named peer).
        ["profile", file, n, ref parser @ ..] => {
            let runner: Runner = match parser {
                [] | ["ours"] => ours,
                ["sse-stream"] => sse_stream,
                ["sse-codec"] => sse_codec,
                ["eventsource-stream"] => eventsource_stream,
                _ => {
                    eprintln!("codec-bench: unknown parser {parser:?}");
                    std::process::exit(2);
                }
            };
            let bytes = Bytes::from(std::fs::read(file).unwrap_or_default());
            let chunks = chunk(&bytes, true);
            for _ in 0..n.parse().unwrap_or(1) {
                println!("{:?}", runner(&chunks));
            }
        }
        _ => {
            eprintln!(
                "usage: codec-bench gen DIR | run DIR [STREAM...] | long-line | profile FILE N"
            );
            std::process::exit(2);
        }
    }
}

type Runner = fn(&[Bytes]) -> Tally;

/// Splits `bytes` into 64 kibibytes chunks. With `share`, identical chunks share one buffer, as
/// when a socket read loop refills the same buffers: the input then stays in cache and the
/// parsers' own costs are measured, not the memory bandwidth of streaming a 128 MiB buffer
/// (the `-cold` rows measure that).
fn chunk(bytes: &Bytes, share: bool) -> Vec<Bytes> {
    let mut seen: std::collections::HashMap<&[u8], Bytes> = std::collections::HashMap::new();
    bytes
        .chunks(CHUNK)
        .enumerate()
        .map(|(i, c)| {
            let own = || bytes.slice(i * CHUNK..i * CHUNK + c.len());
            if share {
                seen.entry(c).or_insert_with(own).clone()
            } else {
                own()
            }
        })
        .collect()
}

/// Runs every stream, or only the streams named in `only`.
fn run(dir: &Path, only: &[&str]) {
    let parsers: [(&str, Runner); 4] = [
        ("wasm-sse-codec (native)", ours),
        ("sse-stream", sse_stream),
        ("sse-codec", sse_codec),
        ("eventsource-stream", eventsource_stream),
    ];
    for name in ["small", "crlf", "large", "large-cold"] {
        if !only.is_empty() && !only.contains(&name) {
            continue;
        }
        let file = name.trim_end_matches("-cold");
        let bytes = match std::fs::read(dir.join(format!("{file}.sse"))) {
            Ok(bytes) => Bytes::from(bytes),
            Err(e) => {
                eprintln!("codec-bench: {e}");
                std::process::exit(1);
            }
        };
        let chunks = chunk(&bytes, !name.ends_with("-cold"));
        for (parser, runner) in parsers {
            let (time, tally) = measure(|| runner(&chunks), Duration::from_secs(2));
            let secs = time.as_secs_f64();
            println!(
                "{{\"parser\":\"{parser}\",\"stream\":\"{name}\",\"events\":{},\"bytes\":{},\"seconds\":{secs}}}",
                tally.events,
                bytes.len()
            );
        }
    }
}

fn long_line() {
    let mut line = b"data: ".to_vec();
    line.resize(16 << 20, b'x');
    line.extend_from_slice(b"\n\n");
    for chunk_size in [1024, 64 * 1024, line.len()] {
        let chunks: Vec<Bytes> = line
            .chunks(chunk_size)
            .map(Bytes::copy_from_slice)
            .collect();
        let (time, tally) = measure(|| ours(&chunks), Duration::from_secs(1));
        assert_eq!(tally.events, 1);
        println!(
            "{{\"parser\":\"wasm-sse-codec (native)\",\"stream\":\"long line, {}\",\"events\":1,\"bytes\":{},\"seconds\":{}}}",
            if chunk_size == line.len() { "in one chunk".to_owned() } else { format!("in {} KiB chunks", chunk_size / 1024) },
            line.len(),
            time.as_secs_f64()
        );
    }
}
