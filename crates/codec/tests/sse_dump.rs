//! The `sse-dump` contract: NDJSON events and retry values, streamed; `--count`.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn dump(args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sse-dump"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// Events as `{"type", "data", "id"}` and valid retry fields as `{"retry"}`, in order, with
/// JSON escaping; comments, invalid retry values and the incomplete last event are not printed.
#[test]
fn sse_dump_ndjson() {
    let input = b"\xEF\xBB\xBF: hi\nretry: 4294967296\nid: 1\nevent: t\ndata: a\"b\\c\x01\xFF\n\nretry: x\ndata: 2\r\n\r\ndata: partial\n";
    assert_eq!(
        dump(&[], input),
        "{\"retry\": 4294967296}\n\
         {\"type\": \"t\", \"data\": \"a\\\"b\\\\c\\u0001\u{FFFD}\", \"id\": \"1\"}\n\
         {\"type\": \"message\", \"data\": \"2\", \"id\": \"1\"}\n"
    );
}

/// `--count` prints only the number of dispatched events.
#[test]
fn sse_dump_count() {
    assert_eq!(
        dump(&["--count"], b"data: a\n\nretry: 1\n\ndata: b\r\rdata: c"),
        "2\n"
    );
    assert_eq!(dump(&["--count"], b""), "0\n");
}

/// Events are printed as they complete, not at EOF.
#[test]
fn sse_dump_streams() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sse-dump"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(b"data: first\n\n").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap(); // Would block forever if output waited for EOF.
    assert_eq!(
        line,
        "{\"type\": \"message\", \"data\": \"first\", \"id\": \"\"}\n"
    );
    stdin.write_all(b"data: second\n\n").unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(
        rest,
        "{\"type\": \"message\", \"data\": \"second\", \"id\": \"\"}\n"
    );
    assert!(child.wait().unwrap().success());
}
