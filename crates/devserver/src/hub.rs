//! Topics: per-topic id counter, bounded retention ring and broadcast fan-out.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::broadcast;

use crate::wire;

/// One published event, already encoded; cloning it is two reference-count bumps.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// The event id (per topic, strictly increasing).
    pub(crate) id: u64,
    /// The complete `text/event-stream` block, `id:` line included.
    pub(crate) frame: Bytes,
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
    /// Parses a `Last-Event-ID` value; an empty value means live.
    pub(crate) fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.is_empty() {
            Cursor::Live
        } else {
            value.parse().map_or(Cursor::Invalid, Cursor::After)
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

/// The result of subscribing with a cursor: what to replay, then the live receiver.
pub(crate) struct Subscription {
    pub(crate) reset: Option<Reset>,
    pub(crate) replay: Vec<Event>,
    pub(crate) live: broadcast::Receiver<Event>,
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
    /// Too many topics exist already.
    TooManyTopics,
    /// The server is shutting down.
    Closed,
    /// The state file of the topic could not be read or written (`--state-dir`).
    Storage(String),
}

struct TopicState {
    next_id: u64,
    ring: VecDeque<Event>,
    /// The newest id dropped from the ring (0: none yet). A cursor below it missed data.
    evicted: u64,
    /// The topic's state file (`--state-dir`), opened for appending.
    file: Option<std::fs::File>,
}

struct Topic {
    state: Mutex<TopicState>,
    tx: broadcast::Sender<Event>,
}

struct Topics {
    map: HashMap<String, Arc<Topic>>,
    closed: bool,
}

/// All topics of one server.
pub(crate) struct Hub {
    topics: Mutex<Topics>,
    retain: usize,
    client_queue: usize,
    max_topics: usize,
    /// Where each topic's events are appended, to be reloaded after a restart.
    state_dir: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Is `name` an acceptable topic name (1..=64 of `[A-Za-z0-9_.:-]`)?
pub(crate) fn valid_topic(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

impl Hub {
    pub(crate) fn new(retain: usize, client_queue: usize, max_topics: usize) -> Self {
        Hub {
            topics: Mutex::new(Topics {
                map: HashMap::new(),
                closed: false,
            }),
            retain: retain.max(1),
            client_queue: client_queue.max(1),
            max_topics: max_topics.max(1),
            state_dir: None,
        }
    }

    /// Persists every topic's events in `dir` (see [`state_file`]) and reloads them when a
    /// topic is first used, so ids stay monotonic and replay works across restarts.
    pub(crate) fn with_state_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.state_dir = dir;
        self
    }

    /// Drops every topic (their senders with them, so every live receiver sees `Closed`
    /// and its stream ends); no topic can be created afterwards.
    pub(crate) fn close(&self) {
        let mut topics = lock(&self.topics);
        topics.closed = true;
        topics.map.clear();
    }

    fn topic(&self, name: &str) -> Result<Arc<Topic>, PublishError> {
        let mut topics = lock(&self.topics);
        if topics.closed {
            return Err(PublishError::Closed);
        }
        if let Some(t) = topics.map.get(name) {
            return Ok(t.clone());
        }
        if topics.map.len() >= self.max_topics {
            return Err(PublishError::TooManyTopics);
        }
        let (tx, _) = broadcast::channel(self.client_queue);
        let state = match &self.state_dir {
            None => TopicState {
                next_id: 1,
                ring: VecDeque::new(),
                evicted: 0,
                file: None,
            },
            Some(dir) => load(&state_file(dir, name), self.retain)
                .map_err(|e| PublishError::Storage(format!("topic `{name}`: {e}")))?,
        };
        let topic = Arc::new(Topic {
            state: Mutex::new(state),
            tx,
        });
        topics.map.insert(name.to_owned(), topic.clone());
        Ok(topic)
    }

    /// Publishes one event; returns its id.
    pub(crate) fn publish(
        &self,
        topic: &str,
        event: Option<&str>,
        data: &str,
        id: Option<u64>,
    ) -> Result<u64, PublishError> {
        let topic = self.topic(topic)?;
        let mut st = lock(&topic.state);
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
        let ev = Event {
            id,
            frame: wire::encode_event(Some(&id.to_string()), event, data),
        };
        if let Some(file) = &mut st.file {
            // Appended before anyone sees the event: a publish that was answered survives a
            // restart (even a SIGKILL: the bytes are in the kernel's page cache).
            file.write_all(&ev.frame)
                .map_err(|e| PublishError::Storage(format!("cannot append: {e}")))?;
        }
        st.next_id = id + 1;
        if st.ring.len() >= self.retain {
            if let Some(old) = st.ring.pop_front() {
                st.evicted = old.id;
            }
        }
        st.ring.push_back(ev.clone());
        // No receivers is not an error: the event stays retained for replay.
        let _ = topic.tx.send(ev);
        Ok(id)
    }

    /// Subscribes to `topic`, atomically computing the replay for `cursor`.
    pub(crate) fn subscribe(
        &self,
        topic: &str,
        cursor: &Cursor,
    ) -> Result<Subscription, PublishError> {
        let topic = self.topic(topic)?;
        let st = lock(&topic.state);
        let live = topic.tx.subscribe();
        let latest = st.next_id - 1;
        let first_retained_id = st.ring.front().map(|e| e.id);
        let all = || st.ring.iter().cloned().collect::<Vec<_>>();
        let (reset, replay) = match cursor {
            Cursor::Live => (None, Vec::new()),
            Cursor::Invalid => (
                Some(Reset {
                    reason: "invalid-id",
                    last_event_id: String::new(),
                    first_retained_id,
                }),
                all(),
            ),
            Cursor::After(n) if *n > latest => (
                Some(Reset {
                    reason: "unknown-id",
                    last_event_id: n.to_string(),
                    first_retained_id,
                }),
                all(),
            ),
            Cursor::After(n) if *n < st.evicted => (
                Some(Reset {
                    reason: "expired",
                    last_event_id: n.to_string(),
                    first_retained_id,
                }),
                all(),
            ),
            Cursor::After(n) => {
                let skip = st.ring.partition_point(|e| e.id <= *n);
                (None, st.ring.iter().skip(skip).cloned().collect())
            }
        };
        Ok(Subscription {
            reset,
            replay,
            live,
            latest,
        })
    }

    /// Retained events with id greater than `after`, at most `max`.
    pub(crate) fn retained_after(&self, topic: &str, after: u64, max: usize) -> Vec<Event> {
        let Ok(topic) = self.topic(topic) else {
            return Vec::new();
        };
        let st = lock(&topic.state);
        let skip = st.ring.partition_point(|e| e.id <= after);
        st.ring.iter().skip(skip).take(max).cloned().collect()
    }
}

/// The state file of `topic` in `dir`: `t_<topic>.sse` (`:` written `%3A`), a
/// `text/event-stream` of every event published, in order.
pub(crate) fn state_file(dir: &Path, topic: &str) -> PathBuf {
    dir.join(format!("t_{}.sse", topic.replace(':', "%3A")))
}

/// Reads a topic's state file (a missing file is an empty topic) and opens it for appending.
///
/// A torn last block (the process died in the middle of a write) is cut off the file, so the
/// next append starts on a block boundary; the retention ring gets the newest `retain` events.
fn load(path: &Path, retain: usize) -> std::io::Result<TopicState> {
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
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
    let mut ring: VecDeque<Event> = VecDeque::new();
    let mut evicted = 0;
    let mut next_id = 1;
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
        if ring.len() >= retain {
            if let Some(old) = ring.pop_front() {
                evicted = old.id;
            }
        }
        next_id = id.saturating_add(1);
        ring.push_back(ev);
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
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    Ok(TopicState {
        next_id,
        ring,
        evicted,
        file: Some(file),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn replay_and_reset() {
        let hub = Hub::new(3, 8, 4);
        for i in 0..5 {
            hub.publish("t", None, &i.to_string(), None).unwrap();
        }
        let ids = |s: &Subscription| s.replay.iter().map(|e| e.id).collect::<Vec<_>>();
        let s = hub.subscribe("t", &Cursor::After(3)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&s), [4, 5]);
        let s = hub.subscribe("t", &Cursor::After(2)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&s), [3, 4, 5]);
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
        let s = hub.subscribe("t", &Cursor::After(7)).unwrap();
        assert!(s.reset.is_none());
        assert_eq!(ids(&s), [10, 11]);
    }
}
