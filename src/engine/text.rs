//! Text helpers without the formatting machinery (which would link `core::fmt`'s number
//! and `Debug` code into the wasm): query parameters, quoted strings, decimal numbers.

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

// The helpers that build text write bytes and make the `String` once at the end: they only
// add ASCII to pieces of valid strings, so the check cannot fail, and `String::push(char)`
// would link UTF-8 encoding code for characters that are always ASCII here.

/// `url` with the query parameter `key` set to `value` (replacing any earlier `key`),
/// keeping the fragment in place. Pure string work, so it runs the same in browsers,
/// workers and Node, and for relative URLs.
pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    let (rest, fragment) = match split_once_ascii(url, b'#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (path, query) = split_once_ascii(rest, b'?').unwrap_or((rest, ""));
    let mut out = Vec::with_capacity(url.len() + key.len() + value.len() + 2);
    out.extend_from_slice(path.as_bytes());
    out.push(b'?');
    for pair in split_ascii(query, b'&').filter(|p| !p.is_empty()) {
        let name = split_ascii(pair, b'=').next().unwrap_or_default();
        if name != key {
            out.extend_from_slice(pair.as_bytes());
            out.push(b'&');
        }
    }
    percent_encode(key, &mut out);
    out.push(b'=');
    percent_encode(value, &mut out);
    if let Some(fragment) = fragment {
        out.push(b'#');
        out.extend_from_slice(fragment.as_bytes());
    }
    string(out)
}

/// `bytes` as a `String`: valid UTF-8 by construction (see above), so never the empty
/// fallback, which only keeps a panic path out of the wasm.
fn string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// `text` split at each `delimiter`, an ASCII byte: the pieces `str::split` gives with that
/// `char`. Byte by byte, because a `char` pattern decodes UTF-8 and links its searchers
/// into the wasm, and an ASCII byte never occurs inside a multi-byte character (so every
/// piece starts and ends on a character boundary).
pub(crate) fn split_ascii(text: &str, delimiter: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == delimiter) {
            Some(at) => {
                rest = current.get(at + 1..);
                current.get(..at)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// `text` split at its first `delimiter`, an ASCII byte, as `str::split_once` with that
/// `char` (see [`split_ascii`]). `get` rather than indexing: no char-boundary panic path
/// (and its formatting code) in the wasm.
pub(crate) fn split_once_ascii(text: &str, delimiter: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == delimiter)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` in double quotes, with `"`, `\\` and ASCII control characters escaped, for error
/// messages. Like `format!("{text:?}")` for the text these messages quote, but without the
/// formatting machinery and Unicode tables that `Debug` links into the wasm. Byte by byte:
/// what is escaped is ASCII, and the bytes of other characters are copied as they are.
pub(crate) fn quoted(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(text.len() + 2);
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
            b'\0' => out.extend_from_slice(b"\\0"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ if byte.is_ascii_control() => {
                out.extend_from_slice(b"\\u{");
                if byte >= 16 {
                    out.push(HEX[usize::from(byte >> 4)]);
                }
                out.extend_from_slice(&[HEX[usize::from(byte & 15)], b'}']);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
    string(out)
}

/// The whole milliseconds of `d`, saturating: `as_millis` without its `u128` arithmetic,
/// which links 128-bit multiplication and shift helpers into the wasm.
pub(crate) fn whole_millis(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(d.subsec_millis()))
}

/// `n` in decimal, without the formatting machinery.
pub(crate) fn decimal(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    string(digits)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte);
        } else {
            out.extend_from_slice(&[
                b'%',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decimal, quoted, split_ascii, split_once_ascii, whole_millis, with_query};
    use alloc::vec::Vec;
    use core::time::Duration;

    #[test]
    fn split_ascii_gives_the_pieces_of_str_split() {
        let texts = [
            "",
            ",",
            ",,",
            "a",
            "a,b",
            ",a,",
            "a,,b",
            "é,€",
            "😀,😀,",
            " a , b ",
            "no delimiter",
        ];
        for text in texts {
            let want: Vec<&str> = text.split(',').collect();
            assert_eq!(
                split_ascii(text, b',').collect::<Vec<_>>(),
                want,
                "{text:?}"
            );
            assert_eq!(
                split_once_ascii(text, b','),
                text.split_once(','),
                "{text:?}"
            );
        }
    }

    #[test]
    fn whole_millis_is_as_millis_and_saturates() {
        for nanos in [
            0,
            999_999,
            1_000_000,
            1_999_999_999,
            90_000_000_001,
            u64::MAX,
        ] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(u128::from(whole_millis(d)), d.as_millis(), "{d:?}");
        }
        assert_eq!(whole_millis(Duration::MAX), u64::MAX);
    }

    #[test]
    fn quoted_matches_debug_for_the_text_it_quotes() {
        for text in [
            "",
            "x-token",
            "bad name",
            "a\"b\\c",
            "tab\there",
            "new\nline",
            "é ü",
            "bell\u{7} unit\u{1f} delete\u{7f}",
        ] {
            assert_eq!(quoted(text), format!("{text:?}"));
        }
    }

    #[test]
    fn decimal_matches_display() {
        for n in [0, 7, 10, 99, 1000, 15000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn with_query_adds_replaces_and_keeps_the_fragment() {
        let cases = [
            // no query yet
            ("/events", "/events?lastEventId=7"),
            // appended after existing parameters
            ("/events?topic=a", "/events?topic=a&lastEventId=7"),
            // an earlier value is replaced, not duplicated
            (
                "/events?lastEventId=1&topic=a",
                "/events?topic=a&lastEventId=7",
            ),
            // the fragment stays last
            ("http://h/e?topic=a#x", "http://h/e?topic=a&lastEventId=7#x"),
            // a trailing `?` or `&` leaves no empty pair behind
            ("/e?", "/e?lastEventId=7"),
            ("/e?a=1&", "/e?a=1&lastEventId=7"),
        ];
        for (url, want) in cases {
            assert_eq!(with_query(url, "lastEventId", "7"), want, "{url}");
        }
    }

    #[test]
    fn with_query_percent_encodes_the_value() {
        assert_eq!(
            with_query("/e", "lastEventId", "a b&c=d/é"),
            "/e?lastEventId=a%20b%26c%3Dd%2F%C3%A9"
        );
    }
}
