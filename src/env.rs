//! What the JavaScript environment offers: feature detection, clock and randomness.
//! Works in windows, workers and Node (no `window` assumed).

use alloc::string::String;

use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use js_sys::{global, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()` (High Resolution Time): windows, workers and Node have it.
    #[wasm_bindgen(js_namespace = performance, js_name = now, catch)]
    fn performance_now() -> Result<f64, JsValue>;

    /// The WHATWG `URL` class, for resolving and comparing origins.
    #[wasm_bindgen(js_name = URL)]
    type JsUrl;

    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn new(url: &str, base: &str) -> Result<JsUrl, JsValue>;

    #[wasm_bindgen(method, getter)]
    fn origin(this: &JsUrl) -> String;

    /// The global `setTimeout` (windows, workers, Node); its handle is a number in
    /// browsers and an object in Node.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Closure<dyn FnMut()>, millis: u32) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A future that completes `millis` milliseconds after its creation, on the global
/// `setTimeout`; dropping it clears the timeout.
pub(crate) struct Sleep {
    handle: JsValue,
    /// Whether the timeout ran, and the waker of the task waiting for it.
    state: Rc<Cell<(bool, Option<Waker>)>>,
    _handler: Closure<dyn FnMut()>,
}

impl Sleep {
    pub(crate) fn new(millis: u32) -> Self {
        let state: Rc<Cell<(bool, Option<Waker>)>> = Rc::new(Cell::new((false, None)));
        let fired = Rc::clone(&state);
        let handler = Closure::new(move || {
            if let (_, Some(waker)) = fired.replace((true, None)) {
                waker.wake();
            }
        });
        Self {
            handle: set_timeout(&handler, millis),
            state,
            _handler: handler,
        }
    }
}

/// [`Sleep`] for `duration` (whole milliseconds, at most `u32::MAX`).
pub(crate) fn sleep(duration: Duration) -> Sleep {
    Sleep::new(u32::try_from(crate::engine::text::whole_millis(duration)).unwrap_or(u32::MAX))
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (fired, _) = self.state.take();
        if fired {
            self.state.set((true, None));
            Poll::Ready(())
        } else {
            self.state.set((false, Some(cx.waker().clone())));
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// Whether the global object has a property `name`.
fn has_global(name: &str) -> bool {
    Reflect::has(&global(), &JsValue::from_str(name)).unwrap_or(false)
}

/// Whether a native `EventSource` exists (browsers; not Node 20, not service workers).
pub(crate) fn has_event_source() -> bool {
    has_global("EventSource")
}

/// Whether `fetch` exists and response bodies can be read as streams.
pub(crate) fn has_fetch_streams() -> bool {
    if !has_global("fetch") || !has_global("ReadableStream") {
        return false;
    }
    Reflect::get(&global(), &JsValue::from_str("Response"))
        .and_then(|response| Reflect::get(&response, &JsValue::from_str("prototype")))
        .and_then(|prototype| Reflect::has(&prototype, &JsValue::from_str("body")))
        .unwrap_or(false)
}

/// Whether `url`, resolved against the page's (or worker's) location, has the same origin
/// as that location. False where there is no location (Node) or the URL does not parse.
pub(crate) fn is_same_origin(url: &str) -> bool {
    let Ok(location) = Reflect::get(&global(), &JsValue::from_str("location")) else {
        return false;
    };
    let field = |name: &str| {
        Reflect::get(&location, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    let (Some(href), Some(origin)) = (field("href"), field("origin")) else {
        return false;
    };
    JsUrl::new(url, &href).is_ok_and(|resolved| resolved.origin() == origin)
}

/// The monotonic clock the engine runs on: `performance.now()` (windows, workers, Node),
/// which a change of the wall clock does not move. `Date.now()` only where there is no
/// `performance`.
pub(crate) fn now() -> Duration {
    let millis = performance_now().unwrap_or_else(|_| js_sys::Date::now());
    // A float-to-integer `as` saturates (and maps NaN to 0): no panic path in the wasm.
    Duration::from_micros((millis * 1000.0) as u64)
}

/// The wall clock in milliseconds since the Unix epoch, for HTTP dates (`Retry-After`).
pub(crate) fn wall_ms() -> f64 {
    js_sys::Date::now()
}

/// A seed for the backoff jitter.
pub(crate) fn random_seed() -> u64 {
    // Two draws: `Math.random()` carries 52 bits at most.
    let high = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    let low = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    (high << 32) | low
}
