//! Browser tests: the crate's public API in headless Chromium against the real dev server.
//!
//! `scripts/test.sh` starts `sse-devserver` on a free loopback port and hands its URL to
//! this test at compile time in `SSE_DEVSERVER_URL`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use futures::{FutureExt, StreamExt};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse::{Client, Event};

wasm_bindgen_test_configure!(run_in_browser);

fn server() -> &'static str {
    match option_env!("SSE_DEVSERVER_URL") {
        Some(url) => url,
        None => panic!("SSE_DEVSERVER_URL is unset: run the browser tests through scripts/test.sh"),
    }
}

/// A topic no other test uses.
fn fresh_topic(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// Publishes one event through the dev server's `POST /publish`, returning its id.
async fn publish(topic: &str, body: &str) -> String {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().unwrap();
    headers.set("content-type", "application/json").unwrap();
    init.set_headers(&headers);
    let url = format!("{}/publish?topic={topic}", server());
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
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

/// Fails the test instead of hanging when `future` takes longer than `secs`.
async fn within<T>(secs: u64, future: impl std::future::Future<Output = T>) -> T {
    let timeout = gloo_timers::future::sleep(Duration::from_secs(secs));
    futures::select! {
        value = future.fuse() => value,
        () = timeout.fuse() => panic!("timed out after {secs} s"),
    }
}

#[wasm_bindgen_test]
async fn receives_the_exact_events_from_the_dev_server() {
    let topic = fresh_topic("skeleton");
    let a = publish(&topic, r#"{"data":"hello"}"#).await;
    let b = publish(&topic, r#"{"event":"greeting","data":{"to":"world"}}"#).await;
    let c = publish(&topic, r#"{"data":"line one\nline two"}"#).await;

    // `lastEventId=0` asks the dev server to replay its topic from the start.
    let url = format!("{}/events?topic={topic}&lastEventId=0", server());
    let client = Client::builder(url)
        .event_types(["greeting"])
        .connect()
        .unwrap();
    let received: Vec<Event> = within(10, client.events().take(3).collect()).await;
    assert_eq!(
        received,
        vec![
            Event::new("message", "hello", a),
            Event::new("greeting", r#"{"to":"world"}"#, b),
            Event::new("message", "line one\nline two", c),
        ]
    );
}

#[wasm_bindgen_test]
async fn close_ends_every_stream() {
    let topic = fresh_topic("close");
    let client = Client::connect(format!("{}/events?topic={topic}", server())).unwrap();
    let all = client.events();
    let named = client.subscribe("tick");
    client.close();
    assert_eq!(client.ready_state(), wasm_sse::ReadyState::Closed);
    assert_eq!(within(5, all.collect::<Vec<_>>()).await, vec![]);
    assert_eq!(within(5, named.collect::<Vec<_>>()).await, vec![]);
}
