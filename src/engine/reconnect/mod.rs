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

use alloc::string::String;

use core::time::Duration;

/// Backoff settings. Build one with [`ReconnectPolicy::new`] (or [`Default`]) and the
/// builder methods; every method documents its default.
///
/// Limits ([`max_attempts`](Self::max_attempts), [`max_elapsed`](Self::max_elapsed)) apply
/// per *outage*: both counters start again once a connection has been healthy for
/// [`reset_after`](Self::reset_after).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use wasm_sse::reconnect::ReconnectPolicy;
///
/// // First retry within 500 ms, then doubling up to 10 s; give up after 2 minutes of outage.
/// let policy = ReconnectPolicy::new()
///     .initial_delay(Duration::from_millis(500))
///     .max_delay(Duration::from_secs(10))
///     .max_elapsed(Duration::from_secs(120));
/// let builder = wasm_sse::Client::builder("/events?topic=orders").reconnect(policy);
/// # drop(builder);
/// ```
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
        let secs =
            self.initial_delay.as_secs_f64() * powi(self.multiplier, attempt.saturating_sub(1));
        // Out of range (including +∞) means "above any cap".
        secs_up_to(secs, self.max_delay)
    }
}

/// `secs` as a `Duration`, or `cap` where it is longer, infinite or not a number. Truncated to
/// whole nanoseconds, far below any timer's resolution: `Duration::try_from_secs_f64` rounds
/// exactly and reports its errors, which links much more code into the wasm.
fn secs_up_to(secs: f64, cap: Duration) -> Duration {
    // False for NaN. Below a finite cap, `secs * 1e9` is finite; `as` saturates past `u64`.
    if secs < cap.as_secs_f64() {
        Duration::from_nanos((secs * 1e9) as u64).min(cap)
    } else {
        cap
    }
}

/// `base` to the power `exponent` by squaring, the way `f64::powi` computes it (compiler-rt's
/// `__powidf2`), which `core` does not offer without `std`.
fn powi(mut base: f64, mut exponent: u32) -> f64 {
    let mut result = 1.0;
    loop {
        if exponent & 1 == 1 {
            result *= base;
        }
        exponent /= 2;
        if exponent == 0 {
            return result;
        }
        base *= base;
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
        secs_up_to(cap.as_secs_f64() * fraction, cap)
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
/// use core::time::Duration;
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
mod tests;

#[cfg(test)]
mod limits_tests;
