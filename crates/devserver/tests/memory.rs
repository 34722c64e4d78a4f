//! The dev server's memory against clients that try to exhaust it (issue 19, rows 1 to 3),
//! measured on the real binary through `/proc/PID/status`: retained events are bounded in
//! bytes, a resuming client that does not read holds no copy of the replay, and `hugeBytes`
//! is streamed, not allocated.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use wasm_sse_test_support::DevServer;

const BIN: &str = env!("CARGO_BIN_EXE_sse-devserver");
const MIB: u64 = 1 << 20;

/// The resident set of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib * 1024
}

/// The highest resident set of `pid` seen over `window`, sampled every 20 ms.
async fn peak_rss(pid: u32, window: Duration) -> u64 {
    let end = Instant::now() + window;
    let mut peak = 0;
    while Instant::now() < end {
        peak = peak.max(rss(pid));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    peak
}

fn start(args: &[&str]) -> DevServer {
    let mut all = vec!["--demo-interval-ms", "0"];
    all.extend_from_slice(args);
    DevServer::start(BIN, all).unwrap()
}

/// Publishes `count` events of about 64 KiB to `topic` over one keep-alive connection.
async fn flood(addr: std::net::SocketAddr, topic: &str, count: usize) {
    let body = serde_json::json!({ "data": "z".repeat(64 * 1024 - 16) }).to_string();
    for _ in 0..count {
        let r = request(
            addr,
            "POST",
            &format!("{PUBLISH}?{TOPIC}={topic}"),
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

async fn health(addr: std::net::SocketAddr) -> serde_json::Value {
    request(addr, "GET", HEALTHZ, &[], None).await.json()
}

#[tokio::test]
async fn retained_events_are_bounded_in_bytes() {
    let server = start(&[
        "--retain-bytes",
        "4194304",
        "--retain-topic-bytes",
        "1048576",
    ]);
    let base = rss(server.pid());
    // 64 MiB published over 8 topics: without a byte budget all of it stays retained.
    for t in 0..8 {
        flood(server.addr(), &format!("flood-{t}"), 128).await;
    }
    let h = health(server.addr()).await;
    let retained = h["retainedBytes"].as_u64().unwrap();
    assert!(retained <= 4 * MIB + 70 * 1024, "{h}");
    assert!(retained >= 3 * MIB, "{h}");
    let grown = rss(server.pid()).saturating_sub(base);
    assert!(grown < 24 * MIB, "RSS grew by {} MiB", grown / MIB);
    // The budget drops the oldest: the first events of a topic are gone, with a reset.
    let r = request(
        server.addr(),
        "GET",
        &format!("/events?{TOPIC}=flood-7&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=1"),
        &[],
        None,
    )
    .await;
    assert!(r.text().contains("\"expired\""), "{}", &r.text()[..200]);
}

#[tokio::test]
async fn resuming_clients_that_do_not_read_share_the_replay() {
    let server = start(&[]);
    flood(server.addr(), "big", 128).await; // 8 MiB retained
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base = rss(server.pid());
    // 40 clients replaying everything, none of them reading: a copy each would be 320 MiB.
    let mut clients = Vec::new();
    for _ in 0..40 {
        let mut c = Conn::connect_small(server.addr(), 4096).await;
        c.send_request(
            "GET",
            &format!("/events?{TOPIC}=big"),
            &[(LAST_EVENT_ID_HEADER, "0")],
            None,
        )
        .await;
        clients.push(c);
    }
    let peak = peak_rss(server.pid(), Duration::from_secs(1)).await;
    let h = health(server.addr()).await;
    assert_eq!(h["connections"], 40, "{h}");
    let grown = peak.saturating_sub(base);
    assert!(grown < 24 * MIB, "RSS grew by {} MiB", grown / MIB);
    // A client that reads gets the whole replay.
    let mut reader = Conn::connect(server.addr()).await;
    reader
        .send_request(
            "GET",
            &format!("/events?{TOPIC}=big&{CLOSE_AFTER}=128"),
            &[(LAST_EVENT_ID_HEADER, "0")],
            None,
        )
        .await;
    reader.read_head().await;
    let body = reader.read_to_end(T).await;
    assert_eq!(ids(&parse_all(&body)), (1..=128).collect::<Vec<_>>());
}

#[tokio::test]
async fn huge_events_are_streamed_not_allocated() {
    let server = start(&[]);
    let base = rss(server.pid());
    // 20 requests for the largest huge event, none of them reading: 1.3 GB if allocated.
    let mut clients = Vec::new();
    for i in 0..20 {
        let mut c = Conn::connect_small(server.addr(), 4096).await;
        let transport = if i % 2 == 0 {
            "sse"
        } else {
            TRANSPORT_LONG_POLL
        };
        c.send_request(
            "GET",
            &format!(
                "/events?{TOPIC}=h&{TRANSPORT}={transport}&{HUGE_BYTES}=67108864&{CLOSE_AFTER}=0"
            ),
            &[],
            None,
        )
        .await;
        clients.push(c);
    }
    let peak = peak_rss(server.pid(), Duration::from_secs(1)).await;
    let grown = peak.saturating_sub(base);
    assert!(grown < 24 * MIB, "RSS grew by {} MiB", grown / MIB);
    // And the event is whole for a client that reads it.
    let r = request(
        server.addr(),
        "GET",
        &format!("/events?{TOPIC}=h&{HUGE_BYTES}=200000&{CLOSE_AFTER}=0"),
        &[],
        None,
    )
    .await;
    let items = r.events();
    let huge = events(&items);
    assert_eq!(huge[0].1, "huge");
    assert_eq!(huge[0].2, "x".repeat(200_000));
    // The cap is a flag.
    let capped = start(&["--max-huge-bytes", "1000"]);
    let r = request(
        capped.addr(),
        "GET",
        &format!("/events?{TOPIC}=h&{HUGE_BYTES}=1001"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("at most 1000"), "{}", r.text());
}
