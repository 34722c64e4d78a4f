//! Replay files: a recorded `text/event-stream` with optional per-block delays.
//!
//! The file is sent verbatim, block by block (a block ends with a blank line), except for
//! delay directives: a comment line `:delay=MS` (or `: delay=MS`) is not sent and makes the
//! server wait `MS` milliseconds before sending the block it belongs to.

use std::time::Duration;

use bytes::Bytes;

/// One block of a replay file.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// The bytes to send (delay directives removed).
    pub(crate) bytes: Bytes,
    /// Wait this long before sending.
    pub(crate) delay: Duration,
    /// The value of the block's last `id:` field, used to resume after `Last-Event-ID`.
    pub(crate) id: Option<String>,
    /// Has at least one field other than comments (counts for `closeAfter`).
    pub(crate) is_event: bool,
}

/// Splits `input` into lines, each keeping its terminator (`\r\n`, `\n` or `\r`).
fn lines(input: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\n' => {
                out.push(&input[start..=i]);
                start = i + 1;
            }
            b'\r' => {
                let end = if input.get(i + 1) == Some(&b'\n') {
                    i + 1
                } else {
                    i
                };
                out.push(&input[start..=end]);
                i = end;
                start = end + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < input.len() {
        out.push(&input[start..]);
    }
    out
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\r' | b'\n'] = l {
        l = rest;
    }
    l
}

/// Parses a replay file.
pub(crate) fn parse(input: &[u8]) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut cur = Vec::new();
    let mut delay = Duration::ZERO;
    let mut id = None;
    let mut is_event = false;
    for (n, line) in lines(input).into_iter().enumerate() {
        let text = trim_eol(line);
        let directive = text
            .strip_prefix(b":delay=")
            .or_else(|| text.strip_prefix(b": delay="));
        if let Some(ms) = directive {
            let ms: u64 = std::str::from_utf8(ms)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| format!("line {}: bad delay directive", n + 1))?;
            delay += Duration::from_millis(ms);
            continue;
        }
        cur.extend_from_slice(line);
        if text.is_empty() {
            blocks.push(Block {
                bytes: Bytes::from(std::mem::take(&mut cur)),
                delay: std::mem::take(&mut delay),
                id: id.take(),
                is_event: std::mem::take(&mut is_event),
            });
            continue;
        }
        if !text.starts_with(b":") {
            is_event = true;
        }
        if let Some(v) = text.strip_prefix(b"id:") {
            let v = v.strip_prefix(b" ").unwrap_or(v);
            id = Some(String::from_utf8_lossy(v).into_owned());
        } else if text == b"id" {
            id = Some(String::new());
        }
    }
    if !cur.is_empty() || !delay.is_zero() {
        blocks.push(Block {
            bytes: Bytes::from(cur),
            delay,
            id,
            is_event,
        });
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blocks_delays_ids() {
        let b = parse(
            b": hello\n\n:delay=50\nid: 1\ndata: a\r\n\r\n: delay=20\nid: 2\ndata: b\n\ndata: tail",
        )
        .unwrap();
        assert_eq!(b.len(), 4);
        assert_eq!(&b[0].bytes[..], b": hello\n\n");
        assert!(!b[0].is_event);
        assert_eq!(&b[1].bytes[..], b"id: 1\ndata: a\r\n\r\n");
        assert_eq!(b[1].delay, Duration::from_millis(50));
        assert_eq!(b[1].id.as_deref(), Some("1"));
        assert_eq!(b[2].delay, Duration::from_millis(20));
        assert_eq!(&b[3].bytes[..], b"data: tail");
        assert!(parse(b":delay=x\n").is_err());
    }
}
