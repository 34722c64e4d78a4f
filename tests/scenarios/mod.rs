//! The transport matrix: one list of scenarios, each run over a transport forced with
//! [`ClientBuilder::transport`], against the real dev server and its fault parameters.
//! `tests/matrix.rs` runs them over all three transports in headless Chromium,
//! `tests/node.rs` over fetch streaming and long polling in Node 20 (which has no
//! `EventSource`).
//!
//! Every scenario asserts exact outcomes. Where the browser's `EventSource` cannot behave
//! like the other transports (it hides `retry:`, status codes and content types, and has no
//! event size limit), the scenario asserts what it does instead, and says why.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use futures::StreamExt;
use wasm_sse::reconnect::{Failure, StopReason};
use wasm_sse::{Client, ClientBuilder, CloseReason, Event, Lifecycle, Method, TransportKind};
use wasm_sse_codec::protocol::fault::{
    BUFFER, BUFFER_MS, CLOSE_AFTER, CONTENT_TYPE, ECHO, HUGE_BYTES, INVALID_UTF8, RETRY, STALL_MS,
    STATUS, TRICKLE, TRICKLE_MS,
};

use crate::common::{
    before, closed_reason, fresh_topic, publish, publish_many, quick, server, until_closed, within,
};

fn builder(kind: TransportKind, query: &str) -> ClientBuilder {
    Client::builder(format!("{}/events?{query}", server()))
        .transport(kind)
        .reconnect(quick())
        .connect_timeout(Duration::from_secs(5))
}

fn is_native(kind: TransportKind) -> bool {
    kind == TransportKind::EventSource
}

fn connecting_delays(changes: &[Lifecycle]) -> Vec<u128> {
    changes
        .iter()
        .filter_map(|c| match c {
            Lifecycle::Connecting { delay, .. } => Some(delay.as_millis()),
            _ => None,
        })
        .collect()
}

/// Named and unnamed events, multi-line data and ids, in order.
pub async fn named_events(kind: TransportKind) {
    let topic = fresh_topic("m-named");
    let a = publish(&topic, r#"{"event":"a","data":"1"}"#).await;
    let b = publish(&topic, r#"{"event":"b","data":"2"}"#).await;
    let c = publish(&topic, r#"{"data":"3"}"#).await;
    let d = publish(&topic, r#"{"event":"b","data":"4\n5"}"#).await;
    let client = builder(kind, &format!("topic={topic}"))
        .last_event_id("0")
        .event_types(["a", "b"])
        .connect()
        .unwrap();
    let lifecycle = client.lifecycle();
    let b_only = client.subscribe("b");
    let all = client.events();
    let got: Vec<Event> = within(10, all.take(4).collect()).await;
    assert_eq!(
        got,
        vec![
            Event::new("a", "1", a),
            Event::new("b", "2", b.clone()),
            Event::new("message", "3", c),
            Event::new("b", "4\n5", d.clone()),
        ],
        "{kind}"
    );
    let got: Vec<Event> = within(10, b_only.take(2).collect()).await;
    assert_eq!(
        got,
        [Event::new("b", "2", b), Event::new("b", "4\n5", d)],
        "{kind}"
    );
    assert_eq!(client.transport(), Some(kind));
    client.close();
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    assert_eq!(
        changes.first(),
        Some(&Lifecycle::Connecting {
            attempt: 0,
            delay: Duration::ZERO,
            transport: kind
        })
    );
    assert_eq!(changes.get(1), Some(&Lifecycle::Open { transport: kind }));
}

/// The server ends every response after 3 events: the client resumes after the last ID it
/// delivered, so the 10 events arrive once each, in order, and nothing more.
pub async fn resume_after_drop(kind: TransportKind) {
    let topic = fresh_topic("m-resume");
    let ids = publish_many(&topic, 10).await;
    let client = builder(
        kind,
        &format!("topic={topic}&{CLOSE_AFTER}=3&timeoutMs=2000"),
    )
    .last_event_id("0")
    .connect()
    .unwrap();
    let lifecycle = client.lifecycle();
    let mut events = client.events();
    let got: Vec<Event> = within(15, (&mut events).take(10).collect()).await;
    let want: Vec<Event> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Event::new("message", format!("e{i}"), id.clone()))
        .collect();
    assert_eq!(got, want, "{kind}");
    // No duplicate follows (a replay after a reconnect would bring one).
    assert_eq!(before(500, events.next()).await, None, "{kind}");
    assert_eq!(client.last_event_id(), ids[9]);
    client.close();
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    let drops: Vec<&Failure> = changes
        .iter()
        .filter_map(|c| match c {
            Lifecycle::Reconnecting { reason } => Some(reason),
            _ => None,
        })
        .collect();
    match kind {
        // Every poll is a complete response; `closeAfter` only caps its batch: no drop.
        TransportKind::LongPoll => assert_eq!(drops, [] as [&Failure; 0], "{changes:?}"),
        // The browser reports a lost connection without saying why.
        TransportKind::EventSource => {
            assert!(drops.len() >= 3, "{changes:?}");
            assert!(drops.iter().all(|f| **f == Failure::Network), "{changes:?}");
        }
        _ => {
            assert!(drops.len() >= 3, "{changes:?}");
            assert!(
                drops.iter().all(|f| **f == Failure::StreamEnded),
                "{changes:?}"
            );
        }
    }
}

/// `retry: 700` is the floor of the next reconnection delay (the policy alone would wait
/// 20 ms). The connection is made to fail by the idle watchdog after one event: the stream
/// (or the next, held poll) then stays quiet.
pub async fn retry_floor(kind: TransportKind) {
    let topic = fresh_topic("m-retry");
    publish_many(&topic, 1).await;
    let client = builder(kind, &format!("topic={topic}&{RETRY}=700&timeoutMs=5000"))
        .last_event_id("0")
        .idle_timeout(Duration::from_millis(400))
        .connect()
        .unwrap();
    let mut lifecycle = client.lifecycle();
    let first = within(10, client.events().next()).await.unwrap();
    assert_eq!(first.data, "e0");
    let delay = within(10, async {
        loop {
            match lifecycle.next().await {
                Some(Lifecycle::Connecting {
                    attempt: 1, delay, ..
                }) => break delay,
                Some(_) => {}
                None => panic!("closed"),
            }
        }
    })
    .await;
    client.close();
    if is_native(kind) {
        // `EventSource` keeps `retry:` to itself: only the policy's delay applies.
        assert_eq!(delay, Duration::from_millis(20), "{kind}");
    } else {
        assert_eq!(delay, Duration::from_millis(700), "{kind}");
    }
}

/// A forced `EventSource` cannot see the status (nor the content type): it only learns
/// that the browser gave up, which the policy treats as a network error. (Chosen
/// automatically, the client would retry over fetch and find out; see `tests/client.rs`.)
fn native_gives_up(changes: &[Lifecycle], attempts: u32) {
    assert_eq!(
        closed_reason(changes),
        Some(CloseReason::Stopped(StopReason::AttemptsExhausted {
            attempts,
            last: Failure::Network
        })),
        "{changes:?}"
    );
}

/// 204: stop for good, no reconnection.
pub async fn status_204(kind: TransportKind) {
    let client = builder(kind, &format!("topic=x&{STATUS}=204"))
        .reconnect(quick().max_attempts(2))
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    if is_native(kind) {
        return native_gives_up(&changes, 2);
    }
    assert_eq!(
        closed_reason(&changes),
        Some(CloseReason::Stopped(StopReason::NoContent)),
        "{kind}"
    );
    assert_eq!(connecting_delays(&changes), [0], "{kind}");
    assert_eq!(client.stop_reason(), Some(StopReason::NoContent));
}

/// 500: retry with doubling delays until the attempts run out.
pub async fn status_500_backoff(kind: TransportKind) {
    let client = builder(kind, &format!("topic=x&{STATUS}=500"))
        .reconnect(
            quick()
                .initial_delay(Duration::from_millis(50))
                .max_attempts(4),
        )
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    assert_eq!(
        connecting_delays(&changes),
        [0, 50, 100, 200, 400],
        "{kind}"
    );
    let last = if is_native(kind) {
        Failure::Network
    } else {
        Failure::Status {
            status: 500,
            retry_after: None,
        }
    };
    assert_eq!(
        closed_reason(&changes),
        Some(CloseReason::Stopped(StopReason::AttemptsExhausted {
            attempts: 4,
            last
        })),
        "{kind}"
    );
}

/// 401: stop with the typed status error.
pub async fn status_401(kind: TransportKind) {
    let client = builder(kind, &format!("topic=x&{STATUS}=401"))
        .reconnect(quick().max_attempts(1))
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    if is_native(kind) {
        return native_gives_up(&changes, 1);
    }
    assert_eq!(
        closed_reason(&changes),
        Some(CloseReason::Stopped(StopReason::Fatal(Failure::Status {
            status: 401,
            retry_after: None
        }))),
        "{kind}"
    );
}

/// A 200 that is not `text/event-stream`: stop with the typed content-type error.
pub async fn wrong_content_type(kind: TransportKind) {
    let topic = fresh_topic("m-ctype");
    let client = builder(
        kind,
        &format!("topic={topic}&{CONTENT_TYPE}=text/plain&timeoutMs=100"),
    )
    .connect_timeout(Duration::from_millis(500))
    .reconnect(quick().max_attempts(1))
    .connect()
    .unwrap();
    let changes = until_closed(&client).await;
    if is_native(kind) {
        // Chromium's `EventSource` neither opens nor fails on it while the body stays
        // open: only the connect timeout ends the attempt.
        assert_eq!(
            closed_reason(&changes),
            Some(CloseReason::Stopped(StopReason::AttemptsExhausted {
                attempts: 1,
                last: Failure::ConnectTimeout
            })),
            "{changes:?}"
        );
        return;
    }
    match closed_reason(&changes) {
        Some(CloseReason::Stopped(StopReason::Fatal(Failure::ContentType(ct)))) => {
            assert!(ct.starts_with("text/plain"), "{kind}: {ct}");
        }
        other => panic!("{kind}: unexpected close {other:?}"),
    }
}

/// Headers, then silence (long polling: a held poll): the idle watchdog reconnects.
pub async fn stall(kind: TransportKind) {
    let topic = fresh_topic("m-stall");
    let client = builder(kind, &format!("topic={topic}&{STALL_MS}=5000"))
        .idle_timeout(Duration::from_millis(300))
        .reconnect(quick().max_attempts(1))
        .connect()
        .unwrap();
    let changes = until_closed(&client).await;
    assert!(
        changes.contains(&Lifecycle::Reconnecting {
            reason: Failure::IdleTimeout
        }),
        "{kind}: {changes:?}"
    );
    // Long polling opens with its first answer, which a held poll never gives.
    let opened = changes.contains(&Lifecycle::Open { transport: kind });
    assert_eq!(
        opened,
        kind != TransportKind::LongPoll,
        "{kind}: {changes:?}"
    );
}

/// The body arrives one byte per chunk (long polling: its bodies are complete anyway).
pub async fn trickle(kind: TransportKind) {
    let topic = fresh_topic("m-trickle");
    let a = publish(&topic, r#"{"event":"a","data":"x\ny"}"#).await;
    let b = publish(&topic, r#"{"data":"é€😀"}"#).await;
    let client = builder(kind, &format!("topic={topic}&{TRICKLE}=1&{TRICKLE_MS}=1"))
        .last_event_id("0")
        .event_types(["a"])
        .connect()
        .unwrap();
    let got: Vec<Event> = within(10, client.events().take(2).collect()).await;
    assert_eq!(
        got,
        [Event::new("a", "x\ny", a), Event::new("message", "é€😀", b)],
        "{kind}"
    );
}

/// Invalid UTF-8 in an event: each bad sequence becomes U+FFFD; later events are intact.
pub async fn invalid_utf8(kind: TransportKind) {
    let topic = fresh_topic("m-utf8");
    let id = publish(&topic, r#"{"data":"after"}"#).await;
    let client = builder(kind, &format!("topic={topic}&{INVALID_UTF8}=1"))
        .last_event_id("0")
        .event_types(["invalid-utf8"])
        .connect()
        .unwrap();
    let got: Vec<Event> = within(10, client.events().take(2).collect()).await;
    assert_eq!(got[0].event_type, "invalid-utf8", "{kind}");
    assert_eq!(got[0].data, "bad \u{FFFD}\u{FFFD} \u{FFFD} end", "{kind}");
    assert_eq!(got[1], Event::new("message", "after", id), "{kind}");
}

/// Events of several sizes and scripts in turn, delivered alike. Over `EventSource` they cover
/// the listener's ways into wasm: ASCII copied by its loop, other text by `encodeInto`, events
/// that need a larger scratch buffer (it starts at 1 KiB, 3 bytes per UTF-16 unit), and large
/// events in a row that do not, between which the client's own allocations grow wasm memory.
pub async fn mixed_text(kind: TransportKind) {
    let topic = fresh_topic("m-text");
    let large: Vec<String> = ["p", "q", "r", "s", "t"]
        .iter()
        .map(|c| c.repeat(20_000))
        .collect();
    let (grows, wide) = ("x".repeat(400), "é".repeat(5_000));
    let mut datas = vec!["a", "é€😀", "b", &grows, "c", &wide, "d"];
    datas.extend(large.iter().map(String::as_str));
    datas.push("e");
    let mut want = Vec::new();
    for data in &datas {
        let id = publish(&topic, &format!(r#"{{"data":"{data}"}}"#)).await;
        want.push(Event::new("message", *data, id));
    }
    let client = builder(kind, &format!("topic={topic}"))
        .last_event_id("0")
        .connect()
        .unwrap();
    // Grows wasm memory while handling each large event, before the next one arrives.
    let mut hog = Vec::new();
    let _grow = client.on("message", move |event| {
        if event.data.len() >= 20_000 {
            hog.push(vec![1_u8; 4 << 20]);
        }
    });
    let got: Vec<Event> = within(10, client.events().take(datas.len()).collect()).await;
    let summary = |events: &[Event]| -> Vec<(String, usize, Option<char>)> {
        events
            .iter()
            .map(|e| (e.last_event_id.clone(), e.data.len(), e.data.chars().next()))
            .collect()
    };
    assert!(
        got == want,
        "{kind}: got {:?}, want {:?}",
        summary(&got),
        summary(&want)
    );
}

/// An event over `max_event_size` is dropped and reported; the stream goes on.
pub async fn huge_event(kind: TransportKind) {
    let topic = fresh_topic("m-huge");
    let id = publish(&topic, r#"{"data":"after"}"#).await;
    let client = builder(kind, &format!("topic={topic}&{HUGE_BYTES}=100000"))
        .last_event_id("0")
        .max_event_size(64 * 1024)
        .event_types(["huge"])
        .connect()
        .unwrap();
    let lifecycle = client.lifecycle();
    let mut events = client.events();
    let first = within(10, events.next()).await.unwrap();
    if is_native(kind) {
        // The browser's `EventSource` has no size limit: the event arrives whole.
        assert_eq!(first.event_type, "huge");
        assert_eq!(first.data.len(), 100_000);
        assert!(first.data.bytes().all(|b| b == b'x'));
        let next = within(10, events.next()).await.unwrap();
        assert_eq!(next, Event::new("message", "after", id));
    } else {
        assert_eq!(first, Event::new("message", "after", id), "{kind}");
    }
    client.close();
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    let too_large = changes.contains(&Lifecycle::EventTooLarge { limit: 64 * 1024 });
    assert_eq!(too_large, !is_native(kind), "{kind}: {changes:?}");
}

/// What the server saw: method, custom headers (static and from the provider), body and
/// `Last-Event-ID` (`echo=1` makes the dev server send it back as the first event).
pub async fn request_echo(kind: TransportKind) {
    let topic = fresh_topic("m-echo");
    let mut b = builder(kind, &format!("topic={topic}&{ECHO}=1")).last_event_id("0");
    if !is_native(kind) {
        b = b
            .header("x-token", "abc")
            .headers_with(|| async { Ok(vec![("x-refresh".to_owned(), "fresh".to_owned())]) })
            .method(Method::Post)
            .body(r#"{"q":"hé"}"#);
    }
    let client = b.event_types(["request"]).connect().unwrap();
    let echo = within(10, client.subscribe("request").next())
        .await
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(&echo.data).unwrap();
    let headers = &seen["headers"];
    assert_eq!(headers["accept"], "text/event-stream", "{kind}: {seen}");
    if is_native(kind) {
        assert_eq!(seen["method"], "GET");
        assert_eq!(seen["body"], "");
        // `EventSource` cannot send the header on its first connection; the query can.
        assert_eq!(headers["last-event-id"], serde_json::Value::Null);
        return;
    }
    assert_eq!(seen["method"], "POST", "{kind}: {seen}");
    assert_eq!(seen["body"], r#"{"q":"hé"}"#, "{kind}: {seen}");
    assert_eq!(headers["x-token"], "abc", "{kind}: {seen}");
    assert_eq!(headers["x-refresh"], "fresh", "{kind}: {seen}");
    assert_eq!(headers["last-event-id"], "0", "{kind}: {seen}");
}

/// Behind a proxy that buffers whole responses (`buffer=1`), a streaming transport chosen
/// automatically opens, receives nothing, then the whole body in one burst at its end: the
/// client switches to long polling, says so, and delivers every event once.
pub async fn downgrade(from: TransportKind, with_header: bool) {
    let topic = fresh_topic("m-buffer");
    let ids = publish_many(&topic, 3).await;
    let mut b = Client::builder(format!(
        "{}/events?topic={topic}&{BUFFER}=1&{BUFFER_MS}=3000",
        server()
    ))
    .last_event_id("0")
    .reconnect(quick())
    .stall_downgrade(Duration::from_millis(500));
    if with_header {
        b = b.header("x-token", "abc");
    }
    let client = b.connect().unwrap();
    let mut lifecycle = client.lifecycle();
    let mut events = client.events();
    let got: Vec<Event> = within(10, (&mut events).take(3).collect()).await;
    let want: Vec<Event> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Event::new("message", format!("e{i}"), id.clone()))
        .collect();
    assert_eq!(got, want);
    // The evidence is the burst at the body's end: the switch follows it, and long polling
    // then carries what is published next.
    let long_poll = TransportKind::LongPoll;
    let mut changes = Vec::new();
    while let Some(change) = before(10_000, lifecycle.next()).await.flatten() {
        let done =
            matches!(change, Lifecycle::Connecting { transport, .. } if transport == long_poll);
        changes.push(change);
        if done {
            break;
        }
    }
    let next = publish(&topic, r#"{"data":"after"}"#).await;
    let got: Vec<Event> = within(10, (&mut events).take(1).collect()).await;
    assert_eq!(got, [Event::new("message", "after", next)], "{changes:?}");
    assert_eq!(client.transport(), Some(long_poll));
    assert_eq!(before(300, events.next()).await, None);
    client.close();
    changes.extend(within(5, lifecycle.collect::<Vec<_>>()).await);
    assert_eq!(
        changes.get(..2),
        Some(
            &[
                Lifecycle::Connecting {
                    attempt: 0,
                    delay: Duration::ZERO,
                    transport: from
                },
                Lifecycle::Open { transport: from },
            ][..]
        ),
        "{changes:?}"
    );
    match &changes[2] {
        Lifecycle::Downgraded {
            from: f,
            to,
            reason,
        } => {
            assert_eq!((*f, *to), (from, long_poll));
            assert!(reason.contains("500 ms"), "{reason}");
        }
        other => panic!("expected a downgrade, got {other:?} in {changes:?}"),
    }
    assert_eq!(
        changes.get(3..5),
        Some(
            &[
                Lifecycle::Connecting {
                    attempt: 0,
                    delay: Duration::ZERO,
                    transport: long_poll
                },
                Lifecycle::Open {
                    transport: long_poll
                },
            ][..]
        ),
        "{changes:?}"
    );
}

/// A forced transport is never switched: behind the buffering proxy, forced fetch waits
/// for the buffered body and delivers it.
pub async fn forced_transport_is_not_downgraded() {
    let topic = fresh_topic("m-forced");
    let ids = publish_many(&topic, 2).await;
    let client = builder(
        TransportKind::Fetch,
        &format!("topic={topic}&{BUFFER}=1&{BUFFER_MS}=1500"),
    )
    .last_event_id("0")
    .stall_downgrade(Duration::from_millis(300))
    .connect()
    .unwrap();
    let lifecycle = client.lifecycle();
    let got: Vec<Event> = within(10, client.events().take(2).collect()).await;
    assert_eq!(
        got.iter()
            .map(|e| e.last_event_id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(client.transport(), Some(TransportKind::Fetch));
    client.close();
    let changes: Vec<Lifecycle> = within(5, lifecycle.collect()).await;
    assert!(
        !changes
            .iter()
            .any(|c| matches!(c, Lifecycle::Downgraded { .. })),
        "{changes:?}"
    );
}

/// Declares one test per scenario for the transport `$kind`, in a module `$module`.
#[macro_export]
macro_rules! scenarios_for {
    ($module:ident, $kind:expr) => {
        mod $module {
            use wasm_bindgen_test::wasm_bindgen_test;
            use wasm_sse::TransportKind;

            const KIND: TransportKind = $kind;

            #[wasm_bindgen_test]
            async fn named_events() {
                $crate::scenarios::named_events(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn resume_after_drop() {
                $crate::scenarios::resume_after_drop(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn retry_floor() {
                $crate::scenarios::retry_floor(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn status_204() {
                $crate::scenarios::status_204(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn status_500_backoff() {
                $crate::scenarios::status_500_backoff(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn status_401() {
                $crate::scenarios::status_401(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn wrong_content_type() {
                $crate::scenarios::wrong_content_type(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn stall() {
                $crate::scenarios::stall(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn trickle() {
                $crate::scenarios::trickle(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn invalid_utf8() {
                $crate::scenarios::invalid_utf8(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn mixed_text() {
                $crate::scenarios::mixed_text(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn huge_event() {
                $crate::scenarios::huge_event(KIND).await;
            }
            #[wasm_bindgen_test]
            async fn request_echo() {
                $crate::scenarios::request_echo(KIND).await;
            }
        }
    };
}
