//! The names `npm/index.d.ts` and `npm/client.js` write out are exactly the ones the Rust
//! crate defines (`src/vocabulary.rs`) and the bindings send: the failure, stop and error
//! kinds, the transports, the lifecycle changes. A name missing on either side, or one too
//! many, fails with the names.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::Path;

use wasm_sse::reconnect::{Failure, StopReason};
use wasm_sse::{CloseReason, Error, Lifecycle, ShareRole, TransportKind};

/// Error types that `npm/client.js` raises itself: a listener's data that is not JSON, the
/// `too-large` lifecycle change as an error, and a panic of the wasm.
const JS_ONLY: &[&str] = &["decode", "event-too-large", "panic"];

/// The `transport` option's value for the client's own choice (no `TransportKind`).
const AUTO: &str = "auto";

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../npm")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The text from `start` up to the first `end` after it.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"));
    let rest = &text[from..];
    let to = rest
        .find(end)
        .unwrap_or_else(|| panic!("no {end:?} after {start:?}"));
    &rest[..to]
}

/// Every string between `open` and the next `close`.
fn delimited(text: &str, open: &str, close: char) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        rest = &rest[at + open.len()..];
        let Some(end) = rest.find(close) else { break };
        found.insert(rest[..end].to_owned());
        rest = &rest[end + 1..];
    }
    found
}

/// Every single-quoted string in `text`.
fn quoted(text: &str) -> BTreeSet<String> {
    delimited(text, "'", '\'')
}

fn names<'a>(lists: impl IntoIterator<Item = &'a [&'a str]>) -> BTreeSet<String> {
    lists
        .into_iter()
        .flatten()
        .map(|name| (*name).to_owned())
        .collect()
}

fn transports() -> BTreeSet<String> {
    TransportKind::ALL
        .iter()
        .map(|kind| kind.as_str().to_owned())
        .collect()
}

/// Every error type an `SseError` can carry.
fn error_types() -> BTreeSet<String> {
    names([Failure::KINDS, StopReason::KINDS, Error::KINDS, JS_ONLY])
}

/// Differences between the names found in the JS and the Rust lists, in words.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn compare(&mut self, what: &str, found: &BTreeSet<String>, want: &BTreeSet<String>) {
        let missing: Vec<_> = want.difference(found).collect();
        let extra: Vec<_> = found.difference(want).collect();
        if !missing.is_empty() {
            self.0.push(format!("{what}: missing {missing:?}"));
        }
        if !extra.is_empty() {
            self.0
                .push(format!("{what}: not in the Rust vocabulary {extra:?}"));
        }
    }

    fn check(self) {
        assert!(self.0.is_empty(), "\n{}", self.0.join("\n"));
    }
}

#[test]
fn index_d_ts_has_the_rust_names() {
    let dts = read("index.d.ts");
    let mut problems = Problems::default();

    let union = section(&dts, "export type SseErrorType =", ";");
    problems.compare("index.d.ts SseErrorType", &quoted(union), &error_types());

    // The list documenting each type, in the comment above the union.
    let before = &dts[..dts.find("export type SseErrorType").unwrap_or(0)];
    let comment = &before[before.rfind("/**").unwrap_or(0)..];
    let documented: BTreeSet<String> = comment
        .lines()
        .filter_map(|line| line.trim().strip_prefix("* - "))
        .flat_map(|bullet| delimited(bullet.split(':').next().unwrap_or(""), "`", '`'))
        .collect();
    problems.compare(
        "index.d.ts SseErrorType documentation",
        &documented,
        &error_types(),
    );

    let union = section(&dts, "export type ShareRole =", ";");
    problems.compare(
        "index.d.ts ShareRole",
        &quoted(union),
        &names([ShareRole::NAMES]),
    );

    let union = section(&dts, "export type Transport =", ";");
    problems.compare("index.d.ts Transport", &quoted(union), &transports());

    let option = section(&dts, "transport?:", ";");
    let mut with_auto = transports();
    with_auto.insert(AUTO.to_owned());
    let mut found = quoted(option);
    if option.contains("Transport") {
        found.extend(transports());
    }
    problems.compare("index.d.ts SseClientOptions.transport", &found, &with_auto);

    problems.check();
}

#[test]
fn client_js_has_the_rust_names() {
    let js = read("client.js");
    let mut problems = Problems::default();

    let mut with_auto = transports();
    with_auto.insert(AUTO.to_owned());
    let list = section(&js, "const TRANSPORTS = [", "];");
    problems.compare("client.js TRANSPORTS", &quoted(list), &with_auto);

    // The messages of connection losses, keyed by failure kind (`network: () => ...`).
    let failures = section(&js, "const FAILURES = {", "\n};");
    let keys: BTreeSet<String> = failures
        .lines()
        .skip(1)
        .filter_map(|line| {
            let line = line.trim();
            match line.strip_prefix('\'') {
                Some(rest) => rest.split('\'').next(),
                None => line.split(':').next(),
            }
        })
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
        .collect();
    problems.compare("client.js FAILURES", &keys, &names([Failure::KINDS]));

    let on_change = section(&js, "#onChange(change) {", "\n  }\n");
    problems.compare(
        "client.js #onChange cases",
        &delimited(on_change, "case '", '\''),
        &names([Lifecycle::NAMES]),
    );

    // The stop reasons a `closed` change names, besides failures and errors.
    let close_error = section(&js, "function closeError(", "\n}\n");
    let mut stops = delimited(close_error, "type === '", '\'');
    stops.retain(|name| !Error::KINDS.contains(&name.as_str()));
    problems.compare(
        "client.js closeError",
        &stops,
        &names([StopReason::KINDS, &[CloseReason::ENDED]]),
    );

    // Every type `client.js` raises itself is an error type, and it raises the JS-only ones.
    let raised = delimited(&js, "new SseError('", '\'');
    let types = error_types();
    let unknown: Vec<_> = raised.difference(&types).collect();
    if !unknown.is_empty() {
        problems.0.push(format!(
            "client.js: raises types not in the Rust vocabulary {unknown:?}"
        ));
    }
    let never: Vec<_> = JS_ONLY
        .iter()
        .filter(|name| !raised.contains(**name))
        .collect();
    if !never.is_empty() {
        problems
            .0
            .push(format!("client.js: never raises {never:?}"));
    }

    problems.check();
}
