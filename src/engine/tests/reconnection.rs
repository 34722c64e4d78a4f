//! Table tests of the connections the client re-creates or changes: the browser's own
//! `EventSource` reconnection, resuming over fetch or with the query parameter, one-shot
//! streams, `reconnect` and a new URL.

use core::time::Duration;

use super::super::reconnect::{Failure, ReconnectPolicy, StopReason};
use super::*;

/// The `Connect` actions, with their URL and header ID.
fn connect_requests(actions: &[Action]) -> Vec<(TransportKind, String, Option<String>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Connect {
                transport,
                url,
                last_event_id,
            } => Some((*transport, url.clone(), last_event_id.clone())),
            _ => None,
        })
        .collect()
}

/// A cross-origin `EventSource` (the automatic choice) that opened and delivered event 7.
fn open_event_source(config: Config) -> Engine {
    let (mut engine, actions) = started(config);
    assert_eq!(connects(&actions), [TransportKind::EventSource]);
    feed(&mut engine, Input::Open, ms(10));
    assert!(engine.admit(&mut Event::new("message", "x", "7")));
    engine
}

/// Waits out the announced attempt and returns what it connects.
fn next_attempt(engine: &mut Engine) -> Vec<(TransportKind, String, Option<String>)> {
    let at = engine.next_deadline().expect("an attempt is waiting");
    connect_requests(&feed(engine, Input::Timer, at))
}

#[test]
fn an_interrupted_event_source_reconnects_by_itself_and_each_attempt_is_announced() {
    let mut engine = open_event_source(Config::testing("https://other.example/e"));
    for attempt in 1..=3 {
        let actions = feed(&mut engine, Input::Interrupted, secs(attempt));
        // No Cancel and no Connect: the browser's own reconnection sends `Last-Event-ID`.
        assert_eq!(
            actions,
            [
                Action::Emit(Lifecycle::Reconnecting {
                    reason: Failure::Network
                }),
                Action::Emit(Lifecycle::Connecting {
                    attempt: u32::try_from(attempt).unwrap(),
                    delay: Duration::ZERO,
                    transport: TransportKind::EventSource
                }),
            ]
        );
        assert_eq!(engine.ready_state(), ReadyState::Connecting);
    }
    let actions = feed(&mut engine, Input::Open, secs(5));
    assert_eq!(
        emitted(&actions),
        [Lifecycle::Open {
            transport: TransportKind::EventSource
        }]
    );
    assert!(connects(&actions).is_empty());
    // Healthy again for long enough: the next outage counts from 1 again.
    feed(&mut engine, Input::Data, secs(6));
    let actions = feed(&mut engine, Input::Interrupted, secs(600));
    assert!(matches!(
        emitted(&actions)[1],
        Lifecycle::Connecting { attempt: 1, .. }
    ));
}

#[test]
fn the_policy_bounds_an_outage_the_browser_is_retrying() {
    let config = Config {
        policy: ReconnectPolicy::new().max_attempts(2),
        ..Config::testing("https://other.example/e")
    };
    let mut engine = open_event_source(config);
    feed(&mut engine, Input::Interrupted, secs(1));
    feed(&mut engine, Input::Interrupted, secs(4));
    let actions = feed(&mut engine, Input::Interrupted, secs(7));
    assert!(actions.contains(&Action::Cancel), "{actions:?}");
    assert!(matches!(
        emitted(&actions).last(),
        Some(Lifecycle::Closed {
            reason: CloseReason::Stopped(StopReason::AttemptsExhausted { attempts: 2, .. })
        })
    ));
    assert_eq!(engine.ready_state(), ReadyState::Closed);
}

#[test]
fn a_re_created_event_source_resumes_over_fetch_with_the_header() {
    // The browser gave up (CLOSED), the idle watchdog fired, the page came back from the
    // back/forward cache: each time the client itself must open a new connection.
    let idle = Config {
        idle_timeout: Some(secs(20)),
        ..Config::testing("https://other.example/e")
    };
    let cases: [(Config, Input); 3] = [
        (Config::testing("https://other.example/e"), Input::Rejected),
        (idle, Input::Timer),
        (
            Config::testing("https://other.example/e"),
            Input::Page(PageSignal::Restored),
        ),
    ];
    for (config, input) in cases {
        let mut engine = open_event_source(config);
        feed(&mut engine, Input::Interrupted, secs(1));
        let mut actions = feed(&mut engine, input.clone(), secs(2));
        while input == Input::Timer && actions.is_empty() {
            let at = engine.next_deadline().expect("the watchdog looks again");
            actions = feed(&mut engine, Input::Timer, at);
        }
        assert!(actions.contains(&Action::Cancel), "{input:?}: {actions:?}");
        // A restored page reconnects at once; the others after the backoff.
        let mut requests = connect_requests(&actions);
        if requests.is_empty() {
            requests = next_attempt(&mut engine);
        }
        assert_eq!(
            requests,
            [(
                TransportKind::Fetch,
                "https://other.example/e".to_owned(),
                Some("7".to_owned())
            )],
            "{input:?}"
        );
    }
}

#[test]
fn a_refused_header_preflight_resumes_with_the_query_parameter_from_then_on() {
    let mut engine = open_event_source(Config::testing("https://other.example/e"));
    feed(&mut engine, Input::Rejected, secs(1));
    assert_eq!(next_attempt(&mut engine)[0].0, TransportKind::Fetch);
    // The fetch carrying `Last-Event-ID` fails before any answer: taken as a refusal.
    feed(&mut engine, Input::Failed(Failure::Network), secs(3));
    let query = "https://other.example/e?lastEventId=7".to_owned();
    assert_eq!(
        next_attempt(&mut engine),
        [(
            TransportKind::EventSource,
            query.clone(),
            Some("7".to_owned())
        )]
    );
    feed(&mut engine, Input::Open, secs(10));
    feed(&mut engine, Input::Rejected, secs(11));
    assert_eq!(next_attempt(&mut engine)[0].1, query, "remembered");
}

#[test]
fn a_header_preflight_that_passed_once_is_not_blamed_for_an_outage() {
    let mut engine = open_event_source(Config::testing("https://other.example/e"));
    feed(&mut engine, Input::Rejected, secs(1));
    assert_eq!(next_attempt(&mut engine)[0].0, TransportKind::Fetch);
    feed(&mut engine, Input::Open, secs(3));
    feed(&mut engine, Input::Failed(Failure::Network), secs(4));
    assert_eq!(next_attempt(&mut engine)[0].0, TransportKind::Fetch);
    feed(&mut engine, Input::Failed(Failure::Network), secs(20));
    assert_eq!(next_attempt(&mut engine)[0].0, TransportKind::Fetch);
}

#[test]
fn a_forced_event_source_is_re_created_with_the_query_parameter() {
    let config = Config {
        transport: Some(TransportKind::EventSource),
        ..Config::testing("https://other.example/e")
    };
    let mut engine = open_event_source(config);
    feed(&mut engine, Input::Interrupted, secs(1));
    assert!(feed(&mut engine, Input::Open, secs(2))
        .iter()
        .all(|a| !matches!(a, Action::Connect { .. })));
    feed(&mut engine, Input::Rejected, secs(3));
    assert_eq!(
        next_attempt(&mut engine),
        [(
            TransportKind::EventSource,
            "https://other.example/e?lastEventId=7".to_owned(),
            Some("7".to_owned())
        )]
    );
}

#[test]
fn close_on_end_ends_the_client_at_a_clean_end_and_still_retries_failures() {
    let config = Config {
        close_on_end: true,
        needs_fetch: true,
        ..Config::testing("/e")
    };
    let (mut engine, actions) = started(config);
    assert_eq!(connects(&actions), [TransportKind::Fetch]);
    feed(&mut engine, Input::Open, ms(1));
    // A lost connection or a 503 is a failure as ever: retried.
    let actions = feed(&mut engine, Input::Failed(Failure::Network), ms(2));
    assert!(matches!(
        emitted(&actions)[1],
        Lifecycle::Connecting { attempt: 1, .. }
    ));
    assert_eq!(next_attempt(&mut engine)[0].0, TransportKind::Fetch);
    feed(&mut engine, Input::Open, secs(5));
    let actions = feed(&mut engine, Input::End, secs(6));
    assert_eq!(
        actions,
        [
            Action::Cancel,
            Action::Emit(Lifecycle::Closed {
                reason: CloseReason::Ended
            })
        ]
    );
    assert_eq!(engine.ready_state(), ReadyState::Closed);
}

#[test]
fn reconnect_drops_the_connection_and_resumes_at_once_without_counting_a_failure() {
    let config = Config {
        same_origin: true,
        ..Config::testing("/e")
    };
    let (mut engine, _) = started(config);
    feed(&mut engine, Input::Open, ms(1));
    assert!(engine.admit(&mut Event::new("message", "x", "3")));
    let actions = feed(&mut engine, Input::Reconnect, secs(1));
    assert_eq!(actions[0], Action::Cancel);
    assert_eq!(
        emitted(&actions),
        [Lifecycle::Connecting {
            attempt: 0,
            delay: Duration::ZERO,
            transport: TransportKind::Fetch
        }]
    );
    assert_eq!(
        connect_requests(&actions),
        [(TransportKind::Fetch, "/e".to_owned(), Some("3".to_owned()))]
    );
    // Once closed, nothing.
    feed(&mut engine, Input::Close, secs(2));
    assert_eq!(feed(&mut engine, Input::Reconnect, secs(3)), []);
}

#[test]
fn a_new_url_is_used_from_the_next_attempt_and_chooses_by_its_origin() {
    let (mut engine, actions) = started(Config::testing("https://other.example/e"));
    assert_eq!(connects(&actions), [TransportKind::EventSource]);
    feed(&mut engine, Input::Open, ms(1));
    engine.set_url("/mine".to_owned(), true);
    let actions = feed(&mut engine, Input::Reconnect, ms(2));
    assert_eq!(
        connect_requests(&actions),
        [(TransportKind::Fetch, "/mine".to_owned(), None)]
    );
}
