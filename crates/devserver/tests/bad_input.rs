//! Bad input to the dev server, table-driven: each case asserts exactly what the user gets
//! (status and `{"error": ...}` body, or exit status and stderr for flags) and that nothing
//! else is lost: a witness stream opened before the bad request keeps its connection, and an
//! event published after the bad request reaches it next, with the next id (so a bad publish
//! published nothing). Rows already covered elsewhere are listed in the README table with
//! their test names; this file covers the rest.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use wasm_sse_devserver::{Config, ReplayFile};
use wasm_sse_test_support::run_to_exit;

const BIN: &str = env!("CARGO_BIN_EXE_sse-devserver");

/// A stream on topic `witness`, open before the bad input, and the id its next event must
/// carry.
struct Witness {
    conn: Conn,
    next: u64,
    /// Other streams the test keeps open on purpose.
    others: usize,
}

impl Witness {
    async fn open(s: &Server) -> Witness {
        let mut conn = s.open(&format!("/events?{TOPIC}=witness"), &[]).await;
        assert_eq!(conn.status, 200);
        assert_eq!(conn.items(2, T).await.len(), 2, "preamble");
        Witness {
            conn,
            next: 1,
            others: 0,
        }
    }

    /// Nothing was lost by `case`: the server still publishes (with the next id, so the bad
    /// request published nothing to `witness`), the open stream gets exactly that event next,
    /// and only the witness holds a connection slot.
    async fn check(&mut self, s: &Server, case: &str) {
        let body = serde_json::json!({ "data": format!("after {case}") }).to_string();
        let id = s.publish_ok("witness", &body).await;
        assert_eq!(id, self.next, "{case}: the witness topic's ids moved");
        let got = events(&self.conn.events(1, T).await);
        assert_eq!(
            got,
            [(id.to_string(), "message".into(), format!("after {case}"))],
            "{case}: the witness stream lost or gained events"
        );
        self.next += 1;
        // A closed client's slot is freed when the server notices the close, a moment
        // later: wait for it (bounded) rather than racing it.
        let want = serde_json::json!(1 + self.others);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let connections = s.get("/healthz", &[]).await.json()["connections"].clone();
            if connections == want || Instant::now() >= deadline {
                assert_eq!(connections, want, "{case}: a connection slot leaked");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Asserts `r` is `status` with exactly `{"error": message}`.
fn assert_error(r: &Response, status: u16, message: &str, case: &str) {
    assert_eq!(r.status, status, "{case}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{case}");
    assert_eq!(r.json(), serde_json::json!({ "error": message }), "{case}");
}

// ---------------------------------------------------------------- POST /publish

#[tokio::test]
async fn bad_publish_bodies_publish_nothing() {
    let s = start(Config {
        max_body_bytes: 1000,
        ..config()
    })
    .await;
    let mut w = Witness::open(&s).await;
    let id_msg = "`id` must be a non-negative integer (number or decimal string)";
    let deep = "[".repeat(200);
    let cases: &[(&str, &[u8], u16, &str)] = &[
        // Rule: the body must be JSON (serde_json's message, with position).
        (
            "empty body",
            b"",
            400,
            "bad JSON: EOF while parsing a value at line 1 column 0",
        ),
        (
            "truncated JSON",
            b"{\"data\":",
            400,
            "bad JSON: EOF while parsing a value at line 1 column 8",
        ),
        (
            "invalid UTF-8",
            b"\xff\xfe",
            400,
            "bad JSON: expected value at line 1 column 1",
        ),
        (
            "trailing garbage",
            b"{\"data\":\"x\"} x",
            400,
            "bad JSON: trailing characters at line 1 column 14",
        ),
        // Rule: nesting deeper than serde_json's recursion limit (128) is refused, not a crash.
        (
            "200-deep nesting",
            deep.as_bytes(),
            400,
            "bad JSON: recursion limit exceeded at line 1 column 128",
        ),
        // Rule: the body must be an object with `data` and only known fields.
        ("null", b"null", 400, "body must be a JSON object"),
        ("a string", b"\"x\"", 400, "body must be a JSON object"),
        ("no data", b"{\"event\":\"x\"}", 400, "`data` is required"),
        (
            "unknown field",
            b"{\"data\":\"x\",\"extra\":1}",
            400,
            "unknown field `extra`",
        ),
        // Rule: `event` is a string without line breaks (it becomes an `event:` line).
        (
            "event not a string",
            b"{\"data\":\"x\",\"event\":5}",
            400,
            "`event` must be a string without line breaks",
        ),
        (
            "event with CR",
            b"{\"data\":\"x\",\"event\":\"a\\rb\"}",
            400,
            "`event` must be a string without line breaks",
        ),
        // Rule: `id` is a non-negative integer, as a number or a string of digits.
        (
            "id empty string",
            b"{\"data\":\"x\",\"id\":\"\"}",
            400,
            id_msg,
        ),
        (
            "id with sign",
            b"{\"data\":\"x\",\"id\":\"+1\"}",
            400,
            id_msg,
        ),
        ("id exponent", b"{\"data\":\"x\",\"id\":1e3}", 400, id_msg),
        ("id boolean", b"{\"data\":\"x\",\"id\":true}", 400, id_msg),
        (
            "id over u64",
            b"{\"data\":\"x\",\"id\":\"18446744073709551616\"}",
            400,
            id_msg,
        ),
        // Rule: ids end at u64::MAX - 1, so an id is never assigned twice: u64::MAX itself is
        // refused, since the publish after it would have no greater id to assign.
        (
            "id u64::MAX",
            b"{\"data\":\"x\",\"id\":18446744073709551615}",
            409,
            "ids end at 18446744073709551614: no greater id is left",
        ),
    ];
    for (case, body, status, message) in cases {
        let r = request(
            s.addr,
            "POST",
            &format!("/publish?{TOPIC}=witness"),
            &[("content-type", "application/json")],
            Some(body),
        )
        .await;
        assert_error(&r, *status, message, case);
        w.check(&s, case).await;
    }

    // Rule: an explicit id must be greater than the newest one (409, names the newest).
    let latest = w.next - 1;
    let r = s.publish("witness", r#"{"data":"x","id":0}"#).await;
    assert_error(
        &r,
        409,
        &format!("`id` must be greater than the topic's latest id {latest}"),
        "id 0",
    );
    w.check(&s, "id 0").await;

    // Rule: bodies over --max-body-bytes are 413, declared or not.
    let big = format!(r#"{{"data":"{}"}}"#, "x".repeat(1000));
    let r = s.publish("witness", &big).await;
    assert_error(
        &r,
        413,
        "body is over the 1000-byte limit",
        "content-length",
    );
    w.check(&s, "oversized, content-length").await;
    let mut chunked = b"POST /publish?topic=witness HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 300, "x".repeat(300)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = raw(&s, &chunked).await;
    assert_error(&r, 413, "body is over the 1000-byte limit", "chunked");
    w.check(&s, "oversized, chunked").await;
    // A declared 1 GB body is refused at once, without waiting for the bytes.
    let t0 = Instant::now();
    let r = raw(
        &s,
        b"POST /publish?topic=witness HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 1000000000\r\n\r\n{",
    )
    .await;
    assert_error(&r, 413, "body is over the 1000-byte limit", "1 GB declared");
    assert!(t0.elapsed() < Duration::from_secs(2));
    w.check(&s, "oversized, 1 GB declared").await;

    // Rule: topic names are 1..=64 of [A-Za-z0-9_.:-].
    let topic_msg = "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :";
    for topic in ["", "a%2Fb", "%C3%A9", &"a".repeat(65)] {
        let r = s.publish(topic, r#"{"data":"x"}"#).await;
        assert_error(&r, 400, topic_msg, topic);
        w.check(&s, topic).await;
    }
}

#[tokio::test]
async fn the_last_id_is_never_assigned_twice() {
    // Rule: after id u64::MAX - 1 a topic has no id left: publishing is a 409, never a
    // second event with the same id.
    let s = start(config()).await;
    let mut w = Witness::open(&s).await;
    let mut edge = s.open(&format!("/events?{TOPIC}=edge"), &[]).await;
    edge.items(2, T).await;
    w.others = 1;
    let last = u64::MAX - 1;
    assert_eq!(
        s.publish_ok("edge", &format!(r#"{{"data":"a","id":{last}}}"#))
            .await,
        last
    );
    for _ in 0..2 {
        let r = s.publish("edge", r#"{"data":"b"}"#).await;
        assert_error(
            &r,
            409,
            "ids end at 18446744073709551614: no greater id is left",
            "auto id after the last",
        );
    }
    assert_eq!(ids(&edge.events(1, T).await), [last]);
    // The next event on the stream is a witness-style one on another topic: nothing else
    // came on `edge`; a resume from the last id is exact (no reset, nothing replayed).
    let r = s
        .get(
            &format!("/events?{TOPIC}=edge&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}={last}&{TIMEOUT_MS}=50"),
            &[],
        )
        .await;
    assert_eq!(r.text(), ": no events\n\n");
    w.check(&s, "ids exhausted").await;
}

// ---------------------------------------------------------------- static routes

#[tokio::test]
async fn bad_static_paths() {
    let s = start(config()).await;
    let www = s.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(s.dir.join("dist")).unwrap();
    std::fs::write(s.dir.join("secret.txt"), "TOP SECRET").unwrap();
    std::fs::write(www.join("ok.txt"), "fine").unwrap();
    let mut w = Witness::open(&s).await;
    let bad = Some("bad path");
    let nf = Some("not found");
    // (request target, status, error message; None: no JSON body)
    let cases: &[(&str, u16, Option<&str>)] = &[
        // Rule: a `..` segment, literal or percent-encoded in any case, is 400.
        ("/../secret.txt", 400, bad),
        ("/%2e%2e/secret.txt", 400, bad),
        ("/%2E%2E/secret.txt", 400, bad),
        ("/.%2e/secret.txt", 400, bad),
        ("/sub/../../secret.txt", 400, bad),
        // Rule: an encoded slash is decoded before the segments are checked.
        ("/..%2fsecret.txt", 400, bad),
        ("/%2e%2e%2fsecret.txt", 400, bad),
        ("/a%2fb", 404, nf),
        // Rule: backslashes, NUL and `:` (drive letters, streams) are 400.
        ("/..%5csecret.txt", 400, bad),
        ("/%00secret.txt", 400, bad),
        ("/C:%5cWindows", 400, bad),
        ("/ok.txt:stream", 400, bad),
        // Rule: not UTF-8 after decoding (overlong dots, stray bytes) is 400.
        ("/%c0%ae%c0%ae/secret.txt", 400, bad),
        ("/%ff", 400, bad),
        // Rule: absolute paths stay under the root (leading slashes collapse).
        ("//etc/passwd", 404, nf),
        ("/%2fetc%2fpasswd", 404, nf),
        // Rule: an absolute-form request target is checked the same way.
        ("http://test/../secret.txt", 400, bad),
        // Rule: dotfiles are 404; a malformed escape is a plain (missing) name.
        ("/.env", 404, nf),
        ("/%2eenv", 404, nf),
        ("/%zz", 404, nf),
        // Rule: the same rules under /pkg/.
        ("/pkg/../secret.txt", 400, bad),
        ("/pkg/%2e%2e/secret.txt", 400, bad),
        ("/pkg/..%2f..%2fsecret.txt", 400, bad),
        ("/pkg//etc/passwd", 404, nf),
        // Rule: directories redirect to their slash form; no index.html is 404, never a
        // listing (`/` and `/pkg/` here have none).
        ("/pkg", 301, None),
        ("/pkg/", 404, nf),
        ("/", 404, nf),
    ];
    for (target, status, message) in cases {
        let r = s.get(target, &[]).await;
        match message {
            Some(m) => assert_error(&r, *status, m, target),
            None => assert_eq!(r.status, *status, "{target}"),
        }
        assert!(!r.text().contains("SECRET"), "{target}");
        w.check(&s, target).await;
    }
    assert_eq!(s.get("/pkg", &[]).await.header("location"), Some("/pkg/"));
    // The good file is still served.
    assert_eq!(s.get("/ok.txt", &[]).await.text(), "fine");
}

// ---------------------------------------------------------------- methods

#[tokio::test]
async fn wrong_methods() {
    let s = start(config()).await;
    std::fs::create_dir_all(s.dir.join("www")).unwrap();
    std::fs::write(s.dir.join("www/index.html"), "hi").unwrap();
    let mut w = Witness::open(&s).await;
    // (method, path, Allow header)
    let cases: &[(&str, &str, &str)] = &[
        // Rule: static routes are GET and HEAD only.
        ("POST", "/index.html", "GET, HEAD"),
        ("DELETE", "/pkg/index.js", "GET, HEAD"),
        ("PUT", "/", "GET, HEAD"),
        // Rule: API routes answer 405 with the methods they do accept.
        ("PUT", "/events", "GET,HEAD,POST"),
        ("DELETE", "/events", "GET,HEAD,POST"),
        ("GET", "/publish", "POST"),
        ("PUT", "/publish", "POST"),
        ("POST", "/healthz", "GET,HEAD"),
        // Rule: OPTIONS without Access-Control-Request-Method is not a preflight.
        ("OPTIONS", "/publish", "POST"),
    ];
    for (method, path, allow) in cases {
        let r = request(s.addr, method, path, &[], Some(b"{}")).await;
        let case = format!("{method} {path}");
        assert_error(&r, 405, "method not allowed", &case);
        assert_eq!(r.header("allow"), Some(*allow), "{case}");
        w.check(&s, &case).await;
    }
    // Rule: HEAD on the stream answers the stream's headers, no body, and frees its slot.
    let r = request(
        s.addr,
        "HEAD",
        &format!("/events?{TOPIC}=witness"),
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert!(r.body.is_empty());
    w.check(&s, "HEAD /events").await;
}

// ---------------------------------------------------------------- query parameters

#[tokio::test]
async fn bad_query_parameters() {
    let s = start(Config {
        replays: vec![ReplayFile::parse("/replay", b"id: 1\ndata: r\n\n").unwrap()],
        ..config()
    })
    .await;
    let mut w = Witness::open(&s).await;
    let int = |name: &str| format!("query parameter `{name}` must be a non-negative integer");
    let flag = |name: &str| format!("query parameter `{name}` must be 1/true or 0/false");
    let at_most = |name: &str, max: u64| format!("query parameter `{name}` must be at most {max}");
    let cases: Vec<(String, String)> = vec![
        // Rule: numeric fault parameters are non-negative integers.
        (format!("/events?{RETRY_AFTER}=x"), int(RETRY_AFTER)),
        (format!("/events?{RETRY}=-5"), int(RETRY)),
        (format!("/events?{CLOSE_AFTER}=1e3"), int(CLOSE_AFTER)),
        (format!("/events?{HUGE_BYTES}=1.5"), int(HUGE_BYTES)),
        (format!("/events?{DELAY_MS}="), int(DELAY_MS)),
        // Rule: and within their bounds.
        (
            format!("/events?{STATUS}=600"),
            "query parameter `status` must be within 200..=599".into(),
        ),
        (
            format!("/events?{STATUS}=100"),
            "query parameter `status` must be within 200..=599".into(),
        ),
        (
            format!("/events?{TRICKLE}=70000"),
            "query parameter `trickle` must be within 1..=65536".into(),
        ),
        (
            format!("/events?{TRICKLE_MS}=20000"),
            "query parameter `trickleMs` must be at most 10000".into(),
        ),
        (
            format!("/events?{HUGE_BYTES}=67108865"),
            at_most(HUGE_BYTES, 64 << 20),
        ),
        (
            format!("/events?{DELAY_MS}=600001"),
            at_most(DELAY_MS, 600_000),
        ),
        (
            format!("/events?{BUFFER_MS}=600001"),
            at_most(BUFFER_MS, 600_000),
        ),
        // Rule: flags are 1/true/0/false (or empty: on).
        (
            format!("/events?{REDIRECT_LOOP}=maybe"),
            flag(REDIRECT_LOOP),
        ),
        (format!("/events?{ECHO}=2"), flag(ECHO)),
        (format!("/events?{BUFFER}=yes"), flag(BUFFER)),
        // Rule: transport options.
        (
            format!("/events?{TRANSPORT}={TRANSPORT_LONG_POLL}&{TIMEOUT_MS}=x"),
            "timeoutMs must be an integer of at most 600000".into(),
        ),
        (
            format!("/events?{TRANSPORT}={TRANSPORT_LONG_POLL}&{TIMEOUT_MS}=600001"),
            "timeoutMs must be an integer of at most 600000".into(),
        ),
        (
            format!("/events?{TRANSPORT}={TRANSPORT_LONG_POLL}&{FORMAT}=xml"),
            "format must be `sse` or `json`".into(),
        ),
        (
            format!("/events?{TRANSPORT}=ws"),
            "transport must be `sse` or `long-poll`".into(),
        ),
        // Rule: topic names.
        (
            format!("/events?{TOPIC}="),
            "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :".into(),
        ),
        (
            format!("/events?{TOPIC}=a/b"),
            "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :".into(),
        ),
        // Rule: replay routes check their own parameters and the fault ones.
        (
            format!("/replay?{HOLD}=maybe"),
            "hold must be 1/true or 0/false".into(),
        ),
        (
            format!("/replay?{TRANSPORT}=ws"),
            "transport must be `sse` or `long-poll`".into(),
        ),
        (format!("/replay?{CLOSE_AFTER}=x"), int(CLOSE_AFTER)),
    ];
    for (query, message) in &cases {
        let r = s.get(query, &[]).await;
        assert_error(&r, 400, message, query);
        w.check(&s, query).await;
    }
    // A long topic name (65 characters).
    let long = format!("/events?{TOPIC}={}", "a".repeat(65));
    let r = s.get(&long, &[]).await;
    assert_error(
        &r,
        400,
        "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :",
        "65-character topic",
    );
    w.check(&s, "65-character topic").await;
}

#[tokio::test]
async fn bad_last_event_ids_reset_and_replay_everything() {
    let s = start(config()).await;
    let mut w = Witness::open(&s).await;
    for i in 1..=2 {
        s.publish_ok("lei", &format!(r#"{{"data":"{i}"}}"#)).await;
    }
    // Rule: a Last-Event-ID (query or header) that is not a decimal integer gets
    // `event: reset` with reason `invalid-id`, then every retained event, then live ones.
    let reset = r#"{"firstRetainedId":"1","lastEventId":"","reason":"invalid-id"}"#;
    for (query, header) in [
        ("lastEventId=abc", None),
        ("lastEventId=-1", None),
        ("lastEventId=1e3", None),
        ("lastEventId=0x10", None),
        ("lastEventId=99999999999999999999999", None),
        ("", Some("1.0")),
        ("", Some("abc")),
    ] {
        let headers: Vec<(&str, &str)> = header
            .map(|h| (LAST_EVENT_ID_HEADER, h))
            .into_iter()
            .collect();
        let case = format!("{query} {header:?}");
        let mut c = s
            .open(&format!("/events?{TOPIC}=lei&{query}"), &headers)
            .await;
        assert_eq!(c.status, 200, "{case}");
        let got = events(&c.events(3, T).await);
        assert_eq!(
            got,
            [
                (String::new(), "reset".into(), reset.into()),
                ("1".into(), "message".into(), "1".into()),
                ("2".into(), "message".into(), "2".into()),
            ],
            "{case}"
        );
        drop(c);
        w.check(&s, &case).await;
    }
    // Rule: a header value that is not even text is an invalid id too.
    let r = raw(
        &s,
        b"GET /events?topic=lei&closeAfter=2 HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\nlast-event-id: \xff\xfe\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(events(&r.events())[0].2, reset);
    assert_eq!(ids(&r.events()), [1, 2]);
    w.check(&s, "non-UTF-8 Last-Event-ID").await;
    // Rule: an empty value means live (no reset, nothing replayed).
    let r = s
        .get(
            &format!("/events?{TOPIC}=lei&{LAST_EVENT_ID}=&{CLOSE_AFTER}=0"),
            &[],
        )
        .await;
    assert_eq!(r.text(), ": connected\n\nretry: 2000\n\n");
    w.check(&s, "empty lastEventId").await;
}

// ---------------------------------------------------------------- malformed HTTP

#[tokio::test]
async fn malformed_http_is_400_and_harmless() {
    let s = start(config()).await;
    let mut w = Witness::open(&s).await;
    let cases: &[(&str, &[u8])] = &[
        // Rule: hyper refuses what is not HTTP/1.1 with a bare 400 and closes.
        ("garbage request line", b"GARBAGE\r\n\r\n"),
        (
            "bad content-length",
            b"POST /publish?topic=witness HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: abc\r\n\r\n",
        ),
        (
            "two content-lengths",
            b"POST /publish?topic=witness HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
        ),
        ("header without colon", b"GET / HTTP/1.1\r\nhost t\r\n\r\n"),
    ];
    for (case, bytes) in cases {
        let r = raw(&s, bytes).await;
        assert_eq!(r.status, 400, "{case}");
        w.check(&s, case).await;
    }
}

// ---------------------------------------------------------------- command-line flags

/// Runs the binary with `args`; (exit code, stdout, stderr), failing after 5 s.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = run_to_exit(BIN, args, Duration::from_secs(5));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn bad_flags_refuse_to_start() {
    let dir = scratch();
    let bad_delay = dir.join("bad.sse");
    std::fs::write(&bad_delay, ":delay=soon\ndata: x\n\n").unwrap();
    let good = dir.join("good.sse");
    std::fs::write(&good, "data: x\n\n").unwrap();
    let missing = dir.join("missing.sse");
    // Someone else holds this port; it must stay theirs.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let (bad_delay, good, missing) = (
        bad_delay.to_str().unwrap(),
        good.to_str().unwrap(),
        missing.to_str().unwrap(),
    );
    let events_route = format!("/events={good}");
    let pkg_route = format!("/pkg/x={good}");
    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        // Rule: clap rejects unknown flags and bad values with exit status 2.
        (
            vec!["--nope"],
            2,
            "error: unexpected argument '--nope' found".into(),
        ),
        (
            vec!["--retain", "abc"],
            2,
            "error: invalid value 'abc' for '--retain <N>': invalid digit found in string".into(),
        ),
        (
            vec!["--max-connections", "-1"],
            2,
            "error: unexpected argument '-1' found".into(),
        ),
        // Rule: counts and sizes start at 1 (0 would refuse everything or silently mean 1).
        (
            vec!["--max-connections", "0"],
            2,
            "error: invalid value '0' for '--max-connections <N>': must be at least 1".into(),
        ),
        (
            vec!["--max-body-bytes", "0"],
            2,
            "error: invalid value '0' for '--max-body-bytes <BYTES>': must be at least 1".into(),
        ),
        (
            vec!["--retain", "0"],
            2,
            "error: invalid value '0' for '--retain <N>': must be at least 1".into(),
        ),
        (
            vec!["--threads", "0"],
            2,
            "error: invalid value '0' for '--threads <N>': must be at least 1".into(),
        ),
        (
            vec!["--heartbeat-ms", "1.5"],
            2,
            "error: invalid value '1.5' for '--heartbeat-ms <MS>': invalid digit found in string"
                .into(),
        ),
        (
            vec!["--addr", "localhost:8080"],
            2,
            "error: invalid value 'localhost:8080' for '--addr <HOST:PORT>': invalid socket address syntax".into(),
        ),
        (
            vec!["--addr", "127.0.0.1"],
            2,
            "error: invalid value '127.0.0.1' for '--addr <HOST:PORT>': invalid socket address syntax".into(),
        ),
        (
            vec!["--addr"],
            2,
            "error: a value is required for '--addr <HOST:PORT>' but none was supplied".into(),
        ),
        // Rule: only loopback without --allow-non-loopback (exit status 1).
        (
            vec!["--addr", "[::]:0"],
            1,
            "sse-devserver: refusing to bind non-loopback address [::]:0 without --allow-non-loopback".into(),
        ),
        (
            vec!["--addr", "192.0.2.1:0"],
            1,
            "sse-devserver: refusing to bind non-loopback address 192.0.2.1:0 without --allow-non-loopback".into(),
        ),
        // Rule: a port in use is reported, not stolen.
        (
            vec!["--addr", &taken_addr],
            1,
            format!("sse-devserver: cannot bind {taken_addr}: Address already in use (os error 98)"),
        ),
        // Rule: replay files must exist, parse, and not shadow a built-in route.
        (
            vec!["--replay", missing],
            1,
            format!("sse-devserver: cannot read {missing}: No such file or directory (os error 2)"),
        ),
        (
            vec!["--replay", bad_delay],
            1,
            format!("sse-devserver: {bad_delay}: line 1: bad delay directive"),
        ),
        (
            vec!["--replay", &events_route],
            1,
            format!("sse-devserver: {good}: replay route `/events` must start with `/` and not clash with a built-in route"),
        ),
        (
            vec!["--replay", &pkg_route],
            1,
            format!("sse-devserver: {good}: replay route `/pkg/x` must start with `/` and not clash with a built-in route"),
        ),
    ];
    for (args, code, message) in &cases {
        let mut all = vec!["--demo-interval-ms", "0"];
        if !args.contains(&"--addr") {
            all.extend(["--addr", "127.0.0.1:0"]);
        }
        all.extend(args);
        let (got, out, err) = run(&all);
        assert_eq!(got, *code, "{args:?}: {err}");
        // Nothing half-started: no `listening` line.
        assert_eq!(out, "", "{args:?}");
        assert_eq!(
            err.lines().next(),
            Some(message.as_str()),
            "{args:?}: {err}"
        );
    }
    // The port's owner still has it.
    let _c = std::net::TcpStream::connect(&taken_addr).unwrap();
    assert!(taken.accept().is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
