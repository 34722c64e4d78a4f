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

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// How many distinct delivered IDs are remembered by default.
pub(crate) const DEFAULT_WINDOW: usize = 1024;

/// The largest window (ring slots are numbered with `u32` in the index).
const MAX_WINDOW: usize = 1 << 24;

/// Remembers recently delivered event IDs and recognises replays.
///
/// This runs once per event on the delivery path, so it is built to cost little there: each
/// ID is hashed once with a short non-cryptographic hash (IDs come from the server the
/// client chose to talk to, so there is no hash flooding to defend against), the window is
/// a ring that keeps its `String`s and reuses their buffers once full (no allocation per
/// event after warm-up), and the index is a small open-addressing table of ring slots (a
/// general-purpose map, with its counts per hash, cost twice as much per event). A hash
/// match is confirmed against the stored ID itself, so a collision can never drop an event.
/// The commonest IDs, increasing decimal numbers, skip even that: a number above every ID
/// remembered cannot be a replay, so it goes into the ring without a lookup, and the index is
/// only brought up to date when a lookup is needed again (after a reconnect, say).
#[derive(Debug)]
pub(crate) struct Dedupe {
    window: usize,
    /// The remembered IDs with their hashes: up to `window` slots, reused oldest first.
    ring: Vec<(u64, String)>,
    /// The slot the next remembered ID goes into (the oldest one once the ring is full).
    next: usize,
    /// Linear-probing index of the ring: `slot + 1` at (or after) the position its hash
    /// picks, `0` where empty. At least four times as large as the window, so probes stay
    /// short; allocated with the first ID.
    index: Vec<u32>,
    /// The slot holding the last-event-ID of the previous event on the current connection
    /// (`None` at the start of a connection). A slot is only reused by recording a new ID,
    /// which moves this to the new one, so the slot it names always holds that ID.
    connection: Option<usize>,
    /// The largest ID recorded so far, while every ID recorded (since the filter was made)
    /// was a decimal number in canonical form (see [`canonical_number`]); `None` for good
    /// once another ID was recorded. A canonical number above it is a string no remembered
    /// ID can equal, so it is admitted without a lookup: the common stream of increasing
    /// numeric IDs skips the hash and the index.
    numeric_high: Option<u64>,
    /// The index is behind the ring: IDs admitted above `numeric_high` were recorded in the
    /// ring only. It is rebuilt from the ring before the next lookup.
    stale: bool,
    /// IDs admitted above `numeric_high` and indexed anyway since the index was last built:
    /// the index is only let go stale after `window` of them, so that rebuilding it (which
    /// costs `window` insertions) stays a constant cost per ID, however IDs alternate.
    indexed_above: usize,
}

impl Dedupe {
    /// A filter remembering up to `window` distinct IDs.
    pub(crate) fn new(window: usize) -> Self {
        Self {
            window: window.clamp(1, MAX_WINDOW),
            ring: Vec::new(),
            next: 0,
            index: Vec::new(),
            connection: None,
            numeric_high: Some(0),
            stale: false,
            indexed_above: 0,
        }
    }

    /// A new connection starts. Its parser starts with an empty last-event-ID, so the
    /// first event carrying an ID delivered before is a replay.
    pub(crate) fn on_connect(&mut self) {
        self.connection = None;
    }

    /// Whether an event with this last-event-ID should be delivered; records it if so.
    pub(crate) fn admit(&mut self, last_event_id: &str) -> bool {
        if last_event_id.is_empty() {
            // No ID: nothing to compare.
            return true;
        }
        if let Some((_, id)) = self.connection.and_then(|slot| self.ring.get(slot)) {
            if id == last_event_id {
                // The ID carried over from the previous event.
                return true;
            }
        }
        let number = canonical_number(last_event_id);
        match (self.numeric_high, number) {
            (Some(high), Some(n)) if n > high => {
                // New for certain (see `numeric_high`).
                self.numeric_high = Some(n);
                if !self.stale && self.indexed_above < self.window {
                    self.indexed_above += 1;
                    self.record(last_event_id, Some(hash_id(last_event_id)));
                } else {
                    self.stale = true;
                    self.record(last_event_id, None);
                }
            }
            (high, number) => {
                if self.stale {
                    self.reindex();
                }
                let hash = hash_id(last_event_id);
                if let Some(slot) = self.find(hash, last_event_id) {
                    self.connection = Some(slot);
                    return false;
                }
                self.numeric_high = high.zip(number).map(|(high, n)| high.max(n));
                self.record(last_event_id, Some(hash));
            }
        }
        true
    }

    /// Remembers `id` (not remembered yet) in the oldest slot, indexed under `hash`, or in
    /// the ring only (`None`: the index is stale).
    fn record(&mut self, id: &str, hash: Option<u64>) {
        let slot = self.next;
        self.next = if slot + 1 == self.window { 0 } else { slot + 1 };
        if let Some(entry) = self.ring.get_mut(slot) {
            // The ring is full: forget the oldest ID and reuse its buffer.
            let old = entry.0;
            entry.0 = hash.unwrap_or(0);
            id.clone_into(&mut entry.1);
            if hash.is_some() {
                self.unindex(old, slot);
            }
        } else {
            self.ring.push((hash.unwrap_or(0), id.to_owned()));
        }
        if let Some(hash) = hash {
            self.index_slot(hash, slot);
        }
        self.connection = Some(slot);
    }

    /// Rebuilds the index from the ring (hashing the IDs recorded without it).
    fn reindex(&mut self) {
        self.index.fill(0);
        for slot in 0..self.ring.len() {
            let Some(entry) = self.ring.get_mut(slot) else {
                break;
            };
            let hash = hash_id(&entry.1);
            entry.0 = hash;
            self.index_slot(hash, slot);
        }
        self.stale = false;
        self.indexed_above = 0;
    }

    /// `index.len() - 1` (the index size is a power of two).
    fn mask(&self) -> usize {
        self.index.len().wrapping_sub(1)
    }

    /// The slot remembering `id` (whose hash is `hash`), if any.
    fn find(&self, hash: u64, id: &str) -> Option<usize> {
        let mask = self.mask();
        let mut at = hash as usize & mask;
        loop {
            let slot = (*self.index.get(at)? as usize).checked_sub(1)?;
            if let Some((h, stored)) = self.ring.get(slot) {
                if *h == hash && stored == id {
                    return Some(slot);
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `slot`, whose ID hashes to `hash`, to the index.
    fn index_slot(&mut self, hash: u64, slot: usize) {
        if self.index.is_empty() {
            self.index = vec![0; (4 * self.window).next_power_of_two()];
        }
        let mask = self.mask();
        let mut at = hash as usize & mask;
        // The index is at least three quarters empty: a free place is always found.
        while let Some(entry) = self.index.get_mut(at) {
            if *entry == 0 {
                *entry = slot as u32 + 1;
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Removes `slot`, indexed under `hash` (the ring may already hold a new ID there),
    /// from the index, shifting the entries after it back so that no probe sequence breaks.
    fn unindex(&mut self, hash: u64, slot: usize) {
        let mask = self.mask();
        let mut hole = hash as usize & mask;
        loop {
            match self.index.get(hole) {
                Some(&entry) if entry as usize == slot + 1 => break,
                Some(0) | None => return,
                Some(_) => hole = (hole + 1) & mask,
            }
        }
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let entry = self.index.get(at).copied().unwrap_or(0);
            if entry == 0 {
                break;
            }
            let home = self
                .ring
                .get(entry as usize - 1)
                .map_or(at, |(h, _)| *h as usize & mask);
            // The entry may fill the hole if the hole lies on its probe path (between the
            // place its hash picks and where it sits, cyclically).
            if at.wrapping_sub(home) & mask >= at.wrapping_sub(hole) & mask {
                if let Some(place) = self.index.get_mut(hole) {
                    *place = entry;
                }
                hole = at;
            }
        }
        if let Some(place) = self.index.get_mut(hole) {
            *place = 0;
        }
    }
}

/// The value of `id` when it is a decimal number in canonical form: ASCII digits only, no
/// leading zero (but `"0"` itself), at most 19 digits (so it fits a `u64`). Two such IDs are
/// equal exactly when their values are.
fn canonical_number(id: &str) -> Option<u64> {
    let digits = id.as_bytes();
    if digits.is_empty() || digits.len() > 19 || (digits.len() > 1 && digits.first() == Some(&b'0'))
    {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let d = d.wrapping_sub(b'0');
        (d <= 9).then(|| n * 10 + u64::from(d))
    })
}

/// FNV-1a over the ID's bytes, then a final mix so that every bit of the result depends on
/// every byte (the index uses the low bits to pick a place).
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

    /// Files the ID in ring slot `slot` under `hash` instead of its own, as if they collided.
    fn rehash(d: &mut Dedupe, slot: usize, hash: u64) {
        let old = d.ring[slot].0;
        d.unindex(old, slot);
        d.ring[slot].0 = hash;
        d.index_slot(hash, slot);
    }

    #[test]
    fn a_hash_collision_never_drops_an_event() {
        let mut d = Dedupe::new(8);
        assert!(d.admit("a"));
        // Pretend "a" and "z" collide: store "a" under "z"'s hash.
        let (a, z) = (super::hash_id("a"), super::hash_id("z"));
        rehash(&mut d, 0, z);
        d.on_connect();
        // "z" matches a remembered hash but not the ID behind it: delivered.
        assert!(d.admit("z"));
        // "a" itself is still recognised once its hash is stored again.
        rehash(&mut d, 0, a);
        d.on_connect();
        assert!(!d.admit("a"));
        assert!(!d.admit("z"));
    }

    /// The filter as the module documentation states it, without the index.
    struct Model {
        window: usize,
        ids: alloc::collections::VecDeque<String>,
        connection_id: String,
    }

    impl Model {
        fn admit(&mut self, id: &str) -> bool {
            if id.is_empty() || id == self.connection_id {
                return true;
            }
            id.clone_into(&mut self.connection_id);
            if self.ids.iter().any(|seen| seen == id) {
                return false;
            }
            if self.ids.len() == self.window {
                self.ids.pop_front();
            }
            self.ids.push_back(id.to_owned());
            true
        }
    }

    /// Feeds a filter and the model the same 20,000 IDs, made by `next_id` from a xorshift
    /// sequence started at `seed`, with reconnects at random; they must agree throughout.
    fn agrees_with_the_model(window: usize, mut seed: u64, mut next_id: impl FnMut(u64) -> String) {
        let mut d = Dedupe::new(window);
        let mut model = Model {
            window,
            ids: Default::default(),
            connection_id: String::new(),
        };
        for step in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if seed % 97 == 0 {
                d.on_connect();
                model.connection_id.clear();
            }
            let id = next_id(seed);
            assert_eq!(
                d.admit(&id),
                model.admit(&id),
                "window {window}, step {step}, id {id:?}"
            );
        }
    }

    #[test]
    fn agrees_with_a_plain_window_through_evictions_and_reconnects() {
        // Few distinct IDs, small windows: IDs keep being forgotten and replayed, and many
        // share their first probe place, so removals shift entries back.
        for window in [1, 2, 3, 5, 8, 16] {
            agrees_with_the_model(
                window,
                0x9e37_79b9_7f4a_7c15 ^ window as u64,
                |seed| match seed % 41 {
                    0 => String::new(),
                    n => (n % 23).to_string(),
                },
            );
        }
    }

    #[test]
    fn canonical_numbers_are_recognised_exactly() {
        use super::canonical_number;
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("7", Some(7)),
            ("1234567890", Some(1_234_567_890)),
            // 19 digits is the most that always fits a u64
            ("9999999999999999999", Some(9_999_999_999_999_999_999)),
            ("10000000000000000000", None),
            // another spelling of a number is another ID: never on the fast path
            ("007", None),
            ("00", None),
            ("+7", None),
            ("-7", None),
            (" 7", None),
            ("7 ", None),
            ("1e3", None),
            ("7a", None),
            ("\u{663}", None), // ARABIC-INDIC DIGIT THREE
            ("", None),
        ];
        for (id, want) in cases {
            assert_eq!(canonical_number(id), *want, "{id:?}");
        }
    }

    #[test]
    fn increasing_numeric_ids_then_a_replay_are_recognised() {
        // Long enough for the index to go stale (more than `window` fast admissions).
        let mut d = Dedupe::new(8);
        for n in 1..=100 {
            assert!(d.admit(&n.to_string()), "{n}");
        }
        assert!(d.stale);
        // A reconnect whose server replays from 95: the remembered ones (93 to 100) are
        // dropped, the index being rebuilt from the ring first; the new ones pass.
        d.on_connect();
        let replay: Vec<bool> = (95..=102).map(|n| d.admit(&n.to_string())).collect();
        assert!(!d.stale);
        assert_eq!(
            replay,
            [false, false, false, false, false, false, true, true]
        );
        // 101 and 102 took the places of 93 and 94, which now pass again.
        assert!(d.admit("93"));
        // A non-numeric ID ends the fast path for good; numbers are looked up from then on.
        assert!(d.admit("x"));
        assert_eq!(d.numeric_high, None);
        assert!(d.admit("103"));
        assert!(!d.admit("102"));
    }

    #[test]
    fn numeric_ids_agree_with_a_plain_window() {
        // Mostly increasing numbers, with replays reaching back past the window, other
        // spellings of numbers, and (in half the runs) non-numeric IDs: the fast path, the
        // index going stale and being rebuilt, all against the model.
        for window in [1, 2, 3, 5, 8, 16, 64] {
            for with_text in [false, true] {
                let mut counter: u64 = 0;
                let seed = 0x2545_f491_4f6c_dd1d ^ window as u64 ^ u64::from(with_text);
                agrees_with_the_model(window, seed, |seed| match seed % 100 {
                    0..=69 => {
                        counter += 1 + seed % 3;
                        counter.to_string()
                    }
                    70..=89 => counter
                        .saturating_sub((seed >> 8) % (2 * window as u64 + 3))
                        .to_string(),
                    90..=93 => format!("0{}", (seed >> 8) % 50),
                    94..=96 if with_text => format!("x{}", (seed >> 8) % 40),
                    97 => String::new(),
                    _ => counter.to_string(),
                });
            }
        }
    }
}
