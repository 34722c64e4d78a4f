//! The Rust example of the testing guide (docs/testing.md): an application's own browser tests
//! against the dev server's fault scenarios, with wasm-bindgen-test in headless Chromium. The
//! dev server replays tests/guide/orders.sse on `/orders` (scripts/test.sh starts it with
//! `--replay`). The code between the `guide:` markers is the guide's code block, verbatim
//! (scripts/check-docs.mjs compares them).
#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)]

// guide:start rust
use std::time::Duration;

use futures::StreamExt;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse::reconnect::{Failure, ReconnectPolicy, StopReason};
use wasm_sse::{Client, CloseReason, Lifecycle};

wasm_bindgen_test_configure!(run_in_browser);

/// The dev server's address, handed over at compile time (`SSE_DEVSERVER_URL=... cargo test`).
fn server() -> &'static str {
    option_env!("SSE_DEVSERVER_URL").unwrap_or("http://127.0.0.1:8080")
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Order {
    id: u32,
    state: String,
}

/// `closeAfter=2`: the server ends the stream after every second event. The client resumes
/// after the last event it delivered, so the app sees each order once, in order.
#[wasm_bindgen_test]
async fn every_order_arrives_once_through_dropped_connections() {
    let client = Client::builder(format!("{}/orders?closeAfter=2", server()))
        .reconnect(ReconnectPolicy::new().initial_delay(Duration::from_millis(50)))
        .connect()
        .expect("valid options");
    let orders: Vec<(u32, String)> = client
        .subscribe_json::<Order>("order")
        .take(5)
        .map(|message| {
            let order = message.expect("valid JSON").data;
            (order.id, order.state)
        })
        .collect()
        .await;
    let expected = [(1, "new"), (2, "new"), (1, "paid"), (3, "new"), (2, "paid")];
    assert_eq!(orders, expected.map(|(id, state)| (id, state.to_string())));
    assert_eq!(client.last_event_id(), "5");
}

/// `status=401`: a session that expired. The client stops with a typed error instead of
/// retrying for ever.
#[wasm_bindgen_test]
async fn an_expired_session_stops_the_client_with_a_typed_error() {
    let client = Client::connect(format!("{}/orders?status=401", server())).expect("valid URL");
    // The lifecycle stream ends when the client closes.
    let changes: Vec<Lifecycle> = client.lifecycle().collect().await;
    let unauthorized = |reason: &CloseReason| {
        matches!(
            reason,
            CloseReason::Stopped(StopReason::Fatal(Failure::Status { status: 401, .. }))
        )
    };
    assert!(
        changes
            .iter()
            .any(|change| matches!(change, Lifecycle::Closed { reason } if unauthorized(reason))),
        "{changes:?}"
    );
}
// guide:end rust
