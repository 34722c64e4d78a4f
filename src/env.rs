//! What the JavaScript environment offers: feature detection, clock and randomness.
//! Works in windows, workers and Node (no `window` assumed).

use std::time::Duration;

use js_sys::{global, Reflect};
use wasm_bindgen::JsValue;

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
