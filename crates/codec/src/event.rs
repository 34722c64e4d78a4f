//! Parsed items: [`Event`] and [`Item`].

use alloc::string::String;

use core::fmt;

/// A dispatched event, as a browser's `EventSource` would deliver it as a `MessageEvent`.
///
/// The three strings live in one allocation (the parser builds an event with a single
/// allocation, which is what makes it fast); use the accessors to read them and
/// [`Event::into_data`] to take the data out without copying.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Event {
    /// `data ++ event_type ++ id`.
    buf: String,
    data_end: usize,
    type_end: usize,
}

// The methods are `#[inline]`: each is a few instructions, called once per event from other
// crates, which could not inline them otherwise (without LTO).
impl Event {
    /// Builds an event from its parts (handy in tests and for clients that synthesise events).
    ///
    /// `event_type` is stored as given; the parser never produces an empty type (it uses
    /// `"message"` instead), so pass `"message"` to compare with parsed events.
    pub fn new(event_type: &str, data: &str, id: &str) -> Self {
        let mut buf = String::with_capacity(data.len() + event_type.len() + id.len());
        buf.push_str(data);
        buf.push_str(event_type);
        buf.push_str(id);
        Self::from_parts(buf, data.len(), data.len() + event_type.len())
    }

    /// `buf` must be `data ++ event_type ++ id` with the two offsets on char boundaries.
    #[inline]
    pub(crate) fn from_parts(buf: String, data_end: usize, type_end: usize) -> Self {
        debug_assert!(data_end <= type_end && type_end <= buf.len());
        debug_assert!(buf.is_char_boundary(data_end) && buf.is_char_boundary(type_end));
        Self {
            buf,
            data_end,
            type_end,
        }
    }

    /// The event type: the last `event` field's value, or `"message"` when there was none
    /// (or it was empty).
    #[inline]
    pub fn event_type(&self) -> &str {
        self.buf
            .get(self.data_end..self.type_end)
            .unwrap_or_default()
    }

    /// The data: every `data` field's value joined with `"\n"`.
    #[inline]
    pub fn data(&self) -> &str {
        self.buf.get(..self.data_end).unwrap_or_default()
    }

    /// The last-event-ID buffer at dispatch (`""` when no `id` field was ever seen or the
    /// last one was empty). Like `MessageEvent.lastEventId`, it persists across events.
    #[inline]
    pub fn id(&self) -> &str {
        self.buf.get(self.type_end..).unwrap_or_default()
    }

    /// Takes the data out without copying (the allocation is reused).
    #[inline]
    pub fn into_data(self) -> String {
        let mut buf = self.buf;
        buf.truncate(self.data_end);
        buf
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type())
            .field("data", &self.data())
            .field("id", &self.id())
            .finish()
    }
}

/// One thing the parser found in the stream, in stream order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Item {
    /// A dispatched event (a blank line ended a block with at least one `data` field).
    Event(Event),
    /// A valid `retry` field: the new reconnection time in milliseconds. The value is a
    /// non-empty run of ASCII digits, kept in full (no 32-bit truncation); values beyond
    /// `u64::MAX` saturate to `u64::MAX`.
    Retry(u64),
    /// A comment line (starting with `:`): the text after the colon, with one leading
    /// space removed if present (the same rule as field values). Servers send these as
    /// heartbeats.
    Comment(String),
}
