//! The control routes against the real server: `POST /control/drop` cuts the responses of
//! one `conn` label in the middle of an event (and nobody else's), the resume after it has no
//! gap; `POST /control/outage` answers a topic with `503` and `Retry-After` for its length;
//! both follow the rules of state-changing requests.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::AsyncReadExt;
use wasm_sse_devserver::Config;

const JSON: (&str, &str) = ("content-type", "application/json");

/// `POST path` with `headers` and `body`.
async fn control(s: &Server, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
    request(s.addr, "POST", path, headers, Some(body.as_bytes())).await
}

/// Reads the rest of a body's raw pieces until it ends (cleanly or not) or `limit` passes.
async fn rest(c: &mut Conn, limit: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        while let Some(p) = c.next_piece().await {
            out.extend_from_slice(&p);
        }
    })
    .await;
    out
}

#[tokio::test]
async fn drop_cuts_the_labelled_stream_mid_event_and_the_resume_has_no_gap() {
    let s = start(config()).await;
    let first = s
        .publish_ok("t", r#"{"event":"tick","data":{"n":1}}"#)
        .await;
    let mut mine = s
        .open(&format!("{EVENTS}?{TOPIC}=t&{CONN}=tab-1"), &[])
        .await;
    let mut other = s
        .open(&format!("{EVENTS}?{TOPIC}=t&{CONN}=tab-2"), &[])
        .await;
    let mut plain = s.open(&format!("{EVENTS}?{TOPIC}=t"), &[]).await;
    let _ = (
        mine.items(2, T).await,
        other.items(2, T).await,
        plain.items(2, T).await,
    );

    let r = control(&s, CONTROL_DROP, &[JSON], r#"{"conn":"tab-1"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["dropped"], 1);
    // The cut waits for the next event and sends its first half only.
    let second = s
        .publish_ok(
            "t",
            r#"{"event":"tick","data":{"n":2,"pad":"xxxxxxxxxxxxxxxx"}}"#,
        )
        .await;
    let started = Instant::now();
    let tail = rest(&mut mine, T).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the cut took {:?}",
        started.elapsed()
    );
    assert!(
        !mine.finished,
        "the body ended cleanly: the connection must be aborted"
    );
    let tail = String::from_utf8(tail).unwrap();
    // The partial event carries its `id:` line: a client that took the ID before the blank
    // line would skip the event on resume.
    assert!(tail.contains(&format!("id: {second}\n")), "{tail:?}");
    assert!(
        !tail.contains("\n\n") && !tail.contains("pad"),
        "not a partial event: {tail:?}"
    );

    // The other label and the unlabelled stream get the event whole and stay open.
    for c in [&mut other, &mut plain] {
        let items = c.events(1, T).await;
        assert_eq!(ids(&items), vec![second]);
        assert!(!c.finished);
    }
    // Resuming after the last whole event: the cut one comes again, whole.
    let last = first.to_string();
    let mut again = s
        .open(
            &format!("{EVENTS}?{TOPIC}=t&{CONN}=tab-1"),
            &[(LAST_EVENT_ID_HEADER, last.as_str())],
        )
        .await;
    let items = again.events(1, T).await;
    assert_eq!(ids(&items), vec![second]);
    // The label is free again: dropping it cuts the new stream only.
    let r = control(&s, CONTROL_DROP, &[JSON], r#"{"conn":"tab-1"}"#).await;
    assert_eq!(r.json()["dropped"], 1);
    let r = control(&s, CONTROL_DROP, &[JSON], r#"{"conn":"nobody"}"#).await;
    assert_eq!(r.json()["dropped"], 0);
}

#[tokio::test]
async fn drop_aborts_a_held_long_poll() {
    let s = start(config()).await;
    let mut c = Conn::connect(s.addr).await;
    c.send_request(
        "GET",
        &format!("{EVENTS}?{TOPIC}=lp&{TRANSPORT}={TRANSPORT_LONG_POLL}&{TIMEOUT_MS}=20000&{CONN}=poller"),
        &[],
        None,
    )
    .await;
    // The poll is held (nothing to send): wait until the label is registered.
    let deadline = Instant::now() + T;
    loop {
        let r = control(&s, CONTROL_DROP, &[JSON], r#"{"conn":"poller"}"#).await;
        if r.json()["dropped"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the held poll was never labelled"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(T, c.stream.read_to_end(&mut bytes)).await;
    assert!(read.is_ok(), "the held poll was not cut");
    assert!(started.elapsed() < Duration::from_secs(2));
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("0\r\n\r\n"),
        "the answer ended cleanly: {text:?}"
    );
}

#[tokio::test]
async fn an_outage_answers_503_with_retry_after_then_ends() {
    let s = start(config()).await;
    s.publish_ok("down", r#"{"data":"1"}"#).await;
    let mut open = s
        .open(&format!("{EVENTS}?{TOPIC}=down&{CONN}=a"), &[])
        .await;
    let _ = open.items(2, T).await;
    let r = control(
        &s,
        CONTROL_OUTAGE,
        &[JSON],
        r#"{"topic":"down","seconds":2}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["dropped"], 1);
    assert_eq!(r.json()["seconds"], 2);
    let begun = Instant::now();
    // The open labelled stream is cut at the next event.
    s.publish_ok("down", r#"{"data":"2"}"#).await;
    let _ = rest(&mut open, T).await;
    assert!(!open.finished);
    for transport in [TRANSPORT_SSE, TRANSPORT_LONG_POLL] {
        let r = s
            .get(
                &format!("{EVENTS}?{TOPIC}=down&{TRANSPORT}={transport}"),
                &[],
            )
            .await;
        assert_eq!(r.status, 503, "{transport}");
        let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=2).contains(&secs), "Retry-After {secs}");
    }
    // Other topics are served.
    let r = s
        .get(&format!("{EVENTS}?{TOPIC}=up&{CLOSE_AFTER}=0"), &[])
        .await;
    assert_eq!(r.status, 200);
    // After the outage the topic is back, its events intact.
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(begun.elapsed())).await;
    let deadline = Instant::now() + T;
    loop {
        let r = s
            .get(
                &format!("{EVENTS}?{TOPIC}=down&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=2"),
                &[],
            )
            .await;
        if r.status == 200 {
            assert_eq!(ids(&r.events()), vec![1, 2]);
            break;
        }
        assert_eq!(r.status, 503);
        assert!(Instant::now() < deadline, "the outage did not end");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Topic defaults to `demo`; the length is bounded.
    let r = control(&s, CONTROL_OUTAGE, &[JSON], r#"{"seconds":1}"#).await;
    assert_eq!(r.json()["topic"], "demo");
    for bad in [
        r#"{"seconds":0}"#,
        r#"{"seconds":61}"#,
        r#"{"seconds":"5"}"#,
        r#"{"topic":"a b"}"#,
    ] {
        let r = control(&s, CONTROL_OUTAGE, &[JSON], bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
}

#[tokio::test]
async fn control_requests_follow_the_state_changing_rules() {
    let s = start(Config {
        publish_token: Some("tok".into()),
        ..config()
    })
    .await;
    let auth = ("authorization", "Bearer tok");
    for path in [CONTROL_DROP, CONTROL_OUTAGE] {
        let body = if path == CONTROL_DROP {
            r#"{"conn":"x"}"#
        } else {
            r#"{"seconds":1}"#
        };
        let cases: [(&[(&str, &str)], u16); 5] = [
            (&[("content-type", "text/plain"), auth], 415),
            (&[JSON, auth, ("origin", "http://evil.example")], 403),
            (&[JSON], 401),
            (&[JSON, auth, ("origin", "http://localhost:5173")], 200),
            (&[JSON, auth], 200),
        ];
        for (headers, status) in cases {
            let r = control(&s, path, headers, body).await;
            assert_eq!(r.status, status, "{path} {headers:?}: {}", r.text());
        }
        let r = s.get(path, &[]).await;
        assert_eq!(r.status, 405, "GET {path}");
        let r = control(&s, path, &[JSON, auth], r#"{"conn":"x","more":1}"#).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let r = control(&s, path, &[JSON, auth], &"x".repeat(5000)).await;
        assert_eq!(r.status, 413, "{path}");
    }
    for bad in [
        r#"{}"#,
        r#"{"conn":""}"#,
        r#"{"conn":"a/b"}"#,
        r#"{"conn":7}"#,
        "[]",
    ] {
        let r = control(&s, CONTROL_DROP, &[JSON, auth], bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    let r = s
        .get(&format!("{EVENTS}?{CONN}=not%20ok&{CLOSE_AFTER}=0"), &[])
        .await;
    assert_eq!(r.status, 400);
}
