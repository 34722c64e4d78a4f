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

type MessageListener = Closure<dyn FnMut(String, String)>;

/// A closure registered as a listener: held only so that it lives until it is removed.
#[allow(dead_code)]
enum Owned {
    /// Of `open` or `error`: what matters is that it fired.
    Control(Closure<dyn FnMut()>),
    /// Of a message type, called by `listenMessages` with the event's data and ID.
    Message(MessageListener),
}

// A message listener reads the two fields the client needs in JS and crosses into wasm once
// with both: from wasm, each field would cost a call back into JS of its own.
#[wasm_bindgen(inline_js = "export function listenMessages(s, t, f) { \
    const l = (e) => f(e.data, e.lastEventId); s.addEventListener(t, l); return l; }")]
extern "C" {
    /// Adds a listener of type `name` to `source` that calls `deliver(data, lastEventId)`;
    /// returns the listener, for `removeEventListener`.
    #[wasm_bindgen(js_name = listenMessages)]
    fn listen(source: &EventSource, name: &str, deliver: &MessageListener) -> js_sys::Function;
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
        let sink = self.sink.clone();
        // The listener knows its type: no need to read `event.type` back from JS.
        let event_type = name.to_owned();
        let deliver: MessageListener = Closure::new(move |data, last_event_id| {
            // The strings come from JS newly allocated; the type's buffer is the one thing
            // the last event delivered can lend.
            let event = match sink.take_spare() {
                Some(mut spare) => {
                    spare.event_type.clone_from(&event_type);
                    spare.data = data;
                    spare.last_event_id = last_event_id;
                    spare
                }
                None => Event {
                    event_type: event_type.clone(),
                    data,
                    last_event_id,
                },
            };
            let _ = sink.unbounded_send(TransportEvent::Event(event));
        });
        let listener = listen(&self.source, name, &deliver);
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
        for (name, listener, _closure) in self.listeners.drain(..) {
            let _ = self
                .source
                .remove_event_listener_with_callback(&name, &listener);
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
