//! The native transport: the browser's
//! [`EventSource`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource).
//!
//! The struct owns every listener closure it registers; dropping it removes them and
//! closes the `EventSource`, so a reconnecting client never leaks a closure
//! (no `Closure::forget`).

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, EventSourceInit};

use super::{Request, Sink, TransportEvent};
use crate::{Error, Event};

type Listener = Closure<dyn FnMut(web_sys::Event)>;

#[wasm_bindgen]
extern "C" {
    /// A `MessageEvent` from an `EventSource`, read with exactly the calls the client needs.
    #[wasm_bindgen(extends = web_sys::Event)]
    type MessageSource;

    /// `event.data`: always a string for server-sent events.
    #[wasm_bindgen(method, getter, js_name = data)]
    fn data_string(this: &MessageSource) -> Option<String>;

    /// `event.lastEventId`.
    #[wasm_bindgen(method, getter, js_name = lastEventId)]
    fn last_event_id(this: &MessageSource) -> String;
}

/// A live `EventSource` and the listeners it feeds.
pub(crate) struct NativeEventSource {
    source: EventSource,
    sink: Sink,
    /// `(event type, closure)`, removed again on drop.
    listeners: Vec<(String, Listener)>,
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
        if self.listeners.iter().any(|(n, _)| n == name) {
            return;
        }
        let sink = self.sink.clone();
        // The listener knows its type: no need to read `event.type` back from JS.
        let event_type = name.to_owned();
        let listener: Listener = Closure::new(move |event: web_sys::Event| {
            // Only `MessageEvent`s are dispatched for these types; skipping the `instanceof`
            // check and reading `data` as a string in one call each keeps the number of
            // JS/wasm crossings per event at three (the call itself and two reads).
            let message: MessageSource = event.unchecked_into();
            let event = Event {
                event_type: event_type.clone(),
                data: message.data_string().unwrap_or_default(),
                last_event_id: message.last_event_id(),
            };
            let _ = sink.unbounded_send(TransportEvent::Event(event));
        });
        self.register(name, listener);
    }

    fn listen_control(&mut self, name: &str) {
        let sink = self.sink.clone();
        let source = self.source.clone();
        let is_open = name == "open";
        let listener: Listener = Closure::new(move |_event: web_sys::Event| {
            let report = if is_open {
                TransportEvent::Open
            } else if source.ready_state() == EventSource::CLOSED {
                TransportEvent::Rejected
            } else {
                TransportEvent::Interrupted
            };
            let _ = sink.unbounded_send(report);
        });
        self.register(name, listener);
    }

    fn register(&mut self, name: &str, listener: Listener) {
        // `addEventListener` only throws for a non-callable listener, which a Closure never is.
        let _ = self
            .source
            .add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        self.listeners.push((name.to_owned(), listener));
    }
}

impl Drop for NativeEventSource {
    fn drop(&mut self) {
        for (name, listener) in self.listeners.drain(..) {
            let _ = self
                .source
                .remove_event_listener_with_callback(&name, listener.as_ref().unchecked_ref());
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
