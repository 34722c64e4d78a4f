//! What the JavaScript environment offers: feature detection, clock and randomness.
//! Works in windows, workers and Node (no `window` assumed).

use std::time::Duration;

use js_sys::{global, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen]
extern "C" {
    /// The WHATWG `URL` class, for resolving and comparing origins.
    #[wasm_bindgen(js_name = URL)]
    type JsUrl;

    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn new(url: &str, base: &str) -> Result<JsUrl, JsValue>;

    #[wasm_bindgen(method, getter)]
    fn origin(this: &JsUrl) -> String;
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

/// Milliseconds since the epoch as a `Duration`: the clock the reconnection policy runs on.
pub(crate) fn now() -> Duration {
    Duration::from_millis(js_sys::Date::now() as u64)
}

/// A seed for the backoff jitter.
pub(crate) fn random_seed() -> u64 {
    // Two draws: `Math.random()` carries 52 bits at most.
    let high = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    let low = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    (high << 32) | low
}
