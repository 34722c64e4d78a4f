//! The Yew hooks in headless Chromium against the real dev server: a mounted component
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
use serde::Deserialize;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse_yew::{
    use_sse_json, use_sse_typed, Message, ReadyState, SseError, UseSseHandle, UseSseOptions,
};
use yew::prelude::*;

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

#[derive(Properties, PartialEq)]
struct FeedProps {
    url: AttrValue,
}

/// A test component: state, transport, last error and every queued event as text.
#[component]
fn FeedView(props: &FeedProps) -> Html {
    let sse = use_sse_typed::<Feed>(&props.url, UseSseOptions::new());
    html! {
        <div>
            <p>{ format!("{:?}", sse.ready_state) }</p>
            <p>{ format!("{:?}", sse.transport) }</p>
            <p>{ sse.error.as_ref().map(ToString::to_string) }</p>
            <p>{ format!("received {}", sse.received) }</p>
            <ul>{ for sse.messages.iter().map(|e| html! { <li>{ e.label() }</li> }) }</ul>
        </div>
    }
}

fn text(root: &web_sys::HtmlElement) -> String {
    root.text_content().unwrap_or_default()
}

fn mount(url: &str) -> (web_sys::HtmlElement, yew::AppHandle<FeedView>) {
    let root = fresh_root();
    let props = FeedProps {
        url: AttrValue::from(url.to_owned()),
    };
    let handle =
        yew::Renderer::<FeedView>::with_root_and_props(root.clone().into(), props).render();
    (root, handle)
}

#[wasm_bindgen_test]
async fn typed_events_render_and_unmount_closes_the_connection() {
    install();
    let topic = fresh_topic("yew-typed");
    let url = format!("{}/events?topic={topic}", server());

    // Warm-up cycle (one-time listeners of the framework and the page), then the baseline.
    {
        let before = server_connections().await;
        let (root, handle) = mount(&url);
        until(10, "warm-up open", || text(&root).contains("Open")).await;
        handle.destroy();
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
    handle.destroy();
    root.remove();
    until_server_connections(10, &topic, connections).await;
    settle().await;
    assert_eq!(live_listeners(), listeners, "listeners left after unmount");
    assert_eq!(pending_timers(), timers, "timers left after unmount");
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Tick {
    count: u64,
}

type Seen = Rc<RefCell<Vec<u64>>>;
type Out = Rc<RefCell<Option<UseSseHandle<Message<Tick>>>>>;

#[derive(Properties)]
struct JsonProps {
    url: AttrValue,
    seen: Seen,
    out: Out,
}

impl PartialEq for JsonProps {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

#[component]
fn JsonView(props: &JsonProps) -> Html {
    let seen = Rc::clone(&props.seen);
    let options = UseSseOptions::new()
        .queue_limit(5)
        .on_message(move |m: &Message<Tick>| seen.borrow_mut().push(m.data.count));
    let sse = use_sse_json::<Tick>(&props.url, "tick", options);
    *props.out.borrow_mut() = Some(sse.clone());
    html! { <p>{ format!("{:?} {}", sse.ready_state, sse.received) }</p> }
}

#[wasm_bindgen_test]
async fn json_hook_sees_every_message_through_on_message_and_bounds_its_queue() {
    let topic = fresh_topic("yew-json");
    let url = format!("{}/events?topic={topic}", server());
    let seen = Seen::default();
    let out = Out::default();
    let root = fresh_root();
    let props = JsonProps {
        url: AttrValue::from(url),
        seen: Rc::clone(&seen),
        out: Rc::clone(&out),
    };
    let handle =
        yew::Renderer::<JsonView>::with_root_and_props(root.clone().into(), props).render();
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
    let sse = out.borrow().clone().unwrap();
    assert_eq!(sse.dropped, 25);
    assert_eq!(sse.latest.as_ref().unwrap().data.count, 29);
    let drained: Vec<u64> = sse.drain().into_iter().map(|m| m.data.count).collect();
    assert_eq!(drained, [25, 26, 27, 28, 29]);
    settle().await;
    assert!(out.borrow().as_ref().unwrap().messages.is_empty());
    assert!(sse.error.is_none());

    // close() closes for good and says so.
    sse.close();
    until(10, "closed", || text(&root).contains("Closed")).await;
    let closed = out.borrow().clone().unwrap();
    assert_eq!(closed.ready_state, ReadyState::Closed);
    assert!(!matches!(closed.error, Some(SseError::Closed(_))));
    handle.destroy();
    root.remove();
}
