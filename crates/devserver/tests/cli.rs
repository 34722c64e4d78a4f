//! The `sse-devserver` binary: flags, the one stdout line, SIGTERM.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--demo-interval-ms", "20"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .strip_prefix("sse-devserver listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim()
        .to_owned();
    assert!(url.starts_with("127.0.0.1:") && !url.ends_with(":0"));
    // The demo topic ticks: read one event with a raw request.
    let mut tcp = std::net::TcpStream::connect(&url).unwrap();
    std::io::Write::write_all(&mut tcp, b"GET /events HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("event: tick") {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let t0 = Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    // The stream ended cleanly (last chunk), and nothing else went to stdout or stderr.
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest);
    got.extend(rest);
    assert!(
        got.ends_with(b"0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    let mut more = String::new();
    stdout.read_to_string(&mut more).unwrap();
    assert_eq!(more, "");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(err, "");
}
