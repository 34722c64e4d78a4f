//! The policy's limits and outages: attempt and elapsed limits, healthy resets, stops,
//! `retry_now`, and saturating arithmetic.
#![allow(clippy::unwrap_used)]

use super::tests::*;
use super::*;

#[test]
fn max_attempts_limits_each_outage() {
    // Rule: max_attempts = 3 allows attempts 1..=3; the 4th failure stops, reporting it.
    let mut backoff = Backoff::new(fixed().max_attempts(3), 0);
    for want in 1..=3 {
        assert_eq!(
            retry(backoff.on_failure(&Failure::Network, SEC, false)).0,
            want
        );
    }
    assert_eq!(
        stopped(backoff.on_failure(&status(503), SEC, false)),
        StopReason::AttemptsExhausted {
            attempts: 3,
            last: status(503)
        }
    );
}

#[test]
fn never_stops_at_the_first_failure() {
    // Rule: never() = zero attempts; retryable failures stop with AttemptsExhausted.
    let mut backoff = Backoff::new(ReconnectPolicy::never(), 0);
    assert_eq!(
        stopped(backoff.on_failure(&Failure::StreamEnded, SEC, false)),
        StopReason::AttemptsExhausted {
            attempts: 0,
            last: Failure::StreamEnded
        }
    );
    // Rule: non-retryable failures keep their own reason.
    let mut backoff = Backoff::new(ReconnectPolicy::never(), 0);
    assert_eq!(
        stopped(backoff.on_failure(&status(204), SEC, false)),
        StopReason::NoContent
    );
    let mut backoff = Backoff::new(ReconnectPolicy::never(), 0);
    assert_eq!(
        stopped(backoff.on_failure(&status(404), SEC, false)),
        StopReason::Fatal(status(404))
    );
    // Rule: retry_now cannot bypass it either.
    let mut backoff = Backoff::new(ReconnectPolicy::never(), 0);
    backoff.on_open();
    assert!(matches!(
        stopped(backoff.retry_now(SEC)),
        StopReason::AttemptsExhausted { attempts: 0, .. }
    ));
}

#[test]
fn max_elapsed_is_measured_from_the_first_failure_of_the_outage() {
    // Rule: a retry that would start after outage start + max_elapsed stops instead.
    let mut backoff = Backoff::new(fixed().max_elapsed(secs(10)), 0);
    let t0 = secs(100);
    // Outage starts at t0: delay 1s, starts at +1s.
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, t0, false)),
        (1, SEC)
    );
    // +2s: delay 2s, starts at +4s.
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, t0 + secs(2), false)),
        (2, secs(2))
    );
    // +5s: delay 4s, starts at +9s ≤ 10s.
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, t0 + secs(5), false)),
        (3, secs(4))
    );
    // +9s: delay 8s would start at +17s > 10s: stop, reporting the elapsed time.
    assert_eq!(
        stopped(backoff.on_failure(&Failure::IdleTimeout, t0 + secs(9), false)),
        StopReason::ElapsedExhausted {
            elapsed: secs(9),
            last: Failure::IdleTimeout
        }
    );

    // Exactly at the limit is still allowed.
    let mut backoff = Backoff::new(fixed().max_elapsed(SEC), 0);
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, t0, false)),
        (1, SEC)
    );
    // A Retry-After beyond the limit stops at once.
    let mut backoff = Backoff::new(fixed().max_elapsed(secs(60)), 0);
    assert!(matches!(
        stopped(backoff.on_failure(&status_after(503, secs(3600)), t0, false)),
        StopReason::ElapsedExhausted {
            elapsed: Duration::ZERO,
            ..
        }
    ));
    // max_elapsed of zero: no retry can start in time.
    let mut backoff = Backoff::new(fixed().max_elapsed(Duration::ZERO), 0);
    assert!(matches!(
        stopped(backoff.on_failure(&Failure::Network, t0, false)),
        StopReason::ElapsedExhausted { .. }
    ));
}

#[test]
fn connections_that_open_but_fail_quickly_do_not_reset_the_outage() {
    // Rule: open + data but a failure before reset_after keeps the counter and the clock.
    let mut backoff = Backoff::new(fixed().max_elapsed(secs(60)), 0);
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, secs(0), false)).0,
        1
    );
    backoff.on_open();
    backoff.on_activity(secs(2));
    backoff.on_activity(secs(6)); // 4s healthy < 5s
    assert_eq!(backoff.attempt(), 1);
    assert_eq!(
        retry(backoff.on_failure(&Failure::StreamEnded, secs(6), false)).0,
        2
    );
    // The outage clock kept running from t=0: at t=58 a 4s delay overshoots 60s.
    backoff.on_open();
    assert!(matches!(
        stopped(backoff.on_failure(&Failure::Network, secs(58), false)),
        StopReason::ElapsedExhausted { elapsed, .. } if elapsed == secs(58)
    ));
}

#[test]
fn healthy_period_resets_the_counter_and_the_outage_clock() {
    let cases: &[(&str, &[Event], u32)] = &[
        // Open and receiving for exactly reset_after (5s): reset (≥, not >).
        (
            "healthy 5s",
            &[Event::Open, Event::Activity(10), Event::Activity(15)],
            0,
        ),
        // Activity only at the start, failure 5s later: reset happens at failure time.
        ("quiet but open", &[Event::Open, Event::Activity(10)], 0),
        // Open for a long time but never received anything: not healthy.
        ("open, no data", &[Event::Open], 3),
        // Healthy period counts from the first data, not from the open.
        ("late first data", &[Event::Open, Event::Activity(13)], 3),
        // Activity without an explicit open implies the open.
        ("implicit open", &[Event::Activity(10)], 0),
        // A failure interrupts the healthy period; it starts again from the next data.
        (
            "interrupted",
            &[
                Event::Open,
                Event::Activity(10),
                Event::Fail(12),
                Event::Open,
                Event::Activity(13),
            ],
            4,
        ),
    ];
    // Failures at t=1..3 (attempts 1..=3), then the events, then a failure at t=15.
    for (name, events, attempts_before_last) in cases {
        let mut backoff = Backoff::new(fixed(), 0);
        for t in 1..=3 {
            retry(backoff.on_failure(&Failure::Network, secs(t), false));
        }
        for event in *events {
            match *event {
                Event::Open => backoff.on_open(),
                Event::Activity(t) => backoff.on_activity(secs(t)),
                Event::Fail(t) => {
                    retry(backoff.on_failure(&Failure::Network, secs(t), false));
                }
            }
        }
        let (attempt, _) = retry(backoff.on_failure(&Failure::Network, secs(15), false));
        assert_eq!(attempt, attempts_before_last + 1, "{name}");
    }
}

#[derive(Clone, Copy)]
enum Event {
    Open,
    Activity(u64),
    Fail(u64),
}

#[test]
fn reset_is_visible_through_attempt_and_restarts_limits() {
    // Rule: limits apply per outage, not per lifetime.
    let mut backoff = Backoff::new(fixed().max_attempts(2).max_elapsed(secs(20)), 0);
    for round in 0..5u64 {
        let t = secs(round * 1000);
        assert_eq!(
            retry(backoff.on_failure(&Failure::Network, t, false)),
            (1, SEC)
        );
        assert_eq!(
            retry(backoff.on_failure(&Failure::Network, t + secs(2), false)),
            (2, secs(2))
        );
        backoff.on_open();
        backoff.on_activity(t + secs(5));
        assert_eq!(backoff.attempt(), 2);
        backoff.on_activity(t + secs(10));
        assert_eq!(backoff.attempt(), 0, "round {round}");
    }
}

#[test]
fn stop_is_sticky_until_reset() {
    let mut backoff = Backoff::new(fixed(), 0);
    assert_eq!(
        stopped(backoff.on_failure(&status(401), SEC, false)),
        StopReason::Fatal(status(401))
    );
    // Later events are ignored and later decisions repeat the stop.
    backoff.on_open();
    backoff.on_activity(secs(100));
    assert_eq!(
        stopped(backoff.on_failure(&Failure::Network, secs(200), false)),
        StopReason::Fatal(status(401))
    );
    assert_eq!(
        stopped(backoff.retry_now(secs(300))),
        StopReason::Fatal(status(401))
    );
    // reset() starts over.
    backoff.reset();
    assert_eq!(backoff.attempt(), 0);
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, secs(400), false)),
        (1, SEC)
    );
}

#[test]
fn retry_now_skips_the_wait_but_keeps_the_count() {
    let mut backoff = Backoff::new(fixed(), 0);
    for t in 0..3 {
        retry(backoff.on_failure(&Failure::Network, secs(t), false));
    }
    // Attempt 3 scheduled at t=2 with a 4s delay; the browser goes online at t=3.
    assert_eq!(retry(backoff.retry_now(secs(3))), (3, Duration::ZERO));
    assert_eq!(backoff.attempt(), 3);
    // That attempt fails: the count continues at 4 with normal backoff.
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, secs(4), false)),
        (4, secs(8))
    );
    // Skipping the wait while it still runs, again: same attempt.
    assert_eq!(retry(backoff.retry_now(secs(11))), (4, Duration::ZERO));
    // Once skipped, the attempt is in flight: calling it again abandons that attempt
    // and counts a new one.
    assert_eq!(retry(backoff.retry_now(secs(11))), (5, Duration::ZERO));
}

#[test]
fn retry_now_keeps_the_remaining_retry_after() {
    // Rule: the backoff and `retry:` floor are skipped, a server rate limit is not.
    let mut backoff = Backoff::new(fixed(), 0);
    backoff.set_server_retry(secs(20));
    assert_eq!(
        retry(backoff.on_failure(&status_after(429, secs(10)), secs(100), false)),
        (1, secs(20))
    );
    assert_eq!(retry(backoff.retry_now(secs(104))), (1, secs(6)));
    // Once past the Retry-After deadline, nothing remains to wait.
    let mut backoff = Backoff::new(fixed(), 0);
    backoff.set_server_retry(secs(20));
    retry(backoff.on_failure(&status_after(503, secs(10)), secs(100), false));
    assert_eq!(retry(backoff.retry_now(secs(111))), (1, Duration::ZERO));
}

#[test]
fn retry_now_outside_a_wait_counts_a_new_attempt() {
    // Rule: abandoning an open or in-flight connection is a counted attempt with no delay.
    let mut backoff = Backoff::new(fixed().max_attempts(2), 0);
    backoff.on_open();
    assert_eq!(retry(backoff.retry_now(SEC)), (1, Duration::ZERO));
    // The wait is over (t ≥ 1s): the connection attempt is in flight; abandon it.
    assert_eq!(retry(backoff.retry_now(secs(5))), (2, Duration::ZERO));
    // The attempt limit applies, reporting a network failure.
    assert_eq!(
        stopped(backoff.retry_now(secs(9))),
        StopReason::AttemptsExhausted {
            attempts: 2,
            last: Failure::Network
        }
    );
    // A connection healthy for reset_after starts a fresh outage first.
    let mut backoff = Backoff::new(fixed(), 0);
    for t in 0..3 {
        retry(backoff.on_failure(&Failure::Network, secs(t), false));
    }
    backoff.on_open();
    backoff.on_activity(secs(20));
    assert_eq!(retry(backoff.retry_now(secs(30))), (1, Duration::ZERO));
}

#[test]
fn overflow_saturates_without_panicking() {
    // Rule: `retry:` of u64::MAX ms is honoured as is.
    let huge = Duration::from_millis(u64::MAX);
    let mut backoff = Backoff::new(ReconnectPolicy::new().max_elapsed(Duration::MAX), 1);
    backoff.set_server_retry(huge);
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, Duration::MAX, false)),
        (1, huge)
    );
    // Retry-After of Duration::MAX at the end of time: deadlines saturate.
    assert_eq!(
        retry(backoff.on_failure(&status_after(503, Duration::MAX), Duration::MAX, false)),
        (2, Duration::MAX)
    );
    assert_eq!(retry(backoff.retry_now(Duration::ZERO)), (2, Duration::MAX));
    // Elapsed + delay overflowing does not wrap into "within the limit".
    let mut backoff = Backoff::new(fixed().max_elapsed(secs(10)), 1);
    backoff.set_server_retry(Duration::MAX);
    assert!(matches!(
        stopped(backoff.on_failure(&Failure::Network, SEC, false)),
        StopReason::ElapsedExhausted { .. }
    ));
    // The attempt counter saturates at u32::MAX.
    let mut backoff = Backoff::new(ReconnectPolicy::new().multiplier(f64::MAX), 1);
    backoff.attempt = u32::MAX - 1;
    let (attempt, delay) = retry(backoff.on_failure(&Failure::Network, SEC, false));
    assert_eq!(attempt, u32::MAX);
    assert!(delay <= secs(30));
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, SEC, false)).0,
        u32::MAX
    );
    // max_attempts of u32::MAX is then exhausted.
    let mut backoff = Backoff::new(fixed().max_attempts(u32::MAX), 1);
    backoff.attempt = u32::MAX;
    assert!(matches!(
        stopped(backoff.on_failure(&Failure::Network, SEC, false)),
        StopReason::AttemptsExhausted {
            attempts: u32::MAX,
            ..
        }
    ));
}

#[test]
fn a_clock_going_backwards_does_not_panic() {
    // Rule: time differences saturate at zero.
    let mut backoff = Backoff::new(fixed().max_elapsed(secs(100)), 0);
    retry(backoff.on_failure(&Failure::Network, secs(50), false));
    backoff.on_open();
    backoff.on_activity(secs(60));
    backoff.on_activity(secs(10)); // earlier than the healthy start
    assert_eq!(backoff.attempt(), 1);
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, secs(5), false)).0,
        2
    );
    assert_eq!(retry(backoff.retry_now(Duration::ZERO)).0, 2);
}

#[test]
fn messages_are_readable() {
    let cases = [
        (
            StopReason::NoContent,
            "the server answered 204 No Content: not reconnecting",
        ),
        (StopReason::Fatal(status(404)), "HTTP status 404"),
        (
            StopReason::Fatal(Failure::ContentType("text/html".into())),
            "unexpected Content-Type `text/html` (expected text/event-stream)",
        ),
        (
            StopReason::AttemptsExhausted {
                attempts: 5,
                last: Failure::Network,
            },
            "gave up after 5 reconnection attempt(s); last failure: network error",
        ),
        (
            StopReason::ElapsedExhausted {
                elapsed: secs(90),
                last: Failure::IdleTimeout,
            },
            "gave up after 90s of outage; last failure: no data received within the idle timeout",
        ),
    ];
    for (reason, want) in cases {
        assert_eq!(reason.to_string(), want);
    }
    assert_eq!(
        Failure::StreamEnded.to_string(),
        "the server ended the stream"
    );
}
