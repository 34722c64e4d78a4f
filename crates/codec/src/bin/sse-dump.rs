//! `sse-dump`: reads a raw `text/event-stream` on stdin until EOF and prints NDJSON.
//!
//! One line per item, as soon as it is complete (the output is flushed after every read):
//!
//! - `{"type": T, "data": D, "id": I}` for each dispatched event (`I` is the last-event-ID
//!   buffer at dispatch, `""` when none);
//! - `{"retry": N}` for each valid `retry` field.
//!
//! Comments are not printed. `sse-dump --count` prints only the final number of dispatched
//! events. `--max-event-size BYTES` sets the parser's limit (default: none); an oversized
//! event is reported on stderr and skipped.
#![allow(clippy::print_stdout)]

use std::io::{self, ErrorKind, Read, Write};
use std::process::ExitCode;

use wasm_sse_codec::{Item, Parser};

const USAGE: &str = "usage: sse-dump [--count] [--max-event-size BYTES] < stream";

fn main() -> ExitCode {
    let mut count_only = false;
    let mut max = usize::MAX;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count_only = true,
            "--max-event-size" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => max = n,
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("sse-dump: unknown argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    match run(count_only, max) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse-dump: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(count_only: bool, max: usize) -> io::Result<()> {
    let mut parser = Parser::with_max_event_size(max);
    let mut stdin = io::stdin().lock();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut buf = vec![0u8; 1 << 16];
    let mut count: u64 = 0;
    let mut line = Vec::new();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        let result = if count_only {
            parser.feed(chunk, |item| {
                if let Item::Event(_) = item {
                    count += 1;
                }
            })
        } else {
            parser.feed(chunk, |item| match item {
                Item::Event(event) => {
                    line.extend_from_slice(b"{\"type\": ");
                    json_string(&mut line, event.event_type());
                    line.extend_from_slice(b", \"data\": ");
                    json_string(&mut line, event.data());
                    line.extend_from_slice(b", \"id\": ");
                    json_string(&mut line, event.id());
                    line.extend_from_slice(b"}\n");
                }
                Item::Retry(ms) => {
                    line.extend_from_slice(format!("{{\"retry\": {ms}}}\n").as_bytes());
                }
                Item::Comment(_) => {}
            })
        };
        if let Err(e) = result {
            eprintln!("sse-dump: {e}; skipped");
        }
        if !line.is_empty() {
            out.write_all(&line)?;
            out.flush()?;
            line.clear();
        }
    }
    parser.finish();
    if count_only {
        writeln!(out, "{count}")?;
    }
    out.flush()
}

/// Appends `s` as a JSON string literal.
fn json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}
