//! Reconnection policy: exponential backoff with full jitter, failure classification and
//! per-outage limits.
//!
//! This module is pure: it performs no I/O, reads no clock and has no platform dependency,
//! so it behaves identically on wasm32 and in native unit tests.
//!
//! * **Time** is passed in as `now: Duration`, measured from an arbitrary but fixed origin
//!   (the wasm client uses `performance.now()`). Only differences between two `now` values
//!   matter; a clock that goes backwards is tolerated (differences saturate at zero).
//! * **Randomness** comes from a small deterministic generator seeded through
//!   [`Backoff::new`] (the wasm client seeds it from `Math.random()`), so a given seed always
//!   produces the same delays.
//!
//! # How the client drives it
//!
//! ```text
//! ┌─► connect ─► on_open() ─► on_activity(now) …  (healthy for reset_after ⇒ new outage)
//! │                               │
//! │               the attempt ends, opened or not
//! │                               ▼
//! │              on_failure(&failure, now, retry_fatal)
//! │                 │                          │
//! │   Decision::Retry { attempt, delay }   Decision::Stop(reason): report it, stay closed
//! │                 │
//! └── wait `delay` ─┘  (retry_now(now) skips the wait, e.g. on the browser's `online`)
//! ```
//!
//! # Failure classes
//!
//! | Failure                                      | Action                                |
//! |----------------------------------------------|---------------------------------------|
//! | network error, stream ended, idle timeout    | retry                                 |
//! | status 408, 429, 5xx                         | retry, waiting at least `Retry-After` |
//! | status 204                                   | stop: [`StopReason::NoContent`]       |
//! | other statuses (3xx too), wrong Content-Type | stop: [`StopReason::Fatal`] ¹         |
//!
//! ¹ Unless the `retry_fatal` argument of [`Backoff::on_failure`] asks to retry.
//!
//! # Outages and limits
//!
//! An *outage* starts with the first failure after a healthy period (or the first failure
//! ever) and lasts until a connection is healthy again: open *and* receiving, for
//! [`ReconnectPolicy::reset_after`] from its first data. Attempt numbers,
//! [`ReconnectPolicy::max_attempts`] and [`ReconnectPolicy::max_elapsed`] all apply per
//! outage, so a client that reconnects successfully never exhausts them over its lifetime.
//!
//! # Delay formula
//!
//! For reconnection attempt `n` (the first retry after a failure is attempt 1):
//!
//! 1. `cap = min(max_delay, initial_delay × multiplier^(n-1))`, saturating on overflow;
//! 2. with jitter (the default, "full jitter"): `delay` is uniform in `[0, cap]`;
//!    without jitter: `delay = cap`;
//! 3. `delay = max(delay, server retry)` — the last `retry:` field received;
//! 4. `delay = max(delay, Retry-After)` — from the failed response, if any.
//!
//! A wait the server asked for (steps 3 and 4) is honoured even when it exceeds `max_delay`.

use std::time::Duration;

/// Backoff settings. Build one with [`ReconnectPolicy::new`] (or [`Default`]) and the
/// builder methods; every method documents its default.
///
/// Limits ([`max_attempts`](Self::max_attempts), [`max_elapsed`](Self::max_elapsed)) apply
/// per *outage*: both counters start again once a connection has been healthy for
/// [`reset_after`](Self::reset_after).
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    initial_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
    jitter: bool,
    max_attempts: Option<u32>,
    max_elapsed: Option<Duration>,
    reset_after: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconnectPolicy {
    /// The default policy: 1 s initial delay, multiplier 2.0, 30 s cap, full jitter, no
    /// attempt or elapsed-time limit, counters reset after 5 s of healthy connection.
    #[must_use]
    pub fn new() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(30),
            jitter: true,
            max_attempts: None,
            max_elapsed: None,
            reset_after: Duration::from_secs(5),
        }
    }

    /// A policy that never reconnects: the first failure stops the client with
    /// [`StopReason::AttemptsExhausted`] (`attempts: 0`), or with the failure's own reason
    /// when it is not retryable. Same as `ReconnectPolicy::new().max_attempts(0)`.
    #[must_use]
    pub fn never() -> Self {
        Self::new().max_attempts(0)
    }

    /// Upper bound of the delay before the first reconnection attempt.
    ///
    /// Default: 1 second. Zero makes every backoff delay zero (server-requested waits still
    /// apply).
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Factor applied to the delay cap for each further attempt.
    ///
    /// Default: 2.0. Values below 1.0 and NaN are clamped to 1.0 (a constant delay);
    /// `f64::INFINITY` jumps to [`max_delay`](Self::max_delay) from the second attempt on.
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        // `!(x >= 1.0)` also catches NaN.
        self.multiplier = if multiplier >= 1.0 { multiplier } else { 1.0 };
        self
    }

    /// Cap on the backoff delay. It wins over [`initial_delay`](Self::initial_delay) if
    /// smaller, but not over a wait the server asked for (`retry:` field, `Retry-After`).
    ///
    /// Default: 30 seconds.
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Whether to apply full jitter: the delay is drawn uniformly from `[0, cap]` instead of
    /// being `cap`, which spreads out clients that lost their connection at the same moment.
    ///
    /// Default: `true`.
    #[must_use]
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Maximum number of reconnection attempts per outage; the next failure after the last
    /// allowed attempt stops the client with [`StopReason::AttemptsExhausted`]. `0` means
    /// never reconnect; `None` means no limit.
    ///
    /// Default: `None` (unlimited).
    #[must_use]
    pub fn max_attempts(mut self, max: impl Into<Option<u32>>) -> Self {
        self.max_attempts = max.into();
        self
    }

    /// Maximum duration of an outage, measured from its first failure: a retry that would
    /// start later than this stops the client with [`StopReason::ElapsedExhausted`] instead.
    /// `None` means no limit.
    ///
    /// Default: `None` (unlimited).
    #[must_use]
    pub fn max_elapsed(mut self, max: impl Into<Option<Duration>>) -> Self {
        self.max_elapsed = max.into();
        self
    }

    /// How long a connection must stay healthy — open *and* having received data, measured
    /// from the first data after opening — before the attempt counter and the outage clock
    /// reset. A failure before that continues the current outage.
    ///
    /// Default: 5 seconds.
    #[must_use]
    pub fn reset_after(mut self, healthy_for: Duration) -> Self {
        self.reset_after = healthy_for;
        self
    }

    /// The jitter-free delay cap for reconnection attempt `attempt` (1-based; 0 is treated
    /// as 1): `min(max_delay, initial_delay × multiplier^(attempt-1))`, saturating.
    fn cap_for(&self, attempt: u32) -> Duration {
        if self.initial_delay.is_zero() {
            // Avoids 0 × ∞ = NaN with an infinite multiplier.
            return Duration::ZERO;
        }
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial_delay.as_secs_f64() * self.multiplier.powi(exponent);
        // Out of range (including +∞) means "above any cap".
        Duration::try_from_secs_f64(secs).map_or(self.max_delay, |d| d.min(self.max_delay))
    }
}

/// Why a connection attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The request failed without an HTTP response, or the connection dropped (retryable).
    #[error("network error")]
    Network,
    /// The server ended the event stream (retryable, as the SSE spec requires).
    #[error("the server ended the stream")]
    StreamEnded,
    /// The idle watchdog fired: no bytes arrived for the configured idle timeout
    /// (retryable).
    #[error("no data received within the idle timeout")]
    IdleTimeout,
    /// The connection did not open within the connect timeout (retryable). A browser's
    /// `EventSource` that got a wrong content type on a body that stays open never reports
    /// an error; this is how the client notices.
    #[error("the connection did not open within the connect timeout")]
    ConnectTimeout,
    /// The server answered with a non-success status; see [`Failure::is_fatal`] for which
    /// ones are retried.
    #[error("HTTP status {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The response's `Retry-After`, if present and parsed; a retry waits at least this
        /// long (even above [`ReconnectPolicy::max_delay`]).
        retry_after: Option<Duration>,
    },
    /// The response was not `text/event-stream`; holds the received `Content-Type` (empty
    /// if the header was missing). Fatal.
    #[error("unexpected Content-Type `{0}` (expected text/event-stream)")]
    ContentType(String),
}

/// How a failure is handled before limits and user hooks are considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Retry,
    NoContent,
    Fatal,
}

impl Failure {
    fn class(&self) -> Class {
        match self {
            Failure::Network
            | Failure::StreamEnded
            | Failure::IdleTimeout
            | Failure::ConnectTimeout => Class::Retry,
            Failure::Status { status, .. } => match status {
                204 => Class::NoContent,
                408 | 429 | 500..=599 => Class::Retry,
                _ => Class::Fatal,
            },
            Failure::ContentType(_) => Class::Fatal,
        }
    }

    /// Whether this failure stops the client unless a user hook asks to retry (the
    /// `retry_fatal` argument of [`Backoff::on_failure`]): any status other than 204, 408,
    /// 429 and 5xx — so 1xx, other 2xx, 3xx (redirects are followed before a status reaches
    /// the client), other 4xx, and anything out of range — and a wrong `Content-Type`.
    ///
    /// Network errors, stream ends, idle timeouts, 408, 429 and 5xx are always retried;
    /// 204 always stops. Neither is fatal.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        self.class() == Class::Fatal
    }

    fn retry_after(&self) -> Duration {
        match self {
            Failure::Status {
                retry_after: Some(d),
                ..
            } => *d,
            _ => Duration::ZERO,
        }
    }
}

/// What the client should do after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Decision {
    /// Reconnect after `delay`.
    Retry {
        /// 1-based number of this reconnection attempt within the current outage.
        attempt: u32,
        /// How long to wait before reconnecting.
        delay: Duration,
    },
    /// Do not reconnect; surface the reason to the user.
    Stop(StopReason),
}

/// Why the client stopped reconnecting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    /// The server answered 204 No Content: the SSE spec's "do not reconnect".
    #[error("the server answered 204 No Content: not reconnecting")]
    NoContent,
    /// A fatal failure (see [`Failure::is_fatal`]) that no hook asked to retry.
    #[error("{0}")]
    Fatal(Failure),
    /// [`ReconnectPolicy::max_attempts`] reconnection attempts were made in this outage.
    #[error("gave up after {attempts} reconnection attempt(s); last failure: {last}")]
    AttemptsExhausted {
        /// Reconnection attempts made in this outage.
        attempts: u32,
        /// The failure that ended the last attempt.
        last: Failure,
    },
    /// The next retry would start after [`ReconnectPolicy::max_elapsed`].
    #[error("gave up after {elapsed:?} of outage; last failure: {last}")]
    ElapsedExhausted {
        /// Time since the first failure of this outage.
        elapsed: Duration,
        /// The failure that ended the last attempt.
        last: Failure,
    },
}

/// SplitMix64: tiny, fast, and well distributed for any seed (including 0).
#[derive(Debug, Clone)]
struct Jitter {
    state: u64,
}

impl Jitter {
    fn from_seed(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration uniform in `[0, cap]` (to nanosecond precision for realistic caps).
    fn up_to(&mut self, cap: Duration) -> Duration {
        // 53 random bits → a fraction in [0, 1).
        let fraction = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        Duration::try_from_secs_f64(cap.as_secs_f64() * fraction).map_or(cap, |d| d.min(cap))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// No connection is open. The pending attempt is due at `wait_until` and must not start
    /// before `not_before` (the `Retry-After` deadline). Both are zero initially.
    Connecting {
        wait_until: Duration,
        not_before: Duration,
    },
    /// A connection is open; `healthy_since` is when it first received data.
    Open { healthy_since: Option<Duration> },
    /// A [`Decision::Stop`] was returned; every later decision repeats it.
    Stopped(StopReason),
}

/// Per-client reconnection state, driven by the client's connection events.
///
/// Call [`on_failure`](Self::on_failure) exactly once per ended connection attempt
/// (whether or not it opened), [`on_open`](Self::on_open) when a connection is established,
/// and [`on_activity`](Self::on_activity) whenever bytes or events arrive.
///
/// Once a [`Decision::Stop`] has been returned it is sticky: later failures and
/// [`retry_now`](Self::retry_now) return the same stop until [`reset`](Self::reset).
///
/// ```
/// use std::time::Duration;
/// use wasm_sse::reconnect::{Backoff, Decision, Failure, ReconnectPolicy, StopReason};
///
/// let policy = ReconnectPolicy::new().jitter(false).max_attempts(2);
/// let mut backoff = Backoff::new(policy, 42);
/// let t = Duration::from_secs;
///
/// // The first connection attempt fails: retry 1 after the initial delay.
/// let decision = backoff.on_failure(&Failure::Network, t(0), false);
/// assert_eq!(decision, Decision::Retry { attempt: 1, delay: t(1) });
///
/// // The retry is rate limited: wait at least Retry-After.
/// let too_many = Failure::Status { status: 429, retry_after: Some(t(10)) };
/// let decision = backoff.on_failure(&too_many, t(1), false);
/// assert_eq!(decision, Decision::Retry { attempt: 2, delay: t(10) });
///
/// // Healthy for 5 s (the default `reset_after`): the next failure starts a new outage.
/// backoff.on_open();
/// backoff.on_activity(t(11));
/// backoff.on_activity(t(16));
/// let decision = backoff.on_failure(&Failure::StreamEnded, t(60), false);
/// assert_eq!(decision, Decision::Retry { attempt: 1, delay: t(1) });
///
/// // A 401 stops, unless a hook (say, a token refresh) asks to retry.
/// let unauthorized = Failure::Status { status: 401, retry_after: None };
/// assert!(unauthorized.is_fatal());
/// let decision = backoff.on_failure(&unauthorized, t(61), false);
/// assert_eq!(decision, Decision::Stop(StopReason::Fatal(unauthorized)));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: ReconnectPolicy,
    jitter: Jitter,
    phase: Phase,
    /// Reconnection attempts made in the current outage.
    attempt: u32,
    /// When the current outage began (its first failure), if one is under way.
    outage_start: Option<Duration>,
    /// The last `retry:` value from the server (the spec's reconnection time).
    server_retry: Duration,
}

impl Backoff {
    /// Creates the state for one client. `jitter_seed` seeds the jitter generator: the same
    /// seed always yields the same sequence of delays.
    #[must_use]
    pub fn new(policy: ReconnectPolicy, jitter_seed: u64) -> Self {
        Self {
            policy,
            jitter: Jitter::from_seed(jitter_seed),
            phase: Phase::Connecting {
                wait_until: Duration::ZERO,
                not_before: Duration::ZERO,
            },
            attempt: 0,
            outage_start: None,
            server_retry: Duration::ZERO,
        }
    }

    /// The policy this state applies.
    #[must_use]
    pub fn policy(&self) -> &ReconnectPolicy {
        &self.policy
    }

    /// Reconnection attempts made in the current outage: 0 before any failure and after a
    /// reset, then the `attempt` of the last [`Decision::Retry`].
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The connection is established (response headers accepted / `open` event). Opening
    /// alone does not make it healthy; data must arrive too (see
    /// [`on_activity`](Self::on_activity)). Ignored after a stop.
    pub fn on_open(&mut self) {
        if !matches!(self.phase, Phase::Stopped(_)) {
            self.phase = Phase::Open {
                healthy_since: None,
            };
        }
    }

    /// Bytes or an event arrived. The first activity after opening starts the healthy
    /// period; once it has lasted [`ReconnectPolicy::reset_after`], the attempt counter and
    /// the outage clock reset. Activity without a preceding [`on_open`](Self::on_open)
    /// implies it. Ignored after a stop.
    pub fn on_activity(&mut self, now: Duration) {
        let since = match self.phase {
            Phase::Stopped(_) => return,
            Phase::Connecting { .. } => now,
            Phase::Open { healthy_since } => healthy_since.unwrap_or(now),
        };
        self.phase = Phase::Open {
            healthy_since: Some(since),
        };
        self.reset_if_healthy(now);
    }

    /// Records the server's `retry:` field: from now on every retry waits at least this long,
    /// even above [`ReconnectPolicy::max_delay`]. Kept across reconnections and
    /// [`reset`](Self::reset). Default: zero (no floor).
    pub fn set_server_retry(&mut self, retry: Duration) {
        self.server_retry = retry;
    }

    /// A connection attempt ended with `failure` at `now`; returns what to do next.
    ///
    /// Retryable failures (see [`Failure::is_fatal`]) and fatal ones with `retry_fatal` set
    /// (a user hook, e.g. a credentials refresh, asked to retry) count one attempt and get a
    /// delay per the [module formula](self), unless [`ReconnectPolicy::max_attempts`] or
    /// [`ReconnectPolicy::max_elapsed`] is exhausted. A 204 always stops (`retry_fatal` is
    /// ignored); a fatal failure without `retry_fatal` stops with [`StopReason::Fatal`].
    ///
    /// If the connection had been healthy for [`ReconnectPolicy::reset_after`], this failure
    /// starts a new outage (attempt 1).
    pub fn on_failure(&mut self, failure: &Failure, now: Duration, retry_fatal: bool) -> Decision {
        if let Phase::Stopped(reason) = &self.phase {
            return Decision::Stop(reason.clone());
        }
        self.reset_if_healthy(now);
        match failure.class() {
            Class::NoContent => self.stop(StopReason::NoContent),
            Class::Fatal if !retry_fatal => self.stop(StopReason::Fatal(failure.clone())),
            Class::Retry | Class::Fatal => self.schedule(failure, now, true),
        }
    }

    /// Reconnect right away, e.g. when the browser fires `online`.
    ///
    /// * While waiting for a scheduled retry (before its delay has elapsed): that attempt
    ///   starts now. It was already counted, so the counter does not change; the returned
    ///   delay is zero, or what remains of a `Retry-After` (a server's rate limit is not
    ///   skipped; the `retry:` floor and the backoff are).
    /// * Otherwise (a connection is open or being established): the client abandons it and
    ///   reconnects, which counts as a new attempt after a [`Failure::Network`] with a zero
    ///   delay, subject to the attempt and elapsed limits.
    /// * After a stop: returns the same stop.
    pub fn retry_now(&mut self, now: Duration) -> Decision {
        match self.phase {
            Phase::Stopped(ref reason) => Decision::Stop(reason.clone()),
            Phase::Connecting {
                wait_until,
                not_before,
            } if now < wait_until => {
                let delay = not_before.saturating_sub(now);
                self.phase = Phase::Connecting {
                    wait_until: now.saturating_add(delay),
                    not_before,
                };
                Decision::Retry {
                    attempt: self.attempt,
                    delay,
                }
            }
            Phase::Connecting { .. } | Phase::Open { .. } => {
                self.reset_if_healthy(now);
                self.schedule(&Failure::Network, now, false)
            }
        }
    }

    /// Forgets the current outage and any stop, as for a brand-new client; keeps the policy,
    /// the server's `retry:` floor and the jitter generator's position.
    pub fn reset(&mut self) {
        self.phase = Phase::Connecting {
            wait_until: Duration::ZERO,
            not_before: Duration::ZERO,
        };
        self.attempt = 0;
        self.outage_start = None;
    }

    /// Resets the counters if the open connection has been healthy for `reset_after`.
    fn reset_if_healthy(&mut self, now: Duration) {
        if let Phase::Open {
            healthy_since: Some(since),
        } = self.phase
        {
            if now.saturating_sub(since) >= self.policy.reset_after {
                self.attempt = 0;
                self.outage_start = None;
            }
        }
    }

    fn stop(&mut self, reason: StopReason) -> Decision {
        self.phase = Phase::Stopped(reason.clone());
        Decision::Stop(reason)
    }

    /// Counts a new attempt after `failure` and computes its delay (the backoff delay and
    /// server floors if `backoff`, zero otherwise), or stops if a limit is exhausted.
    fn schedule(&mut self, failure: &Failure, now: Duration, backoff: bool) -> Decision {
        let outage_start = *self.outage_start.get_or_insert(now);
        let elapsed = now.saturating_sub(outage_start);
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempt >= max)
        {
            return self.stop(StopReason::AttemptsExhausted {
                attempts: self.attempt,
                last: failure.clone(),
            });
        }
        let attempt = self.attempt.saturating_add(1);
        let retry_after = failure.retry_after();
        let delay = if backoff {
            let cap = self.policy.cap_for(attempt);
            let delay = if self.policy.jitter {
                self.jitter.up_to(cap)
            } else {
                cap
            };
            delay.max(self.server_retry).max(retry_after)
        } else {
            Duration::ZERO
        };
        if self
            .policy
            .max_elapsed
            .is_some_and(|max| elapsed.saturating_add(delay) > max)
        {
            return self.stop(StopReason::ElapsedExhausted {
                elapsed,
                last: failure.clone(),
            });
        }
        self.attempt = attempt;
        self.phase = Phase::Connecting {
            wait_until: now.saturating_add(delay),
            not_before: now.saturating_add(retry_after),
        };
        Decision::Retry { attempt, delay }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const SEC: Duration = Duration::from_secs(1);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn status(status: u16) -> Failure {
        Failure::Status {
            status,
            retry_after: None,
        }
    }

    fn status_after(status: u16, after: Duration) -> Failure {
        Failure::Status {
            status,
            retry_after: Some(after),
        }
    }

    /// Default policy without jitter: delays are exactly the caps.
    fn fixed() -> ReconnectPolicy {
        ReconnectPolicy::new().jitter(false)
    }

    /// Unwraps a `Retry` into `(attempt, delay)`.
    #[track_caller]
    fn retry(decision: Decision) -> (u32, Duration) {
        match decision {
            Decision::Retry { attempt, delay } => (attempt, delay),
            Decision::Stop(reason) => panic!("expected a retry, got Stop({reason:?})"),
        }
    }

    #[track_caller]
    fn stopped(decision: Decision) -> StopReason {
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
            (StopReason::NoContent, "the server answered 204 No Content: not reconnecting"),
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
}
