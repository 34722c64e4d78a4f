//! Browser tests: the crate's public API in headless Chromium against the real dev server.
//!
//! `scripts/test.sh` starts `sse-devserver` on a free loopback port and hands its URL to
//! this test at compile time in `SSE_DEVSERVER_URL`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{fresh_topic, publish, server, within};

use futures::StreamExt;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse::{Client, Event};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn receives_the_exact_events_from_the_dev_server() {
    let topic = fresh_topic("skeleton");
    let a = publish(&topic, r#"{"data":"hello"}"#).await;
    let b = publish(&topic, r#"{"event":"greeting","data":{"to":"world"}}"#).await;
    let c = publish(&topic, r#"{"data":"line one\nline two"}"#).await;

    // `lastEventId=0` asks the dev server to replay its topic from the start.
    let url = format!("{}/events?topic={topic}&lastEventId=0", server());
    let client = Client::builder(url)
        .event_types(["greeting"])
        .connect()
        .unwrap();
    let received: Vec<Event> = within(10, client.events().take(3).collect()).await;
    assert_eq!(
        received,
        vec![
            Event::new("message", "hello", a),
            Event::new("greeting", r#"{"to":"world"}"#, b),
            Event::new("message", "line one\nline two", c),
        ]
    );
}
