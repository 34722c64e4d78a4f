//! Helpers shared by the browser and Node tests: a quick reconnection policy, publishing in
//! bulk, the lifecycle until closed. The dev server's URL, publishing and timeouts come from
//! `wasm_sse_test_support::browser`, which the Leptos and Yew tests share.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

// Each test crate uses some of these.
#[allow(unused_imports)]
pub use wasm_sse_test_support::browser::{before, fresh_topic, publish, server, within};

/// A policy that reconnects fast and deterministically.
pub fn quick() -> wasm_sse::reconnect::ReconnectPolicy {
    wasm_sse::reconnect::ReconnectPolicy::new()
        .initial_delay(Duration::from_millis(20))
        .jitter(false)
}

/// Publishes `n` message events with data `e0..e{n-1}`; returns their ids.
pub async fn publish_many(topic: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(publish(topic, &format!(r#"{{"data":"e{i}"}}"#)).await);
    }
    ids
}

/// Lifecycle changes until the client closes.
pub async fn until_closed(client: &wasm_sse::Client) -> Vec<wasm_sse::Lifecycle> {
    use futures::StreamExt;
    within(20, client.lifecycle().collect::<Vec<_>>()).await
}

/// Why the client closed, from its lifecycle changes.
pub fn closed_reason(changes: &[wasm_sse::Lifecycle]) -> Option<wasm_sse::CloseReason> {
    changes.iter().find_map(|c| match c {
        wasm_sse::Lifecycle::Closed { reason } => Some(reason.clone()),
        _ => None,
    })
}
