//! The `text/event-stream` encoder.

use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;

use crate::event::Event;

/// Why an [`EventBuilder`] cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// The id contains CR, LF (which would end the field early) or NULL (which makes
    /// receivers ignore the whole `id` field).
    InvalidId,
    /// The event type contains CR or LF.
    InvalidEventType,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidId => "an event id cannot contain CR, LF or NULL",
            Self::InvalidEventType => "an event type cannot contain CR or LF",
        })
    }
}

impl core::error::Error for EncodeError {}

/// Builds one `text/event-stream` block (an event, or just a comment, an id or a retry),
/// ended by a blank line, that [`Parser`](crate::Parser) and browsers read back exactly.
///
/// It borrows its parts and writes straight into your buffer: no intermediate allocation.
///
/// ```
/// use wasm_sse_codec::EventBuilder;
///
/// let mut out = Vec::new();
/// EventBuilder::new().event("tick").id("7").data("a\r\nb").encode_into(&mut out)?;
/// assert_eq!(out, b"event: tick\nid: 7\ndata: a\ndata: b\n\n");
/// # Ok::<(), wasm_sse_codec::EncodeError>(())
/// ```
///
/// Reading back gives the same event type (`"message"` when none or `""` was set), the same
/// data with each CRLF or lone CR turned into LF (the stream format has no other way to
/// carry line breaks), and the same id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EventBuilder<'a> {
    comment: Option<&'a str>,
    event_type: Option<&'a str>,
    id: Option<&'a str>,
    retry: Option<u64>,
    data: Option<&'a str>,
}

impl<'a> EventBuilder<'a> {
    /// An empty block (encodes to a lone blank line).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the event type (`event:` field). Must not contain CR or LF.
    pub fn event(mut self, event_type: &'a str) -> Self {
        self.event_type = Some(event_type);
        self
    }

    /// Sets the data. It is written as one `data:` line per line of `data`, split on every
    /// CRLF, LF and CR; an empty string still writes one (empty) `data:` line, so the block
    /// dispatches an event with empty data. Without `data` no event is dispatched.
    pub fn data(mut self, data: &'a str) -> Self {
        self.data = Some(data);
        self
    }

    /// Sets the event id (`id:` field); `""` resets the receiver's last event ID. Must not
    /// contain CR, LF or NULL.
    pub fn id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the reconnection time in milliseconds (`retry:` field).
    pub fn retry(mut self, ms: u64) -> Self {
        self.retry = Some(ms);
        self
    }

    /// Adds a comment (one `:` line per line of `text`), written first. Receivers ignore
    /// comments; servers send them as heartbeats.
    pub fn comment(mut self, text: &'a str) -> Self {
        self.comment = Some(text);
        self
    }

    /// Checks the parts without writing anything.
    pub fn validate(&self) -> Result<(), EncodeError> {
        if let Some(id) = self.id {
            if id.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
                return Err(EncodeError::InvalidId);
            }
        }
        if let Some(event_type) = self.event_type {
            if event_type.bytes().any(|b| matches!(b, b'\r' | b'\n')) {
                return Err(EncodeError::InvalidEventType);
            }
        }
        Ok(())
    }

    /// Appends the encoded block to `out`. On error nothing is written.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.validate()?;
        out.reserve(self.size_hint());
        self.write(|s| out.extend_from_slice(s.as_bytes()));
        Ok(())
    }

    /// Appends the encoded block to `out`. On error nothing is written.
    pub fn encode_into_string(&self, out: &mut String) -> Result<(), EncodeError> {
        self.validate()?;
        out.reserve(self.size_hint());
        self.write(|s| out.push_str(s));
        Ok(())
    }

    /// The encoded block as a new buffer.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    fn size_hint(&self) -> usize {
        let len = |s: Option<&str>| s.map_or(0, |s| s.len() + 8);
        len(self.comment)
            + len(self.event_type)
            + len(self.id)
            + self.retry.map_or(0, |_| 28)
            + self.data.map_or(0, |d| {
                d.len() + 7 + 6 * memchr::memchr2_iter(b'\n', b'\r', d.as_bytes()).count()
            })
            + 1
    }

    fn write(&self, mut push: impl FnMut(&str)) {
        let mut field = |name: &str, value: &str| {
            push(name);
            if !value.is_empty() {
                push(" ");
                push(value);
            }
            push("\n");
        };
        if let Some(comment) = self.comment {
            for_each_line(comment, |line| field(":", line));
        }
        if let Some(event_type) = self.event_type {
            field("event:", event_type);
        }
        if let Some(id) = self.id {
            field("id:", id);
        }
        if let Some(retry) = self.retry {
            let mut digits = [0u8; 20];
            field("retry:", format_u64(retry, &mut digits));
        }
        if let Some(data) = self.data {
            for_each_line(data, |line| field("data:", line));
        }
        push("\n");
    }
}

impl<'a> From<&'a Event> for EventBuilder<'a> {
    /// A builder that encodes `event` so that it reads back as an equal event: the type
    /// (omitted when `"message"`), the id (always written, as `id` persists) and the data.
    fn from(event: &'a Event) -> Self {
        let builder = Self::new().id(event.id()).data(event.data());
        match event.event_type() {
            "message" => builder,
            event_type => builder.event(event_type),
        }
    }
}

/// Calls `f` with each line of `text`, split on CRLF, LF and CR; `""` is one empty line and
/// a trailing terminator yields a trailing empty line.
fn for_each_line<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut after_cr = usize::MAX;
    for pos in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        if pos == after_cr && bytes[pos] == b'\n' {
            start = pos + 1;
            continue;
        }
        if bytes[pos] == b'\r' {
            after_cr = pos + 1;
        }
        // CR and LF are ASCII, so these are char boundaries.
        f(text.get(start..pos).unwrap_or_default());
        start = pos + 1;
    }
    if start <= text.len() {
        f(text.get(start..).unwrap_or_default());
    }
}

fn format_u64(mut n: u64, digits: &mut [u8; 20]) -> &str {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&digits[i..]).unwrap_or_default()
}
