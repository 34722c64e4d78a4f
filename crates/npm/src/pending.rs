//! The events delivered and not yet taken by JS: every string that crosses into JS is
//! decoded from UTF-8 anew, at a fixed cost that dwarfs an event's short strings, so a
//! chunk's events cross together and JS slices them apart.
//!
//! The data of events whose type has an `on()` handler (a JSON type) also cross as one JSON
//! array, which JS decodes with a single `JSON.parse`: one call per chunk instead of one per
//! event, the largest cost left on that path. Only data that is one JSON value by the
//! boundaries [`one_value`] checks goes in, so the array's elements are exactly the events'
//! data; the rest cross with the other strings and JS decodes them one by one (reporting
//! what does not decode).

#[cfg(target_arch = "wasm32")]
use alloc::{string::String, vec::Vec};

/// Set in an event's data length when its data is in [`Pending::json`].
pub(crate) const IN_JSON: u32 = 1 << 31;

/// A chunk's worth of events, as `npm/client.js` reads them.
#[derive(Default)]
pub(crate) struct Pending {
    /// Per event: its type when it differs from the previous event's, its last event ID,
    /// its data unless that is in `json`.
    pub(crate) text: String,
    /// Per event, in UTF-16 units (JS slices by them): the type's length (0 when it is the
    /// previous event's: a type is never empty), the ID's, the data's (with [`IN_JSON`] set
    /// when the data is in `json`).
    pub(crate) lengths: Vec<u32>,
    /// `[data,data,...` of the events of JSON types, in order (JS adds the closing `]`).
    pub(crate) json: String,
    /// The types with an `on()` handler.
    pub(crate) json_types: Vec<String>,
    /// The type of the last event added.
    last_type: String,
}

impl Pending {
    /// Adds an event; returns whether it is the first one waiting.
    pub(crate) fn push(&mut self, event_type: &str, id: &str, data: &str) -> bool {
        let first = self.lengths.is_empty();
        let type_length = if event_type == self.last_type {
            0
        } else {
            self.last_type.clear();
            self.last_type.push_str(event_type);
            self.text.push_str(event_type);
            utf16_len(event_type)
        };
        self.text.push_str(id);
        let mut data_length = utf16_len(data);
        if self.json_types.iter().any(|t| t == event_type) && one_value(data) {
            self.json
                .push_str(if self.json.is_empty() { "[" } else { "," });
            self.json.push_str(data);
            data_length |= IN_JSON;
        } else {
            self.text.push_str(data);
        }
        self.lengths
            .extend([type_length, utf16_len(id), data_length]);
        first
    }

    /// Forgets the events taken.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.lengths.clear();
        self.json.clear();
    }
}

/// Whether `data` can stand as one element of a JSON array without touching its
/// neighbours: not blank, brackets never closing more than opened and all closed, no comma
/// outside brackets and strings, no string left open. Whether it is valid JSON is
/// `JSON.parse`'s to say; what this guarantees is that the array's commas and brackets are
/// the ones placed between the data, so when the array decodes, each element is the value
/// of exactly one event's data.
pub(crate) fn one_value(data: &str) -> bool {
    let mut depth = 0u32;
    let mut in_string = false;
    let mut escaped = false;
    let mut blank = true;
    for &b in data.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth == 0 => return false,
            b']' | b'}' => depth -= 1,
            b',' if depth == 0 => return false,
            _ => {}
        }
        blank = false;
    }
    !blank && depth == 0 && !in_string
}

/// The length of `s` in UTF-16 code units, the unit of JS string indices.
pub(crate) fn utf16_len(s: &str) -> u32 {
    let units = if s.is_ascii() {
        s.len()
    } else {
        // Counted from the UTF-8 bytes without decoding (less code than `encode_utf16`):
        // a character's first byte counts one unit, or two when it starts a four-byte
        // character (outside the BMP: a surrogate pair); continuation bytes count none.
        s.bytes()
            .map(|b| match b {
                0x80..=0xBF => 0,
                0xF0..=0xFF => 2,
                _ => 1,
            })
            .sum()
    };
    units as u32
}

// Native: the wasm build has no `std` for the test harness's macros.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{one_value, utf16_len, Pending, IN_JSON};

    /// Each row: the data, whether it may join the array, and the rule it shows.
    const ONE_VALUE: &[(&str, bool, &str)] = &[
        (
            r#"{"n":1,"s":"a"}"#,
            true,
            "an object: its commas are inside braces",
        ),
        ("[1,2]", true, "an array: its commas are inside brackets"),
        ("42", true, "a number"),
        (r#""a,b""#, true, "a comma inside a string"),
        (
            r#""a\"],[""#,
            true,
            "an escaped quote does not end the string",
        ),
        (
            r#""\\""#,
            true,
            "an escaped backslash does not escape the quote after it",
        ),
        ("  true \r\n", true, "whitespace around a value"),
        (
            "{]",
            true,
            "mismatched kinds balance: JSON.parse refuses the array",
        ),
        (
            "1,2",
            false,
            "a comma outside brackets would make two elements",
        ),
        ("1],[2", false, "a bracket closing more than opened"),
        (
            "[1",
            false,
            "a bracket left open would swallow the next event's data",
        ),
        (
            r#""open"#,
            false,
            "a string left open would swallow the next event's data",
        ),
        ("", false, "blank: an empty element"),
        (" \t\n", false, "blank: whitespace only"),
    ];

    #[test]
    fn one_value_rules() {
        for &(data, expected, rule) in ONE_VALUE {
            assert_eq!(one_value(data), expected, "{rule}: {data:?}");
        }
    }

    #[test]
    fn json_types_cross_as_one_array_and_the_rest_as_text() {
        let mut p = Pending {
            json_types: vec!["tick".into()],
            ..Pending::default()
        };
        assert!(p.push("tick", "1", r#"{"n":1}"#));
        assert!(!p.push("tick", "2", "not, json"));
        assert!(!p.push("note", "3", "[2]"));
        assert!(!p.push("tick", "4", "[3]"));
        assert_eq!(p.json, r#"[{"n":1},[3]"#);
        assert_eq!(
            p.text,
            "tick1".to_owned() + "2not, json" + "note3[2]" + "tick4"
        );
        assert_eq!(
            p.lengths,
            [4, 1, 7 | IN_JSON, 0, 1, 9, 4, 1, 3, 4, 1, 3 | IN_JSON]
        );
        p.clear();
        assert!(p.push("tick", "5", "5"));
        assert_eq!((p.json.as_str(), p.text.as_str()), ("[5", "5"));
    }

    #[test]
    fn utf16_lengths() {
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é€"), 2);
        assert_eq!(utf16_len("😀a"), 3);
    }
}
