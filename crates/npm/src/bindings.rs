//! The npm package's wasm API (the benchmark's entry points are in `bench.rs`).
//!
//! The exports are deliberately lean: [`RawClient`] owns a Rust [`Client`] (connection,
//! reconnection, parsing, dedupe) and tells two plain JS callbacks when events and lifecycle
//! changes are waiting. The ergonomic, `EventSource`-compatible `SseClient` (listeners, `onX`
//! properties, async iterators, JSON decoding, `AbortSignal`) is written in JavaScript
//! (`npm/client.js`) on top of it, where that code is smaller than in wasm.
// `#[wasm_bindgen]` expands to `unsafe` blocks; this module holds no hand-written unsafe code.
#![allow(unsafe_code)]
// Its `pub` items are exported to JavaScript by wasm-bindgen, not to Rust crates.
#![allow(unreachable_pub)]

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint32Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use wasm_sse::reconnect::{Failure, ReconnectPolicy, StopReason};
use wasm_sse::{Client, CloseReason, Error, Handler, Lifecycle, Method, ShareRole, TransportKind};

use crate::pending::Pending;

/// The version of the wasm-sse package, read from the compiled module.
///
/// A JS string made straight from the static text: returning a `String` would allocate a
/// copy for the glue to decode and free.
#[wasm_bindgen]
pub fn version() -> JsValue {
    JsValue::from_str(env!("CARGO_PKG_VERSION"))
}

/// Registers `hook`, called when the wasm panics, just before the instance traps (see
/// `wasm_sse`'s `no_std` panic handler): the JS layer then closes every client with a
/// `panic` error and calls into the instance no more.
#[wasm_bindgen(js_name = onPanic)]
pub fn on_panic(hook: Function) {
    wasm_sse::set_panic_hook(hook);
}

/// Panics, at once (`later` false) or in a task of its own that runs after this call has
/// returned (`later` true): the panic test's trigger (the `test-panic` feature only).
#[cfg(feature = "test-panic")]
#[wasm_bindgen(js_name = testPanic)]
pub fn test_panic(later: bool) {
    if later {
        wasm_bindgen_futures::spawn_local(async { panic!("test panic") });
    } else {
        panic!("test panic");
    }
}

/// The wasm half of the JS `SseClient`: a [`Client`] that reports to two JS callbacks.
///
/// * `onPending()` runs when events start waiting (synchronously, in the task that delivered
///   the first of them); JS then takes every event waiting with [`RawClient::take_events`],
///   once per chunk of the stream rather than once per event.
/// * `onChange()` runs when lifecycle changes start waiting (synchronously, as the client
///   makes the first of them); JS then takes them all with [`RawClient::take_changes`].
///
/// The ready state and the transport have no getters: `npm/client.js` follows them from the
/// `onChange` arrays, and each export costs wasm and glue. There is no `close()` either:
/// dropping it (`free()`, which is how `SseClient` closes) closes the client and releases
/// everything it holds.
#[wasm_bindgen]
pub struct RawClient {
    client: Client,
    pending: Rc<RefCell<Pending>>,
    changes: Rc<RefCell<Changes>>,
    /// The event handler and the lifecycle handler.
    _handlers: [Handler; 2],
}

/// The lifecycle changes not yet taken by JS, encoded.
#[derive(Default)]
struct Changes {
    waiting: Array,
    /// The last change waiting is a `Reconnecting`.
    reconnecting: bool,
}

#[wasm_bindgen]
impl RawClient {
    /// Opens a connection to `url` (already absolute) with the options the JS layer
    /// normalised (see `npm/client.js`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: String,
        options: &Object,
        on_pending: Function,
        on_change: Function,
    ) -> Result<RawClient, JsValue> {
        let client = builder(url, options)?.connect().map_err(to_js_error)?;
        let pending = Rc::new(RefCell::new(Pending::default()));
        let waiting = Rc::clone(&pending);
        let handler = client.on_any(move |event| {
            let first =
                waiting
                    .borrow_mut()
                    .push(&event.event_type, &event.last_event_id, &event.data);
            if first {
                // The JS side never throws (it only schedules the taking).
                let _ = on_pending.call0(&JsValue::NULL);
            }
        });
        let changes = Rc::new(RefCell::new(Changes::default()));
        let queued = Rc::clone(&changes);
        let lifecycle = client.on_lifecycle(move |change| {
            let mut queued = queued.borrow_mut();
            let after_reconnecting = core::mem::replace(
                &mut queued.reconnecting,
                matches!(change, Lifecycle::Reconnecting { .. }),
            );
            // A failure the policy stops on is followed at once by `Closed`: report the pair
            // once, as the close (an `EventSource` fires one error when it fails).
            if after_reconnecting && matches!(change, Lifecycle::Closed { .. }) {
                queued.waiting.pop();
            }
            queued.waiting.push(&encode(change));
            if queued.waiting.length() == 1 {
                drop(queued);
                // The JS side never throws (it only schedules the taking).
                let _ = on_change.call0(&JsValue::NULL);
            }
        });
        Ok(RawClient {
            client,
            pending,
            changes,
            _handlers: [handler, lifecycle],
        })
    }

    /// Takes the events waiting: `[text, lengths, json]` (see [`Pending`]), in delivery
    /// order.
    #[wasm_bindgen(js_name = takeEvents)]
    pub fn take_events(&self) -> Array {
        let mut pending = self.pending.borrow_mut();
        let taken = Array::of3(
            &JsValue::from_str(&pending.text),
            &Uint32Array::from(pending.lengths.as_slice()),
            &JsValue::from_str(&pending.json),
        );
        pending.clear();
        taken
    }

    /// Takes the lifecycle changes waiting, each as an array whose first item names it (see
    /// [`encode`]), in order.
    #[wasm_bindgen(js_name = takeChanges)]
    pub fn take_changes(&self) -> Array {
        let mut changes = self.changes.borrow_mut();
        changes.reconnecting = false;
        core::mem::replace(&mut changes.waiting, Array::new())
    }

    /// `[status, headers]` of the last response accepted (see [`Client::response`]), or
    /// `undefined`.
    pub fn response(&self) -> JsValue {
        match self.client.response() {
            Some(head) => Array::of2(&int(head.status), &head.headers).into(),
            None => JsValue::UNDEFINED,
        }
    }

    /// The start of the last error response's body (see [`Client::error_body`]), or
    /// `undefined`.
    #[wasm_bindgen(js_name = errorBody)]
    pub fn error_body(&self) -> Option<String> {
        self.client.error_body()
    }

    /// Uses `url` (absolute) from the next connection attempt on.
    #[wasm_bindgen(js_name = setUrl)]
    pub fn set_url(&mut self, url: String) {
        self.client.set_url(url);
    }

    /// Sends `body` (anything `fetch` takes) from the next connection attempt on.
    #[wasm_bindgen(js_name = setBody)]
    pub fn set_body(&self, body: JsValue) {
        self.client.set_body_js(body);
    }

    /// Drops the connection and opens a new one now, resuming (see [`Client::reconnect`]).
    pub fn reconnect(&self) {
        self.client.reconnect();
    }

    /// Makes sure events of type `name` are delivered (the browser's `EventSource` only
    /// delivers named events to listeners registered for the name); `json`: the type has an
    /// `on()` handler, so its data crosses as one JSON array (see [`Pending`]).
    // An owned `String`: the one the glue copied the name into is sent on as it is.
    pub fn listen(&self, name: String, json: bool) {
        let types = &mut self.pending.borrow_mut().json_types;
        if json && !types.contains(&name) {
            types.push(name.clone());
        }
        self.client.listen_for(name);
    }
}

/// Reads the options object `npm/client.js` built (every key optional).
fn builder(url: String, o: &Object) -> Result<wasm_sse::ClientBuilder, JsValue> {
    let mut b = Client::builder(url);
    if let Some(kind) = string(o, "transport") {
        // `auto` (no transport of that name): the client's own choice.
        b = b.transport(TransportKind::from_name(&kind));
    }
    if let Some(yes) = get(o, "withCredentials").as_bool() {
        b = b.with_credentials(yes);
    }
    // Static headers: a flat `[name, value, name, value, ...]` array.
    let headers = pairs(&get(o, "headers"));
    for (name, value) in headers {
        b = b.header(name, value);
    }
    // A function returning a Promise of such an array, called before every connection.
    if let Ok(provider) = get(o, "headerProvider").dyn_into::<Function>() {
        b = b.headers_with(move || {
            let called = provider.call0(&JsValue::NULL);
            async move {
                let promise: Promise = called.map_err(message_of)?.unchecked_into();
                let value = JsFuture::from(promise).await.map_err(message_of)?;
                Ok(pairs(&value))
            }
        });
    }
    // Checked by the JS layer: one of these names.
    let method = match string(o, "method").as_deref() {
        Some("POST") => Method::Post,
        Some("PUT") => Method::Put,
        Some("PATCH") => Method::Patch,
        Some("DELETE") => Method::Delete,
        _ => Method::Get,
    };
    b = b.method(method);
    // A string, or a body `fetch` takes as it is (`FormData`, `Blob`, ...).
    let body = get(o, "body");
    if !body.is_undefined() {
        b = b.body_js(body);
    }
    if let Ok(fetch) = get(o, "fetch").dyn_into::<Function>() {
        b = b.fetch_with(fetch);
    }
    if let Some(yes) = get(o, "closeOnEnd").as_bool() {
        b = b.close_on_end(yes);
    }
    // Called with a failure's `[type, status, detail]`; the JS layer makes the error.
    if let Ok(hook) = get(o, "retryOn").dyn_into::<Function>() {
        b = b.retry_on(move |f| {
            let [kind, status, detail] = failure(f);
            hook.call3(&JsValue::NULL, &kind, &status, &detail)
                .is_ok_and(|verdict| verdict.is_truthy())
        });
    }
    if let Some(r) = get(o, "reconnect").dyn_ref::<Object>() {
        let mut p = ReconnectPolicy::new();
        if let Some(ms) = millis(r, "initialDelayMs") {
            p = p.initial_delay(ms);
        }
        if let Some(ms) = millis(r, "maxDelayMs") {
            p = p.max_delay(ms);
        }
        if let Some(m) = get(r, "multiplier").as_f64() {
            p = p.multiplier(m);
        }
        if let Some(yes) = get(r, "jitter").as_bool() {
            p = p.jitter(yes);
        }
        if let Some(n) = get(r, "maxRetries").as_f64() {
            p = p.max_attempts(n as u32);
        }
        if let Some(ms) = millis(r, "maxElapsedMs") {
            p = p.max_elapsed(ms);
        }
        if let Some(ms) = millis(r, "resetAfterMs") {
            p = p.reset_after(ms);
        }
        b = b.reconnect(p);
    }
    // `null` turns a timeout off; `undefined` keeps the default.
    let timeout = |key| {
        let value = get(o, key);
        (!value.is_undefined()).then(|| value.as_f64().map(ms))
    };
    if let Some(t) = timeout("idleTimeoutMs") {
        b = b.idle_timeout(t);
    }
    if let Some(t) = timeout("connectTimeoutMs") {
        b = b.connect_timeout(t);
    }
    if let Some(t) = timeout("longPollTimeoutMs") {
        b = b.long_poll_timeout(t);
    }
    if let Some(t) = timeout("stallDowngradeMs") {
        b = b.stall_downgrade(t);
    }
    if let Some(yes) = get(o, "pauseWhenHidden").as_bool() {
        b = b.pause_when_hidden(yes);
    }
    if let Some(id) = string(o, "lastEventId") {
        b = b.last_event_id(id);
    }
    if let Some(name) = string(o, "lastEventIdParam") {
        b = b.last_event_id_param(name);
    }
    if let Some(n) = get(o, "maxEventSize").as_f64() {
        b = b.max_event_size(n as usize);
    }
    // `""`: the default key (see `ClientBuilder::share_by_request`).
    if let Some(key) = string(o, "share") {
        b = b.share(key);
    }
    if let Ok(types) = get(o, "eventTypes").dyn_into::<Array>() {
        b = b.event_types(types.iter().filter_map(|t| t.as_string()));
    }
    Ok(b)
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

fn ms(millis: f64) -> Duration {
    // Saturating: negative and NaN become zero (the JS layer refuses them first).
    Duration::from_millis(millis as u64)
}

fn millis(object: &JsValue, key: &str) -> Option<Duration> {
    get(object, key).as_f64().map(ms)
}

/// A flat `[name, value, ...]` array as pairs (anything else: none).
fn pairs(value: &JsValue) -> Vec<(String, String)> {
    let Some(array) = value.dyn_ref::<Array>() else {
        return Vec::new();
    };
    // Paired as they come (an odd string out is dropped): no intermediate `Vec` of strings
    // to clone from, and no indexing.
    let mut strings = array.iter().filter_map(|v| v.as_string());
    let mut pairs = Vec::new();
    while let (Some(name), Some(value)) = (strings.next(), strings.next()) {
        pairs.push((name, value));
    }
    pairs
}

/// The message of a thrown JS value (an `Error`'s `message`, or the value as a string).
fn message_of(thrown: JsValue) -> String {
    string(&thrown, "message")
        .or_else(|| thrown.as_string())
        .unwrap_or_default()
}

fn int(n: impl Into<f64>) -> JsValue {
    JsValue::from_f64(n.into())
}

fn duration(d: Duration) -> JsValue {
    // Whole milliseconds without `as_millis`'s `u128` arithmetic (exact below 2^53 ms).
    JsValue::from_f64(d.as_secs() as f64 * 1000.0 + f64::from(d.subsec_millis()))
}

/// `[type, status, detail]` of a failure; the JS layer writes the message.
fn failure(f: &Failure) -> [JsValue; 3] {
    let none = JsValue::UNDEFINED;
    let kind = f.kind().into();
    match f {
        Failure::Status {
            status,
            retry_after,
        } => [kind, int(*status), retry_after.map_or(none, duration)],
        Failure::ContentType(received) => [kind, none, received.into()],
        _ => [kind, none.clone(), none],
    }
}

/// A lifecycle change as the array `npm/client.js` reads, named by [`Lifecycle::name`]:
///
/// * `["connecting", attempt, delayMs, transport]`
/// * `["open", transport]`
/// * `["failure", type, status, detail]`: the connection was lost; a retry follows
/// * `["downgraded", from, to, reason]`: a silent stream; the next connection uses `to`
/// * `["too-large", limit]`
/// * `["shared", role, previous]`: `"leader"`, `"follower"` or `null`
/// * `["closed"]` (requested) or `["closed", type, status, detail, count, lastType]`
///   (`["closed", "invalid-option", undefined, detail, option]` for a bad option)
///
/// Types are [`Failure::kind`], [`StopReason::kind`] and [`Error::kind`]; transports,
/// [`TransportKind::as_str`].
fn encode(change: &Lifecycle) -> Array {
    // Pushed straight onto the JS array: no `Vec` of `JsValue`s to grow, move and free.
    let items = Array::new();
    let push = |item: JsValue| {
        items.push(&item);
    };
    push(change.name().into());
    match change {
        Lifecycle::Connecting {
            attempt,
            delay,
            transport,
        } => {
            push(int(*attempt));
            push(duration(*delay));
            push(transport.as_str().into());
        }
        Lifecycle::Open { transport } => push(transport.as_str().into()),
        Lifecycle::Reconnecting { reason } => failure(reason).into_iter().for_each(push),
        Lifecycle::EventTooLarge { limit } => push(int(*limit as f64)),
        Lifecycle::Shared { role, previous } => {
            let name = |role: &Option<ShareRole>| role.map_or(JsValue::NULL, |r| r.as_str().into());
            push(name(role));
            push(name(previous));
        }
        // The switch to long polling.
        Lifecycle::Downgraded { from, to, reason } => {
            push(from.as_str().into());
            push(to.as_str().into());
            push(reason.into());
        }
        Lifecycle::Closed { reason } => match reason {
            CloseReason::Requested => {}
            CloseReason::Ended => push(CloseReason::ENDED.into()),
            CloseReason::Stopped(stop) => match stop {
                StopReason::NoContent => push(stop.kind().into()),
                StopReason::Fatal(f) => failure(f).into_iter().for_each(push),
                StopReason::AttemptsExhausted { attempts, last } => {
                    let [last, status, detail] = failure(last);
                    push(stop.kind().into());
                    push(status);
                    push(detail);
                    push(int(*attempts));
                    push(last);
                }
                StopReason::ElapsedExhausted { elapsed, last } => {
                    let [last, status, detail] = failure(last);
                    push(stop.kind().into());
                    push(status);
                    push(detail);
                    push(duration(*elapsed));
                    push(last);
                }
            },
            CloseReason::Error(error) => {
                push(error.kind().into());
                push(JsValue::UNDEFINED);
                push(detail(error).into());
                if let Error::InvalidOption { option, .. } = error {
                    push((*option).into());
                }
            }
            // A reason these bindings do not know: reported as a requested close.
            _ => {}
        },
        // A change these bindings do not know: its name alone, which `npm/client.js` ignores.
        _ => {}
    }
    items
}

/// The error's details without `format!` (the JS layer writes the message).
fn detail(error: &Error) -> &str {
    match error {
        Error::InvalidUrl { reason, .. } | Error::InvalidOption { reason, .. } => reason,
        Error::Unsupported(s) | Error::HeaderProvider(s) | Error::Js(s) => s,
        _ => "",
    }
}

/// A JS `Error` with the error's details as message and its kind in `type`.
fn to_js_error(error: Error) -> JsValue {
    let js = js_sys::Error::new(detail(&error));
    let _ = Reflect::set(&js, &"type".into(), &error.kind().into());
    if let Error::InvalidOption { option, .. } = error {
        let _ = Reflect::set(&js, &"option".into(), &option.into());
    }
    js.into()
}
