//! The client core in headless Chromium against the real dev server and its fault
//! scenarios: named events, typed decode, lossless reconnects, the reconnection policy's
//! decisions, the idle watchdog, close, and leak checks over connect/close cycles.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{
    closed_reason, fresh_topic, publish, publish_many, quick, server, until_closed, within,
};
use futures::StreamExt;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_sse::reconnect::{Failure, StopReason};
use wasm_sse::{Client, CloseReason, DecodeErrorKind, Event, Lifecycle, ReadyState, TransportKind};
use wasm_sse_codec::protocol::fault::{CLOSE_AFTER, CONTENT_TYPE, RETRY, STALL_MS, STATUS};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn named_events_reach_their_subscribers_only() {
    let topic = fresh_topic("named");
    publish(&topic, r#"{"event":"a","data":"1"}"#).await;
    publish(&topic, r#"{"event":"b","data":"2"}"#).await;
    publish(&topic, r#"{"data":"3"}"#).await;
    publish(&topic, r#"{"event":"b","data":"4"}"#).await;
    let client = Client::builder(format!("{}/events?topic={topic}", server()))
        .last_event_id("0")
        .event_types(["a"])
        .connect()
        .unwrap();
    let all = client.events();
    let b = client.subscribe("b");
    let b: Vec<Event> = within(10, b.take(2).collect()).await;
    assert_eq!(
        b.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
        ["2", "4"]
    );
    let all: Vec<Event> = within(10, all.take(4).collect()).await;
    let seen: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e.event_type.as_str(), e.data.as_str()))
        .collect();
    assert_eq!(seen, [("a", "1"), ("b", "2"), ("message", "3"), ("b", "4")]);
    assert_eq!(client.transport(), Some(TransportKind::EventSource));
    assert_eq!(client.ready_state(), ReadyState::Open);
}

#[derive(Debug, PartialEq, Deserialize)]
struct Tick {
    n: u32,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "lowercase")]
enum Feed {
    Tick(Tick),
    Note(String),
}

#[wasm_bindgen_test]
async fn typed_decode_reports_invalid_json_and_goes_on() {
    let topic = fresh_topic("typed");
    publish(&topic, r#"{"event":"tick","data":{"n":1}}"#).await;
    publish(&topic, r#"{"event":"tick","data":"{not json"}"#).await;
    publish(&topic, r#"{"event":"note","data":"plain text"}"#).await;
    publish(&topic, r#"{"event":"volume","data":"9"}"#).await;
    publish(&topic, r#"{"event":"tick","data":{"n":2}}"#).await;
    let client = Client::builder(format!("{}/events?topic={topic}", server()))
        .last_event_id("0")
        .event_types(["volume"])
        .connect()
        .unwrap();

    let ticks = client.subscribe_json::<Tick>("tick");
    let feed = client.typed::<Feed>();
    let ticks: Vec<_> = within(10, ticks.take(3).collect()).await;
    assert_eq!(ticks[0].as_ref().unwrap().data, Tick { n: 1 });
    let bad = ticks[1].as_ref().unwrap_err();
    assert_eq!(bad.kind, DecodeErrorKind::InvalidJson);
    assert_eq!(bad.data, "{not json");
    assert_eq!(ticks[2].as_ref().unwrap().data, Tick { n: 2 });
    assert_eq!(ticks[2].as_ref().unwrap().last_event_id, "5");

    let feed: Vec<_> = within(10, feed.take(5).collect()).await;
    assert_eq!(feed[0].as_ref().unwrap(), &Feed::Tick(Tick { n: 1 }));
    assert_eq!(
        feed[1].as_ref().unwrap_err().kind,
        DecodeErrorKind::InvalidJson
    );
    assert_eq!(feed[2].as_ref().unwrap(), &Feed::Note("plain text".into()));
    let unknown = feed[3].as_ref().unwrap_err();
    assert_eq!(
        (unknown.kind, unknown.event_type.as_str()),
        (DecodeErrorKind::UnknownEvent, "volume")
    );
    assert_eq!(feed[4].as_ref().unwrap(), &Feed::Tick(Tick { n: 2 }));
}

#[wasm_bindgen_test]
async fn reconnects_after_drops_delivering_every_event_once_in_order() {
    let topic = fresh_topic("resume");
    let ids = publish_many(&topic, 10).await;
    // The server closes every connection after 3 events: 4 connections carry the 10.
    let client = Client::builder(format!("{}/events?topic={topic}&{CLOSE_AFTER}=3", server()))
        .last_event_id("0")
        .reconnect(quick())
        .connect()
        .unwrap();
    let lifecycle = client.lifecycle();
    // A lifecycle handler sees what the stream sees, as it happens, and may use the client:
    // nothing of it is borrowed meanwhile (a `RefCell` would panic here otherwise).
    let client = std::rc::Rc::new(client);
    let weak = std::rc::Rc::downgrade(&client);
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let s = std::rc::Rc::clone(&seen);
    let _handler = client.on_lifecycle(move |change| {
        let state = weak.upgrade().map(|c| (c.ready_state(), c.last_event_id()));
        s.borrow_mut().push((change.clone(), state.is_some()));
    });
    let events: Vec<Event> = within(15, client.events().take(10).collect()).await;
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.last_event_id.as_str(), e.data.as_str()))
        .collect();
    let want: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), format!("e{i}")))
        .collect();
    let want: Vec<(&str, &str)> = want.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(got, want);
    assert_eq!(client.last_event_id(), ids[9]);
    client.close();
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    let drops = changes
        .iter()
        .filter(|c| matches!(c, Lifecycle::Reconnecting { .. }))
        .count();
    assert!(drops >= 3, "expected at least 3 reconnects: {changes:?}");
    let seen: Vec<(Lifecycle, bool)> = seen.take();
    assert_eq!(
        seen.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        changes
    );
    assert!(
        seen.iter().all(|(_, read)| *read),
        "the handler read the client's state"
    );
}

#[wasm_bindgen_test]
async fn server_retry_sets_the_floor_of_the_delay() {
    let topic = fresh_topic("retry");
    publish_many(&topic, 6).await;
    let client = Client::builder(format!(
        "{}/events?topic={topic}&{RETRY}=700&{CLOSE_AFTER}=1",
        server()
    ))
    .transport(TransportKind::Fetch)
    .last_event_id("0")
    .reconnect(quick())
    .connect()
    .unwrap();
    let lifecycle = client.lifecycle();
    // Three events: three connections.
    let _: Vec<Event> = within(15, client.events().take(3).collect()).await;
    client.close();
    let delays: Vec<Duration> = within(5, lifecycle.collect::<Vec<_>>())
        .await
        .into_iter()
        .filter_map(|c| match c {
            Lifecycle::Connecting { delay, .. } => Some(delay),
            _ => None,
        })
        .collect();
    // The client sees `retry:` and waits at least 700 ms, far above the policy's 20 ms.
    assert!(delays.len() >= 3, "{delays:?}");
    assert!(
        delays[1..].iter().all(|d| *d >= Duration::from_millis(700)),
        "{delays:?}"
    );
}

#[wasm_bindgen_test]
async fn an_event_source_s_own_reconnection_honours_retry_and_resumes() {
    let topic = fresh_topic("retry-es");
    publish_many(&topic, 6).await;
    let client = Client::builder(format!(
        "{}/events?topic={topic}&{RETRY}=700&{CLOSE_AFTER}=1",
        server()
    ))
    .transport(TransportKind::EventSource)
    .last_event_id("0")
    .reconnect(quick())
    .connect()
    .unwrap();
    let lifecycle = client.lifecycle();
    let mut events = client.events();
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let event = within(10, events.next()).await.unwrap();
        times.push(js_sys::Date::now());
        ids.push(event.last_event_id);
    }
    client.close();
    // One event per connection, none twice: each reconnection of the browser resumed.
    assert_eq!(ids, ["1", "2", "3"]);
    // The browser waits the server's `retry:` itself between its connections.
    assert!(times.windows(2).all(|w| w[1] - w[0] >= 650.0), "{times:?}");
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    let reconnects = changes
        .iter()
        .filter(|c| matches!(c, Lifecycle::Connecting { attempt, .. } if *attempt > 0))
        .count();
    assert_eq!(reconnects, 2, "{changes:?}");
}

#[wasm_bindgen_test]
async fn status_204_stops_for_good() {
    let client = Client::builder(format!("{}/events?topic=x&{STATUS}=204", server()))
        .reconnect(quick())
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    assert_eq!(
        closed_reason(&changes),
        Some(CloseReason::Stopped(StopReason::NoContent))
    );
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert_eq!(client.stop_reason(), Some(StopReason::NoContent));
}

#[wasm_bindgen_test]
async fn status_500_retries_with_growing_delays_then_gives_up() {
    let client = Client::builder(format!("{}/events?topic=x&{STATUS}=500", server()))
        .reconnect(
            quick()
                .initial_delay(Duration::from_millis(50))
                .max_attempts(4),
        )
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    let delays: Vec<u128> = changes
        .iter()
        .filter_map(|c| match c {
            Lifecycle::Connecting { delay, .. } => Some(delay.as_millis()),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [0, 50, 100, 200, 400]);
    match closed_reason(&changes) {
        Some(CloseReason::Stopped(StopReason::AttemptsExhausted { attempts: 4, last })) => {
            assert_eq!(
                last,
                Failure::Status {
                    status: 500,
                    retry_after: None
                }
            );
        }
        other => panic!("unexpected close: {other:?} in {changes:?}"),
    }
}

#[wasm_bindgen_test]
async fn status_401_stops_with_a_typed_error() {
    let client = Client::builder(format!("{}/events?topic=x&{STATUS}=401", server()))
        .reconnect(quick())
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    assert_eq!(
        closed_reason(&changes),
        Some(CloseReason::Stopped(StopReason::Fatal(Failure::Status {
            status: 401,
            retry_after: None
        })))
    );
}

#[wasm_bindgen_test]
async fn a_retry_hook_can_turn_401_into_a_retry() {
    let client = Client::builder(format!("{}/events?topic=x&{STATUS}=401", server()))
        .reconnect(quick().max_attempts(2))
        .retry_on(|failure| matches!(failure, Failure::Status { status: 401, .. }))
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    assert!(
        matches!(
            closed_reason(&changes),
            Some(CloseReason::Stopped(StopReason::AttemptsExhausted {
                attempts: 2,
                ..
            }))
        ),
        "{changes:?}"
    );
}

#[wasm_bindgen_test]
async fn wrong_content_type_stops() {
    // Chromium's EventSource neither opens nor fails on this (the body stays open): the
    // connect timeout notices, and the retry over fetch sees the content type.
    let client = Client::builder(format!(
        "{}/events?topic=x&{CONTENT_TYPE}=text/plain",
        server()
    ))
    .connect_timeout(Duration::from_millis(500))
    .reconnect(quick())
    .connect()
    .unwrap();
    let changes = until_closed(&client).await;
    match closed_reason(&changes) {
        Some(CloseReason::Stopped(StopReason::Fatal(Failure::ContentType(ct)))) => {
            assert!(ct.starts_with("text/plain"), "{ct}");
        }
        other => panic!("unexpected close: {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn idle_watchdog_fires_on_a_stalled_stream() {
    let client = Client::builder(format!("{}/events?topic=x&{STALL_MS}=5000", server()))
        .idle_timeout(Duration::from_millis(300))
        .reconnect(quick().max_attempts(1))
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    assert!(
        changes.contains(&Lifecycle::Reconnecting {
            reason: Failure::IdleTimeout
        }),
        "{changes:?}"
    );
}

#[wasm_bindgen_test]
async fn close_ends_every_stream_and_reports_it() {
    let topic = fresh_topic("close");
    let client = Client::connect(format!("{}/events?topic={topic}", server())).unwrap();
    let all = client.events();
    let named = client.subscribe("tick");
    let lifecycle = client.lifecycle();
    client.close();
    assert_eq!(client.ready_state(), ReadyState::Closed);
    assert_eq!(within(5, all.collect::<Vec<_>>()).await, vec![]);
    assert_eq!(within(5, named.collect::<Vec<_>>()).await, vec![]);
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    assert_eq!(
        changes.last(),
        Some(&Lifecycle::Closed {
            reason: CloseReason::Requested
        })
    );
}

// Counts live event listeners and pending timers by wrapping the real browser APIs.
#[wasm_bindgen(inline_js = r#"
let listeners = 0;
const timers = new Set();
export function install() {
  if (globalThis.__wasmSseCounting) return;
  globalThis.__wasmSseCounting = true;
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const registered = new WeakMap();
  EventTarget.prototype.addEventListener = function (type, fn, opts) {
    let set = registered.get(this);
    if (!set) registered.set(this, (set = new Set()));
    const key = type + '\u0000' + (fn && (fn.__id ??= Math.random()));
    if (!set.has(key)) { set.add(key); listeners += 1; }
    return add.call(this, type, fn, opts);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, opts) {
    const set = registered.get(this);
    const key = type + '\u0000' + (fn && fn.__id);
    if (set && set.delete(key)) listeners -= 1;
    return remove.call(this, type, fn, opts);
  };
  const setT = globalThis.setTimeout;
  const clearT = globalThis.clearTimeout;
  globalThis.setTimeout = function (fn, ms, ...args) {
    const id = setT.call(globalThis, (...a) => { timers.delete(id); fn(...a); }, ms, ...args);
    timers.add(id);
    return id;
  };
  globalThis.clearTimeout = function (id) { timers.delete(id); return clearT.call(globalThis, id); };
}
export function liveListeners() { return listeners; }
export function pendingTimers() { return timers.size; }
"#)]
extern "C" {
    fn install();
    #[wasm_bindgen(js_name = liveListeners)]
    fn live_listeners() -> u32;
    #[wasm_bindgen(js_name = pendingTimers)]
    fn pending_timers() -> u32;
}

#[wasm_bindgen_test]
async fn connect_close_cycles_leak_no_listeners_or_timers() {
    install();
    let topic = fresh_topic("cycles");
    let url = format!("{}/events?topic={topic}", server());
    // One warm-up cycle, then the baseline.
    let settle = || gloo_timers::future::sleep(Duration::from_millis(30));
    {
        let c = Client::connect(&url).unwrap();
        c.close();
    }
    settle().await;
    let (listeners, timers) = (live_listeners(), pending_timers());
    for i in 0..20 {
        let client = Client::builder(url.clone())
            .idle_timeout(Duration::from_secs(30))
            .event_types(["a", "b"])
            .connect()
            .unwrap();
        let mut lifecycle = client.lifecycle();
        // Wait until the connection is open, so its listeners and watchdog are all live.
        while let Some(change) = within(5, lifecycle.next()).await {
            if matches!(change, Lifecycle::Open { .. }) {
                break;
            }
        }
        assert!(
            live_listeners() > listeners,
            "cycle {i}: nothing was registered"
        );
        if i % 2 == 0 {
            client.close();
        } else {
            drop(client); // dropping the last handle closes too
        }
        settle().await;
    }
    assert_eq!(live_listeners(), listeners, "listeners left behind");
    assert_eq!(pending_timers(), timers, "timers left behind");
}

#[wasm_bindgen_test]
async fn handlers_run_synchronously_with_decoded_events() {
    use std::cell::RefCell;
    use std::rc::Rc;

    let topic = fresh_topic("handlers");
    publish(&topic, r#"{"event":"tick","data":{"n":1}}"#).await;
    publish(&topic, r#"{"event":"tick","data":"{oops"}"#).await;
    publish(&topic, r#"{"event":"tick","data":{"n":2}}"#).await;
    publish(&topic, r#"{"event":"other","data":"x"}"#).await;
    let client = Client::builder(format!("{}/events?topic={topic}", server()))
        .last_event_id("0")
        .connect()
        .unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = Rc::clone(&log);
    let _ticks = client.on_json::<Tick>("tick", move |tick, event| {
        l.borrow_mut().push(match tick {
            Ok(tick) => format!("{} {} {}", event.event_type, event.last_event_id, tick.n),
            Err(e) => format!("{} {}", e.last_event_id, e.kind as u8),
        });
    });
    let l = Rc::clone(&log);
    let _other = client.on("other", move |e| {
        l.borrow_mut().push(format!("{} {}", e.event_type, e.data))
    });
    // Streams see the same events, after the handlers (which ran in the event's own task).
    let other = within(10, client.subscribe("other").next()).await.unwrap();
    assert_eq!(other.data, "x");
    assert_eq!(*log.borrow(), ["tick 1 1", "2 0", "tick 3 2", "other x"]);
}

#[wasm_bindgen_test]
async fn close_on_end_ends_the_client_with_the_stream() {
    let topic = fresh_topic("c-one-shot");
    publish_many(&topic, 2).await;
    let client = Client::builder(format!("{}/events?topic={topic}&{CLOSE_AFTER}=2", server()))
        .last_event_id("0")
        .close_on_end(true)
        .connect()
        .unwrap();
    let events = client.events();
    let changes = until_closed(&client).await;
    assert_eq!(closed_reason(&changes), Some(CloseReason::Ended));
    assert_eq!(client.transport(), Some(TransportKind::Fetch));
    let delivered: Vec<Event> = within(5, events.collect()).await;
    assert_eq!(delivered.len(), 2);
    assert!(!changes
        .iter()
        .any(|c| matches!(c, Lifecycle::Reconnecting { .. })));
}

#[wasm_bindgen_test]
async fn a_form_data_body_goes_through_the_custom_fetch_and_the_head_is_kept() {
    let form = web_sys::FormData::new().unwrap();
    form.append_with_str("field", "value").unwrap();
    // A fetch that counts its calls, then calls the global one.
    let fetch = js_sys::Function::new_with_args(
        "request",
        "globalThis.__sseFetches = (globalThis.__sseFetches ?? 0) + 1; return fetch(request);",
    );
    let client = Client::builder(format!(
        "{}/events?topic={}&echo=1",
        server(),
        fresh_topic("c-form")
    ))
    .method(wasm_sse::Method::Post)
    .body_js(form.into())
    .fetch_with(fetch)
    .connect()
    .unwrap();
    let echo = within(10, client.subscribe("request").next())
        .await
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(&echo.data).unwrap();
    assert_eq!(seen["method"], "POST");
    let content_type = seen["headers"]["content-type"].as_str().unwrap();
    assert!(content_type.starts_with("multipart/form-data"), "{seen}");
    assert!(
        seen["body"].as_str().unwrap().contains("name=\"field\""),
        "{seen}"
    );
    let calls = js_sys::Reflect::get(&js_sys::global(), &"__sseFetches".into()).unwrap();
    assert_eq!(calls.as_f64(), Some(1.0));
    let head = client.response().unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.headers.get("content-type").unwrap().as_deref(),
        Some("text/event-stream")
    );
}
