//! The incremental (sans-IO) `text/event-stream` parser.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

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

impl core::error::Error for ParseError {}

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
    /// A spent buffer handed back through [`Parser::feed_recycling`] (empty, capacity 0
    /// when none): the next event's data buffer starts in it instead of a new allocation.
    spare: String,
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
            spare: String::new(),
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
        self.feed_recycling(chunk, |item| {
            on_item(item);
            None
        })
    }

    /// As [`Parser::feed`], but `on_item` may hand back a spent `String` (typically the data
    /// of an earlier event, taken with [`Event::into_data`], once its consumer is done with
    /// it) for the parser to build a later event in, instead of allocating a new buffer.
    ///
    /// This is only a hint that saves one allocation per event in a steady stream: the
    /// items reported are exactly those [`Parser::feed`] reports. The parser keeps at most
    /// one such buffer, clears it, and drops it instead when it is much larger than the
    /// latest event (so a single huge event is not kept alive by recycling).
    pub fn feed_recycling<F: FnMut(Item) -> Option<String>>(
        &mut self,
        chunk: &[u8],
        mut on_item: F,
    ) -> Result<(), ParseError> {
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
        // A line carried over from previous chunks is completed through the line buffer.
        if self.carry {
            let Some(pos) = memchr2(b'\n', b'\r', chunk) else {
                self.carry_rest(chunk, &mut too_large);
                return self.result(too_large);
            };
            let next = self.terminator_end(chunk, pos);
            self.carry = false;
            if !self.discarding {
                let mut line = mem::take(&mut self.line);
                line.extend_from_slice(chunk.get(..pos).unwrap_or_default());
                self.line_bytes(&line, &mut on_item, &mut too_large);
                line.clear();
                self.line = line;
            }
            // While discarding, a carried line is non-empty: nothing to do.
            start = next;
        }
        // The complete lines of the chunk end at or before its last terminator: validate
        // them as UTF-8 in one pass (every line that lies inside the valid window is then
        // parsed straight from the chunk as `&str`, without per-line validation).
        let body = chunk.get(start..).unwrap_or_default();
        let Some(last) = memchr::memrchr2(b'\n', b'\r', body) else {
            self.carry_rest(body, &mut too_large);
            return self.result(too_large);
        };
        let end = start + last + 1;
        // `text` is the valid window: it starts at the byte `text_start` of the chunk.
        let mut text_start = start;
        let mut text = valid_prefix(chunk.get(start..end).unwrap_or_default());
        while start < end {
            let Some(found) = chunk.get(start..end).and_then(find_terminator) else {
                break;
            };
            let pos = start + found;
            let next = self.terminator_end(chunk, pos);
            if pos == start {
                self.blank_line(&mut on_item);
            } else if self.discarding {
                // Ignored up to the next blank line.
            } else if let Some(line) = text.get(start - text_start..pos - text_start) {
                self.line_str(line, line.len(), false, &mut on_item, &mut too_large);
            } else {
                // The line holds invalid UTF-8 (or follows it): decode it on its own, then
                // validate the rest of the chunk again from the next line on.
                self.line_bytes(
                    chunk.get(start..pos).unwrap_or_default(),
                    &mut on_item,
                    &mut too_large,
                );
                if next < end && next - text_start > text.len() {
                    text_start = next;
                    text = valid_prefix_after_error(chunk.get(next..end).unwrap_or_default());
                }
            }
            start = next;
        }
        self.carry_rest(chunk.get(start..).unwrap_or_default(), &mut too_large);
        self.result(too_large)
    }

    /// Where the line after the terminator at `pos` starts (after both bytes of a CRLF); a
    /// CR ending the chunk sets `pending_cr` (an LF starting the next chunk completes it).
    #[inline]
    fn terminator_end(&mut self, chunk: &[u8], pos: usize) -> usize {
        match chunk.get(pos..pos + 2) {
            Some(b"\r\n") => pos + 2,
            Some(_) => pos + 1,
            None => {
                self.pending_cr = chunk.get(pos) == Some(&b'\r');
                pos + 1
            }
        }
    }

    #[inline]
    fn result(&self, too_large: bool) -> Result<(), ParseError> {
        if too_large {
            Err(ParseError::EventTooLarge {
                limit: self.max_event_size,
            })
        } else {
            Ok(())
        }
    }

    /// Keeps the unterminated end of a chunk for the next one.
    #[inline]
    fn carry_rest(&mut self, rest: &[u8], too_large: &mut bool) {
        if rest.is_empty() {
            return;
        }
        self.carry = true;
        if !self.discarding {
            if self.over_limit(self.line.len().saturating_add(rest.len())) {
                self.start_discarding();
                *too_large = true;
            } else {
                self.line.extend_from_slice(rest);
            }
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

    /// A blank line: ends a dropped event, or dispatches the event.
    #[inline]
    fn blank_line<F: FnMut(Item) -> Option<String>>(&mut self, on_item: &mut F) {
        if self.discarding {
            // The blank line ends the dropped event.
            self.discarding = false;
            self.commit_id();
        } else {
            self.dispatch(on_item);
        }
    }

    /// Processes one complete line (terminator excluded) given as bytes: decodes it, then
    /// goes on as [`Parser::line_str`]. Line terminators, `:` and the space are ASCII, and
    /// replacement never absorbs an ASCII byte, so decoding the whole line equals decoding
    /// its name and value separately.
    fn line_bytes<F: FnMut(Item) -> Option<String>>(
        &mut self,
        line: &[u8],
        on_item: &mut F,
        too_large: &mut bool,
    ) {
        if line.is_empty() {
            self.blank_line(on_item);
            return;
        }
        if self.discarding {
            return;
        }
        match core::str::from_utf8(line) {
            Ok(text) => self.line_str(text, line.len(), false, on_item, too_large),
            Err(_) => {
                let text = String::from_utf8_lossy(line);
                self.line_str(&text, line.len(), true, on_item, too_large);
            }
        }
    }

    /// Processes one complete, non-blank line (terminator excluded), not discarding.
    /// `raw_len` is the line's length on the wire; `lossy` says whether it was decoded with
    /// replacements (the decoded buffers are then checked against the limit too).
    #[inline]
    fn line_str<F: FnMut(Item) -> Option<String>>(
        &mut self,
        line: &str,
        raw_len: usize,
        lossy: bool,
        on_item: &mut F,
        too_large: &mut bool,
    ) {
        if self.over_limit(raw_len) {
            self.start_discarding();
            *too_large = true;
            return;
        }
        let bytes = line.as_bytes();
        // The common fields first, by their first bytes, without searching for the colon.
        let (field, value) = match bytes {
            [b'd', b'a', b't', b'a', b':', ..] => (Field::Data, strip_space(line.get(5..))),
            [b'i', b'd', b':', ..] => (Field::Id, strip_space(line.get(3..))),
            [b'e', b'v', b'e', b'n', b't', b':', ..] => (Field::Event, strip_space(line.get(6..))),
            _ => match self.other_line(line, on_item) {
                Some(found) => found,
                None => return,
            },
        };
        match field {
            Field::Data => {
                if self.data.capacity() == 0 {
                    let size = self.size_hint.max(value.len() + 1);
                    if self.spare.capacity() == 0 {
                        // A plain allocation, not the growth path of `reserve_exact`.
                        self.data = String::with_capacity(size);
                    } else {
                        // The recycled buffer.
                        self.data = mem::take(&mut self.spare);
                        self.data.reserve_exact(size);
                    }
                }
                self.data.push_str(value);
                self.data.push('\n');
                if lossy {
                    self.check_decoded_size(too_large);
                }
            }
            Field::Event => {
                self.event_type.clear();
                self.event_type.push_str(value);
                if lossy {
                    self.check_decoded_size(too_large);
                }
            }
            Field::Id => {
                // An id containing NULL is ignored entirely. The `memchr` crate's search, which
                // the parser already uses for `:`, rather than a second one from `core`.
                if memchr::memchr(0, value.as_bytes()).is_none() {
                    self.id.clear();
                    self.id.push_str(value);
                    self.id_dirty = true;
                }
            }
        }
    }

    /// The lines [`Parser::line_str`] does not recognise by their first bytes: comments and
    /// `retry` fields are handled here; a `data`, `event` or `id` field written without a
    /// colon, or with a space before it, is returned. Kept out of line, away from the
    /// common fields' path.
    #[inline(never)]
    fn other_line<'l, F: FnMut(Item) -> Option<String>>(
        &mut self,
        line: &'l str,
        on_item: &mut F,
    ) -> Option<(Field, &'l str)> {
        let bytes = line.as_bytes();
        if let Some(comment) = line.strip_prefix(':') {
            self.emit(
                on_item,
                Item::Comment(strip_space(Some(comment)).to_owned()),
            );
            return None;
        }
        let (name, value) = match memchr::memchr(b':', bytes) {
            Some(colon) => (
                bytes.get(..colon).unwrap_or_default(),
                strip_space(line.get(colon + 1..)),
            ),
            None => (bytes, ""),
        };
        match name {
            b"data" => Some((Field::Data, value)),
            b"event" => Some((Field::Event, value)),
            b"id" => Some((Field::Id, value)),
            b"retry" => {
                // Only a non-empty run of ASCII digits is a valid retry value.
                if !value.is_empty() && value.bytes().all(|d| d.is_ascii_digit()) {
                    let ms = value.bytes().fold(0u64, |n, d| {
                        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                    });
                    self.emit(on_item, Item::Retry(ms));
                }
                None
            }
            _ => None,
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
            // `id` is only read while dirty (it is cleared before every write), so its
            // old value can be left there.
            mem::swap(&mut self.last_event_id, &mut self.id);
        }
    }

    /// A blank line: dispatch the event, if any.
    #[inline]
    fn dispatch<F: FnMut(Item) -> Option<String>>(&mut self, on_item: &mut F) {
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
        self.emit(
            on_item,
            Item::Event(Event::from_parts(buf, data_end, type_end)),
        );
    }

    /// Reports `item`, keeping the buffer `on_item` may hand back (see
    /// [`Parser::feed_recycling`]).
    #[inline]
    fn emit<F: FnMut(Item) -> Option<String>>(&mut self, on_item: &mut F, item: Item) {
        if let Some(mut buf) = on_item(item) {
            // A buffer the next event of about the latest one's size would not shrink
            // again (see `dispatch`); anything larger is not worth keeping alive.
            if self.spare.capacity() == 0
                && buf.capacity() <= self.size_hint.saturating_mul(2).saturating_add(64)
            {
                buf.clear();
                self.spare = buf;
            }
        }
    }
}

/// The position of the first CR or LF in `hay`.
#[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
#[inline]
fn find_terminator(hay: &[u8]) -> Option<usize> {
    find_terminator_by_words(hay)
}

/// The position of the first CR or LF in `hay`, searched 8 bytes at a time.
///
/// On wasm32 without SIMD, memchr falls back to a word-at-a-time search with 4-byte words
/// (`usize`), while 64-bit integer operations are native in wasm: scanning the whole line
/// 8 bytes at a time is faster there, for short lines and long ones.
#[cfg(any(test, all(target_arch = "wasm32", not(target_feature = "simd128"))))]
#[inline]
fn find_terminator_by_words(hay: &[u8]) -> Option<usize> {
    let mut words = hay.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let found = terminator_bytes(u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|pos| at + pos)
}

/// The position of the first CR or LF in `hay`.
#[cfg(not(all(target_arch = "wasm32", not(target_feature = "simd128"))))]
#[inline]
fn find_terminator(hay: &[u8]) -> Option<usize> {
    // Blank lines, ids and event types end within a few bytes: scanning the first 16 bytes
    // a word at a time avoids the setup cost of the vectorised search, which takes over
    // for long lines (and at once for `data` lines, which are typically the long ones).
    let mut at = 0;
    if hay.first() != Some(&b'd') {
        while at < 16 {
            let Some(word) = hay
                .get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
            else {
                break;
            };
            let found = terminator_bytes(u64::from_le_bytes(word));
            if found != 0 {
                return Some(at + (found.trailing_zeros() / 8) as usize);
            }
            at += 8;
        }
    }
    memchr2(b'\n', b'\r', hay.get(at..)?).map(|pos| at + pos)
}

/// The high bit of each byte of `word` that is CR or LF (exact: no false positives).
#[inline]
fn terminator_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // A byte of `x` is zero iff neither its low 7 bits (adding 0x7f carries into the high
    // bit) nor its high bit are set; no carry crosses bytes.
    let zero = |x: u64| !(((x & LOW7) + LOW7) | x | LOW7);
    zero(word ^ 0x0a0a_0a0a_0a0a_0a0a) | zero(word ^ 0x0d0d_0d0d_0d0d_0d0d)
}

/// The fields the parser acts on.
#[derive(Clone, Copy)]
enum Field {
    Data,
    Event,
    Id,
}

/// The longest valid UTF-8 prefix of `bytes` (the whole of it, normally).
#[inline]
fn valid_prefix(bytes: &[u8]) -> &str {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => valid_prefix_after_error(bytes),
    }
}

/// The longest valid UTF-8 prefix of `bytes`, scanning no further than the first error
/// (then the prefix once more): called again after each invalid line, this stays linear.
#[cold]
fn valid_prefix_after_error(bytes: &[u8]) -> &str {
    let valid = match simdutf8::compat::from_utf8(bytes) {
        Ok(text) => return text,
        Err(e) => e.valid_up_to(),
    };
    core::str::from_utf8(bytes.get(..valid).unwrap_or_default()).unwrap_or_default()
}

/// Removes one leading space.
#[inline]
fn strip_space(value: Option<&str>) -> &str {
    let value = value.unwrap_or_default();
    value.strip_prefix(' ').unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wasm32 search (compiled natively here) agrees with memchr2 for every length and
    /// terminator position, with bytes on both sides of CR and LF around.
    #[test]
    fn find_terminator_by_words_matches_memchr2() {
        let filler = [b'a', 0x0b, 0x0c, 0x0e, 0x8a, 0x8d, 0xff, 0x00, b'\t'];
        for len in 0..40 {
            for fill in filler {
                let mut hay = vec![fill; len];
                assert_eq!(find_terminator_by_words(&hay), None);
                for pos in 0..len {
                    for terminator in [b'\n', b'\r'] {
                        hay.fill(fill);
                        hay[pos] = terminator;
                        if pos + 1 < len {
                            hay[len - 1] = b'\n';
                        }
                        assert_eq!(
                            find_terminator_by_words(&hay),
                            memchr2(b'\n', b'\r', &hay),
                            "{hay:?}"
                        );
                    }
                }
            }
        }
    }
}
