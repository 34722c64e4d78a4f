//! Topics: per-topic id counter, a retention ring bounded in events and bytes, and fan-out.
//!
//! Every published event is encoded once ([`Event::frame`]) and kept in its topic's ring.
//! Subscribers ([`Feed`]) are cursors into that ring: replay and live delivery read the same
//! shared frames, so a subscriber costs a cursor whatever it replays, and an event dropped
//! from the ring is freed once the writes that were already handed to the sockets are done.
//!
//! Memory: the rings together hold at most `retain_bytes` (plus the one event being
//! published), one topic at most `topic_bytes`; when the whole server is over budget the
//! oldest event of the topic holding the most bytes goes first. A topic exists while it has
//! subscribers or has ever had an event; only topics that have had events count towards
//! `max_topics`.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bytes::Bytes;
use tokio::sync::futures::OwnedNotified;
use tokio::sync::Notify;

use crate::wire;

/// What one retained event costs besides its frame: the ring slot and the `Bytes` header.
const EVENT_OVERHEAD: usize = 64;

/// One published event, already encoded; cloning it is one reference-count bump.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// The event id (per topic, strictly increasing).
    pub(crate) id: u64,
    /// The complete `text/event-stream` block, `id:` line included.
    pub(crate) frame: Bytes,
}

impl Event {
    fn cost(&self) -> usize {
        self.frame.len() + EVENT_OVERHEAD
    }
}

/// Where a client wants to resume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// No `Last-Event-ID`: live events only.
    Live,
    /// Replay every retained event after this id.
    After(u64),
    /// A `Last-Event-ID` that is not a decimal integer.
    Invalid,
}

impl Cursor {
    /// Parses a `Last-Event-ID` value: empty means live; 1 to 20 ASCII digits that fit in a
    /// `u64` are a cursor; anything else (a sign, a space, a letter, an overflow) is
    /// [`Cursor::Invalid`].
    pub(crate) fn parse(value: &str) -> Self {
        if value.is_empty() {
            Cursor::Live
        } else if value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) {
            value.parse().map_or(Cursor::Invalid, Cursor::After)
        } else {
            Cursor::Invalid
        }
    }
}

/// Why a resume could not be honoured exactly (sent as `event: reset`).
#[derive(Clone, Debug)]
pub(crate) struct Reset {
    pub(crate) reason: &'static str,
    pub(crate) last_event_id: String,
    pub(crate) first_retained_id: Option<u64>,
}

impl Reset {
    /// The `event: reset` block (no `id:` line, so it does not move the client's cursor).
    pub(crate) fn frame(&self) -> Bytes {
        let data = serde_json::json!({
            "reason": self.reason,
            "lastEventId": self.last_event_id,
            "firstRetainedId": self.first_retained_id.map(|id| id.to_string()),
        });
        wire::encode_event(None, Some("reset"), &data.to_string())
    }
}

/// The result of subscribing with a cursor: the reset to send first, if any, then the feed
/// (replay and live events).
pub(crate) struct Subscription {
    pub(crate) reset: Option<Reset>,
    pub(crate) feed: Feed,
    /// The newest id at subscription time (0 when the topic is empty).
    pub(crate) latest: u64,
}

/// Publishing failed.
#[derive(Debug)]
pub(crate) enum PublishError {
    /// The requested id is not greater than the topic's newest id.
    IdNotIncreasing { latest: u64 },
    /// The id would be `u64::MAX`: ids end at `u64::MAX - 1`, so that the next id always
    /// exists and stays greater (explicit `u64::MAX`, or the topic used up every id).
    IdOutOfRange,
    /// Too many topics hold events already.
    TooManyTopics,
    /// The server is shutting down.
    Closed,
    /// The state file of the topic could not be read or written (`--state-dir`).
    Storage(String),
}

/// The limits of retention.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retention {
    /// Events replayed per topic (`--retain`).
    pub(crate) events: usize,
    /// Events one subscriber may fall behind the live end (`--client-queue`).
    pub(crate) client_queue: usize,
    /// Bytes held by one topic's ring (`--retain-topic-bytes`).
    pub(crate) topic_bytes: usize,
    /// Bytes held by every ring together (`--retain-bytes`).
    pub(crate) total_bytes: usize,
    /// Topics that have had events (`--max-topics`).
    pub(crate) max_topics: usize,
}

struct TopicState {
    next_id: u64,
    /// Retained events, oldest first; holds `max(events, client_queue)` at most, so that a
    /// live subscriber may lag `client_queue` events even with a small `--retain`.
    ring: VecDeque<Event>,
    /// The sequence number (count of events ever pushed, from 0) of `ring[0]`.
    first_seq: u64,
    /// Bytes held by `ring` ([`Event::cost`]).
    bytes: usize,
    /// The newest id dropped from the ring (0: none yet). A cursor below it missed data.
    evicted: u64,
    /// The topic's state file (`--state-dir`), opened for appending on the first publish.
    file: Option<std::fs::File>,
    /// Open feeds.
    subscribers: usize,
    /// The server is shutting down: feeds end.
    closed: bool,
}

impl TopicState {
    fn empty() -> Self {
        TopicState {
            next_id: 1,
            ring: VecDeque::new(),
            first_seq: 0,
            bytes: 0,
            evicted: 0,
            file: None,
            subscribers: 0,
            closed: false,
        }
    }

    /// The sequence number the next event will get.
    fn end_seq(&self) -> u64 {
        self.first_seq + self.ring.len() as u64
    }

    /// Has this topic ever held an event (it then counts towards `max_topics` and is kept,
    /// so that its ids stay increasing)?
    fn has_history(&self) -> bool {
        self.next_id > 1
    }

    /// The index in `ring` where the replay window (the newest `retain` events) starts.
    fn window_start(&self, retain: usize) -> usize {
        self.ring.len().saturating_sub(retain)
    }

    /// The newest id no longer replayable.
    fn window_evicted(&self, retain: usize) -> u64 {
        match self.window_start(retain) {
            0 => self.evicted,
            n => self.ring[n - 1].id,
        }
    }

    /// Drops the oldest event; returns the bytes freed.
    fn pop(&mut self) -> usize {
        match self.ring.pop_front() {
            Some(old) => {
                self.first_seq += 1;
                self.evicted = old.id;
                let cost = old.cost();
                self.bytes -= cost;
                cost
            }
            None => 0,
        }
    }

    /// Appends `ev` and drops what the per-topic limits no longer allow (never `ev`
    /// itself); returns the bytes added minus the bytes freed.
    fn push(&mut self, ev: Event, limits: &Retention) -> isize {
        let added = ev.cost();
        self.bytes += added;
        self.ring.push_back(ev);
        let mut freed = 0;
        let max_events = limits.events.max(limits.client_queue);
        while self.ring.len() > 1
            && (self.ring.len() > max_events || self.bytes > limits.topic_bytes)
        {
            freed += self.pop();
        }
        added as isize - freed as isize
    }
}

struct Topic {
    state: RwLock<TopicState>,
    /// [`TopicState::end_seq`], readable without the lock: a feed with nothing to take finds
    /// out without touching the lock the publisher needs.
    end: AtomicU64,
    /// Notified after every publish (and on shutdown): wakes the feeds that wait.
    wake: Arc<Notify>,
    /// [`TopicState::closed`], readable without the lock.
    closed: std::sync::atomic::AtomicBool,
}

struct Topics {
    map: HashMap<String, Arc<Topic>>,
    /// Bytes held by every ring.
    bytes: usize,
    /// Topics with history ([`TopicState::has_history`]).
    with_history: usize,
    closed: bool,
}

/// All topics of one server.
pub(crate) struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    topics: Mutex<Topics>,
    limits: Retention,
    /// Where each topic's events are appended, to be reloaded after a restart.
    state_dir: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// Is `name` an acceptable topic name (1..=64 of `[A-Za-z0-9_.:-]`)?
pub(crate) fn valid_topic(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// What [`Feed::take`] found.
#[derive(Debug)]
pub(crate) enum Take {
    /// Events, oldest first (at least one).
    Events(Vec<Event>),
    /// Nothing new yet.
    Empty,
    /// The subscriber fell behind: more than `--client-queue` live events it has not taken,
    /// or events it has not taken were dropped from the ring.
    Overflow,
    /// The server is shutting down.
    Closed,
}

/// A subscriber's cursor into its topic's ring.
pub(crate) struct Feed {
    hub: Arc<HubInner>,
    name: String,
    topic: Arc<Topic>,
    /// The sequence number of the next event to take.
    next_seq: u64,
    /// The sequence number of the first event published after subscribing: only the events
    /// from there on count towards the lag limit (the replay before it does not).
    live_from: u64,
    /// Registered with the topic's [`Topic::wake`] before the ring is looked at, so that a
    /// publish in between is never missed; allocated once per feed and re-armed in place.
    waiting: std::pin::Pin<Box<OwnedNotified>>,
    /// `waiting` is registered and has not fired yet.
    armed: bool,
}

impl Feed {
    /// Takes up to `max` events without waiting, and no more than `max_bytes` of frames
    /// unless a single event is larger.
    pub(crate) fn take(&mut self, max: usize, max_bytes: usize) -> Take {
        let end = self.topic.end.load(Ordering::Acquire);
        if end == self.next_seq && !self.closed() {
            return Take::Empty;
        }
        let n = usize::try_from(end.saturating_sub(self.next_seq)).unwrap_or(usize::MAX);
        let mut out = Vec::with_capacity(n.clamp(1, max.clamp(1, 64)));
        let st = read(&self.topic.state);
        if st.closed {
            return Take::Closed;
        }
        let end = st.end_seq();
        if self.next_seq < st.first_seq
            || end - self.next_seq.max(self.live_from) > self.hub.limits.client_queue as u64
        {
            return Take::Overflow;
        }
        if self.next_seq == end {
            return Take::Empty;
        }
        let start = usize::try_from(self.next_seq - st.first_seq).unwrap_or(usize::MAX);
        let mut bytes = 0;
        for e in st.ring.range(start..).take(max.max(1)) {
            if !out.is_empty() && bytes + e.frame.len() > max_bytes {
                break;
            }
            bytes += e.frame.len();
            out.push(e.clone());
        }
        drop(st);
        self.next_seq += out.len() as u64;
        Take::Events(out)
    }

    /// Is the server shutting down (the topic closed)?
    fn closed(&self) -> bool {
        self.topic.closed.load(Ordering::Acquire)
    }

    /// Takes as [`Feed::take`] does, or registers `cx` to be woken by the next publish (or
    /// the shutdown) when there is nothing to take: never [`Take::Empty`].
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut std::task::Context<'_>,
        max: usize,
        max_bytes: usize,
    ) -> std::task::Poll<Take> {
        use std::future::Future;
        loop {
            if !self.armed {
                let fresh = self.topic.wake.clone().notified_owned();
                self.waiting.set(fresh);
                self.waiting.as_mut().enable();
                self.armed = true;
            }
            match self.take(max, max_bytes) {
                Take::Empty => {}
                other => return std::task::Poll::Ready(other),
            }
            match self.waiting.as_mut().poll(cx) {
                std::task::Poll::Ready(()) => self.armed = false,
                std::task::Poll::Pending => return std::task::Poll::Pending,
            }
        }
    }

    /// Waits for at least one event (or an overflow, or the shutdown), then takes as
    /// [`Feed::take`] does.
    pub(crate) async fn next(&mut self, max: usize, max_bytes: usize) -> Take {
        std::future::poll_fn(|cx| self.poll_next(cx, max, max_bytes)).await
    }

    /// The ids ending each of the next `k` closed batches after the first batch from the
    /// cursor (the `Long-Poll-Ahead` announcement), batching as [`Feed::take`] does: at most
    /// `batch` events and `max_bytes` of frames (at least one event) each. Only full batches
    /// are announced (`batch` events, or the next event would not fit): publishing cannot
    /// change where they end.
    pub(crate) fn ahead(&self, batch: usize, max_bytes: usize, k: usize) -> Vec<String> {
        let st = read(&self.topic.state);
        let Some(start) = self
            .next_seq
            .checked_sub(st.first_seq)
            .and_then(|n| usize::try_from(n).ok())
        else {
            return Vec::new();
        };
        let mut ends = Vec::new();
        let (mut count, mut bytes, mut last) = (0, 0, 0);
        for e in st.ring.range(start.min(st.ring.len())..) {
            if ends.len() > k {
                break;
            }
            // Full by size: this event opens the next batch.
            if count > 0 && bytes + e.frame.len() > max_bytes {
                ends.push(last);
                (count, bytes) = (0, 0);
            }
            count += 1;
            bytes += e.frame.len();
            last = e.id;
            // Full by count.
            if count == batch.max(1) {
                ends.push(last);
                (count, bytes) = (0, 0);
            }
        }
        ends.into_iter()
            .skip(1)
            .take(k)
            .map(|id| id.to_string())
            .collect()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        let mut topics = lock(&self.hub.topics);
        let mut st = write(&self.topic.state);
        st.subscribers -= 1;
        let unused = st.subscribers == 0 && !st.has_history();
        drop(st);
        if unused
            && topics
                .map
                .get(&self.name)
                .is_some_and(|t| Arc::ptr_eq(t, &self.topic))
        {
            topics.map.remove(&self.name);
        }
    }
}

impl Hub {
    /// A hub with these limits; with `state_dir`, every topic's events are persisted there
    /// (see [`state_file`]) and reloaded when the topic is first used, so ids stay monotonic
    /// and replay works across restarts.
    pub(crate) fn new(limits: Retention, state_dir: Option<PathBuf>) -> Self {
        let limits = Retention {
            events: limits.events.max(1),
            client_queue: limits.client_queue.max(1),
            topic_bytes: limits.topic_bytes.min(limits.total_bytes),
            total_bytes: limits.total_bytes,
            max_topics: limits.max_topics.max(1),
        };
        Hub {
            inner: Arc::new(HubInner {
                topics: Mutex::new(Topics {
                    map: HashMap::new(),
                    bytes: 0,
                    with_history: 0,
                    closed: false,
                }),
                limits,
                state_dir,
            }),
        }
    }

    /// Ends every feed and drops every topic; no topic can be created afterwards.
    pub(crate) fn close(&self) {
        let mut topics = lock(&self.inner.topics);
        topics.closed = true;
        for topic in topics.map.values() {
            write(&topic.state).closed = true;
            topic.closed.store(true, Ordering::Release);
            topic.wake.notify_waiters();
        }
        topics.map.clear();
    }

    /// Bytes held by every ring (retained events).
    pub(crate) fn retained_bytes(&self) -> usize {
        lock(&self.inner.topics).bytes
    }

    /// Topics that have had events, and all topics (those only subscribed to included).
    pub(crate) fn topic_counts(&self) -> (usize, usize) {
        let topics = lock(&self.inner.topics);
        (topics.with_history, topics.map.len())
    }

    /// Per topic with subscribers, how many there are: the event streams (and long polls
    /// waiting) open on it.
    pub(crate) fn stream_counts(&self) -> std::collections::BTreeMap<String, usize> {
        let topics = lock(&self.inner.topics);
        topics
            .map
            .iter()
            .map(|(name, topic)| (name.clone(), read(&topic.state).subscribers))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// The topic `name`, created (or loaded from the state directory) if needed.
    fn topic(&self, topics: &mut Topics, name: &str) -> Result<Arc<Topic>, PublishError> {
        if topics.closed {
            return Err(PublishError::Closed);
        }
        if let Some(t) = topics.map.get(name) {
            return Ok(t.clone());
        }
        let limits = &self.inner.limits;
        let state = match &self.inner.state_dir {
            None => TopicState::empty(),
            Some(dir) => load(&state_file(dir, name), limits)
                .map_err(|e| PublishError::Storage(format!("topic `{name}`: {e}")))?,
        };
        if state.has_history() {
            if topics.with_history >= limits.max_topics {
                return Err(PublishError::TooManyTopics);
            }
            topics.with_history += 1;
            topics.bytes += state.bytes;
        }
        let topic = Arc::new(Topic {
            end: AtomicU64::new(state.end_seq()),
            closed: std::sync::atomic::AtomicBool::new(false),
            state: RwLock::new(state),
            wake: Arc::new(Notify::new()),
        });
        topics.map.insert(name.to_owned(), topic.clone());
        self.evict_over_budget(topics, &topic);
        Ok(topic)
    }

    /// While every ring together holds more than the budget, drops the oldest event of the
    /// topic holding the most bytes (never the newest event of `keep`).
    fn evict_over_budget(&self, topics: &mut Topics, keep: &Arc<Topic>) {
        while topics.bytes > self.inner.limits.total_bytes {
            let biggest = topics
                .map
                .values()
                .filter_map(|t| {
                    let st = read(&t.state);
                    let floor = usize::from(Arc::ptr_eq(t, keep));
                    (st.ring.len() > floor).then_some((st.bytes, t))
                })
                .max_by_key(|(bytes, _)| *bytes)
                .map(|(_, t)| t.clone());
            let Some(t) = biggest else { break };
            let freed = write(&t.state).pop();
            topics.bytes -= freed;
        }
    }

    /// Publishes one event; returns its id.
    pub(crate) fn publish(
        &self,
        name: &str,
        event: Option<&str>,
        data: &str,
        id: Option<u64>,
    ) -> Result<u64, PublishError> {
        let mut topics = lock(&self.inner.topics);
        let topic = self.topic(&mut topics, name)?;
        let result = self.append(&mut topics, &topic, name, event, data, id);
        match result {
            Ok(_) => {
                drop(topics);
                topic.wake.notify_waiters();
            }
            Err(_) => {
                // A refused publish to a new name leaves nothing behind.
                let st = read(&topic.state);
                if st.subscribers == 0 && !st.has_history() {
                    drop(st);
                    topics.map.remove(name);
                }
            }
        }
        result
    }

    /// The body of [`Hub::publish`], under the hub's lock; wakes nobody.
    fn append(
        &self,
        topics: &mut Topics,
        topic: &Arc<Topic>,
        name: &str,
        event: Option<&str>,
        data: &str,
        id: Option<u64>,
    ) -> Result<u64, PublishError> {
        let limits = &self.inner.limits;
        let mut st = write(&topic.state);
        let id = match id {
            Some(id) if id < st.next_id => {
                return Err(PublishError::IdNotIncreasing {
                    latest: st.next_id - 1,
                })
            }
            Some(id) => id,
            None => st.next_id,
        };
        if id == u64::MAX {
            return Err(PublishError::IdOutOfRange);
        }
        let first = !st.has_history();
        if first && topics.with_history >= limits.max_topics {
            return Err(PublishError::TooManyTopics);
        }
        let ev = Event {
            id,
            frame: wire::encode_event(Some(&id.to_string()), event, data),
        };
        if let Some(dir) = &self.inner.state_dir {
            if st.file.is_none() {
                st.file = Some(
                    open_append(&state_file(dir, name))
                        .map_err(|e| PublishError::Storage(format!("topic `{name}`: {e}")))?,
                );
            }
            if let Some(file) = &mut st.file {
                // Appended before anyone sees the event: a publish that was answered survives
                // a restart (even a SIGKILL: the bytes are in the kernel's page cache).
                file.write_all(&ev.frame)
                    .map_err(|e| PublishError::Storage(format!("cannot append: {e}")))?;
            }
        }
        st.next_id = id + 1;
        let delta = st.push(ev, limits);
        topic.end.store(st.end_seq(), Ordering::Release);
        drop(st);
        if first {
            topics.with_history += 1;
        }
        topics.bytes = topics.bytes.saturating_add_signed(delta);
        self.evict_over_budget(topics, topic);
        Ok(id)
    }

    /// Subscribes to `name`, atomically computing where the feed starts for `cursor`.
    ///
    /// A topic that does not exist is created without history: it holds no event and is
    /// dropped again when its last feed ends, unless something was published meanwhile.
    pub(crate) fn subscribe(
        &self,
        name: &str,
        cursor: &Cursor,
    ) -> Result<Subscription, PublishError> {
        let retain = self.inner.limits.events;
        let mut topics = lock(&self.inner.topics);
        let topic = self.topic(&mut topics, name)?;
        let mut st = write(&topic.state);
        st.subscribers += 1;
        drop(topics);
        let latest = st.next_id - 1;
        let window = st.window_start(retain);
        let window_seq = st.first_seq + window as u64;
        let first_retained_id = st.ring.get(window).map(|e| e.id);
        let reset = |reason, last_event_id| Reset {
            reason,
            last_event_id,
            first_retained_id,
        };
        let (reset, next_seq) = match cursor {
            Cursor::Live => (None, st.end_seq()),
            Cursor::Invalid => (Some(reset("invalid-id", String::new())), window_seq),
            Cursor::After(n) if *n > latest => {
                (Some(reset("unknown-id", n.to_string())), window_seq)
            }
            Cursor::After(n) if *n < st.window_evicted(retain) => {
                (Some(reset("expired", n.to_string())), window_seq)
            }
            Cursor::After(n) => {
                let at = st.ring.partition_point(|e| e.id <= *n).max(window);
                (None, st.first_seq + at as u64)
            }
        };
        let feed = Feed {
            hub: self.inner.clone(),
            name: name.to_owned(),
            topic: topic.clone(),
            next_seq,
            live_from: st.end_seq(),
            waiting: Box::pin(topic.wake.clone().notified_owned()),
            armed: false,
        };
        drop(st);
        Ok(Subscription {
            reset,
            feed,
            latest,
        })
    }
}

/// The state file of `topic` in `dir`: `t_<topic>.sse` (`:` written `%3A`), a
/// `text/event-stream` of every event published, in order.
pub(crate) fn state_file(dir: &Path, topic: &str) -> PathBuf {
    dir.join(format!("t_{}.sse", topic.replace(':', "%3A")))
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Reads a topic's state file (a missing file is an empty topic, and is not created: only a
/// publish creates it).
///
/// A torn last block (the process died in the middle of a write) is cut off the file, so the
/// next append starts on a block boundary; the ring gets the newest events the limits allow.
fn load(path: &Path, limits: &Retention) -> std::io::Result<TopicState> {
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TopicState::empty()),
        Err(e) => return Err(e),
    };
    // Every block the server writes ends with `\n\n` and holds no other blank line.
    let complete = bytes
        .windows(2)
        .rposition(|w| w == b"\n\n")
        .map_or(0, |p| p + 2);
    if complete < bytes.len() {
        tracing::warn!(path = %path.display(), torn = bytes.len() - complete, "cutting a torn block");
        bytes.truncate(complete);
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(complete as u64)?;
    }
    let mut state = TopicState::empty();
    let mut parser = wasm_sse_codec::Parser::with_max_event_size(usize::MAX);
    let mut bad = None;
    let _ = parser.feed(&bytes, |item| {
        let wasm_sse_codec::Item::Event(e) = item else {
            return;
        };
        let Ok(id) = e.id().parse::<u64>() else {
            bad = Some(e.id().to_owned());
            return;
        };
        let event_type = (e.event_type() != "message").then(|| e.event_type());
        let ev = Event {
            id,
            frame: wire::encode_event(Some(e.id()), event_type, e.data()),
        };
        state.next_id = id.saturating_add(1);
        state.push(ev, limits);
    });
    if let Some(id) = bad {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: event id `{id}` is not a decimal integer",
                path.display()
            ),
        ));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(events: usize, topic_bytes: usize, total_bytes: usize) -> Retention {
        Retention {
            events,
            client_queue: 8,
            topic_bytes,
            total_bytes,
            max_topics: 4,
        }
    }

    fn ids(s: &mut Subscription) -> Vec<u64> {
        match s.feed.take(usize::MAX, usize::MAX) {
            Take::Events(v) => v.iter().map(|e| e.id).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn replay_and_reset() {
        let hub = Hub::new(limits(3, 1 << 20, 1 << 20), None);
        for i in 0..5 {
            hub.publish("t", None, &i.to_string(), None).unwrap();
        }
        let mut s = hub.subscribe("t", &Cursor::After(3)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&mut s), [4, 5]);
        let mut s = hub.subscribe("t", &Cursor::After(2)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&mut s), [3, 4, 5]);
        let s = hub.subscribe("t", &Cursor::After(1)).unwrap();
        assert_eq!(s.reset.unwrap().reason, "expired");
        let s = hub.subscribe("t", &Cursor::After(9)).unwrap();
        assert_eq!(s.reset.unwrap().reason, "unknown-id");
        assert!(matches!(
            hub.publish("t", None, "x", Some(5)),
            Err(PublishError::IdNotIncreasing { latest: 5 })
        ));
        assert_eq!(hub.publish("t", None, "x", Some(10)).unwrap(), 10);
        assert_eq!(hub.publish("t", None, "x", None).unwrap(), 11);
        // The last id is u64::MAX - 1; after it nothing can be assigned, never a repeat.
        assert!(matches!(
            hub.publish("u", None, "x", Some(u64::MAX)),
            Err(PublishError::IdOutOfRange)
        ));
        assert_eq!(
            hub.publish("u", None, "x", Some(u64::MAX - 1)).unwrap(),
            u64::MAX - 1
        );
        assert!(matches!(
            hub.publish("u", None, "x", None),
            Err(PublishError::IdOutOfRange)
        ));
        // Ids skipped by an explicit id were never published: no reset.
        let mut s = hub.subscribe("t", &Cursor::After(7)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&mut s), [10, 11]);
    }

    #[test]
    fn byte_budgets_evict_oldest_of_the_biggest_topic() {
        let frame = wire::encode_event(Some("1"), None, &"x".repeat(1000)).len() + EVENT_OVERHEAD;
        // Per topic: 3 events; in all: 5 events (ids of two digits cost one byte more).
        let hub = Hub::new(limits(100, 3 * frame + 10, 5 * frame + 20), None);
        for _ in 0..10 {
            hub.publish("big", None, &"x".repeat(1000), None).unwrap();
        }
        assert!((3 * frame..3 * frame + 10).contains(&hub.retained_bytes()));
        hub.publish("small", None, &"y".repeat(1000), None).unwrap();
        hub.publish("small", None, &"y".repeat(1000), None).unwrap();
        assert!((5 * frame..5 * frame + 10).contains(&hub.retained_bytes()));
        // Over the total: `big` (the biggest) loses its oldest, `small` keeps both.
        hub.publish("small", None, &"y".repeat(1000), None).unwrap();
        assert!(hub.retained_bytes() <= 5 * frame + 20);
        let mut s = hub.subscribe("small", &Cursor::After(0)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&mut s), [1, 2, 3]);
        let mut s = hub.subscribe("big", &Cursor::After(0)).unwrap();
        assert_eq!(s.reset.as_ref().unwrap().reason, "expired");
        assert_eq!(ids(&mut s), [9, 10]);
    }

    #[test]
    fn subscribing_holds_nothing_and_topics_count_history_only() {
        let hub = Hub::new(limits(10, 1 << 20, 1 << 20), None);
        let subs: Vec<_> = (0..100)
            .map(|i| hub.subscribe(&format!("s{i}"), &Cursor::Live).unwrap())
            .collect();
        assert_eq!(hub.topic_counts(), (0, 100));
        drop(subs);
        assert_eq!(hub.topic_counts(), (0, 0));
        for i in 0..4 {
            hub.publish(&format!("p{i}"), None, "x", None).unwrap();
        }
        assert!(matches!(
            hub.publish("p4", None, "x", None),
            Err(PublishError::TooManyTopics)
        ));
        // Refused publishes to new names leave no topic behind.
        for i in 0..10 {
            assert!(hub
                .publish(&format!("x{i}"), None, "x", Some(u64::MAX))
                .is_err());
            assert!(hub.publish(&format!("y{i}"), None, "x", None).is_err());
        }
        assert_eq!(hub.topic_counts(), (4, 4));
        // A subscriber to a fifth topic is still served (it holds no event).
        let s = hub.subscribe("p4", &Cursor::Live).unwrap();
        assert_eq!(hub.topic_counts(), (4, 5));
        drop(s);
        assert_eq!(hub.topic_counts(), (4, 4));
    }

    #[test]
    fn ahead_announces_full_batches_by_count_and_size() {
        let hub = Hub::new(limits(100, 1 << 20, 1 << 20), None);
        for _ in 0..9 {
            hub.publish("t", None, "x", None).unwrap();
        }
        let s = hub.subscribe("t", &Cursor::After(0)).unwrap();
        // Batches of 2: [1,2] [3,4] [5,6] [7,8] [9]: after the first, 4, 6 and 8.
        assert_eq!(s.feed.ahead(2, usize::MAX, 3), ["4", "6", "8"]);
        assert_eq!(s.feed.ahead(3, usize::MAX, 3), ["6", "9"]);
        // Two frames per batch by size.
        let frame = wire::encode_event(Some("1"), None, "x").len();
        assert_eq!(s.feed.ahead(100, 2 * frame, 2), ["4", "6"]);
    }

    #[test]
    fn a_feed_that_falls_behind_overflows() {
        let hub = Hub::new(limits(100, 1 << 20, 1 << 20), None);
        let mut s = hub.subscribe("t", &Cursor::Live).unwrap();
        for _ in 0..8 {
            hub.publish("t", None, "x", None).unwrap();
        }
        assert_eq!(ids(&mut s).len(), 8);
        for _ in 0..9 {
            hub.publish("t", None, "x", None).unwrap();
        }
        assert!(matches!(s.feed.take(1, 1), Take::Overflow));
    }
}
