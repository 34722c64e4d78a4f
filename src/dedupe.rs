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

use std::collections::{HashSet, VecDeque};
use std::rc::Rc;

/// How many distinct delivered IDs are remembered by default.
pub(crate) const DEFAULT_WINDOW: usize = 1024;

/// Remembers recently delivered event IDs and recognises replays.
#[derive(Debug)]
pub(crate) struct Dedupe {
    window: usize,
    /// The remembered IDs, oldest first; shared with `seen` (one allocation per ID).
    order: VecDeque<Rc<str>>,
    seen: HashSet<Rc<str>>,
    /// The last-event-ID of the previous event on the current connection.
    connection_id: String,
}

impl Dedupe {
    /// A filter remembering up to `window` distinct IDs.
    pub(crate) fn new(window: usize) -> Self {
        Self {
            window: window.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
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
        if self.seen.contains(last_event_id) {
            return false;
        }
        if self.order.len() == self.window {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        let id: Rc<str> = Rc::from(last_event_id);
        self.order.push_back(Rc::clone(&id));
        self.seen.insert(id);
        true
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
}
