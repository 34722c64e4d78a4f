//! The `sse-devserver` binary: flags, the one stdout line, SIGTERM.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use wasm_sse_codec::protocol::path::EVENTS;
use wasm_sse_test_support::DevServer;

const BIN: &str = env!("CARGO_BIN_EXE_sse-devserver");

#[test]
fn help_documents_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--addr",
        "--allow-non-loopback",
        "--www",
        "--pkg",
        "--retain",
        "--retain-bytes",
        "--retain-topic-bytes",
        "--client-queue",
        "--heartbeat-ms",
        "--retry-ms",
        "--long-poll-timeout-ms",
        "--long-poll-batch",
        "--demo-interval-ms",
        "--publish-token",
        "--max-connections",
        "--max-body-bytes",
        "--max-header-bytes",
        "--max-topics",
        "--max-huge-bytes",
        "--allowed-host",
        "--cors-origin",
        "--replay",
        "--shutdown-grace-ms",
        "--threads",
        "--verbose",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn refuses_non_loopback_without_the_flag() {
    let out = Command::new(BIN)
        .args(["--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-non-loopback"));
}

#[test]
fn prints_one_line_serves_and_stops_on_sigterm() {
    // DevServer reads the one stdout line (`sse-devserver listening on http://HOST:PORT`).
    let mut server = DevServer::builder(BIN)
        .args(["--demo-interval-ms", "20"])
        .stderr(Stdio::piped())
        .start()
        .unwrap();
    let addr = server.addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    // The demo topic ticks: read one event with a raw request.
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    let request = format!("GET {EVENTS} HTTP/1.1\r\nhost: localhost\r\n\r\n");
    std::io::Write::write_all(&mut tcp, request.as_bytes()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("event: tick") {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let status = server.terminate(Duration::from_secs(5)).unwrap();
    assert!(status.success(), "no clean exit after SIGTERM: {status}");
    // The stream ended cleanly (last chunk), and nothing else went to stdout or stderr.
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest);
    got.extend(rest);
    assert!(
        got.ends_with(b"0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert_eq!(server.rest_of_stdout().unwrap(), "");
    let mut err = String::new();
    server
        .child_mut()
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(err, "");
}
