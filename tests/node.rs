//! The transport matrix in Node 20, which has `fetch` but no `EventSource`: every scenario
//! of `tests/scenarios` over fetch streaming and long polling, automatic selection, and the
//! downgrade behind a buffering proxy. No `run_in_browser`: wasm-bindgen-test runs this file
//! in Node.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

mod common;
mod scenarios;

use std::time::Duration;

use futures::StreamExt;
use wasm_bindgen_test::wasm_bindgen_test;
use wasm_sse::{Client, Lifecycle, TransportKind};

use common::{fresh_topic, publish, server, within};

scenarios_for!(fetch, TransportKind::Fetch);
scenarios_for!(long_poll, TransportKind::LongPoll);

#[wasm_bindgen_test]
async fn auto_selects_fetch_streaming_in_node() {
    let topic = fresh_topic("n-auto");
    let id = publish(&topic, r#"{"data":"hi"}"#).await;
    let client = Client::builder(format!("{}/events?topic={topic}", server()))
        .last_event_id("0")
        .connect()
        .unwrap();
    let mut lifecycle = client.lifecycle();
    let event = within(10, client.events().next()).await.unwrap();
    assert_eq!((event.data.as_str(), event.last_event_id), ("hi", id));
    assert_eq!(client.transport(), Some(TransportKind::Fetch));
    assert_eq!(
        within(5, lifecycle.next()).await,
        Some(Lifecycle::Connecting {
            attempt: 0,
            delay: Duration::ZERO,
            transport: TransportKind::Fetch
        })
    );
}

#[wasm_bindgen_test]
async fn buffering_proxy_downgrades_fetch_to_long_poll() {
    scenarios::downgrade(TransportKind::Fetch, false).await;
}

#[wasm_bindgen_test]
async fn forced_transport_is_not_downgraded() {
    scenarios::forced_transport_is_not_downgraded().await;
}
