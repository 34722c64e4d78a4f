//! Browser-test helpers of the Leptos and Yew adapters (both include this file with
//! `#[path]`): the dev server, publishing, the server's live connection count, listener and
//! timer counters, waiting for the DOM.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use futures::FutureExt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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

async fn fetch_json(url: &str, init: &web_sys::RequestInit) -> JsValue {
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(response.status(), 200, "{url}");
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

/// Publishes one event (`{"event"?: .., "data": ..}`) through the dev server's `POST /publish`.
pub async fn publish(topic: &str, body: &str) {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().unwrap();
    headers.set("content-type", "application/json").unwrap();
    init.set_headers(&headers);
    fetch_json(&format!("{}/publish?topic={topic}", server()), &init).await;
}

/// The dev server's live event-stream connections (`GET /healthz`).
pub async fn server_connections() -> u32 {
    let json = fetch_json(
        &format!("{}/healthz", server()),
        &web_sys::RequestInit::new(),
    )
    .await;
    js_sys::Reflect::get(&json, &"connections".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32
}

/// Fails the test instead of hanging when `future` takes longer than `secs`.
pub async fn within<T>(secs: u64, future: impl std::future::Future<Output = T>) -> T {
    let timeout = gloo_timers::future::sleep(Duration::from_secs(secs));
    futures::select! {
        value = future.fuse() => value,
        () = timeout.fuse() => panic!("timed out after {secs} s"),
    }
}

/// Waits (at most `secs`) until `check` holds, polling every 20 ms.
pub async fn until(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = js_sys::Date::now() + secs as f64 * 1000.0;
    while !check() {
        assert!(
            js_sys::Date::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        gloo_timers::future::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the dev server reports `expected` live connections, publishing to `topic`
/// meanwhile (a write is how a server notices a peer that went away).
pub async fn until_server_connections(secs: u64, topic: &str, expected: u32) {
    let deadline = js_sys::Date::now() + secs as f64 * 1000.0;
    loop {
        let live = server_connections().await;
        if live == expected {
            return;
        }
        assert!(
            js_sys::Date::now() < deadline,
            "the server still sees {live} connections, expected {expected}"
        );
        publish(topic, r#"{"event":"probe","data":"x"}"#).await;
        gloo_timers::future::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh `<div>` in the document's body.
pub fn fresh_root() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let root: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

/// Lets pending tasks, effects and timers settle.
pub async fn settle() {
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
}

#[wasm_bindgen(inline_js = r#"
let listeners = 0;
const timers = new Set();
export function install() {
  if (globalThis.__wasmSseCounting) return;
  globalThis.__wasmSseCounting = true;
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const registered = new WeakMap();
  EventTarget.prototype.addEventListener = function (type, fn, opts) {
    let set = registered.get(this);
    if (!set) registered.set(this, (set = new Set()));
    const key = type + '\u0000' + (fn && (fn.__id ??= Math.random()));
    if (!set.has(key)) { set.add(key); listeners += 1; }
    return add.call(this, type, fn, opts);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, opts) {
    const set = registered.get(this);
    const key = type + '\u0000' + (fn && fn.__id);
    if (set && set.delete(key)) listeners -= 1;
    return remove.call(this, type, fn, opts);
  };
  const setT = globalThis.setTimeout;
  const clearT = globalThis.clearTimeout;
  globalThis.setTimeout = function (fn, ms, ...args) {
    const id = setT.call(globalThis, (...a) => { timers.delete(id); fn(...a); }, ms, ...args);
    timers.add(id);
    return id;
  };
  globalThis.clearTimeout = function (id) { timers.delete(id); return clearT.call(globalThis, id); };
}
export function liveListeners() { return listeners; }
export function pendingTimers() { return timers.size; }
"#)]
extern "C" {
    /// Wraps `addEventListener`/`removeEventListener` and `setTimeout`/`clearTimeout` to count
    /// live listeners and pending timers (idempotent).
    pub fn install();
    /// Listeners added and not removed since [`install`].
    #[wasm_bindgen(js_name = liveListeners)]
    pub fn live_listeners() -> u32;
    /// Timers set and neither fired nor cleared since [`install`].
    #[wasm_bindgen(js_name = pendingTimers)]
    pub fn pending_timers() -> u32;
}
