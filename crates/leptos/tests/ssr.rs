//! On the host (as in server rendering) the hooks open nothing and do not panic: effects do
//! not run there, so the state stays `Connecting` until `close()` makes it `Closed`.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, missing_docs)]

use leptos::prelude::*;
use wasm_sse_leptos::{use_sse, use_sse_json, use_sse_typed, ReadyState, UseSseOptions};

#[allow(dead_code)] // decoded, never read: the hook runs no connection here
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "lowercase")]
enum Feed {
    Tick { count: u64 },
}

#[test]
fn hooks_on_the_server_open_no_connection_and_do_not_panic() {
    let owner = Owner::new();
    owner.with(|| {
        let raw = use_sse(
            "/events?topic=demo",
            UseSseOptions::new().event_types(["tick"]),
        );
        let json = use_sse_json::<u64>("/events?topic=demo", "tick", UseSseOptions::new());
        let typed = use_sse_typed::<Feed>("/events?topic=demo", UseSseOptions::new());
        assert_eq!(raw.ready_state.get_untracked(), ReadyState::Connecting);
        assert_eq!(json.ready_state.get_untracked(), ReadyState::Connecting);
        assert_eq!(typed.transport.get_untracked(), None);
        assert_eq!(typed.error.get_untracked(), None);
        assert!(typed.latest.get_untracked().is_none());
        assert!(raw.messages.with_untracked(|m| m.is_empty()));
        assert!(raw.drain().is_empty());
        raw.close();
        assert_eq!(raw.ready_state.get_untracked(), ReadyState::Closed);
    });
    owner.cleanup();
    drop(owner);
}
