//! The engine's rules, one test each, driven natively with a fake clock.
#![allow(clippy::unwrap_used)]

use core::time::Duration;

use super::reconnect::{Failure, ReconnectPolicy, StopReason};
use super::*;

// The re-created connections and request changes: the browser's own `EventSource`
// reconnection, resuming over fetch or the query parameter, one-shot streams, `reconnect`.
mod reconnection;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// An engine for `config`, its first attempt started at time zero; returns it and the
/// actions it asked for.
fn started(config: Config) -> (Engine, Vec<Action>) {
    let mut engine = Engine::new(config, Duration::ZERO);
    engine.handle(Input::Timer, Duration::ZERO);
    let actions = drain(&mut engine);
    (engine, actions)
}

fn drain(engine: &mut Engine) -> Vec<Action> {
    core::iter::from_fn(|| engine.poll_action()).collect()
}

/// Feeds `input` at `now`; returns the actions it caused.
fn feed(engine: &mut Engine, input: Input, now: Duration) -> Vec<Action> {
    engine.handle(input, now);
    drain(engine)
}

fn emitted(actions: &[Action]) -> Vec<Lifecycle> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(change) => Some(change.clone()),
            _ => None,
        })
        .collect()
}

fn connects(actions: &[Action]) -> Vec<TransportKind> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Connect { transport, .. } => Some(*transport),
            _ => None,
        })
        .collect()
}

fn no_jitter(config: Config) -> Config {
    Config {
        policy: ReconnectPolicy::new().jitter(false),
        ..config
    }
}

#[test]
fn the_first_attempt_is_announced_and_starts_at_once() {
    let (engine, actions) = started(Config::testing("/e"));
    assert_eq!(
        actions,
        [
            Action::Emit(Lifecycle::Connecting {
                attempt: 0,
                delay: Duration::ZERO,
                transport: TransportKind::EventSource
            }),
            Action::Connect {
                transport: TransportKind::EventSource,
                url: "/e".into(),
                last_event_id: None
            },
        ]
    );
    assert_eq!(engine.ready_state(), ReadyState::Connecting);
    assert_eq!(engine.next_deadline(), None, "no timer by default");
}

#[test]
fn transport_choice_table() {
    use TransportKind::{EventSource, Fetch, LongPoll};
    let base = Config::testing("/e");
    let cases: [(&str, Config, TransportKind); 8] = [
        (
            "cross-origin with EventSource: EventSource",
            base.clone(),
            EventSource,
        ),
        (
            "same-origin where bodies stream: fetch",
            Config {
                same_origin: true,
                ..base.clone()
            },
            Fetch,
        ),
        (
            "headers, method or body: fetch",
            Config {
                needs_fetch: true,
                ..base.clone()
            },
            Fetch,
        ),
        (
            "no EventSource (Node): fetch",
            Config {
                has_event_source: false,
                ..base.clone()
            },
            Fetch,
        ),
        (
            "neither EventSource nor streamed bodies: long polling",
            Config {
                has_event_source: false,
                has_fetch_streams: false,
                ..base.clone()
            },
            LongPoll,
        ),
        (
            "same-origin without streamed bodies: EventSource",
            Config {
                same_origin: true,
                has_fetch_streams: false,
                ..base.clone()
            },
            EventSource,
        ),
        (
            "needs fetch without streamed bodies: long polling",
            Config {
                needs_fetch: true,
                has_fetch_streams: false,
                ..base.clone()
            },
            LongPoll,
        ),
        (
            "a forced transport always",
            Config {
                transport: Some(LongPoll),
                same_origin: true,
                ..base.clone()
            },
            LongPoll,
        ),
    ];
    for (rule, config, want) in cases {
        assert_eq!(Engine::new(config, Duration::ZERO).choose(), want, "{rule}");
    }
}

#[test]
fn open_makes_the_state_open_and_says_so() {
    let (mut engine, _) = started(Config::testing("/e"));
    let actions = feed(&mut engine, Input::Open, ms(5));
    assert_eq!(
        emitted(&actions),
        [Lifecycle::Open {
            transport: TransportKind::EventSource
        }]
    );
    assert_eq!(engine.ready_state(), ReadyState::Open);
    // A second open of the same connection says nothing.
    assert_eq!(feed(&mut engine, Input::Open, ms(6)), []);
}

#[test]
fn a_server_slow_to_send_its_head_is_waited_for_by_default() {
    for transport in [TransportKind::EventSource, TransportKind::Fetch] {
        let config = Config {
            transport: Some(transport),
            ..Config::testing("/e")
        };
        let (mut engine, _) = started(config);
        assert_eq!(
            engine.next_deadline(),
            None,
            "{transport}: no connect timeout"
        );
        assert_eq!(feed(&mut engine, Input::Timer, secs(40)), [], "{transport}");
        let actions = feed(&mut engine, Input::Open, secs(40));
        assert_eq!(emitted(&actions), [Lifecycle::Open { transport }]);
    }
}

#[test]
fn a_quiet_stream_is_neither_timed_out_nor_downgraded() {
    let (mut engine, _) = started(Config::testing("/e"));
    feed(&mut engine, Input::Open, ms(0));
    assert_eq!(engine.next_deadline(), None);
    assert_eq!(feed(&mut engine, Input::Timer, secs(40)), []);
    // It speaks after 40 s and stays open: still the same stream.
    assert_eq!(feed(&mut engine, Input::Data, secs(40)), []);
    assert_eq!(feed(&mut engine, Input::Timer, secs(100)), []);
    assert_eq!(engine.transport(), Some(TransportKind::EventSource));
    // When it ends long after its first bytes, that is an ordinary end.
    let actions = feed(&mut engine, Input::End, secs(100));
    assert!(matches!(
        emitted(&actions)[0],
        Lifecycle::Reconnecting {
            reason: Failure::StreamEnded
        }
    ));
}

#[test]
fn a_burst_at_the_end_after_silence_is_a_buffering_proxy() {
    for (from, end) in [
        (TransportKind::Fetch, Input::End),
        (TransportKind::EventSource, Input::Interrupted),
    ] {
        let config = Config {
            same_origin: from == TransportKind::Fetch,
            ..Config::testing("/e")
        };
        let (mut engine, _) = started(config);
        feed(&mut engine, Input::Open, ms(0));
        feed(&mut engine, Input::Data, secs(12));
        let actions = feed(&mut engine, end, secs(12) + ms(3));
        let changes = emitted(&actions);
        match &changes[0] {
            Lifecycle::Downgraded {
                from: f,
                to,
                reason,
            } => {
                assert_eq!((*f, *to), (from, TransportKind::LongPoll));
                assert!(reason.contains("12000 ms"), "{reason}");
                assert!(reason.contains("10000 ms"), "{reason}");
            }
            other => panic!("{from}: expected a downgrade, got {other:?}"),
        }
        assert_eq!(
            changes[1],
            Lifecycle::Connecting {
                attempt: 0,
                delay: Duration::ZERO,
                transport: TransportKind::LongPoll
            }
        );
        assert_eq!(
            connects(&actions),
            [TransportKind::LongPoll],
            "{from}: at once"
        );
        assert!(actions.contains(&Action::Cancel));
    }
}

#[test]
fn no_downgrade_without_the_whole_evidence() {
    let cases: [(&str, Option<TransportKind>, u64, u64); 4] = [
        ("silence shorter than the threshold", None, 9_000, 9_001),
        ("first bytes long before the end", None, 12_000, 13_000),
        (
            "a forced transport",
            Some(TransportKind::Fetch),
            12_000,
            12_001,
        ),
        (
            "a forced EventSource",
            Some(TransportKind::EventSource),
            12_000,
            12_001,
        ),
    ];
    for (rule, forced, data_at, end_at) in cases {
        let config = Config {
            transport: forced,
            ..Config::testing("/e")
        };
        let (mut engine, _) = started(config);
        feed(&mut engine, Input::Open, ms(0));
        feed(&mut engine, Input::Data, ms(data_at));
        let actions = feed(&mut engine, Input::End, ms(end_at));
        assert!(
            matches!(emitted(&actions)[0], Lifecycle::Reconnecting { .. }),
            "{rule}: {actions:?}"
        );
    }
    // A stream that ends without a byte shows nothing either.
    let (mut engine, _) = started(Config::testing("/e"));
    feed(&mut engine, Input::Open, ms(0));
    let actions = feed(&mut engine, Input::End, secs(30));
    assert!(matches!(
        emitted(&actions)[0],
        Lifecycle::Reconnecting { .. }
    ));
}

#[test]
fn an_explicit_connect_timeout_fails_a_streaming_attempt_and_eventsource_retries_over_fetch() {
    let config = Config {
        connect_timeout: Some(secs(5)),
        ..no_jitter(Config::testing("/e"))
    };
    let (mut engine, _) = started(config);
    assert_eq!(engine.next_deadline(), Some(secs(5)));
    assert_eq!(feed(&mut engine, Input::Timer, ms(4_999)), []);
    let actions = feed(&mut engine, Input::Timer, secs(5));
    assert_eq!(actions[0], Action::Cancel);
    let changes = emitted(&actions);
    assert_eq!(
        changes[0],
        Lifecycle::Reconnecting {
            reason: Failure::ConnectTimeout
        }
    );
    assert_eq!(
        changes[1],
        Lifecycle::Connecting {
            attempt: 1,
            delay: secs(1),
            transport: TransportKind::Fetch
        }
    );
}

#[test]
fn a_held_long_poll_is_healthy_until_the_long_poll_timeout() {
    let config = Config {
        transport: Some(TransportKind::LongPoll),
        connect_timeout: Some(secs(15)),
        ..Config::testing("/e")
    };
    let (mut engine, _) = started(config);
    assert_eq!(
        engine.next_deadline(),
        None,
        "the connect timeout does not cut polls"
    );
    feed(&mut engine, Input::Polling(true), ms(0));
    assert_eq!(engine.next_deadline(), Some(secs(90)));
    assert_eq!(feed(&mut engine, Input::Timer, secs(30)), []);
    // The server answers after 30 s: open, and open across the next polls.
    let actions = feed(&mut engine, Input::Polling(false), secs(30));
    assert_eq!(
        emitted(&actions),
        [Lifecycle::Open {
            transport: TransportKind::LongPoll
        }]
    );
    for poll in 1..5 {
        feed(&mut engine, Input::Polling(true), secs(30 * poll));
        assert_eq!(
            feed(&mut engine, Input::Polling(false), secs(30 * poll + 25)),
            []
        );
        assert_eq!(engine.ready_state(), ReadyState::Open);
    }
    // A poll never answered fails after the long-poll timeout.
    feed(&mut engine, Input::Polling(true), secs(300));
    let actions = feed(&mut engine, Input::Timer, secs(390));
    assert_eq!(
        emitted(&actions)[0],
        Lifecycle::Reconnecting {
            reason: Failure::IdleTimeout
        }
    );
}

#[test]
fn the_idle_watchdog_fires_between_one_and_a_quarter_more_idle_timeouts_after_the_last_sign() {
    let config = Config {
        idle_timeout: Some(secs(4)),
        ..Config::testing("/e")
    };
    let (mut engine, _) = started(config);
    feed(&mut engine, Input::Open, ms(0));
    let mut now = Duration::ZERO;
    // Events keep it quiet (the fast path counts them).
    for _ in 0..10 {
        now += secs(1);
        engine.admit(&mut Event::new("message", "x", ""));
        assert_eq!(feed(&mut engine, Input::Timer, now), []);
    }
    let last_sign = now;
    let mut fired = None;
    while fired.is_none() {
        now = engine.next_deadline().unwrap();
        let actions = feed(&mut engine, Input::Timer, now);
        if !actions.is_empty() {
            fired = Some((now, actions));
        }
    }
    let (at, actions) = fired.unwrap();
    assert!(
        at >= last_sign + secs(4) && at <= last_sign + secs(5),
        "{at:?}"
    );
    assert_eq!(
        emitted(&actions)[0],
        Lifecycle::Reconnecting {
            reason: Failure::IdleTimeout
        }
    );
}

#[test]
fn retry_after_is_waited_and_204_and_fatal_failures_stop() {
    // Statuses are what fetch sees (same origin: the automatic choice is fetch).
    let config = Config {
        same_origin: true,
        ..Config::testing("/e")
    };
    let (mut engine, _) = started(no_jitter(config));
    let busy = Failure::Status {
        status: 503,
        retry_after: Some(secs(7)),
    };
    let actions = feed(&mut engine, Input::Failed(busy), ms(0));
    assert_eq!(
        emitted(&actions)[1],
        Lifecycle::Connecting {
            attempt: 1,
            delay: secs(7),
            transport: TransportKind::Fetch
        }
    );
    assert_eq!(engine.next_deadline(), Some(secs(7)));
    assert_eq!(feed(&mut engine, Input::Timer, secs(6)), []);
    assert_eq!(connects(&feed(&mut engine, Input::Timer, secs(7))).len(), 1);

    let no_content = Failure::Status {
        status: 204,
        retry_after: None,
    };
    let actions = feed(&mut engine, Input::Failed(no_content), secs(8));
    assert_eq!(
        emitted(&actions).last(),
        Some(&Lifecycle::Closed {
            reason: CloseReason::Stopped(StopReason::NoContent)
        })
    );
    assert_eq!(engine.ready_state(), ReadyState::Closed);
    assert_eq!(
        feed(&mut engine, Input::Open, secs(9)),
        [],
        "closed for good"
    );

    let (mut engine, _) = started(Config::testing("/e"));
    let wrong = Failure::ContentType("text/html".into());
    let actions = feed(&mut engine, Input::Failed(wrong.clone()), ms(0));
    assert_eq!(
        emitted(&actions).last(),
        Some(&Lifecycle::Closed {
            reason: CloseReason::Stopped(StopReason::Fatal(wrong))
        })
    );
}

#[test]
fn the_retry_hook_is_asked_about_fatal_failures_only() {
    let config = Config {
        has_retry_hook: true,
        ..Config::testing("/e")
    };
    let (mut engine, _) = started(config);
    let denied = Failure::Status {
        status: 401,
        retry_after: None,
    };
    let actions = feed(&mut engine, Input::Failed(denied.clone()), ms(0));
    assert_eq!(actions.last(), Some(&Action::AskRetry(denied.clone())));
    let actions = feed(&mut engine, Input::RetryVerdict(true), ms(1));
    assert!(matches!(
        emitted(&actions)[0],
        Lifecycle::Connecting { attempt: 1, .. }
    ));
    // A retryable failure is not put to the hook.
    feed(&mut engine, Input::Timer, secs(60));
    let actions = feed(&mut engine, Input::Failed(Failure::Network), secs(61));
    assert!(!actions.iter().any(|a| matches!(a, Action::AskRetry(_))));
    // A hook that says no stops the client.
    feed(&mut engine, Input::Timer, secs(200));
    feed(&mut engine, Input::Failed(denied.clone()), secs(201));
    let actions = feed(&mut engine, Input::RetryVerdict(false), secs(201));
    assert_eq!(
        emitted(&actions),
        [Lifecycle::Closed {
            reason: CloseReason::Stopped(StopReason::Fatal(denied))
        }]
    );
}

#[test]
fn offline_waits_and_online_skips_the_backoff() {
    let (mut engine, _) = started(no_jitter(Config::testing("/e")));
    feed(&mut engine, Input::Page(PageSignal::Offline), ms(0));
    feed(&mut engine, Input::Failed(Failure::Network), ms(0));
    assert_eq!(engine.next_deadline(), None, "offline: no attempt");
    assert_eq!(feed(&mut engine, Input::Timer, secs(30)), []);
    let actions = feed(&mut engine, Input::Page(PageSignal::Online), secs(30));
    assert_eq!(connects(&actions).len(), 1, "back online: at once");
}

#[test]
fn online_during_a_backoff_wait_keeps_a_retry_after() {
    let (mut engine, _) = started(no_jitter(Config::testing("/e")));
    let busy = Failure::Status {
        status: 429,
        retry_after: Some(secs(10)),
    };
    feed(&mut engine, Input::Failed(busy), ms(0));
    assert_eq!(
        feed(&mut engine, Input::Page(PageSignal::Online), secs(4)),
        []
    );
    assert_eq!(engine.next_deadline(), Some(secs(10)));
}

#[test]
fn a_paused_page_closes_while_hidden_and_resumes_when_visible() {
    let config = Config {
        pause_when_hidden: true,
        ..Config::testing("/e")
    };
    let (mut engine, _) = started(config);
    feed(&mut engine, Input::Open, ms(0));
    let actions = feed(&mut engine, Input::Page(PageSignal::Hidden(true)), secs(1));
    assert_eq!(actions[0], Action::Cancel);
    assert!(connects(&actions).is_empty());
    assert_eq!(engine.next_deadline(), None);
    let actions = feed(
        &mut engine,
        Input::Page(PageSignal::Hidden(false)),
        secs(60),
    );
    assert_eq!(connects(&actions).len(), 1);
    // Without the option, hiding changes nothing.
    let (mut engine, _) = started(Config::testing("/e"));
    feed(&mut engine, Input::Open, ms(0));
    assert_eq!(
        feed(&mut engine, Input::Page(PageSignal::Hidden(true)), secs(1)),
        []
    );
}

#[test]
fn a_page_restored_from_the_cache_reconnects_without_counting_a_failure() {
    let (mut engine, _) = started(Config::testing("/e"));
    feed(&mut engine, Input::Open, ms(0));
    let actions = feed(&mut engine, Input::Page(PageSignal::Restored), secs(1));
    assert_eq!(actions[0], Action::Cancel);
    assert!(matches!(
        emitted(&actions)[0],
        Lifecycle::Connecting { attempt: 0, .. }
    ));
    assert_eq!(connects(&actions).len(), 1);
}

#[test]
fn close_cancels_and_closes_once_at_any_point() {
    for point in 0..4 {
        let config = Config {
            has_retry_hook: true,
            ..Config::testing("/e")
        };
        let (mut engine, _) = started(config);
        match point {
            1 => drop(feed(&mut engine, Input::Open, ms(1))),
            2 => drop(feed(&mut engine, Input::Failed(Failure::Network), ms(1))),
            3 => drop(feed(
                &mut engine,
                Input::Failed(Failure::ContentType(String::new())),
                ms(1),
            )),
            _ => {}
        }
        let actions = feed(&mut engine, Input::Close, ms(2));
        assert_eq!(
            emitted(&actions),
            [Lifecycle::Closed {
                reason: CloseReason::Requested
            }],
            "point {point}"
        );
        assert_eq!(
            actions.contains(&Action::Cancel),
            point < 2,
            "point {point}"
        );
        assert_eq!(feed(&mut engine, Input::Close, ms(3)), []);
        assert_eq!(feed(&mut engine, Input::RetryVerdict(true), ms(3)), []);
        assert_eq!(engine.next_deadline(), None);
    }
}

#[test]
fn replays_are_dropped_and_the_resumed_id_carries_over() {
    let config = Config {
        last_event_id: "2".into(),
        ..Config::testing("/e")
    };
    let (mut engine, actions) = started(config);
    assert_eq!(
        actions[1],
        Action::Connect {
            transport: TransportKind::EventSource,
            url: "/e?lastEventId=2".into(),
            last_event_id: Some("2".into())
        },
        "an EventSource resumes with the query parameter"
    );
    let mut delivered = Vec::new();
    for (id, data) in [("3", "c"), ("3", "c2"), ("", "d"), ("4", "e")] {
        let mut event = Event::new("message", data, id);
        if engine.admit(&mut event) {
            delivered.push((event.last_event_id, event.data));
        }
    }
    // The next connection replays 3 and 4.
    feed(&mut engine, Input::Failed(Failure::Network), ms(1));
    feed(&mut engine, Input::Timer, secs(60));
    for (id, data) in [("3", "c"), ("4", "e"), ("5", "f")] {
        let mut event = Event::new("message", data, id);
        if engine.admit(&mut event) {
            delivered.push((event.last_event_id, event.data));
        }
    }
    let want = [("3", "c"), ("3", "c2"), ("3", "d"), ("4", "e"), ("5", "f")];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(i, d)| ((*i).to_owned(), (*d).to_owned()))
        .collect();
    assert_eq!(delivered, want);
    assert_eq!(engine.last_event_id(), "5");
}

#[test]
fn a_clock_that_steps_back_does_not_panic_or_fire_early() {
    let config = Config {
        idle_timeout: Some(secs(4)),
        ..no_jitter(Config::testing("/e"))
    };
    let (mut engine, _) = started(config);
    feed(&mut engine, Input::Open, secs(100));
    assert_eq!(feed(&mut engine, Input::Timer, secs(50)), []);
    feed(&mut engine, Input::Failed(Failure::Network), secs(10));
    assert_eq!(feed(&mut engine, Input::Timer, secs(5)), []);
    assert_eq!(
        connects(&feed(&mut engine, Input::Timer, secs(11))).len(),
        1
    );
}

#[test]
fn the_engine_does_no_io() {
    // The engine's own files name no browser API, executor or timer; only the tests
    // (`tests/`, `*tests.rs`, `model.rs`) reach into the transports.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/engine");
    let mut files = vec![std::path::PathBuf::from(dir)];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "tests") {
                continue;
            }
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        if name.ends_with("tests.rs") || name == "model.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in [
            "web_sys",
            "js_sys",
            "wasm_bindgen",
            "futures",
            "gloo",
            "crate::transport",
            "crate::client",
            "crate::env",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 8, "{checked} files");
}
