//! The native transport: the browser's
//! [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource).
//!
//! The struct owns every listener closure it registers; dropping it removes them and
//! closes the `EventSource`, so a reconnecting client never leaks a closure
//! (no `Closure::forget`).

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, EventSourceInit};

use super::{Request, Sink, TransportEvent};
use crate::Error;

/// A message listener's way into wasm: `(ID length, data length)` of an event written into
/// its scratch buffer, answered with `0`; or [`GROW`] and a size, answered with the address
/// of a new buffer of that size.
type MessageListener = Closure<dyn FnMut(u32, u32) -> u32>;

/// The first argument of a [`MessageListener`] call asking for a larger buffer.
const GROW: u32 = u32::MAX;

/// The bytes of a message listener's scratch buffer until an event needs more.
const SCRATCH_BYTES: usize = 1024;

/// A closure registered as a listener: held only so that it lives until it is removed.
#[allow(dead_code)]
enum Owned {
    /// Of `open` or `error`: what matters is that it fired.
    Control(Closure<dyn FnMut()>),
    /// Of a message type, called by `listenMessages`.
    Message(MessageListener),
}

// A message listener reads the two fields the client needs in JS and writes them, UTF-8
// encoded, straight into a scratch buffer in wasm memory that its closure owns; only their
// lengths cross into wasm. Passing strings would cost a crossing and an allocation in wasm
// for each, and the previous event's strings freed: this way the client's event reuses its
// buffers. ASCII, the common case, is copied by a loop (cheaper than `encodeInto` for short
// strings). The buffer holds 3 bytes per UTF-16 unit, UTF-8's worst case, so everything
// fits; it is made larger first where an event needs it. A view of wasm memory goes stale
// (length 0) when the memory grows, so it is made again.
#[wasm_bindgen(inline_js = "const enc = new TextEncoder(); \
export function listenMessages(s, t, f, m, p, c) { \
    let v = new Uint8Array(m.buffer, p, c); \
    const put = (x, o) => { const n = x.length; for (let j = 0; j < n; j++) { \
        const k = x.charCodeAt(j); if (k > 127) return enc.encodeInto(x, v.subarray(o)).written; \
        v[o + j] = k; } return n; }; \
    const l = (e) => { const d = e.data, i = e.lastEventId, n = 3 * (d.length + i.length); \
        if (n > c) { p = f(-1, c = n); v = new Uint8Array(m.buffer, p, c); } \
        else if (v.length === 0) v = new Uint8Array(m.buffer, p, c); \
        const a = put(i, 0); f(a, put(d, a)); }; \
    s.addEventListener(t, l); return l; }")]
extern "C" {
    /// Adds a listener of type `name` to `source` that writes each event's ID and then its
    /// data into the `capacity` bytes at `scratch` in `memory` and calls `deliver` (see
    /// [`MessageListener`]); returns the listener, for `removeEventListener`.
    #[wasm_bindgen(js_name = listenMessages)]
    fn listen(
        source: &EventSource,
        name: &str,
        deliver: &MessageListener,
        memory: &wasm_bindgen::JsValue,
        scratch: u32,
        capacity: u32,
    ) -> js_sys::Function;
}

/// A live `EventSource` and the listeners it feeds.
pub(crate) struct NativeEventSource {
    source: EventSource,
    sink: Sink,
    /// `(event type, JS listener, closure)`, removed again on drop.
    listeners: Vec<(String, js_sys::Function, Owned)>,
}

impl NativeEventSource {
    /// Opens `url` and listens for `open`, `error`, `message` and each of `event_types`.
    pub(crate) fn open(request: &Request, sink: Sink) -> Result<Self, Error> {
        let init = EventSourceInit::new();
        init.set_with_credentials(request.with_credentials);
        let source =
            EventSource::new_with_event_source_init_dict(&request.url, &init).map_err(|e| {
                Error::InvalidUrl {
                    url: request.url.clone(),
                    reason: js_message(&e),
                }
            })?;
        let mut this = Self {
            source,
            sink,
            listeners: Vec::new(),
        };
        this.listen_control("open");
        this.listen_control("error");
        this.add_event_type("message");
        for name in &request.event_types {
            this.add_event_type(name);
        }
        Ok(this)
    }

    /// Starts delivering events of type `name` (`EventSource` has no wildcard listener).
    pub(crate) fn add_event_type(&mut self, name: &str) {
        if self.listeners.iter().any(|(n, ..)| n == name) {
            return;
        }
        // The listener knows its type: no need to read `event.type` back from JS.
        let sink = self.sink.clone();
        let event_type = name.to_owned();
        // Never pushed to, so its address, where the listener writes, stays put.
        let mut scratch = vec![0_u8; SCRATCH_BYTES];
        let address = scratch.as_ptr() as u32;
        let deliver: MessageListener = Closure::new(move |id_len: u32, data_len: u32| {
            if id_len == GROW {
                scratch = vec![0; data_len as usize];
                return scratch.as_ptr() as u32;
            }
            // The listener wrote UTF-8 within the buffer; checking costs a pass over bytes
            // already in cache, and keeps this free of `unsafe`.
            let fields = scratch
                .split_at_checked(id_len as usize)
                .and_then(|(id, rest)| Some((id, rest.get(..data_len as usize)?)));
            if let Some((Ok(id), Ok(data))) =
                fields.map(|(id, data)| (core::str::from_utf8(id), core::str::from_utf8(data)))
            {
                let event = sink.event(&event_type, id, data);
                let _ = sink.unbounded_send(TransportEvent::Event(event));
            }
            0
        });
        let memory = wasm_bindgen::memory();
        let listener = listen(
            &self.source,
            name,
            &deliver,
            &memory,
            address,
            SCRATCH_BYTES as u32,
        );
        self.listeners
            .push((name.to_owned(), listener, Owned::Message(deliver)));
    }

    fn listen_control(&mut self, name: &str) {
        let sink = self.sink.clone();
        let source = self.source.clone();
        let is_open = name == "open";
        let listener = Closure::<dyn FnMut()>::new(move || {
            let report = if is_open {
                TransportEvent::Open
            } else if source.ready_state() == EventSource::CLOSED {
                TransportEvent::Rejected
            } else {
                TransportEvent::Interrupted
            };
            let _ = sink.unbounded_send(report);
        });
        let function: &js_sys::Function = listener.as_ref().unchecked_ref();
        // `addEventListener` only throws for a non-callable listener, which a Closure never is.
        let _ = self.source.add_event_listener_with_callback(name, function);
        self.listeners
            .push((name.to_owned(), function.clone(), Owned::Control(listener)));
    }
}

impl Drop for NativeEventSource {
    fn drop(&mut self) {
        // The closures go with the list, once the source no longer holds them.
        for (name, listener, _) in &self.listeners {
            let _ = self
                .source
                .remove_event_listener_with_callback(name, listener);
        }
        self.source.close();
    }
}

/// The message of a thrown JS value, for error reports.
pub(crate) fn js_message(value: &wasm_bindgen::JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        // Not `{value:?}`: that links wasm-bindgen's debug formatter (Rust and JS) for a
        // case the browser APIs never produce (they throw `Error`s).
        .or_else(|| js_sys::JSON::stringify(value).ok()?.as_string())
        .unwrap_or_default()
}
