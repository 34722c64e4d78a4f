//! The npm package's API: the only place with `#[wasm_bindgen]` exports.
//!
//! `SseClient` mirrors the browser's
//! [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource) so that code
//! written for it runs unchanged, on top of the Rust [`Client`].
// `#[wasm_bindgen]` expands to `unsafe` blocks; this module holds no hand-written unsafe code.
#![allow(unsafe_code)]
// Its `pub` items are exported to JavaScript by wasm-bindgen, not to Rust crates.
#![allow(unreachable_pub)]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::{Client, Event, Handler, ReadyState};

#[cfg(feature = "bench")]
mod bench;

/// The version of the wasm-sse package, read from the compiled module.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

type Listeners = Rc<RefCell<Vec<(String, Function)>>>;

/// An `EventSource`-compatible Server-Sent Events client.
#[wasm_bindgen]
pub struct SseClient {
    client: Client,
    listeners: Listeners,
    _handler: Handler,
}

#[wasm_bindgen]
impl SseClient {
    /// Opens a connection to `url`, like `new EventSource(url)`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String) -> Result<SseClient, JsValue> {
        let client = Client::connect(url).map_err(to_js_error)?;
        let listeners: Listeners = Rc::default();
        let registered = Rc::clone(&listeners);
        // Listeners run synchronously in the event's own task, as with `EventSource`.
        let handler = client.on_any(move |event| {
            // Listeners may add or remove listeners: call a snapshot, not the live list.
            let targets: Vec<Function> = registered
                .borrow()
                .iter()
                .filter(|(name, _)| *name == event.event_type)
                .map(|(_, f)| f.clone())
                .collect();
            if targets.is_empty() {
                return;
            }
            let object = to_js_event(event);
            for target in targets {
                if let Err(error) = target.call1(&JsValue::NULL, &object) {
                    // A throwing listener must not stop the others (as with EventTarget).
                    report_error(&error);
                }
            }
        });
        Ok(SseClient {
            client,
            listeners,
            _handler: handler,
        })
    }

    /// The URL given to the constructor.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.client.url().to_owned()
    }

    /// `0` connecting, `1` open, `2` closed, as `EventSource.readyState`.
    #[wasm_bindgen(getter, js_name = readyState)]
    pub fn ready_state(&self) -> u16 {
        match self.client.ready_state() {
            ReadyState::Connecting => 0,
            ReadyState::Open => 1,
            ReadyState::Closed => 2,
        }
    }

    /// Calls `listener` with every event of type `type`.
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(&self, event_type: String, listener: Function) {
        let mut listeners = self.listeners.borrow_mut();
        if listeners
            .iter()
            .any(|(n, f)| *n == event_type && *f == listener)
        {
            return;
        }
        self.client.listen_for(&event_type);
        listeners.push((event_type, listener));
    }

    /// Stops calling `listener` for events of type `type`.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(&self, event_type: String, listener: Function) {
        self.listeners
            .borrow_mut()
            .retain(|(n, f)| !(*n == event_type && *f == listener));
    }

    /// Closes the connection for good.
    pub fn close(&self) {
        self.client.close();
    }
}

/// The object a listener receives: the fields of a `MessageEvent` that SSE uses.
fn to_js_event(event: &Event) -> JsValue {
    let object = Object::new();
    let set = |key: &str, value: &str| {
        let _ = Reflect::set(&object, &key.into(), &value.into());
    };
    set("type", &event.event_type);
    set("data", &event.data);
    set("lastEventId", &event.last_event_id);
    object.into()
}

/// Reports an exception thrown by a listener without interrupting the others, the way
/// `EventTarget` does (`reportError`, or the console where it is missing).
fn report_error(error: &JsValue) {
    let global = js_sys::global();
    match Reflect::get(&global, &"reportError".into()).map(JsCast::dyn_into::<Function>) {
        Ok(Ok(report)) => {
            let _ = report.call1(&JsValue::NULL, error);
        }
        _ => web_sys::console::error_1(error),
    }
}

/// A JS `Error` with the error's message and its kind in `type`.
fn to_js_error(error: crate::Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    let _ = Reflect::set(&js, &"type".into(), &error.kind().into());
    js.into()
}
