//! Cross-tab sharing from Rust in headless Chromium against the real dev server: two clients
//! of one page that share a key elect one leader, both receive every event once, in order,
//! and the follower leads, resuming, when the leader is dropped. (The tabs, crashes, the
//! connection limit and the step-downs are in tests/node/share.test.mjs.)
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::{fresh_topic, publish, server, within};
use futures::StreamExt;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse::{Client, Event, Lifecycle, LifecycleStream, ShareRole};

wasm_bindgen_test_configure!(run_in_browser);

/// Waits for the client's next share role change and returns the new role.
async fn next_role(changes: &mut LifecycleStream) -> Option<ShareRole> {
    within(10, async {
        loop {
            if let Some(Lifecycle::Shared { role, .. }) = changes.next().await {
                return role;
            }
        }
    })
    .await
}

fn data(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.data.as_str()).collect()
}

#[wasm_bindgen_test]
async fn two_clients_share_one_leader_and_hand_over_on_drop() {
    let topic = fresh_topic("share");
    let url = format!("{}/events?topic={topic}", server());
    let key = format!("rust-test-{topic}");

    let leader = Client::builder(&url).share(&key).connect().unwrap();
    let mut leader_changes = leader.lifecycle();
    assert_eq!(
        next_role(&mut leader_changes).await,
        Some(ShareRole::Leader)
    );
    assert_eq!(leader.shared(), Some(ShareRole::Leader));

    let follower = Client::builder(&url).share(&key).connect().unwrap();
    let mut follower_changes = follower.lifecycle();
    assert_eq!(
        next_role(&mut follower_changes).await,
        Some(ShareRole::Follower)
    );
    assert_eq!(follower.shared(), Some(ShareRole::Follower));

    let (from_leader, from_follower) = (leader.events(), follower.events());
    // Wait until the leader's connection is open before publishing (it starts from the
    // live stream).
    within(10, async {
        while !matches!(leader_changes.next().await, Some(Lifecycle::Open { .. })) {}
    })
    .await;
    for n in 1..=3 {
        publish(&topic, &format!(r#"{{"data":"{n}"}}"#)).await;
    }
    let got: Vec<Event> = within(10, from_leader.take(3).collect()).await;
    assert_eq!(data(&got), ["1", "2", "3"]);
    let mut from_follower = from_follower;
    let got: Vec<Event> = within(10, (&mut from_follower).take(3).collect()).await;
    assert_eq!(data(&got), ["1", "2", "3"]);
    assert_eq!(got[2].last_event_id, leader.last_event_id());

    // The leader goes: the follower leads, resuming after its own last event ID.
    drop(leader);
    assert_eq!(
        next_role(&mut follower_changes).await,
        Some(ShareRole::Leader)
    );
    publish(&topic, r#"{"data":"4"}"#).await;
    let got: Vec<Event> = within(10, (&mut from_follower).take(1).collect()).await;
    assert_eq!(data(&got), ["4"]);
}
