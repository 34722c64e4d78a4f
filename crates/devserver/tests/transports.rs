//! What the client's fallback transports need from the server: `echo` (the request as the
//! server saw it, `POST /events`), `buffer` (a buffering proxy), `format=json` long-polls and
//! long polling on replay routes.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use wasm_sse_codec::Item;
use wasm_sse_devserver::{Config, ReplayFile};

async fn server_with(n: u64) -> Server {
    let s = start(config()).await;
    for i in 1..=n {
        s.publish_ok(
            "f",
            &serde_json::json!({ "data": format!("e{i}") }).to_string(),
        )
        .await;
    }
    s
}

/// The data of the first `event: request` in `items`, as JSON.
fn echoed(items: &[Item]) -> serde_json::Value {
    let (_, _, data) = events(items)
        .into_iter()
        .find(|(_, ty, _)| ty == "request")
        .expect("no echo event");
    serde_json::from_str(&data).unwrap()
}

#[tokio::test]
async fn echo_reports_method_headers_and_body() {
    let s = server_with(2).await;
    // GET on the stream: the echo comes after the preamble, before the replay.
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{ECHO}=1&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=2"),
            &[("x-token", "abc"), ("X-Multi", "1"), ("x-multi", "2")],
        )
        .await;
    assert_eq!(r.status, 200);
    let items = r.events();
    let echo = echoed(&items);
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["headers"]["x-token"], "abc");
    assert_eq!(echo["headers"]["x-multi"], "1, 2");
    assert_eq!(
        echo["headers"][LAST_EVENT_ID_HEADER],
        serde_json::Value::Null
    );
    assert_eq!(echo["body"], "");
    assert_eq!(events(&items)[0].1, "request");
    assert_eq!(ids(&items), [1, 2]);

    // POST with a body, on the stream and on the long-poll twin (answered at once).
    for path in [
        &format!("/events?{TOPIC}=f&{ECHO}=1&{CLOSE_AFTER}=0"),
        &format!("/events?{TOPIC}=f&{ECHO}=1&{TRANSPORT}={TRANSPORT_LONG_POLL}"),
    ] {
        let t0 = Instant::now();
        let r = request(
            s.addr,
            "POST",
            path,
            &[
                ("content-type", "application/json"),
                (LAST_EVENT_ID_HEADER, "2"),
            ],
            Some(br#"{"q":"hi"}"#),
        )
        .await;
        assert!(t0.elapsed() < Duration::from_secs(2), "{path} was held");
        assert_eq!(r.status, 200, "{path}");
        let echo = echoed(&r.events());
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["body"], r#"{"q":"hi"}"#);
        assert_eq!(echo["headers"]["content-type"], "application/json");
        assert_eq!(echo["headers"][LAST_EVENT_ID_HEADER], "2");
    }
    // Without `echo`, POST is the plain stream; the body is bounded like a publish body.
    let r = request(
        s.addr,
        "POST",
        &format!("/events?{TOPIC}=f&{LAST_EVENT_ID}=1&{CLOSE_AFTER}=1"),
        &[],
        Some(b"ignored"),
    )
    .await;
    assert_eq!((r.status, ids(&r.events())), (200, vec![2]));
    let big = vec![b'x'; 70_000];
    let r = request(
        s.addr,
        "POST",
        &format!("/events?{TOPIC}=f&{ECHO}=1"),
        &[],
        Some(&big),
    )
    .await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn buffer_holds_the_body_until_the_response_ends() {
    let s = server_with(1).await;
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=f&{BUFFER}=1&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=3"),
            &[],
        )
        .await;
    assert_eq!(c.status, 200);
    assert_eq!(
        header(&c.headers, "content-type"),
        Some("text/event-stream")
    );
    // Headers only: not even the `: connected` comment gets through.
    let early = tokio::time::timeout(Duration::from_millis(300), c.next_piece()).await;
    assert!(early.is_err(), "a byte came through: {early:?}");
    s.publish_ok("f", r#"{"data":"e2"}"#).await;
    s.publish_ok("f", r#"{"data":"e3"}"#).await;
    // The third event ends the response: everything arrives at once.
    let all = tokio::time::timeout(T, c.next_piece())
        .await
        .unwrap()
        .unwrap();
    assert!(all.starts_with(b": connected"));
    assert_eq!(ids(&parse_all(&all)), [1, 2, 3]);
    assert_eq!(c.read_to_end(T).await, b"");
    assert!(c.finished);

    // `bufferMs` ends the response after that long at the latest.
    let t0 = Instant::now();
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{BUFFER}=1&{BUFFER_MS}=300&{LAST_EVENT_ID}=2"),
            &[],
        )
        .await;
    let took = t0.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(ids(&r.events()), [3]);
    // The long-poll twin answers as usual (its bodies are complete anyway).
    let r = s
        .get(
            &format!(
                "/events?{TOPIC}=f&{BUFFER}=1&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=1"
            ),
            &[],
        )
        .await;
    assert_eq!(ids(&r.events()), [2, 3]);
    assert!(s
        .get(
            &format!("/events?{TOPIC}=f&{BUFFER}=1&{BUFFER_MS}=9999999"),
            &[]
        )
        .await
        .status
        .eq(&400));
}

#[tokio::test]
async fn long_poll_json_format() {
    let s = server_with(3).await;
    s.publish_ok("f", r#"{"event":"tick","data":"a\nb"}"#).await;
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{FORMAT}={FORMAT_JSON}&{LAST_EVENT_ID}=1"),
            &[],
        )
        .await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    // The body's last event ID comes ahead of the body, for a pipelining client.
    assert_eq!(r.header(LONG_POLL_CURSOR), Some("4"));
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"id": "2", "event": "message", "data": "e2"},
            {"id": "3", "event": "message", "data": "e3"},
            {"id": "4", "event": "tick", "data": "a\nb"},
        ])
    );
    // A timeout answer is an empty array.
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{FORMAT}={FORMAT_JSON}&{LAST_EVENT_ID}=4&{TIMEOUT_MS}=50"),
            &[],
        )
        .await;
    assert_eq!(r.json(), serde_json::json!([]));
    // ... and names no cursor: there is no event to resume after.
    assert_eq!(r.header(LONG_POLL_CURSOR), None);
    let r = s.get(&format!("/events?{TOPIC}=f&{FORMAT}=xml"), &[]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn long_poll_on_a_replay_route() {
    let mut file = String::from(": recorded\n\n");
    for n in 1..=5 {
        file.push_str(&format!(":delay=1000\nid: {n}\nevent: tick\ndata: {n}\n\n"));
    }
    let s = start(Config {
        long_poll_batch: 2,
        replays: vec![ReplayFile::parse("/rec", file.as_bytes()).unwrap()],
        ..config()
    })
    .await;
    // Batches of two events, delays ignored, resumed by the cursor (header or parameter).
    let t0 = Instant::now();
    let r = s
        .get(&format!("/rec?{TRANSPORT}={TRANSPORT_LONG_POLL}"), &[])
        .await;
    assert_eq!(ids(&r.events()), [1, 2]);
    assert_eq!(r.header(LONG_POLL_CURSOR), Some("2"));
    let r = s
        .get(
            &format!("/rec?{TRANSPORT}={TRANSPORT_LONG_POLL}"),
            &[(LAST_EVENT_ID_HEADER, "2")],
        )
        .await;
    assert_eq!(ids(&r.events()), [3, 4]);
    let r = s
        .get(
            &format!(
                "/rec?{TRANSPORT}={TRANSPORT_LONG_POLL}&{FORMAT}={FORMAT_JSON}&{LAST_EVENT_ID}=4"
            ),
            &[],
        )
        .await;
    assert_eq!(
        r.json(),
        serde_json::json!([{"id": "5", "event": "tick", "data": "5"}])
    );
    assert!(t0.elapsed() < Duration::from_secs(1));
    // Past the end: `: no events` after the poll timeout, at once with `hold=0`.
    let r = s
        .get(
            &format!("/rec?{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=5&{TIMEOUT_MS}=200"),
            &[],
        )
        .await;
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.events(), [Item::Comment("no events".into())]);
    let r = s
        .get(
            &format!("/rec?{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=5&{HOLD}=0"),
            &[],
        )
        .await;
    assert_eq!(r.events(), [Item::Comment("no events".into())]);
}

#[tokio::test]
async fn replay_sends_blocks_due_together_in_one_chunk() {
    let mut file = String::new();
    for n in 1..=5 {
        file.push_str(&format!("id: {n}\ndata: {n}\n\n"));
    }
    file.push_str(":delay=200\nid: 6\ndata: 6\n\n");
    let s = start(Config {
        replays: vec![ReplayFile::parse("/rec", file.as_bytes()).unwrap()],
        ..config()
    })
    .await;
    let mut c = s.open(&format!("/rec?{HOLD}=0"), &[]).await;
    let first = c.next_piece().await.unwrap();
    assert_eq!(ids(&parse_all(&first)), [1, 2, 3, 4, 5]);
    let rest = c.read_to_end(T).await;
    assert_eq!(ids(&parse_all(&rest)), [6]);
    // `closeAfter` still counts every block.
    let r = s.get(&format!("/rec?{CLOSE_AFTER}=3"), &[]).await;
    assert_eq!(ids(&r.events()), [1, 2, 3]);
}

/// `Long-Poll-Ahead` lists the last IDs of the full batches after the answer's own, up to
/// three, so a client can send those polls at once (docs/protocol.md).
#[tokio::test]
async fn long_poll_announces_the_full_batches_ahead() {
    let s = start(Config {
        long_poll_batch: 2,
        ..config()
    })
    .await;
    for i in 1..=11 {
        s.publish_ok("f", &serde_json::json!({ "data": i }).to_string())
            .await;
    }
    let poll = |query: &'static str| {
        let path = format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{query}");
        let s = &s;
        async move { s.get(&path, &[]).await }
    };
    // Answer 1-2; full batches 3-4, 5-6, 7-8 (and 9-10, beyond the three announced).
    let r = poll("lastEventId=0").await;
    assert_eq!(ids(&r.events()), [1, 2]);
    assert_eq!(r.header(LONG_POLL_CURSOR), Some("2"));
    assert_eq!(r.header(LONG_POLL_AHEAD), Some("4, 6, 8"));
    // Each announced ID is where the poll after the previous one really ends.
    let r = poll("lastEventId=6").await;
    assert_eq!(ids(&r.events()), [7, 8]);
    assert_eq!(r.header(LONG_POLL_AHEAD), Some("10"));
    // Only full batches: after 9-10, 11 alone is not announced.
    let r = poll("lastEventId=8").await;
    assert_eq!(ids(&r.events()), [9, 10]);
    assert_eq!(r.header(LONG_POLL_AHEAD), None);
    let r = poll("lastEventId=10").await;
    assert_eq!(ids(&r.events()), [11]);
    assert_eq!(r.header(LONG_POLL_AHEAD), None);
    // `closeAfter` makes the batches smaller, and the announcement follows.
    let r = poll("lastEventId=0&closeAfter=1").await;
    assert_eq!(ids(&r.events()), [1]);
    assert_eq!(r.header(LONG_POLL_AHEAD), Some("2, 3, 4"));
    // A reset (an unknown ID) or an echo announces nothing.
    let r = poll("lastEventId=99").await;
    assert_eq!(r.header(LONG_POLL_AHEAD), None);
    let r = poll("lastEventId=0&echo=1").await;
    assert_eq!(r.header(LONG_POLL_AHEAD), None);
    // Exposed to cross-origin clients.
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=0"),
            &[("origin", "http://127.0.0.1:4000")],
        )
        .await;
    assert!(r
        .header("access-control-expose-headers")
        .is_some_and(|h| h.contains("Long-Poll-Ahead")));
}

/// On a replay route, a batch end is announced only if a poll after its ID starts right
/// after it: an end without an ID, or with an ID the file repeats, ends the list.
#[tokio::test]
async fn replay_long_poll_announces_only_batch_ends_found_again() {
    let file =
        "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\n: between\n\nid: 3\ndata: 3\n\nid: 4\ndata: 4\n\n\
                id: 5\ndata: 5\n\nid: 6\ndata: 6\n\nid: 7\ndata: 7\n\ndata: no id\n\n\
                id: 9\ndata: 9\n\nid: 10\ndata: 10\n\n";
    let s = replay_in_pairs(file).await;
    let r = s.get("/rec?transport=long-poll", &[]).await;
    assert_eq!(ids(&r.events()), [1, 2]);
    // 3-4 and 5-6 end with their own IDs; 7 + the event without one does not.
    assert_eq!(r.header(LONG_POLL_AHEAD), Some("4, 6"));
    let r = s.get("/rec?transport=long-poll&lastEventId=6", &[]).await;
    assert_eq!(r.header(LONG_POLL_CURSOR), Some("7"));
    assert_eq!(r.header(LONG_POLL_AHEAD), None);

    // An ID repeated in the file: the poll after it would restart at its first block.
    let file = "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\nid: 2\ndata: again\n\n\
                id: 5\ndata: 5\n\nid: 6\ndata: 6\n\n";
    let s = replay_in_pairs(file).await;
    let r = s.get("/rec?transport=long-poll", &[]).await;
    assert_eq!(r.header(LONG_POLL_AHEAD), None);
}

/// A server with `file` on the replay route `/rec`, long polls answered two events at a time.
async fn replay_in_pairs(file: &str) -> Server {
    start(Config {
        long_poll_batch: 2,
        replays: vec![ReplayFile::parse("/rec", file.as_bytes()).unwrap()],
        ..config()
    })
    .await
}
