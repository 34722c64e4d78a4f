//! Page-lifecycle signals: `online`, `offline`, `pageshow` (back/forward cache) and
//! `visibilitychange`, turned into messages for the client's driver.
//!
//! The listeners are owned by [`PageEvents`] and removed when it is dropped. Outside a page
//! (Node, workers without these events) nothing is registered. [`Listeners`] is how both
//! this and the cross-tab sharing own their page listeners.

use alloc::vec::Vec;

use crate::channel::UnboundedSender;
use js_sys::{global, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::EventTarget;

pub(crate) use crate::engine::PageSignal;

/// A listener of page events.
pub(crate) type Listener = Closure<dyn FnMut(web_sys::Event)>;

/// Listeners added to page targets (the global object, `document`), each removed when this
/// is dropped; the closures go with the list, once no target holds them.
#[derive(Default)]
pub(crate) struct Listeners(Vec<(EventTarget, &'static str, Listener)>);

impl Listeners {
    /// Adds `listener` to `target` for `name` events.
    pub(crate) fn add(&mut self, target: &EventTarget, name: &'static str, listener: Listener) {
        let _ = target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        self.0.push((target.clone(), name, listener));
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for (target, name, listener) in &self.0 {
            let _ =
                target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
    }
}

/// The page-lifecycle listeners of one client.
pub(crate) struct PageEvents {
    registered: Listeners,
}

impl PageEvents {
    /// Listens on the global object (and `document` for visibility, when `visibility`),
    /// sending each signal into `sink` as a `T` (the driver's command channel takes them
    /// directly: no channel and forwarding task of their own).
    pub(crate) fn listen<T: From<PageSignal> + 'static>(
        sink: UnboundedSender<T>,
        visibility: bool,
    ) -> Self {
        let mut this = Self {
            registered: Listeners::default(),
        };
        let Ok(target) = global().dyn_into::<EventTarget>() else {
            return this; // Node 20's global object is no EventTarget: no page, no signals.
        };
        let send = |signal: fn(&web_sys::Event) -> Option<PageSignal>| {
            let sink = sink.clone();
            Closure::new(move |event: web_sys::Event| {
                if let Some(signal) = signal(&event) {
                    let _ = sink.unbounded_send(signal.into());
                }
            })
        };
        this.registered
            .add(&target, "online", send(|_| Some(PageSignal::Online)));
        this.registered
            .add(&target, "offline", send(|_| Some(PageSignal::Offline)));
        this.registered.add(
            &target,
            "pageshow",
            send(|event| {
                let persisted = Reflect::get(event, &JsValue::from_str("persisted"))
                    .ok()
                    .and_then(|p| p.as_bool())
                    .unwrap_or(false);
                persisted.then_some(PageSignal::Restored)
            }),
        );
        if visibility {
            if let Some(document) = document() {
                let hidden_of = document.clone();
                let sink = sink.clone();
                let listener: Listener = Closure::new(move |_event: web_sys::Event| {
                    let _ = sink.unbounded_send(PageSignal::Hidden(is_hidden(&hidden_of)).into());
                });
                this.registered.add(&document, "visibilitychange", listener);
            }
        }
        this
    }
}

/// `navigator.onLine`, or `true` where there is no such thing.
pub(crate) fn is_online() -> bool {
    Reflect::get(&global(), &JsValue::from_str("navigator"))
        .and_then(|navigator| Reflect::get(&navigator, &JsValue::from_str("onLine")))
        .ok()
        .and_then(|online| online.as_bool())
        .unwrap_or(true)
}

/// `document.hidden` at this moment (`false` outside a page).
pub(crate) fn page_hidden() -> bool {
    document().is_some_and(|d| is_hidden(&d))
}

/// The global `document`, where there is one.
pub(crate) fn document() -> Option<EventTarget> {
    Reflect::get(&global(), &JsValue::from_str("document"))
        .ok()
        .and_then(|d| d.dyn_into::<EventTarget>().ok())
}

fn is_hidden(document: &EventTarget) -> bool {
    Reflect::get(document, &JsValue::from_str("hidden"))
        .ok()
        .and_then(|h| h.as_bool())
        .unwrap_or(false)
}
