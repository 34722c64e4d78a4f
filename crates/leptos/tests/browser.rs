//! The Leptos hooks in headless Chromium against the real dev server: a mounted component
//! receives typed events (bursts included, in order), and unmounting it closes the
//! connection (the server sees the disconnect) and leaves no listener or timer behind.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

// Browser-test helpers shared by the Leptos and Yew adapters.
#[path = "../../hooks/testing/browser.rs"]
mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse_leptos::{use_sse_json, use_sse_typed, Message, ReadyState, SseError, UseSseOptions};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "lowercase")]
enum Feed {
    Tick { count: u64 },
    Note(String),
}

impl Feed {
    fn label(&self) -> String {
        match self {
            Feed::Tick { count } => format!("tick {count}"),
            Feed::Note(text) => format!("note {text}"),
        }
    }
}

/// A test component: state, transport, last error and every queued event as text.
#[component]
fn FeedView(url: String) -> impl IntoView {
    let sse = use_sse_typed::<Feed>(url, UseSseOptions::new());
    view! {
        <p class="state">{move || format!("{:?}", sse.ready_state.get())}</p>
        <p class="transport">{move || format!("{:?}", sse.transport.get())}</p>
        <p class="error">{move || sse.error.get().map(|e| e.to_string())}</p>
        <p class="received">{move || format!("received {}", sse.received.get())}</p>
        <ul>
            {move || {
                sse.messages
                    .get()
                    .iter()
                    .map(|e| view! { <li>{e.label()}</li> })
                    .collect_view()
            }}
        </ul>
    }
}

fn text(root: &web_sys::HtmlElement) -> String {
    root.text_content().unwrap_or_default()
}

fn mount(url: &str) -> (web_sys::HtmlElement, impl Drop) {
    let root = fresh_root();
    let url = url.to_owned();
    let handle = leptos::mount::mount_to(root.clone(), move || view! { <FeedView url=url /> });
    (root, handle)
}

#[wasm_bindgen_test]
async fn typed_events_render_and_unmount_closes_the_connection() {
    install();
    let topic = fresh_topic("leptos-typed");
    let url = format!("{}/events?topic={topic}", server());

    // Warm-up cycle (one-time listeners of the framework and the page), then the baseline.
    {
        let before = server_connections().await;
        let (root, handle) = mount(&url);
        until(10, "warm-up open", || text(&root).contains("Open")).await;
        drop(handle);
        root.remove();
        until_server_connections(10, &topic, before).await;
    }
    settle().await;
    let (listeners, timers) = (live_listeners(), pending_timers());
    let connections = server_connections().await;

    let (root, handle) = mount(&url);
    until(10, "the connection to open", || {
        text(&root).contains("Open")
    })
    .await;
    assert!(text(&root).contains("Some(EventSource)") || text(&root).contains("Some(Fetch)"));
    assert_eq!(server_connections().await, connections + 1);
    assert!(
        live_listeners() > listeners,
        "the open connection registers listeners"
    );

    // A burst of typed events, one unknown type and one that does not decode.
    for count in 1..=20 {
        publish(
            &topic,
            &format!(r#"{{"event":"tick","data":{{"count":{count}}}}}"#),
        )
        .await;
    }
    publish(&topic, r#"{"event":"note","data":"hello"}"#).await;
    publish(&topic, r#"{"event":"tick","data":{"nope":true}}"#).await;
    until(10, "every event", || text(&root).contains("note hello")).await;
    until(10, "the decode error", || {
        text(&root).contains("cannot decode")
    })
    .await;
    let shown = text(&root);
    let expected: String = (1..=20).map(|n| format!("tick {n}")).collect();
    assert!(
        shown.contains(&format!("{expected}note hello")),
        "in order: {shown}"
    );
    assert!(shown.contains("received 21"), "{shown}");

    // Unmount: the connection closes, the server sees it go, nothing is left behind.
    drop(handle);
    root.remove();
    until_server_connections(10, &topic, connections).await;
    settle().await;
    assert_eq!(live_listeners(), listeners, "listeners left after unmount");
    assert_eq!(pending_timers(), timers, "timers left after unmount");
}

#[wasm_bindgen_test]
async fn json_hook_sees_every_message_through_on_message_and_bounds_its_queue() {
    let topic = fresh_topic("leptos-json");
    let url = format!("{}/events?topic={topic}", server());
    #[derive(Debug, Clone, PartialEq, Deserialize)]
    struct Tick {
        count: u64,
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sse_out = Rc::new(RefCell::new(None));
    let root = fresh_root();
    let handle = {
        let seen = Rc::clone(&seen);
        let sse_out = Rc::clone(&sse_out);
        leptos::mount::mount_to(root.clone(), move || {
            let options = UseSseOptions::new()
                .queue_limit(5)
                .on_message(move |m: &Message<Tick>| seen.borrow_mut().push(m.data.count));
            let sse = use_sse_json::<Tick>(url, "tick", options);
            *sse_out.borrow_mut() = Some(sse);
            view! { <p>{move || format!("{:?} {}", sse.ready_state.get(), sse.received.get())}</p> }
        })
    };
    let sse = sse_out.borrow().unwrap();
    until(10, "open", || text(&root).contains("Open")).await;
    for count in 0..30 {
        publish(
            &topic,
            &format!(r#"{{"event":"tick","data":{{"count":{count}}}}}"#),
        )
        .await;
    }
    until(10, "30 messages", || text(&root).contains("Open 30")).await;
    assert_eq!(*seen.borrow(), (0..30).collect::<Vec<u64>>());
    assert_eq!(sse.dropped.get_untracked(), 25);
    assert_eq!(sse.latest.get_untracked().unwrap().data.count, 29);
    let drained: Vec<u64> = sse.drain().into_iter().map(|m| m.data.count).collect();
    assert_eq!(drained, [25, 26, 27, 28, 29]);
    assert!(sse.messages.get_untracked().is_empty());
    assert!(sse.error.get_untracked().is_none());

    // close() closes for good and says so.
    sse.close();
    until(10, "closed", || text(&root).contains("Closed")).await;
    assert_eq!(sse.ready_state.get_untracked(), ReadyState::Closed);
    assert!(!matches!(
        sse.error.get_untracked(),
        Some(SseError::Closed(_))
    ));
    drop(handle);
    root.remove();
    assert_eq!(
        sse.ready_state.try_get_untracked(),
        None,
        "signals are disposed on unmount"
    );
}
