//! The transport matrix in headless Chromium: every scenario of `tests/scenarios` over each
//! of the three transports, forced one at a time, plus the downgrade from each streaming
//! transport to long polling behind a buffering proxy.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod scenarios;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse::TransportKind;

wasm_bindgen_test_configure!(run_in_browser);

scenarios_for!(eventsource, TransportKind::EventSource);
scenarios_for!(fetch, TransportKind::Fetch);
scenarios_for!(long_poll, TransportKind::LongPoll);

/// Automatic selection picks `EventSource` here; a buffering proxy makes it switch.
#[wasm_bindgen_test]
async fn buffering_proxy_downgrades_eventsource_to_long_poll() {
    scenarios::downgrade(TransportKind::EventSource, false).await;
}

/// A custom header makes automatic selection pick fetch streaming; it switches too.
#[wasm_bindgen_test]
async fn buffering_proxy_downgrades_fetch_to_long_poll() {
    scenarios::downgrade(TransportKind::Fetch, true).await;
}

#[wasm_bindgen_test]
async fn forced_transport_is_not_downgraded() {
    scenarios::forced_transport_is_not_downgraded().await;
}
