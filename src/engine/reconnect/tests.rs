//! The policy's rules, one test each: delays, jitter, server floors, failure classes.
#![allow(clippy::unwrap_used)]

use super::*;

pub(super) const MS: Duration = Duration::from_millis(1);
pub(super) const SEC: Duration = Duration::from_secs(1);

pub(super) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(super) fn status(status: u16) -> Failure {
    Failure::Status {
        status,
        retry_after: None,
    }
}

pub(super) fn status_after(status: u16, after: Duration) -> Failure {
    Failure::Status {
        status,
        retry_after: Some(after),
    }
}

/// Default policy without jitter: delays are exactly the caps.
pub(super) fn fixed() -> ReconnectPolicy {
    ReconnectPolicy::new().jitter(false)
}

/// Unwraps a `Retry` into `(attempt, delay)`.
#[track_caller]
pub(super) fn retry(decision: Decision) -> (u32, Duration) {
    match decision {
        Decision::Retry { attempt, delay } => (attempt, delay),
        Decision::Stop(reason) => panic!("expected a retry, got Stop({reason:?})"),
    }
}

#[track_caller]
pub(super) fn stopped(decision: Decision) -> StopReason {
    match decision {
        Decision::Stop(reason) => reason,
        other => panic!("expected a stop, got {other:?}"),
    }
}

#[test]
fn defaults_match_the_documentation() {
    let policy = ReconnectPolicy::default();
    assert_eq!(policy, ReconnectPolicy::new());
    assert_eq!(policy.initial_delay, SEC);
    assert_eq!(policy.multiplier, 2.0);
    assert_eq!(policy.max_delay, secs(30));
    assert!(policy.jitter);
    assert_eq!(policy.max_attempts, None);
    assert_eq!(policy.max_elapsed, None);
    assert_eq!(policy.reset_after, secs(5));
    // never() is the default with zero attempts.
    assert_eq!(
        ReconnectPolicy::never(),
        ReconnectPolicy::new().max_attempts(0)
    );
}

#[test]
fn delays_grow_exponentially_and_are_capped() {
    // Rule: cap = min(max_delay, initial × multiplier^(attempt-1)); first retry = attempt 1.
    let mut backoff = Backoff::new(fixed(), 0);
    let expected = [1, 2, 4, 8, 16, 30, 30, 30];
    for (i, want) in expected.into_iter().enumerate() {
        let (attempt, delay) =
            retry(backoff.on_failure(&Failure::Network, secs(i as u64 * 100), false));
        assert_eq!(attempt, i as u32 + 1);
        assert_eq!(delay, secs(want), "attempt {attempt}");
        assert_eq!(backoff.attempt(), attempt);
    }
}

#[test]
fn cap_formula_table() {
    /// (name, policy, [(attempt, expected cap)])
    type Case<'a> = (&'a str, ReconnectPolicy, &'a [(u32, Duration)]);
    let cases: &[Case<'_>] = &[
        (
            // Non-integer multiplier and sub-second initial delay.
            "1.5x from 100ms",
            ReconnectPolicy::new()
                .initial_delay(100 * MS)
                .multiplier(1.5),
            &[
                (1, 100 * MS),
                (2, 150 * MS),
                (3, 225 * MS),
                (4, Duration::from_micros(337_500)),
            ],
        ),
        (
            // Attempt 0 is treated as attempt 1.
            "attempt 0",
            ReconnectPolicy::new(),
            &[(0, SEC)],
        ),
        (
            // max_delay below initial_delay: the cap wins from the first attempt.
            "cap below initial",
            ReconnectPolicy::new()
                .initial_delay(secs(10))
                .max_delay(secs(3)),
            &[(1, secs(3)), (2, secs(3))],
        ),
        (
            // Zero initial delay: every backoff delay is zero.
            "zero initial",
            ReconnectPolicy::new()
                .initial_delay(Duration::ZERO)
                .multiplier(f64::INFINITY),
            &[(1, Duration::ZERO), (50, Duration::ZERO)],
        ),
        (
            // Multiplier below 1 is clamped to 1: constant delay.
            "multiplier 0.5",
            ReconnectPolicy::new().multiplier(0.5),
            &[(1, SEC), (2, SEC), (10, SEC)],
        ),
        (
            // Negative multiplier is clamped to 1.
            "multiplier -3",
            ReconnectPolicy::new().multiplier(-3.0),
            &[(1, SEC), (2, SEC)],
        ),
        (
            // NaN multiplier is clamped to 1.
            "multiplier NaN",
            ReconnectPolicy::new().multiplier(f64::NAN),
            &[(1, SEC), (7, SEC)],
        ),
        (
            // Infinite multiplier: initial delay, then straight to the cap.
            "multiplier inf",
            ReconnectPolicy::new().multiplier(f64::INFINITY),
            &[(1, SEC), (2, secs(30)), (3, secs(30))],
        ),
        (
            // Overflow: huge attempts and a huge multiplier saturate at the cap.
            "huge attempt",
            ReconnectPolicy::new().multiplier(1e300),
            &[(1, SEC), (2, secs(30)), (u32::MAX, secs(30))],
        ),
        (
            // Overflow with an unbounded cap: saturates at Duration::MAX, no panic.
            "max_delay Duration::MAX",
            ReconnectPolicy::new().max_delay(Duration::MAX),
            &[(1, SEC), (11, secs(1024)), (u32::MAX, Duration::MAX)],
        ),
    ];
    for (name, policy, expectations) in cases {
        for &(attempt, want) in *expectations {
            assert_eq!(policy.cap_for(attempt), want, "{name}: attempt {attempt}");
        }
    }
}

#[test]
fn full_jitter_stays_within_zero_and_cap() {
    // Rule: with jitter, the delay is uniform in [0, cap] and never exceeds the cap.
    for seed in 0..50 {
        let mut backoff = Backoff::new(ReconnectPolicy::new(), seed);
        for n in 1..=12u32 {
            let (attempt, delay) =
                retry(backoff.on_failure(&Failure::Network, secs(u64::from(n)), false));
            let cap = backoff.policy().cap_for(attempt);
            assert!(
                delay <= cap,
                "seed {seed}, attempt {attempt}: {delay:?} > {cap:?}"
            );
        }
    }
}

#[test]
fn full_jitter_is_spread_over_the_whole_range() {
    // Rule: full jitter, not "equal jitter": samples cover [0, cap] evenly (mean ≈ cap/2).
    let cap = secs(30);
    let mut jitter = Jitter::from_seed(42);
    let samples: Vec<Duration> = (0..10_000).map(|_| jitter.up_to(cap)).collect();
    let mean = samples.iter().sum::<Duration>() / 10_000;
    assert!(mean > secs(14) && mean < secs(16), "mean {mean:?}");
    // Every decile of the range is hit.
    for decile in 0..10u32 {
        let (lo, hi) = (cap * decile / 10, cap * (decile + 1) / 10);
        assert!(
            samples.iter().any(|d| *d >= lo && *d < hi),
            "decile {decile} empty"
        );
    }
    // Degenerate caps.
    assert_eq!(jitter.up_to(Duration::ZERO), Duration::ZERO);
    assert!(jitter.up_to(Duration::MAX) <= Duration::MAX);
}

#[test]
fn jitter_is_deterministic_per_seed() {
    // Rule: the same seed yields the same delays; different seeds differ.
    let run = |seed| {
        let mut backoff = Backoff::new(ReconnectPolicy::new(), seed);
        (1..=8u64)
            .map(|t| retry(backoff.on_failure(&Failure::Network, secs(t), false)).1)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_eq!(run(0), run(0));
    assert_ne!(run(7), run(8));
    assert_ne!(run(0), run(u64::MAX));
}

#[test]
fn server_retry_is_a_floor() {
    // Rule: delay = max(backoff, server retry); the floor is honoured even above max_delay.
    let cases = [
        // (server retry, attempt-1 delay with no jitter, initial 1s, cap 30s)
        (Duration::ZERO, SEC), // no floor
        (500 * MS, SEC),       // floor below the backoff: backoff wins
        (secs(3), secs(3)),    // floor above the backoff
        (secs(60), secs(60)),  // floor above max_delay: floor wins
    ];
    for (floor, want) in cases {
        let mut backoff = Backoff::new(fixed(), 0);
        backoff.set_server_retry(floor);
        assert_eq!(
            retry(backoff.on_failure(&Failure::StreamEnded, SEC, false)).1,
            want,
            "floor {floor:?}"
        );
    }

    // With jitter, the floor bounds every draw from below, and draws above it remain random.
    let mut backoff = Backoff::new(ReconnectPolicy::new().initial_delay(secs(10)), 3);
    backoff.set_server_retry(secs(2));
    let delays: Vec<_> = (0..200)
        .map(|_| {
            backoff.reset();
            retry(backoff.on_failure(&Failure::Network, SEC, false)).1
        })
        .collect();
    assert!(delays.iter().all(|d| *d >= secs(2) && *d <= secs(10)));
    assert!(delays.iter().any(|d| *d > secs(2)));
}

#[test]
fn server_retry_survives_reconnects_and_reset() {
    // Rule: `retry:` is the spec's per-source reconnection time, kept across connections.
    let mut backoff = Backoff::new(fixed(), 0);
    backoff.set_server_retry(secs(7));
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, SEC, false)).1,
        secs(7)
    );
    backoff.on_open();
    backoff.on_activity(secs(10));
    backoff.on_activity(secs(20));
    backoff.reset();
    assert_eq!(
        retry(backoff.on_failure(&Failure::Network, secs(30), false)),
        (1, secs(7))
    );
}

#[test]
fn failure_classification_table() {
    enum Want {
        Retry,
        NoContent,
        Fatal,
    }
    let cases = [
        // Transport-level failures are always retried.
        (Failure::Network, Want::Retry),
        (Failure::StreamEnded, Want::Retry),
        (Failure::IdleTimeout, Want::Retry),
        (Failure::ConnectTimeout, Want::Retry),
        // 408 Request Timeout and 429 Too Many Requests are retried.
        (status(408), Want::Retry),
        (status(429), Want::Retry),
        // 5xx are retried.
        (status(500), Want::Retry),
        (status(502), Want::Retry),
        (status(503), Want::Retry),
        (status(504), Want::Retry),
        (status(599), Want::Retry),
        // 204 is the spec's "do not reconnect".
        (status(204), Want::NoContent),
        // Other 4xx are fatal.
        (status(400), Want::Fatal),
        (status(401), Want::Fatal),
        (status(403), Want::Fatal),
        (status(404), Want::Fatal),
        (status(410), Want::Fatal),
        (status(499), Want::Fatal),
        // 3xx reaching the client means a redirect was not followed: fatal.
        (status(301), Want::Fatal),
        (status(302), Want::Fatal),
        (status(304), Want::Fatal),
        // Other 2xx, 1xx and out-of-range codes (0 = opaque response) are fatal.
        (status(200), Want::Fatal),
        (status(206), Want::Fatal),
        (status(101), Want::Fatal),
        (status(0), Want::Fatal),
        (status(600), Want::Fatal),
        (status(u16::MAX), Want::Fatal),
        // A wrong or missing Content-Type is fatal.
        (Failure::ContentType("text/html".into()), Want::Fatal),
        (Failure::ContentType(String::new()), Want::Fatal),
    ];
    for (failure, want) in cases {
        let mut backoff = Backoff::new(fixed(), 0);
        let decision = backoff.on_failure(&failure, SEC, false);
        match want {
            Want::Retry => {
                assert!(!failure.is_fatal(), "{failure:?}");
                assert_eq!(retry(decision), (1, SEC), "{failure:?}");
            }
            Want::NoContent => {
                assert!(!failure.is_fatal(), "{failure:?}");
                assert_eq!(stopped(decision), StopReason::NoContent, "{failure:?}");
            }
            Want::Fatal => {
                assert!(failure.is_fatal(), "{failure:?}");
                assert_eq!(stopped(decision), StopReason::Fatal(failure.clone()));
            }
        }
    }
}

#[test]
fn retry_fatal_hook_turns_fatal_failures_into_retries() {
    // Rule: a user hook may retry fatal failures; they then count as normal attempts.
    let fatal = [
        status(401),
        status(403),
        status(404),
        status(302),
        Failure::ContentType("application/json".into()),
    ];
    for failure in fatal {
        let mut backoff = Backoff::new(fixed(), 0);
        assert_eq!(
            retry(backoff.on_failure(&failure, SEC, true)),
            (1, SEC),
            "{failure:?}"
        );
        assert_eq!(
            retry(backoff.on_failure(&failure, secs(2), true)),
            (2, secs(2)),
            "{failure:?}"
        );
    }
    // Rule: 204 stops even when the hook says retry.
    let mut backoff = Backoff::new(fixed(), 0);
    assert_eq!(
        stopped(backoff.on_failure(&status(204), SEC, true)),
        StopReason::NoContent
    );
    // Rule: retry_fatal changes nothing for already retryable failures.
    let mut backoff = Backoff::new(fixed(), 0);
    assert_eq!(retry(backoff.on_failure(&status(500), SEC, true)), (1, SEC));
    // Rule: hook retries still respect the attempt limit.
    let mut backoff = Backoff::new(fixed().max_attempts(1), 0);
    assert_eq!(retry(backoff.on_failure(&status(401), SEC, true)).0, 1);
    assert_eq!(
        stopped(backoff.on_failure(&status(401), secs(2), true)),
        StopReason::AttemptsExhausted {
            attempts: 1,
            last: status(401)
        }
    );
}

#[test]
fn retry_after_is_a_floor() {
    let cases = [
        // 429 and 503 wait at least Retry-After (attempt 1 backoff is 1s).
        (status_after(429, secs(10)), secs(10)),
        (status_after(503, secs(10)), secs(10)),
        // Retry-After above max_delay is honoured.
        (status_after(503, secs(120)), secs(120)),
        // Retry-After below the backoff: the backoff wins.
        (status_after(429, 200 * MS), SEC),
        // Retry-After is honoured on any retried status.
        (status_after(500, secs(4)), secs(4)),
        // 429 without Retry-After: plain backoff.
        (status(429), SEC),
        // Retry-After of zero is no floor.
        (status_after(503, Duration::ZERO), SEC),
    ];
    for (failure, want) in cases {
        let mut backoff = Backoff::new(fixed(), 0);
        assert_eq!(
            retry(backoff.on_failure(&failure, SEC, false)),
            (1, want),
            "{failure:?}"
        );
    }
    // With jitter: Retry-After bounds every draw from below.
    let mut backoff = Backoff::new(ReconnectPolicy::new(), 9);
    for t in 1..=20 {
        let (_, delay) = retry(backoff.on_failure(&status_after(429, secs(5)), secs(t), false));
        assert!(delay >= secs(5));
    }
    // Both floors: the larger wins.
    let mut backoff = Backoff::new(fixed(), 0);
    backoff.set_server_retry(secs(8));
    assert_eq!(
        retry(backoff.on_failure(&status_after(503, secs(6)), SEC, false)).1,
        secs(8)
    );
    assert_eq!(
        retry(backoff.on_failure(&status_after(503, secs(9)), SEC, false)).1,
        secs(9)
    );
}

#[test]
fn powi_is_f64_powi_to_the_bit() {
    for base in [0.5, 1.0, 1.5, 2.0, 2.5, 3.7, 10.0, f64::INFINITY] {
        for exponent in (0..80).chain([1_000, 65_535, i32::MAX as u32]) {
            let want = base.powi(exponent as i32);
            let got = super::powi(base, exponent);
            assert_eq!(got.to_bits(), want.to_bits(), "{base}^{exponent}");
        }
    }
}

#[test]
fn secs_up_to_is_exact_to_the_nanosecond_below_the_cap_and_the_cap_beyond_it() {
    let cap = secs(30);
    // Each below the cap: what `Duration::try_from_secs_f64` gives, at most 1 ns less.
    for s in [0.0, 1e-10, 0.001, 0.25, 1.0, 1.5, 7.3, 29.999_999_999] {
        let exact = Duration::try_from_secs_f64(s).unwrap();
        let got = super::secs_up_to(s, cap);
        assert!(
            got <= exact && exact - got <= Duration::from_nanos(1),
            "{s}: {got:?}"
        );
    }
    // The cap, and anything the conversion could not represent, give the cap.
    for s in [30.0, 30.5, 1e300, f64::INFINITY, f64::NAN] {
        assert_eq!(super::secs_up_to(s, cap), cap, "{s}");
    }
    // Past what `from_nanos` holds (584 years), below a larger cap: saturates there.
    assert_eq!(
        super::secs_up_to(1e12, Duration::MAX),
        Duration::from_nanos(u64::MAX)
    );
}
