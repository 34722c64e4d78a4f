//! The incremental (sans-IO) `text/event-stream` parser.

use core::fmt;
use core::mem;

use memchr::memchr2;

use crate::event::{Event, Item};

/// The UTF-8 byte order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The default [`Parser::max_event_size`]: 1 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 1 << 20;

/// A parse error. The parser stays usable after any of these (see each variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// An event (its data buffer, event type buffer and the line being read, in bytes, line
    /// terminators not counted) grew beyond the configured maximum. The event was dropped:
    /// the parser ignores every line up to and including the next blank line, then parses
    /// normally again. Memory stays bounded by the limit (plus the chunk being fed).
    EventTooLarge {
        /// The configured maximum event size in bytes.
        limit: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EventTooLarge { limit } => {
                write!(f, "event exceeds the maximum event size of {limit} bytes")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// An incremental, spec-exact `text/event-stream` parser.
///
/// It implements [Parsing an event stream] and [Interpreting an event stream] of the WHATWG
/// HTML Standard: feed it the response body in chunks of any size (splits may fall anywhere,
/// even inside a UTF-8 sequence, the BOM or a CRLF) and it reports, in stream order, every
/// dispatched [`Event`], every valid `retry` value and every comment as an [`Item`].
/// The result never depends on how the stream was chunked, and the work is linear in the
/// input: no byte is scanned twice, however a long line is split.
///
/// ```
/// use wasm_sse_codec::{Item, Parser};
///
/// let mut parser = Parser::new();
/// let mut items = Vec::new();
/// parser.feed(b"id: 7\nevent: tick\ndata: {\"n\":", |item| items.push(item))?;
/// assert!(items.is_empty()); // no blank line yet
/// parser.feed(b"7}\n\n: ping\n", |item| items.push(item))?;
/// let Item::Event(event) = &items[0] else { panic!() };
/// assert_eq!((event.event_type(), event.data(), event.id()), ("tick", "{\"n\":7}", "7"));
/// assert_eq!(items[1], Item::Comment("ping".to_owned()));
/// assert_eq!(parser.last_event_id(), "7");
/// # Ok::<(), wasm_sse_codec::ParseError>(())
/// ```
///
/// [Parsing an event stream]: https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream
/// [Interpreting an event stream]: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
#[derive(Debug, Clone)]
pub struct Parser {
    max_event_size: usize,
    /// The partial line carried over from previous chunks (terminator excluded). Always
    /// empty while discarding.
    line: Vec<u8>,
    /// Whether a non-empty partial line is carried over (also while discarding, when its
    /// bytes are not kept).
    carry: bool,
    /// The data buffer (each `data` value followed by LF). Values are decoded one line at a
    /// time: line terminators are ASCII, so no UTF-8 sequence spans two lines and decoding
    /// lines separately equals decoding the whole stream.
    data: String,
    /// The event type buffer.
    event_type: String,
    /// The last event ID buffer.
    id: String,
    /// Whether `id` may differ from `last_event_id`.
    id_dirty: bool,
    /// The last event ID string: `id` as of the last blank line.
    last_event_id: String,
    /// How many bytes of the BOM matched at stream start; 3 once the start is past.
    bom: u8,
    /// The previous chunk ended with CR: an LF starting the next chunk completes a CRLF.
    pending_cr: bool,
    /// An event exceeded the limit: ignore lines up to the next blank line.
    discarding: bool,
    /// Capacity to reserve for the next event's data (the size of the previous event).
    size_hint: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    /// A parser with the default maximum event size ([`DEFAULT_MAX_EVENT_SIZE`], 1 MiB).
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A parser that rejects events larger than `max_event_size` bytes with
    /// [`ParseError::EventTooLarge`]. The size of an event is the size of its data buffer
    /// (each `data` value plus one byte), plus its event type, plus the line being read;
    /// any single line longer than the limit is an error too. Pass `usize::MAX` for no limit.
    pub fn with_max_event_size(max_event_size: usize) -> Self {
        Self {
            max_event_size,
            line: Vec::new(),
            carry: false,
            data: String::new(),
            event_type: String::new(),
            id: String::new(),
            id_dirty: false,
            last_event_id: String::new(),
            bom: 0,
            pending_cr: false,
            discarding: false,
            size_hint: 0,
        }
    }

    /// The configured maximum event size in bytes.
    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// How many bytes the parser holds for the event being read: the pending line, the
    /// data buffer and the event type buffer. Between calls this never exceeds
    /// [`Parser::max_event_size`], whatever the input.
    pub fn buffered_len(&self) -> usize {
        self.line.len() + self.data.len() + self.event_type.len()
    }

    /// The last event ID string: the last-event-ID buffer as of the last blank line (the
    /// value a reconnecting client sends as `Last-Event-ID`). An `id` field whose block has
    /// not ended with a blank line yet does not count.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Parses the next chunk of the stream, calling `on_item` for each item it completes,
    /// in order.
    ///
    /// The whole chunk is always consumed; an incomplete trailing line is kept for the next
    /// call. If an event exceeded the maximum size somewhere in the chunk, that event is
    /// dropped, parsing goes on after its closing blank line, and the error is returned once
    /// the whole chunk has been parsed (items before and after it have been reported).
    pub fn feed<F: FnMut(Item)>(&mut self, chunk: &[u8], mut on_item: F) -> Result<(), ParseError> {
        let mut chunk = chunk;
        if self.bom < 3 {
            chunk = self.skip_bom(chunk);
        }
        if self.pending_cr {
            let Some((&first, rest)) = chunk.split_first() else {
                return Ok(());
            };
            self.pending_cr = false;
            if first == b'\n' {
                chunk = rest;
            }
        }
        let mut too_large = false;
        let mut start = 0;
        while let Some(found) = chunk
            .get(start..)
            .and_then(|rest| memchr2(b'\n', b'\r', rest))
        {
            let pos = start + found;
            let part = chunk.get(start..pos).unwrap_or_default();
            // The next line starts after the terminator (both bytes of a CRLF).
            let next = match chunk.get(pos..pos + 2) {
                Some(b"\r\n") => pos + 2,
                Some(_) => pos + 1,
                // A CR ending the chunk: an LF starting the next one completes the CRLF.
                None => {
                    self.pending_cr = chunk.get(pos) == Some(&b'\r');
                    pos + 1
                }
            };
            if self.carry {
                self.carry = false;
                if !self.discarding {
                    let mut line = mem::take(&mut self.line);
                    line.extend_from_slice(part);
                    self.line_complete(&line, &mut on_item, &mut too_large);
                    line.clear();
                    self.line = line;
                }
                // While discarding, a carried line is non-empty: nothing to do.
            } else {
                self.line_complete(part, &mut on_item, &mut too_large);
            }
            start = next;
        }
        let rest = chunk.get(start..).unwrap_or_default();
        if !rest.is_empty() {
            self.carry = true;
            if !self.discarding {
                if self.over_limit(self.line.len().saturating_add(rest.len())) {
                    self.start_discarding();
                    too_large = true;
                } else {
                    self.line.extend_from_slice(rest);
                }
            }
        }
        if too_large {
            Err(ParseError::EventTooLarge {
                limit: self.max_event_size,
            })
        } else {
            Ok(())
        }
    }

    /// Ends the stream: an incomplete event (and an incomplete last line) is discarded, not
    /// dispatched, as the standard requires.
    ///
    /// The parser is then ready for a new stream (a reconnection): a leading BOM is
    /// stripped again and the buffers are empty, except that [`Parser::last_event_id`] is
    /// kept and seeds the new stream's last-event-ID buffer, as browsers do across
    /// reconnections.
    pub fn finish(&mut self) {
        self.line.clear();
        self.carry = false;
        self.data.clear();
        self.event_type.clear();
        self.id.clone_from(&self.last_event_id);
        self.id_dirty = false;
        self.bom = 0;
        self.pending_cr = false;
        self.discarding = false;
    }

    /// Resets the parser to its initial state (the last event ID too), keeping the
    /// configured limit and its allocations.
    pub fn reset(&mut self) {
        self.finish();
        self.id.clear();
        self.last_event_id.clear();
        self.size_hint = 0;
    }

    fn skip_bom<'c>(&mut self, mut chunk: &'c [u8]) -> &'c [u8] {
        while let Some(&expected) = BOM.get(usize::from(self.bom)) {
            let Some((&byte, rest)) = chunk.split_first() else {
                return chunk;
            };
            if byte == expected {
                self.bom += 1;
                chunk = rest;
            } else {
                // Not a BOM after all: the bytes matched so far are ordinary line content.
                let matched = BOM.get(..usize::from(self.bom)).unwrap_or_default();
                if !matched.is_empty() {
                    self.line.extend_from_slice(matched);
                    self.carry = true;
                }
                self.bom = 3;
            }
        }
        chunk
    }

    #[inline]
    fn over_limit(&self, line_len: usize) -> bool {
        line_len
            .saturating_add(self.data.len())
            .saturating_add(self.event_type.len())
            > self.max_event_size
    }

    fn start_discarding(&mut self) {
        self.discarding = true;
        self.line = Vec::new();
        self.data = String::new();
        self.event_type = String::new();
    }

    /// Processes one complete line (terminator excluded).
    #[inline]
    fn line_complete<F: FnMut(Item)>(
        &mut self,
        line: &[u8],
        on_item: &mut F,
        too_large: &mut bool,
    ) {
        let Some(&first) = line.first() else {
            if self.discarding {
                // The blank line ends the dropped event.
                self.discarding = false;
                self.commit_id();
            } else {
                self.dispatch(on_item);
            }
            return;
        };
        if self.discarding {
            return;
        }
        if self.over_limit(line.len()) {
            self.start_discarding();
            *too_large = true;
            return;
        }
        if first == b':' {
            let mut text = String::new();
            push_decoded(&mut text, strip_space(&line[1..]));
            on_item(Item::Comment(text));
            return;
        }
        // The common fields first, without searching for the colon.
        let (name, value) = match line {
            [b'd', b'a', b't', b'a', b':', value @ ..] => (&b"data"[..], strip_space(value)),
            [b'i', b'd', b':', value @ ..] => (&b"id"[..], strip_space(value)),
            [b'e', b'v', b'e', b'n', b't', b':', value @ ..] => (&b"event"[..], strip_space(value)),
            _ => match memchr::memchr(b':', line) {
                Some(colon) => (&line[..colon], strip_space(&line[colon + 1..])),
                None => (line, &[][..]),
            },
        };
        match name {
            b"data" => {
                if self.data.capacity() == 0 {
                    self.data = String::with_capacity(self.size_hint.max(value.len() + 1));
                }
                push_decoded(&mut self.data, value);
                self.data.push('\n');
                self.check_decoded_size(too_large);
            }
            b"event" => {
                self.event_type.clear();
                push_decoded(&mut self.event_type, value);
                self.check_decoded_size(too_large);
            }
            // An id containing NULL is ignored entirely.
            b"id" if !value.contains(&0) => {
                self.id.clear();
                push_decoded(&mut self.id, value);
                self.id_dirty = true;
            }
            // Only a non-empty run of ASCII digits is a valid retry value.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |n, &d| {
                    n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                on_item(Item::Retry(ms));
            }
            _ => {}
        }
    }

    /// Replacement characters take 3 bytes for 1 invalid byte: keep the decoded buffers
    /// within the limit too.
    #[inline]
    fn check_decoded_size(&mut self, too_large: &mut bool) {
        if self.data.len() + self.event_type.len() > self.max_event_size {
            self.start_discarding();
            *too_large = true;
        }
    }

    #[inline]
    fn commit_id(&mut self) {
        if self.id_dirty {
            self.id_dirty = false;
            self.last_event_id.clone_from(&self.id);
        }
    }

    /// A blank line: dispatch the event, if any.
    #[inline]
    fn dispatch<F: FnMut(Item)>(&mut self, on_item: &mut F) {
        self.commit_id();
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        let mut buf = mem::take(&mut self.data);
        buf.pop(); // The LF after the last data value.
        let data_end = buf.len();
        let event_type = if self.event_type.is_empty() {
            "message"
        } else {
            &self.event_type
        };
        let type_end = data_end + event_type.len();
        let len = type_end + self.last_event_id.len();
        self.size_hint = len + 1;
        buf.reserve_exact(len - data_end);
        buf.push_str(event_type);
        buf.push_str(&self.last_event_id);
        self.event_type.clear();
        if buf.capacity() > 2 * len + 64 {
            buf.shrink_to_fit();
        }
        on_item(Item::Event(Event::from_parts(buf, data_end, type_end)));
    }
}

/// Appends `bytes` UTF-8 decoded with U+FFFD replacement (of maximal subparts, as the
/// WHATWG Encoding Standard requires).
#[inline]
fn push_decoded(dst: &mut String, bytes: &[u8]) {
    // The SIMD validator pays off on long values only.
    let valid = if bytes.len() < 64 {
        core::str::from_utf8(bytes).ok()
    } else {
        simdutf8::basic::from_utf8(bytes).ok()
    };
    match valid {
        Some(text) => dst.push_str(text),
        None => dst.push_str(&String::from_utf8_lossy(bytes)),
    }
}

#[inline]
fn strip_space(value: &[u8]) -> &[u8] {
    match value.split_first() {
        Some((b' ', rest)) => rest,
        _ => value,
    }
}
