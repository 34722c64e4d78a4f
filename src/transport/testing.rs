//! Browser-test helpers shared by the transports' tests: they talk to the dev server that
//! `scripts/test.sh` starts (its URL is baked in at compile time as `SSE_DEVSERVER_URL`).
#![allow(clippy::unwrap_used)]

use core::time::Duration;

use futures::channel::mpsc::{self, UnboundedReceiver};
use futures::{FutureExt, StreamExt};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::fetch::fetch;
use crate::transport::{Request, TransportEvent};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// The dev server's base URL.
pub(crate) fn server() -> &'static str {
    match option_env!("SSE_DEVSERVER_URL") {
        Some(url) => url,
        None => {
            panic!("SSE_DEVSERVER_URL is unset: run the browser tests through scripts/test.sh")
        }
    }
}

/// The dev server's `/events` URL with `query`.
pub(crate) fn events_url(query: &str) -> String {
    format!("{}/events?{query}", server())
}

/// A topic no other test uses.
pub(crate) fn fresh_topic(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// A transport request for `url` with the client's defaults.
pub(crate) fn request(url: String) -> Request {
    Request {
        url,
        max_event_size: 1 << 20,
        last_event_id_param: "lastEventId".to_owned(),
        ..Request::default()
    }
}

async fn fetch_json(url: &str, method: &str, body: Option<&str>) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
        let headers = web_sys::Headers::new().unwrap();
        headers.set("content-type", "application/json").unwrap();
        init.set_headers(&headers);
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init).unwrap();
    let response = fetch(&request).await.unwrap();
    assert_eq!(response.status(), 200, "{method} {url}");
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

/// Publishes one event through `POST /publish`, returning its id.
pub(crate) async fn publish(topic: &str, body: &str) -> String {
    let url = format!("{}/publish?topic={topic}", server());
    let json = fetch_json(&url, "POST", Some(body)).await;
    js_sys::Reflect::get(&json, &"id".into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// The dev server's count of open event responses (`GET /healthz`).
pub(crate) async fn connections() -> f64 {
    let json = fetch_json(&format!("{}/healthz", server()), "GET", None).await;
    js_sys::Reflect::get(&json, &"connections".into())
        .unwrap()
        .as_f64()
        .unwrap()
}

/// Waits (up to 500 ms) until the dev server counts fewer open event responses than
/// `during`, measured while ours was open; panics otherwise. Tests run one at a time, so
/// a drop means ours closed (`before`/`after` equality would trip over a connection of an
/// earlier test that is still winding down).
pub(crate) async fn server_sees_disconnect(during: f64) {
    for _ in 0..20 {
        if connections().await < during {
            return;
        }
        sleep(25).await;
    }
    panic!("the dev server still counts {during} open event responses");
}

/// Fails the test instead of hanging when `future` takes longer than `ms`.
pub(crate) async fn within<T>(ms: u64, future: impl core::future::Future<Output = T>) -> T {
    let timeout = gloo_timers::future::sleep(Duration::from_millis(ms));
    futures::select! {
        value = future.fuse() => value,
        () = timeout.fuse() => panic!("timed out after {ms} ms"),
    }
}

/// Waits `ms` milliseconds.
pub(crate) async fn sleep(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// Every report up to and including the first `Failed` (or the end of the channel).
pub(crate) async fn until_failed(
    rx: &mut UnboundedReceiver<TransportEvent>,
) -> Vec<TransportEvent> {
    within(1500, async {
        let mut reports = Vec::new();
        while let Some(report) = next_report(rx).await {
            let last = matches!(report, TransportEvent::Failed(_));
            reports.push(report);
            if last {
                break;
            }
        }
        reports
    })
    .await
}

/// Reports until `n` events have arrived (other reports included).
pub(crate) async fn until_events(
    rx: &mut UnboundedReceiver<TransportEvent>,
    n: usize,
) -> Vec<TransportEvent> {
    within(1500, async {
        let mut reports = Vec::new();
        let mut events = 0;
        while events < n {
            let report = next_report(rx).await.expect("the transport ended early");
            events += usize::from(matches!(report, TransportEvent::Event(_)));
            reports.push(report);
        }
        reports
    })
    .await
}

/// Only the events of `reports`.
pub(crate) fn events(reports: &[TransportEvent]) -> Vec<crate::Event> {
    reports
        .iter()
        .filter_map(|r| match r {
            TransportEvent::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// A sink and its receiver.
pub(crate) fn channel() -> (crate::transport::Sink, UnboundedReceiver<TransportEvent>) {
    let (sink, rx) = mpsc::unbounded();
    (sink.into(), rx)
}

/// Whether `report` is about the course of the connection, as the tests follow it: not a
/// long poll in flight (`Polling`, for the engine's poll timeout) nor a response's details
/// (`Head`, `ErrorBody`, which their own tests check).
pub(crate) fn is_course(report: &TransportEvent) -> bool {
    !matches!(
        report,
        TransportEvent::Polling(_) | TransportEvent::Head(_) | TransportEvent::ErrorBody(_)
    )
}

/// The next report of the connection's course (see [`is_course`]).
pub(crate) async fn next_report(
    rx: &mut UnboundedReceiver<TransportEvent>,
) -> Option<TransportEvent> {
    loop {
        match rx.next().await {
            Some(report) if !is_course(&report) => {}
            other => return other,
        }
    }
}
