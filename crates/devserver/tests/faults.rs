//! Every fault-injection parameter, over real TCP.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use wasm_sse_codec::Item;

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

#[tokio::test]
async fn close_after() {
    let s = server_with(3).await;
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=f&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=2"),
            &[],
        )
        .await;
    let body = c.read_to_end(T).await;
    assert!(c.finished);
    assert_eq!(ids(&parse_all(&body)), [1, 2]);
    // Counting continues into live events.
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=f&{LAST_EVENT_ID}=2&{CLOSE_AFTER}=3"),
            &[],
        )
        .await;
    assert_eq!(ids(&c.events(1, T).await), [3]);
    s.publish_ok("f", r#"{"data":"e4"}"#).await;
    s.publish_ok("f", r#"{"data":"e5"}"#).await;
    s.publish_ok("f", r#"{"data":"e6"}"#).await;
    let body = c.read_to_end(T).await;
    assert!(c.finished);
    assert_eq!(ids(&parse_all(&body)), [4, 5]);
    // 0: preamble only.
    let r = s
        .get(&format!("/events?{TOPIC}=f&{CLOSE_AFTER}=0"), &[])
        .await;
    assert_eq!(
        r.events(),
        [Item::Comment("connected".into()), Item::Retry(2000)]
    );
}

#[tokio::test]
async fn status_codes() {
    let s = server_with(1).await;
    let r = s.get(&format!("/events?{TOPIC}=f&{STATUS}=204"), &[]).await;
    assert_eq!((r.status, r.body.len()), (204, 0));
    for code in [401, 404, 500] {
        let r = s
            .get(&format!("/events?{TOPIC}=f&{STATUS}={code}"), &[])
            .await;
        assert_eq!(r.status, code);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.json()["error"].is_string());
    }
    let r = s.get(&format!("/events?{TOPIC}=f&{STATUS}=401"), &[]).await;
    assert!(r.header("www-authenticate").is_some());
    let r = s.get(&format!("/events?{TOPIC}=f&{STATUS}=429"), &[]).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{STATUS}=429&{RETRY_AFTER}=7"),
            &[],
        )
        .await;
    assert_eq!(r.header("retry-after"), Some("7"));
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{STATUS}=503&{RETRY_AFTER}=3"),
            &[],
        )
        .await;
    assert_eq!((r.status, r.header("retry-after")), (503, Some("3")));
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{STATUS}=200&{CLOSE_AFTER}=0"),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn redirects_lead_to_the_same_stream() {
    let s = server_with(2).await;
    for code in [301, 302, 303, 307, 308] {
        let r = s
            .get(
                &format!("/events?{TOPIC}=f&{STATUS}={code}&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=2"),
                &[],
            )
            .await;
        assert_eq!(r.status, code);
        let loc = r.header("location").unwrap().to_owned();
        assert_eq!(
            loc,
            format!("/events?{TOPIC}=f&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=2")
        );
        let r = s.get(&loc, &[]).await;
        assert_eq!((r.status, ids(&r.events())), (200, vec![1, 2]));
    }
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{STATUS}=307&{REDIRECT_LOOP}=1"),
            &[],
        )
        .await;
    assert_eq!(r.status, 307);
    assert_eq!(
        r.header("location"),
        Some(format!("/events?{TOPIC}=f&{STATUS}=307&{REDIRECT_LOOP}=1").as_str())
    );
}

#[tokio::test]
async fn wrong_content_type() {
    let s = server_with(1).await;
    let r = s
        .get(
            &format!(
                "/events?{TOPIC}=f&{CONTENT_TYPE}=text%2Fplain&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=1"
            ),
            &[],
        )
        .await;
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(ids(&r.events()), [1]);
}

#[tokio::test]
async fn stall_after_headers() {
    let s = server_with(1).await;
    let t0 = Instant::now();
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=f&{STALL_MS}=1000&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=1"),
            &[],
        )
        .await;
    assert!(
        t0.elapsed() < Duration::from_millis(800),
        "headers must come first"
    );
    let first = c.next_piece().await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(1000));
    assert!(first.starts_with(b": connected"));
    let mut rest = first;
    rest.extend(c.read_to_end(T).await);
    assert_eq!(ids(&parse_all(&rest)), [1]);
}

#[tokio::test]
async fn trickle() {
    let s = server_with(1).await;
    let reference = s
        .get(
            &format!("/events?{TOPIC}=f&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=1"),
            &[],
        )
        .await
        .body;
    let t0 = Instant::now();
    let mut c = s
        .open(
            &format!(
                "/events?{TOPIC}=f&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=1&{TRICKLE}=3&{TRICKLE_MS}=2"
            ),
            &[],
        )
        .await;
    let mut body = Vec::new();
    let mut pieces = 0;
    while let Some(p) = c.next_piece().await {
        assert!(p.len() <= 3, "{p:?}");
        body.extend(p);
        pieces += 1;
    }
    assert_eq!(body, reference);
    assert!(pieces >= reference.len() / 3);
    assert!(t0.elapsed() >= Duration::from_millis(2 * (pieces as u64 - 1)));
}

#[tokio::test]
async fn retry_hint() {
    let s = server_with(0).await;
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{RETRY}=1234&{CLOSE_AFTER}=0"),
            &[],
        )
        .await;
    assert!(r.events().contains(&Item::Retry(1234)));
}

#[tokio::test]
async fn huge_event() {
    let s = server_with(1).await;
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{HUGE_BYTES}=1000000&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=1"),
            &[],
        )
        .await;
    let evs = events(&r.events());
    assert_eq!(evs[0].1, "huge");
    assert_eq!(evs[0].2.len(), 1_000_000);
    assert!(evs[0].2.bytes().all(|b| b == b'x'));
    assert_eq!(evs[1].0, "1");
    let r = s
        .get(&format!("/events?{TOPIC}=f&{HUGE_BYTES}=999999999"), &[])
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn invalid_utf8() {
    let s = server_with(0).await;
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&invalidUtf8=1&{CLOSE_AFTER}=0"),
            &[],
        )
        .await;
    let raw = b"event: invalid-utf8\ndata: bad \xFF\xFE \xC3 end\n\n";
    assert!(r.body.windows(raw.len()).any(|w| w == raw));
    let evs = events(&r.events());
    assert_eq!(evs[0].1, "invalid-utf8");
    assert_eq!(evs[0].2, "bad \u{FFFD}\u{FFFD} \u{FFFD} end");
}

#[tokio::test]
async fn delay_before_headers() {
    let s = server_with(0).await;
    let t0 = Instant::now();
    let c = s
        .open(
            &format!("/events?{TOPIC}=f&{DELAY_MS}=300&{CLOSE_AFTER}=0"),
            &[],
        )
        .await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(c.status, 200);
    // Composes with status.
    let t0 = Instant::now();
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{DELAY_MS}=100&{STATUS}=500"),
            &[],
        )
        .await;
    assert!(t0.elapsed() >= Duration::from_millis(100));
    assert_eq!(r.status, 500);
}

#[tokio::test]
async fn bad_fault_values_are_400() {
    let s = server_with(0).await;
    for q in [
        "status=99",
        "status=abc",
        "closeAfter=-1",
        "trickle=0",
        "stallMs=9999999",
        "invalidUtf8=maybe",
        "contentType=%0A",
        "transport=carrier-pigeon",
        "topic=has%20space",
    ] {
        let r = s.get(&format!("/events?{q}"), &[]).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(r.json()["error"].is_string(), "{q}");
    }
}

#[tokio::test]
async fn faults_on_long_poll() {
    let s = server_with(5).await;
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=2&{RETRY}=50"),
            &[],
        )
        .await;
    assert_eq!(ids(&r.events()), [1, 2]);
    assert!(r.events().contains(&Item::Retry(50)));
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{STATUS}=503"),
            &[],
        )
        .await;
    assert_eq!(r.status, 503);
    let r = s
        .get(
            &format!("/events?{TOPIC}=f&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=4&{CONTENT_TYPE}=text%2Fhtml"),
            &[],
        )
        .await;
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(ids(&r.events()), [5]);
}
