//! For tests compiled to wasm32 (browser tests in headless Chromium, Node tests through
//! wasm-bindgen-test): the dev server that `scripts/test.sh` started, publishing to it, its
//! live connection count, and timeouts. Shared by the client's tests (`tests/common`) and the
//! Leptos and Yew adapters' (`crates/hooks/testing/browser.rs`).

use std::future::Future;
use std::time::Duration;

use futures::FutureExt;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_sse_codec::protocol::{path, query};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`: there is no `window` in Node or a worker.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &web_sys::RequestInit) -> js_sys::Promise;
}

/// The dev server `scripts/test.sh` started for this run (handed over at compile time in
/// `SSE_DEVSERVER_URL`).
pub fn server() -> &'static str {
    match option_env!("SSE_DEVSERVER_URL") {
        Some(url) => url,
        None => panic!("SSE_DEVSERVER_URL is unset: run the browser tests through scripts/test.sh"),
    }
}

/// A topic no other test uses.
pub fn fresh_topic(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// `fetch(url, init)`, answered `200`, as JSON.
async fn fetch_json(url: &str, init: &web_sys::RequestInit) -> JsValue {
    let response: web_sys::Response = match JsFuture::from(global_fetch(url, init)).await {
        Ok(response) => response.unchecked_into(),
        Err(e) => panic!("fetch {url}: {e:?}"),
    };
    assert_eq!(response.status(), 200, "{url}");
    match response.json() {
        Ok(json) => JsFuture::from(json)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e:?}")),
        Err(e) => panic!("{url}: {e:?}"),
    }
}

/// Publishes one event (`{"event"?: .., "data": .., "id"?: ..}`) through the dev server's
/// `POST /publish`; returns the id it was given.
pub async fn publish(topic: &str, body: &str) -> String {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    if let Ok(headers) = web_sys::Headers::new() {
        let _ = headers.set("content-type", "application/json");
        init.set_headers(&headers);
    }
    let url = format!("{}{}?{}={topic}", server(), path::PUBLISH, query::TOPIC);
    let json = fetch_json(&url, &init).await;
    js_sys::Reflect::get(&json, &"id".into())
        .ok()
        .and_then(|id| id.as_string())
        .unwrap_or_else(|| panic!("publish {body}: no id in the answer"))
}

/// The dev server's live event-stream connections (`GET /healthz`).
pub async fn server_connections() -> u32 {
    let url = format!("{}{}", server(), path::HEALTHZ);
    let json = fetch_json(&url, &web_sys::RequestInit::new()).await;
    js_sys::Reflect::get(&json, &"connections".into())
        .ok()
        .and_then(|n| n.as_f64())
        .unwrap_or_else(|| panic!("{url}: no connection count")) as u32
}

/// `Some(value)` if `future` finishes within `millis`, else `None`.
pub async fn before<T>(millis: u64, future: impl Future<Output = T>) -> Option<T> {
    let timeout = gloo_timers::future::sleep(Duration::from_millis(millis));
    futures::select! {
        value = future.fuse() => Some(value),
        () = timeout.fuse() => None,
    }
}

/// Fails the test instead of hanging when `future` takes longer than `secs`.
pub async fn within<T>(secs: u64, future: impl Future<Output = T>) -> T {
    match before(secs * 1000, future).await {
        Some(value) => value,
        None => panic!("timed out after {secs} s"),
    }
}
