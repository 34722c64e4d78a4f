//! The fetch-streaming transport against the real dev server, in the browser.
#![allow(clippy::unwrap_used)]

use core::time::Duration;

use futures::StreamExt;
use wasm_bindgen_test::wasm_bindgen_test;

use super::fetch::FetchStream;
use super::testing::{
    channel, connections, events, events_url, fresh_topic, next_report, publish, request,
    server_sees_disconnect, until_failed, within,
};
use crate::engine::reconnect::Failure;
use crate::transport::{Request, TransportEvent};
use crate::{Error, Event};

async fn run(request: &Request) -> Vec<TransportEvent> {
    let (sink, mut rx) = channel();
    let _stream = FetchStream::open(request, sink).unwrap();
    until_failed(&mut rx).await
}

#[wasm_bindgen_test]
async fn fetch_delivers_named_events_with_ids_in_order_then_stream_ended() {
    let topic = fresh_topic("fetch-order");
    let a = publish(&topic, r#"{"data":"hello"}"#).await;
    let b = publish(&topic, r#"{"event":"greeting","data":{"to":"world"}}"#).await;
    let c = publish(&topic, r#"{"data":"line one\nline two"}"#).await;
    let url = events_url(&format!("topic={topic}&lastEventId=0&closeAfter=3"));
    let reports = run(&request(url)).await;
    assert_eq!(reports.first(), Some(&TransportEvent::Open));
    assert_eq!(
        events(&reports),
        [
            Event::new("message", "hello", a),
            Event::new("greeting", r#"{"to":"world"}"#, b),
            Event::new("message", "line one\nline two", c),
        ]
    );
    assert_eq!(
        reports.last(),
        Some(&TransportEvent::Failed(Failure::StreamEnded))
    );
    let opens = reports
        .iter()
        .filter(|r| **r == TransportEvent::Open)
        .count();
    assert_eq!(opens, 1);
}

#[wasm_bindgen_test]
async fn fetch_resumes_after_the_last_event_id_header() {
    let topic = fresh_topic("fetch-resume");
    let a = publish(&topic, r#"{"data":"1"}"#).await;
    let b = publish(&topic, r#"{"data":"2"}"#).await;
    let c = publish(&topic, r#"{"data":"3"}"#).await;
    // No query parameter: only the header can ask for the replay after `a`.
    let mut req = request(events_url(&format!("topic={topic}&closeAfter=2")));
    req.last_event_id = Some(a);
    let reports = run(&req).await;
    assert_eq!(
        events(&reports),
        [Event::new("message", "2", b), Event::new("message", "3", c)]
    );
}

#[wasm_bindgen_test]
async fn fetch_posts_with_headers_and_body() {
    let topic = fresh_topic("fetch-post");
    // `echo=1`: the dev server's first event describes the request it saw.
    let mut req = request(events_url(&format!("topic={topic}&closeAfter=0&echo=1")));
    req.method = crate::transport::Method::Post;
    req.body = Some(crate::transport::Body::Text(r#"{"q":1}"#.to_owned()));
    req.headers = vec![("X-Test".to_owned(), "1".to_owned())];
    let reports = run(&req).await;
    let seen = events(&reports);
    assert_eq!(seen.len(), 1, "{reports:?}");
    assert_eq!(seen[0].event_type, "request");
    let echo: serde_json::Value = serde_json::from_str(&seen[0].data).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"], r#"{"q":1}"#);
    assert_eq!(echo["headers"]["x-test"], "1");
    assert_eq!(
        reports.last(),
        Some(&TransportEvent::Failed(Failure::StreamEnded))
    );
}

#[wasm_bindgen_test]
fn fetch_refuses_invalid_options_synchronously() {
    let (sink, _rx) = channel();
    let mut req = request(events_url("topic=x"));
    req.headers = vec![("bad header".to_owned(), "v".to_owned())];
    let err = FetchStream::open(&req, sink.clone()).err().unwrap();
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "headers",
                ..
            }
        ),
        "{err:?}"
    );
    let mut req = request(events_url("topic=x"));
    req.body = Some(crate::transport::Body::Text("x".to_owned()));
    let err = FetchStream::open(&req, sink.clone()).err().unwrap();
    assert!(
        matches!(err, Error::InvalidOption { option: "body", .. }),
        "{err:?}"
    );
    let req = request("http://[bad/".to_owned());
    let err = FetchStream::open(&req, sink).err().unwrap();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
}

#[wasm_bindgen_test]
async fn fetch_reports_the_retry_field() {
    let topic = fresh_topic("fetch-retry");
    let reports = run(&request(events_url(&format!(
        "topic={topic}&retry=1234&closeAfter=0"
    ))))
    .await;
    assert!(reports.contains(&TransportEvent::Retry(Duration::from_millis(1234))));
}

async fn status_failure(query: &str) -> Vec<TransportEvent> {
    let topic = fresh_topic("fetch-status");
    run(&request(events_url(&format!("topic={topic}&{query}")))).await
}

#[wasm_bindgen_test]
async fn fetch_fails_on_status_204() {
    let status = |status| Failure::Status {
        status,
        retry_after: None,
    };
    assert_eq!(
        status_failure("status=204").await,
        [TransportEvent::Failed(status(204))]
    );
}

#[wasm_bindgen_test]
async fn fetch_fails_on_status_401() {
    assert_eq!(
        status_failure("status=401").await,
        [TransportEvent::Failed(Failure::Status {
            status: 401,
            retry_after: None
        })]
    );
}

#[wasm_bindgen_test]
async fn fetch_reports_503_with_retry_after() {
    assert_eq!(
        status_failure("status=503&retryAfter=7").await,
        [TransportEvent::Failed(Failure::Status {
            status: 503,
            retry_after: Some(Duration::from_secs(7))
        })]
    );
}

#[wasm_bindgen_test]
async fn fetch_checks_the_content_type() {
    assert_eq!(
        status_failure("contentType=text/plain").await,
        [TransportEvent::Failed(Failure::ContentType(
            "text/plain".to_owned()
        ))]
    );
    let reports =
        status_failure("contentType=Text/Event-Stream;%20charset=utf-8&closeAfter=0").await;
    assert_eq!(reports.first(), Some(&TransportEvent::Open));
}

#[wasm_bindgen_test]
async fn fetch_fails_with_network_when_nothing_listens() {
    // Port 9 (discard) is not listened on in the test environment: connection refused.
    let reports = run(&request("http://127.0.0.1:9/events".to_owned())).await;
    assert_eq!(reports, [TransportEvent::Failed(Failure::Network)]);
}

#[wasm_bindgen_test]
async fn fetch_decodes_invalid_utf8_as_replacement_characters() {
    let reports = status_failure("invalidUtf8=1&closeAfter=0").await;
    assert_eq!(
        events(&reports),
        [Event::new(
            "invalid-utf8",
            "bad \u{FFFD}\u{FFFD} \u{FFFD} end",
            ""
        )]
    );
}

#[wasm_bindgen_test]
async fn fetch_reassembles_trickled_bytes() {
    let topic = fresh_topic("fetch-trickle");
    let a = publish(&topic, r#"{"event":"slow","data":"trickled data"}"#).await;
    let url = events_url(&format!(
        "topic={topic}&lastEventId=0&closeAfter=1&trickle=4&trickleMs=5"
    ));
    let reports = run(&request(url)).await;
    assert_eq!(events(&reports), [Event::new("slow", "trickled data", a)]);
    let activity = reports
        .iter()
        .filter(|r| **r == TransportEvent::Activity)
        .count();
    // `: connected` and the partial-event chunks: well over one chunk each.
    assert!(activity >= 3, "{reports:?}");
}

#[wasm_bindgen_test]
async fn fetch_drops_a_huge_event_and_goes_on() {
    let topic = fresh_topic("fetch-huge");
    let a = publish(&topic, r#"{"data":"after"}"#).await;
    let mut req = request(events_url(&format!(
        "topic={topic}&lastEventId=0&closeAfter=1&hugeBytes=5000"
    )));
    req.max_event_size = 1000;
    let reports = run(&req).await;
    // The huge event and the next one may arrive in one chunk, when the parser reports
    // the drop after the chunk's events: only check that both are reported.
    assert!(
        reports.contains(&TransportEvent::EventTooLarge { limit: 1000 }),
        "{reports:?}"
    );
    assert!(reports.contains(&TransportEvent::Event(Event::new("message", "after", a))));
    assert_eq!(events(&reports).len(), 1);
}

#[wasm_bindgen_test]
async fn fetch_drop_aborts_the_request() {
    let topic = fresh_topic("fetch-drop");
    let (sink, mut rx) = channel();
    let stream = FetchStream::open(&request(events_url(&format!("topic={topic}"))), sink).unwrap();
    assert_eq!(
        within(1000, next_report(&mut rx)).await,
        Some(TransportEvent::Open)
    );
    let during = connections().await;
    assert!(during >= 1.0);
    drop(stream);
    // The task and its sink are gone: the channel ends without a `Failed`.
    let rest: Vec<_> = within(500, rx.collect()).await;
    assert!(
        rest.iter().all(|r| !matches!(r, TransportEvent::Failed(_))),
        "{rest:?}"
    );
    server_sees_disconnect(during).await;
}

#[wasm_bindgen_test]
async fn fetch_stops_when_the_receiver_is_gone() {
    let topic = fresh_topic("fetch-closed");
    let (sink, mut rx) = channel();
    let _stream = FetchStream::open(&request(events_url(&format!("topic={topic}"))), sink).unwrap();
    assert_eq!(
        within(1000, next_report(&mut rx)).await,
        Some(TransportEvent::Open)
    );
    let during = connections().await;
    drop(rx);
    // The next chunk finds the sink closed: the task ends and aborts the request.
    publish(&topic, r#"{"data":"x"}"#).await;
    server_sees_disconnect(during).await;
}

#[wasm_bindgen_test]
async fn fetch_reports_the_head_before_open_and_an_error_body_before_its_failure() {
    let (sink, mut rx) = channel();
    let topic = fresh_topic("fetch-head");
    let _stream = FetchStream::open(&request(events_url(&format!("topic={topic}"))), sink).unwrap();
    match within(1000, rx.next()).await {
        Some(TransportEvent::Head(head)) => {
            assert_eq!(head.status, 200);
            assert_eq!(
                head.headers.get("content-type").unwrap().as_deref(),
                Some("text/event-stream")
            );
        }
        other => panic!("expected the head first, got {other:?}"),
    }
    assert_eq!(within(1000, rx.next()).await, Some(TransportEvent::Open));

    let (sink, mut rx) = channel();
    let _refused = FetchStream::open(&request(events_url("topic=x&status=503")), sink).unwrap();
    let body = match within(2000, rx.next()).await {
        Some(TransportEvent::ErrorBody(body)) => body,
        other => panic!("expected the error body first, got {other:?}"),
    };
    assert!(body.contains("503"), "{body}");
    assert!(matches!(
        within(1000, rx.next()).await,
        Some(TransportEvent::Failed(Failure::Status { status: 503, .. }))
    ));
}
