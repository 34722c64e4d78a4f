//! Browser-test helpers of the Leptos and Yew adapters (both include this file with
//! `#[path]`): waiting for a condition and for the server's connection count, listener and
//! timer counters, the DOM. The dev server's URL, publishing and timeouts come from
//! `wasm_sse_test_support::browser`, which the client's own tests share.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// Each test crate uses some of these.
#[allow(unused_imports)]
pub use wasm_sse_test_support::browser::{
    fresh_topic, publish, server, server_connections, within,
};

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
