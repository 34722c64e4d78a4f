//! Structure-aware: generates a valid stream (events with a type, multi-line data, ids,
//! retry values, comments, unknown fields; every line ended by LF, CR or CRLF chosen per
//! line; an optional BOM; some blocks written by `EventBuilder`), cuts it into arbitrary
//! chunks (anywhere: inside a CRLF, the BOM or a multi-byte UTF-8 sequence) and checks
//! that the parser reports exactly the items generated, in order, and the same as a
//! one-shot parse and a byte-at-a-time parse.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wasm_sse_codec::{Event, EventBuilder, Item};

#[path = "../../tests/common/mod.rs"]
mod common;
use common::lines;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    Lf,
    Cr,
    CrLf,
}

impl Eol {
    fn bytes(self) -> &'static [u8] {
        match self {
            Eol::Lf => b"\n",
            Eol::Cr => b"\r",
            Eol::CrLf => b"\r\n",
        }
    }
}

/// One non-blank line of a block. Values are made valid before encoding (see `clean`).
#[derive(Arbitrary, Debug)]
enum Line {
    /// `:` + text (reported as a comment).
    Comment(String),
    /// `event:` (the last one in a block wins; empty means `message`).
    Event(String),
    /// `data:` (one line of the event's data).
    Data(String),
    /// `id:` (no NULL: it persists across events).
    Id(String),
    /// `id:` with a NULL somewhere: ignored entirely.
    IdWithNul(String, u8),
    /// `retry:` with the given number of leading zeros.
    Retry(u64, u8),
    /// A field name the standard does not know: ignored.
    Unknown(String, String),
}

/// How a line is written.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Form {
    /// `name: value`
    Space,
    /// `name:value` (`name: value` when the value starts with a space, which it would lose)
    NoSpace,
    /// `name` alone when the value is empty (a field without a colon), else as `Space`
    Bare,
}

#[derive(Arbitrary, Debug)]
enum Block {
    /// Hand-written lines, then a blank line.
    Lines(Vec<(Line, Form, Eol)>, Eol),
    /// Written by the crate's encoder (LF line ends; data and comments split on CR, LF and
    /// CRLF).
    Builder {
        comment: Option<String>,
        event_type: Option<String>,
        id: Option<String>,
        retry: Option<u64>,
        data: Option<String>,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    bom: bool,
    blocks: Vec<Block>,
    /// Lines after the last blank line: their event is never dispatched (end of stream).
    tail: Vec<(Line, Form, Eol)>,
    /// An unterminated last line: ignored.
    unterminated: Option<(Line, Form)>,
    /// Chunk boundaries, as positions modulo the stream length + 1.
    cuts: Vec<u16>,
}

/// Removes CR and LF (and NULL for ids), which a value cannot carry.
fn clean(s: &str, no_nul: bool) -> String {
    s.chars()
        .filter(|&c| c != '\r' && c != '\n' && !(no_nul && c == '\0'))
        .collect()
}

/// The reader's state, updated line by line: what the standard says the parser must do
/// with each generated line.
#[derive(Default)]
struct Model {
    data: Option<String>,
    event_type: String,
    id: String,
    items: Vec<Item>,
}

impl Model {
    fn blank_line(&mut self) {
        if let Some(data) = self.data.take() {
            let event_type = if self.event_type.is_empty() {
                "message"
            } else {
                &self.event_type
            };
            self.items
                .push(Item::Event(Event::new(event_type, &data, &self.id)));
        }
        self.event_type.clear();
    }

    fn data(&mut self, value: &str) {
        match &mut self.data {
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => self.data = Some(value.to_owned()),
        }
    }
}

/// The stream being written, remembering the last line end: a CR followed by a blank line
/// ended by LF would read as one CRLF, so that blank line is written with CRLF instead.
struct Writer {
    out: Vec<u8>,
    last_cr: bool,
}

impl Writer {
    fn line(&mut self, name: &str, value: &str, form: Form, eol: Eol) {
        self.out.extend_from_slice(name.as_bytes());
        match form {
            Form::Bare if value.is_empty() => {}
            Form::NoSpace if !value.starts_with(' ') => {
                self.out.push(b':');
                self.out.extend_from_slice(value.as_bytes());
            }
            _ => {
                self.out.extend_from_slice(b": ");
                self.out.extend_from_slice(value.as_bytes());
            }
        }
        self.eol(eol);
    }

    fn blank(&mut self, eol: Eol) {
        let eol = if self.last_cr && eol == Eol::Lf {
            Eol::CrLf
        } else {
            eol
        };
        self.eol(eol);
    }

    fn eol(&mut self, eol: Eol) {
        self.out.extend_from_slice(eol.bytes());
        self.last_cr = eol == Eol::Cr;
    }

    /// Writes one line and applies it to the model.
    fn field(&mut self, model: &mut Model, line: &Line, form: Form, eol: Eol) {
        match line {
            Line::Comment(text) => {
                let text = clean(text, false);
                // Comments are written with `:` as the name: `Bare` would drop the colon.
                let form = match form {
                    Form::Bare => Form::Space,
                    form => form,
                };
                self.line("", &text, form, eol);
                // `:` + text; `Space` writes `: ` + text: either way one space is removed.
                model.items.push(Item::Comment(text));
            }
            Line::Event(t) => {
                let t = clean(t, false);
                self.line("event", &t, form, eol);
                model.event_type = t;
            }
            Line::Data(d) => {
                let d = clean(d, false);
                self.line("data", &d, form, eol);
                model.data(&d);
            }
            Line::Id(id) => {
                let id = clean(id, true);
                self.line("id", &id, form, eol);
                model.id = id;
            }
            Line::IdWithNul(id, at) => {
                let mut id = clean(id, false);
                let mut at = usize::from(*at) % (id.len() + 1);
                while !id.is_char_boundary(at) {
                    at -= 1;
                }
                id.insert(at, '\0');
                self.line("id", &id, form, eol);
            }
            Line::Retry(ms, zeros) => {
                let value = format!("{}{ms}", "0".repeat(usize::from(*zeros % 8)));
                self.line("retry", &value, form, eol);
                model.items.push(Item::Retry(*ms));
            }
            Line::Unknown(name, value) => {
                // A name that is not one of the four fields and has no colon (nor CR/LF).
                // `x` + a name without colon (nor CR/LF): not one of the four fields, and
                // never a BOM at the start of the stream.
                let name: String = clean(name, false).chars().filter(|&c| c != ':').collect();
                let name = format!("x{name}");
                self.line(&name, &clean(value, false), form, eol);
            }
        }
    }
}

/// Parses `chunks` as one stream with no size limit, which can never fail.
fn parse<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Item> {
    let (items, errors) = common::parse_chunks(chunks, usize::MAX);
    assert_eq!(errors, 0, "no limit, no error");
    items
}

fuzz_target!(|input: Input| {
    let mut w = Writer {
        out: Vec::new(),
        last_cr: false,
    };
    let mut model = Model::default();
    if input.bom {
        w.out.extend_from_slice("\u{FEFF}".as_bytes());
    }
    for block in &input.blocks {
        match block {
            Block::Lines(lines, end) => {
                for (line, form, eol) in lines {
                    w.field(&mut model, line, *form, *eol);
                }
                w.blank(*end);
                model.blank_line();
            }
            Block::Builder {
                comment,
                event_type,
                id,
                retry,
                data,
            } => {
                let mut builder = EventBuilder::new();
                let event_type = event_type.as_deref().map(|t| clean(t, false));
                let id = id.as_deref().map(|id| clean(id, true));
                if let Some(c) = comment {
                    builder = builder.comment(c);
                    model.items.extend(lines(c).into_iter().map(Item::Comment));
                }
                if let Some(t) = &event_type {
                    builder = builder.event(t);
                    model.event_type.clone_from(t);
                }
                if let Some(id) = &id {
                    builder = builder.id(id);
                    model.id.clone_from(id);
                }
                if let Some(ms) = retry {
                    builder = builder.retry(*ms);
                    model.items.push(Item::Retry(*ms));
                }
                if let Some(d) = data {
                    builder = builder.data(d);
                    for line in lines(d) {
                        model.data(&line);
                    }
                }
                builder.encode_into(&mut w.out).expect("valid parts");
                // The encoder ends its lines with LF. Its first line is blank only for an
                // empty builder, which follows a blank line (or the stream start): a
                // previous CR absorbing that LF changes nothing.
                w.last_cr = false;
                model.blank_line();
            }
        }
    }
    // The tail's event is never dispatched (no blank line), but its comments and retry
    // values count.
    for (line, form, eol) in &input.tail {
        w.field(&mut model, line, *form, *eol);
    }
    let expected = model.items;
    if let Some((line, form)) = &input.unterminated {
        let mut ignored = Model::default();
        w.field(&mut ignored, line, *form, Eol::Lf);
        w.out.pop(); // without its line end
    }
    let stream = w.out;

    let one_shot = parse([&stream[..]]);
    assert_eq!(one_shot, expected, "one shot vs generated");

    let mut points: Vec<usize> = input
        .cuts
        .iter()
        .map(|&c| usize::from(c) % (stream.len() + 1))
        .collect();
    points.sort_unstable();
    let mut chunks = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for p in points {
        chunks.push(&stream[start..p]);
        start = p;
    }
    chunks.push(&stream[start..]);
    assert_eq!(parse(chunks), one_shot, "chunked vs one shot");
    assert_eq!(
        parse(stream.chunks(1)),
        one_shot,
        "byte at a time vs one shot"
    );
});
