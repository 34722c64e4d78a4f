//! Chaos mode (`--chaos SEED`): every event request of a chaos topic gets a random fault plan
//! drawn from a seeded generator, so that a client can be tested against a server that drops
//! connections (mid-event, mid-line), stalls, trickles bytes and answers 500/503.
//!
//! The plan of the `n`-th request (counting from 0) on topic `T` is a pure function of
//! `(seed, T, n)` ([`Chaos::plan`]): the same seed gives the same sequence of faults on each
//! topic whatever the other topics do. The table lives in `docs/protocol.md`, "Chaos mode".

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use crate::{json_error, lock, ShutdownSignal};

/// The chaos settings; [`Chaos::new`] gives the documented defaults for a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chaos {
    /// The seed of every plan.
    pub seed: u64,
    /// Only topics whose name starts with this get faults (`""`: every topic).
    pub topic_prefix: String,
    /// Percent of requests answered `500` or `503` (half each; a `503` carries
    /// `Retry-After: 0` or `1` half of the time) instead of events.
    pub status_pct: u8,
    /// Percent of the other requests whose connection is dropped after a random number of
    /// body bytes (1 to `max_bytes`, so usually in the middle of an event or a line).
    pub drop_pct: u8,
    /// Upper bound of the byte position of a drop (and of a stall).
    pub max_bytes: usize,
    /// Every response that is not an injected status is dropped after a random time of 1 to
    /// `max_ms` milliseconds at the latest, so no connection lives long (`0`: no time limit).
    pub max_ms: u64,
    /// Percent of requests that stall (send nothing) at a random byte position.
    pub stall_pct: u8,
    /// Upper bound of a stall, in ms.
    pub stall_ms: u64,
    /// Percent of requests whose body trickles out in pieces of 1 to 16 bytes, 0 to 2 ms apart.
    pub trickle_pct: u8,
}

impl Chaos {
    /// The defaults of the command line for `seed`.
    pub fn new(seed: u64) -> Self {
        Chaos {
            seed,
            topic_prefix: String::new(),
            status_pct: 10,
            drop_pct: 80,
            max_bytes: 1024,
            max_ms: 2000,
            stall_pct: 10,
            stall_ms: 1000,
            trickle_pct: 10,
        }
    }

    /// Does `topic` get faults?
    pub fn applies_to(&self, topic: &str) -> bool {
        topic.starts_with(&self.topic_prefix)
    }

    /// The fault plan of the `n`-th event request (from 0) on `topic`.
    pub fn plan(&self, topic: &str, n: u64) -> Plan {
        let mut rng = Rng::new(self.seed, topic, n);
        let mut plan = Plan::default();
        if rng.percent(self.status_pct) {
            let (status, retry_after) = if rng.below(2) == 0 {
                (500, None)
            } else {
                (503, (rng.below(2) == 0).then(|| rng.below(2)))
            };
            plan.status = Some(InjectedStatus {
                status,
                retry_after,
            });
            return plan;
        }
        let at_byte = rng
            .percent(self.drop_pct)
            .then(|| 1 + rng.below(self.max_bytes.max(1) as u64) as usize);
        let after = (self.max_ms > 0).then(|| Duration::from_millis(1 + rng.below(self.max_ms)));
        let kind = if rng.below(2) == 0 {
            CutKind::Abort
        } else {
            CutKind::End
        };
        if at_byte.is_some() || after.is_some() {
            plan.cut = Some(Cut {
                at_byte,
                after,
                kind,
            });
        }
        if rng.percent(self.stall_pct) {
            plan.stall = Some(Stall {
                at_byte: rng.below(self.max_bytes.max(1) as u64) as usize,
                duration: Duration::from_millis(1 + rng.below(self.stall_ms.max(1))),
            });
        }
        if rng.percent(self.trickle_pct) {
            plan.trickle = Some(Trickle {
                piece: 1 + rng.below(16) as usize,
                interval: Duration::from_millis(rng.below(3)),
            });
        }
        plan
    }
}

/// SplitMix64 over `(seed, topic, n)`: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, topic: &str, n: u64) -> Self {
        // FNV-1a of the topic name.
        let mut h = 0xcbf2_9ce4_8422_2325_u64;
        for b in topic.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng(seed ^ h.rotate_left(17) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn percent(&mut self, pct: u8) -> bool {
        self.below(100) < u64::from(pct)
    }
}

/// What chaos does to one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Answer this status instead of events (nothing else applies then).
    pub status: Option<InjectedStatus>,
    /// Drop the connection.
    pub cut: Option<Cut>,
    /// Send nothing for a while at some point.
    pub stall: Option<Stall>,
    /// Send the body in small pieces.
    pub trickle: Option<Trickle>,
}

/// An injected error status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InjectedStatus {
    /// `500` or `503`.
    pub status: u16,
    /// The `Retry-After` header (seconds), if any.
    pub retry_after: Option<u64>,
}

/// How a dropped connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutKind {
    /// The connection is closed without the body's end (no last chunk): a network error
    /// for the client.
    Abort,
    /// The body ends cleanly (last chunk) at the cut, in the middle of whatever was being
    /// sent: the client sees the stream end, with a partial event it must discard.
    End,
}

/// A dropped connection: after `at_byte` body bytes or after `after`, whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The number of body bytes sent before the cut.
    pub at_byte: Option<usize>,
    /// The time from the start of the body to the cut.
    pub after: Option<Duration>,
    /// How the connection ends.
    pub kind: CutKind,
}

/// A pause in the middle of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// The number of body bytes sent before the pause.
    pub at_byte: usize,
    /// How long nothing is sent.
    pub duration: Duration,
}

/// A body sent in small pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trickle {
    /// Bytes per piece.
    pub piece: usize,
    /// Pause between pieces.
    pub interval: Duration,
}

/// Counters of one topic, as `GET /chaos` reports them.
#[derive(Debug, Default)]
pub(crate) struct TopicStats {
    requests: AtomicU64,
    status_500: AtomicU64,
    status_503: AtomicU64,
    aborted: AtomicU64,
    ended: AtomicU64,
    timed_out: AtomicU64,
    stalled: AtomicU64,
    trickled: AtomicU64,
}

impl TopicStats {
    fn json(&self) -> serde_json::Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let forced = get(&self.status_500)
            + get(&self.status_503)
            + get(&self.aborted)
            + get(&self.ended)
            + get(&self.timed_out);
        serde_json::json!({
            "requests": get(&self.requests),
            "status500": get(&self.status_500),
            "status503": get(&self.status_503),
            "aborted": get(&self.aborted),
            "ended": get(&self.ended),
            "timedOut": get(&self.timed_out),
            "stalled": get(&self.stalled),
            "trickled": get(&self.trickled),
            "forcedDisconnects": forced,
        })
    }
}

/// The chaos state of a server: settings, per-topic request counters and statistics.
#[derive(Debug)]
pub(crate) struct ChaosState {
    pub(crate) chaos: Chaos,
    topics: Mutex<HashMap<String, Arc<TopicStats>>>,
    /// At most this many topics get counters (and faults): the map never grows past it.
    max_topics: usize,
}

impl ChaosState {
    /// Chaos with these settings on at most `max_topics` topics (the first ones requested).
    pub(crate) fn new(chaos: Chaos, max_topics: usize) -> Self {
        ChaosState {
            chaos,
            topics: Mutex::new(HashMap::new()),
            max_topics,
        }
    }

    /// The plan of the next request on `topic` (`None`: not a chaos topic, or a topic past
    /// the first `max_topics`, which is served without faults).
    pub(crate) fn next(&self, topic: &str) -> Option<(Plan, Arc<TopicStats>)> {
        if !self.chaos.applies_to(topic) {
            return None;
        }
        let stats = {
            let mut topics = lock(&self.topics);
            match topics.get(topic) {
                Some(stats) => stats.clone(),
                None if topics.len() >= self.max_topics => return None,
                None => topics.entry(topic.to_owned()).or_default().clone(),
            }
        };
        let n = stats.requests.fetch_add(1, Ordering::Relaxed);
        let plan = self.chaos.plan(topic, n);
        if let Some(s) = plan.status {
            let counter = if s.status == 500 {
                &stats.status_500
            } else {
                &stats.status_503
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Some((plan, stats))
    }

    /// `GET /chaos`: the settings and every topic's counters.
    pub(crate) fn json(&self) -> serde_json::Value {
        let topics: serde_json::Map<String, serde_json::Value> = lock(&self.topics)
            .iter()
            .map(|(k, v)| (k.clone(), v.json()))
            .collect();
        let c = &self.chaos;
        serde_json::json!({
            "seed": c.seed,
            "topicPrefix": c.topic_prefix,
            "statusPct": c.status_pct,
            "dropPct": c.drop_pct,
            "maxBytes": c.max_bytes,
            "maxMs": c.max_ms,
            "stallPct": c.stall_pct,
            "stallMs": c.stall_ms,
            "tricklePct": c.trickle_pct,
            "topics": topics,
        })
    }
}

/// The response of an injected status.
pub(crate) fn status_response(s: InjectedStatus) -> Response {
    let status = StatusCode::from_u16(s.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json_error(status, &format!("chaos: injected status {}", s.status));
    if let Some(secs) = s.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// A body stream with the plan's cut, stall and trickle applied.
pub(crate) type Body = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

struct Wrap {
    inner: std::pin::Pin<Box<dyn Stream<Item = Bytes> + Send>>,
    plan: Plan,
    stats: Arc<TopicStats>,
    carry: Bytes,
    sent: usize,
    deadline: Option<Instant>,
    shutdown: ShutdownSignal,
    /// `shutdown` completed (it must not be polled again).
    stopped: bool,
    started: bool,
    done: bool,
}

/// Applies `plan` to the body `inner`.
pub(crate) fn wrap(
    inner: impl Stream<Item = Bytes> + Send + 'static,
    plan: Plan,
    stats: Arc<TopicStats>,
    shutdown: ShutdownSignal,
) -> Body {
    let state = Wrap {
        inner: Box::pin(inner),
        deadline: plan
            .cut
            .and_then(|c| c.after)
            .map(|after| Instant::now() + after),
        plan,
        stats,
        carry: Bytes::new(),
        sent: 0,
        shutdown,
        stopped: false,
        started: false,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut s| async move {
        let item = s.next().await?;
        Some((item, s))
    }))
}

/// See the use in [`Wrap::next`].
const FLUSH_BEFORE_ABORT: Duration = Duration::from_millis(5);

fn aborted() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "chaos: dropped")
}

impl Wrap {
    /// Sleeps `d`, unless the deadline or shutdown comes first. `Err`: the deadline passed.
    async fn pause(&mut self, d: Duration) -> Result<(), ()> {
        let deadline = self.deadline;
        let at_deadline = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let stopped = self.stopped;
        tokio::select! {
            () = tokio::time::sleep(d) => Ok(()),
            () = at_deadline => Err(()),
            () = &mut self.shutdown, if !stopped => {
                self.stopped = true;
                Ok(())
            }
        }
    }

    fn time_cut(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        self.done = true;
        self.stats.timed_out.fetch_add(1, Ordering::Relaxed);
        match self.plan.cut.map(|c| c.kind) {
            Some(CutKind::End) => None,
            _ => Some(Err(aborted())),
        }
    }

    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        if let Some((at_byte, kind)) = self.plan.cut.and_then(|c| Some((c.at_byte?, c.kind))) {
            if self.sent >= at_byte {
                self.done = true;
                return match kind {
                    CutKind::Abort => {
                        self.stats.aborted.fetch_add(1, Ordering::Relaxed);
                        // hyper drops its unflushed output when a body fails: give it a
                        // moment to flush the bytes before the cut, so the client sees them.
                        tokio::time::sleep(FLUSH_BEFORE_ABORT).await;
                        Some(Err(aborted()))
                    }
                    CutKind::End => {
                        self.stats.ended.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                };
            }
        }
        if let Some(stall) = self.plan.stall {
            if self.sent >= stall.at_byte {
                self.plan.stall = None;
                self.stats.stalled.fetch_add(1, Ordering::Relaxed);
                if self.pause(stall.duration).await.is_err() {
                    return self.time_cut();
                }
            }
        }
        while self.carry.is_empty() {
            let deadline = self.deadline;
            let at_deadline = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                piece = self.inner.next() => match piece {
                    Some(p) => self.carry = p,
                    None => {
                        self.done = true;
                        return None;
                    }
                },
                () = at_deadline => return self.time_cut(),
            }
        }
        let mut n = self.carry.len();
        if let Some(t) = self.plan.trickle {
            if self.started && self.pause(t.interval).await.is_err() {
                return self.time_cut();
            }
            if !self.started {
                self.stats.trickled.fetch_add(1, Ordering::Relaxed);
            }
            n = n.min(t.piece);
        }
        if let Some(at_byte) = self.plan.cut.and_then(|c| c.at_byte) {
            n = n.min(at_byte - self.sent);
        }
        if let Some(stall) = self.plan.stall {
            n = n.min(stall.at_byte - self.sent);
        }
        // `n > 0`: the carry is not empty, and the cut and the stall lie beyond `sent`.
        self.started = true;
        self.sent += n;
        Some(Ok(self.carry.split_to(n)))
    }
}
