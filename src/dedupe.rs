//! Exactly-once delivery across reconnects: pure logic, tested natively.
//!
//! After a reconnect the server replays what came after the `Last-Event-ID` it was sent.
//! A server that replays a little too much (an off-by-one, an id it could not place, a
//! browser and a client both resuming) would deliver some events twice; this filter drops
//! them. Event IDs are opaque strings, so it remembers the most recent distinct IDs it
//! delivered (a bounded window) instead of comparing numbers.
//!
//! The last-event-ID of an event persists until the next `id:` field, so several events in
//! a row can share it. Only an event that *changes* the connection's last-event-ID to an ID
//! delivered before is a replay; one that keeps it (an event without its own `id:` field)
//! is delivered.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// How many distinct delivered IDs are remembered by default.
pub(crate) const DEFAULT_WINDOW: usize = 1024;

/// Remembers recently delivered event IDs and recognises replays.
///
/// This runs once per event on the delivery path, so it is built to cost little there: each
/// ID is hashed once with a short non-cryptographic hash (IDs come from the server the
/// client chose to talk to, so there is no hash flooding to defend against), the window
/// keeps its `String`s and reuses their buffers once full (no allocation per event after
/// warm-up), and the set holds only the hashes. A hash match is confirmed against the
/// stored ID itself, so a collision can never drop an event.
#[derive(Debug)]
pub(crate) struct Dedupe {
    window: usize,
    /// The remembered IDs with their hashes, oldest first.
    order: VecDeque<(u64, String)>,
    /// How many remembered IDs have each hash (more than one only on a collision).
    hashes: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    /// The last-event-ID of the previous event on the current connection.
    connection_id: String,
}

impl Dedupe {
    /// A filter remembering up to `window` distinct IDs.
    pub(crate) fn new(window: usize) -> Self {
        Self {
            window: window.max(1),
            order: VecDeque::new(),
            hashes: HashMap::default(),
            connection_id: String::new(),
        }
    }

    /// A new connection starts. Its parser starts with an empty last-event-ID, so the
    /// first event carrying an ID delivered before is a replay.
    pub(crate) fn on_connect(&mut self) {
        self.connection_id.clear();
    }

    /// Whether an event with this last-event-ID should be delivered; records it if so.
    pub(crate) fn admit(&mut self, last_event_id: &str) -> bool {
        if last_event_id.is_empty() || last_event_id == self.connection_id {
            // No ID, or the ID carried over from the previous event: nothing to compare.
            return true;
        }
        last_event_id.clone_into(&mut self.connection_id);
        let hash = hash_id(last_event_id);
        if self.hashes.contains_key(&hash)
            && self
                .order
                .iter()
                .any(|(h, id)| *h == hash && id == last_event_id)
        {
            return false;
        }
        let mut slot = String::new();
        if self.order.len() == self.window {
            if let Some((old, id)) = self.order.pop_front() {
                if let Some(count) = self.hashes.get_mut(&old) {
                    *count -= 1;
                    if *count == 0 {
                        self.hashes.remove(&old);
                    }
                }
                slot = id;
            }
        }
        last_event_id.clone_into(&mut slot);
        self.order.push_back((hash, slot));
        *self.hashes.entry(hash).or_insert(0) += 1;
        true
    }
}

/// FNV-1a over the ID's bytes, then a final mix so that every bit of the result depends on
/// every byte (the map uses the low bits to pick a bucket and the high bits as a tag).
fn hash_id(id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in id.as_bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

/// The map's keys are hashes already: use them as they are.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the keys are `u64`); fold anything else in anyway.
        for &byte in bytes {
            self.0 = (self.0 << 8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::Dedupe;

    /// Runs `(resume id, event ids)` connections through one filter; returns what was delivered.
    fn run(window: usize, connections: &[(&str, &[&str])]) -> Vec<String> {
        let mut d = Dedupe::new(window);
        let mut out = Vec::new();
        for (_resume, ids) in connections {
            d.on_connect();
            for id in *ids {
                if d.admit(id) {
                    out.push((*id).to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn replays_are_dropped_and_new_events_pass() {
        type Connections<'a> = &'a [(&'a str, &'a [&'a str])];
        let cases: &[(&str, Connections<'_>, &[&str])] = &[
            // an exact resume: nothing replayed twice
            (
                "exact resume",
                &[("", &["1", "2"]), ("2", &["3"])],
                &["1", "2", "3"],
            ),
            // a server that replays from one too early: "2" is dropped
            (
                "overlap",
                &[("", &["1", "2"]), ("2", &["2", "3"])],
                &["1", "2", "3"],
            ),
            // a server that replays everything
            (
                "full replay",
                &[("", &["1", "2"]), ("2", &["1", "2", "3"])],
                &["1", "2", "3"],
            ),
            // events without their own id keep the previous id and are all delivered
            (
                "persisting id",
                &[("", &["1", "1", "1", "2"])],
                &["1", "1", "1", "2"],
            ),
            // events with no id at all cannot be compared and are delivered
            (
                "no ids",
                &[("", &["", ""]), ("", &["", ""])],
                &["", "", "", ""],
            ),
            // the resumed event itself, sent again, is a replay
            (
                "resend of the resume id",
                &[("", &["5"]), ("5", &["5", "6"])],
                &["5", "6"],
            ),
            // a new event without an id after a resume is delivered
            (
                "id-less after resume",
                &[("", &["5"]), ("5", &["", "6"])],
                &["5", "", "6"],
            ),
        ];
        for (name, connections, want) in cases {
            assert_eq!(run(16, connections), *want, "{name}");
        }
    }

    #[test]
    fn the_window_is_bounded() {
        let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        // With a window of 4, id "0" is forgotten after 4 newer ids and passes again.
        let out = run(4, &[("", &ids), ("9", &["0", "9"])]);
        assert_eq!(out.len(), 11);
        assert_eq!(out.last().map(String::as_str), Some("0"));
    }

    #[test]
    fn a_hash_collision_never_drops_an_event() {
        let mut d = Dedupe::new(8);
        assert!(d.admit("a"));
        // Pretend "a" and "z" collide: store "a" under "z"'s hash.
        let (a, z) = (super::hash_id("a"), super::hash_id("z"));
        d.order[0].0 = z;
        d.hashes.remove(&a);
        d.hashes.insert(z, 1);
        d.on_connect();
        // "z" matches a remembered hash but not the ID behind it: delivered.
        assert!(d.admit("z"));
        // "a" itself is still recognised once its hash is stored again.
        d.order[0].0 = a;
        d.hashes.insert(a, 1);
        d.on_connect();
        assert!(!d.admit("a"));
        assert!(!d.admit("z"));
    }
}
