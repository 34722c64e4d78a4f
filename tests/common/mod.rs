//! Helpers shared by the browser and Node tests: the dev server's URL, publishing, timeouts.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use futures::FutureExt;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`: there is no `window` in Node.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &web_sys::RequestInit) -> js_sys::Promise;
}

/// The dev server `scripts/test.sh` started for this run (handed over at compile time).
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

/// Publishes one event through the dev server's `POST /publish`, returning its id.
pub async fn publish(topic: &str, body: &str) -> String {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().unwrap();
    headers.set("content-type", "application/json").unwrap();
    init.set_headers(&headers);
    let url = format!("{}/publish?topic={topic}", server());
    let response: web_sys::Response = JsFuture::from(global_fetch(&url, &init))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(response.status(), 200, "publish {body}");
    let json = JsFuture::from(response.json().unwrap()).await.unwrap();
    js_sys::Reflect::get(&json, &"id".into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// `Some(value)` if `future` finishes within `millis`, else `None`.
pub async fn before<T>(millis: u64, future: impl std::future::Future<Output = T>) -> Option<T> {
    let timeout = gloo_timers::future::sleep(Duration::from_millis(millis));
    futures::select! {
        value = future.fuse() => Some(value),
        () = timeout.fuse() => None,
    }
}

/// Fails the test instead of hanging when `future` takes longer than `secs`.
pub async fn within<T>(secs: u64, future: impl std::future::Future<Output = T>) -> T {
    let timeout = gloo_timers::future::sleep(Duration::from_secs(secs));
    futures::select! {
        value = future.fuse() => value,
        () = timeout.fuse() => panic!("timed out after {secs} s"),
    }
}

/// A policy that reconnects fast and deterministically.
pub fn quick() -> wasm_sse::reconnect::ReconnectPolicy {
    wasm_sse::reconnect::ReconnectPolicy::new()
        .initial_delay(Duration::from_millis(20))
        .jitter(false)
}

/// Publishes `n` message events with data `e0..e{n-1}`; returns their ids.
pub async fn publish_many(topic: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(publish(topic, &format!(r#"{{"data":"e{i}"}}"#)).await);
    }
    ids
}

/// Lifecycle changes until the client closes.
pub async fn until_closed(client: &wasm_sse::Client) -> Vec<wasm_sse::Lifecycle> {
    use futures::StreamExt;
    within(20, client.lifecycle().collect::<Vec<_>>()).await
}

/// Why the client closed, from its lifecycle changes.
pub fn closed_reason(changes: &[wasm_sse::Lifecycle]) -> Option<wasm_sse::CloseReason> {
    changes.iter().find_map(|c| match c {
        wasm_sse::Lifecycle::Closed { reason } => Some(reason.clone()),
        _ => None,
    })
}
