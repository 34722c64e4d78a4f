//! The dev server over real TCP on port 0.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use wasm_sse_codec::Item;
use wasm_sse_devserver::{Config, ReplayFile};

fn publish_body(data: &str) -> String {
    serde_json::json!({ "data": data }).to_string()
}

// ---------------------------------------------------------------- stream basics

#[tokio::test]
async fn stream_headers_preamble_heartbeat_and_live_events() {
    let s = start(Config {
        heartbeat: Duration::from_millis(100),
        ..config()
    })
    .await;
    let mut c = s.open(&format!("/events?{TOPIC}=a"), &[]).await;
    assert_eq!(c.status, 200);
    assert_eq!(
        header(&c.headers, "content-type"),
        Some("text/event-stream")
    );
    assert_eq!(header(&c.headers, "cache-control"), Some("no-cache"));
    assert_eq!(header(&c.headers, "x-accel-buffering"), Some("no"));
    let first = c.items(2, T).await;
    assert_eq!(
        first,
        [Item::Comment("connected".into()), Item::Retry(2000)]
    );
    let hb = c.items(1, T).await;
    assert_eq!(hb, [Item::Comment("heartbeat".into())]);
    assert_eq!(
        s.publish_ok("a", r#"{"event":"e","data":{"x":[1,2]}}"#)
            .await,
        1
    );
    assert_eq!(s.publish_ok("a", &publish_body("two\nlines")).await, 2);
    let got = events(&c.events(2, T).await);
    assert_eq!(
        got,
        [
            ("1".into(), "e".into(), r#"{"x":[1,2]}"#.into()),
            ("2".into(), "message".into(), "two\nlines".into()),
        ]
    );
}

#[tokio::test]
async fn demo_topic_ticks() {
    let s = start(Config {
        demo_interval: Some(Duration::from_millis(30)),
        ..config()
    })
    .await;
    let mut c = s.open("/events", &[]).await;
    let got = events(&c.events(2, T).await);
    assert_eq!(got.len(), 2);
    let (id, ty, data) = &got[0];
    assert_eq!(ty, "tick");
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["count"].as_u64().unwrap(), id.parse::<u64>().unwrap());
    assert!(v["payload"]["tags"].is_array());
    assert_eq!(
        got[1].0.parse::<u64>().unwrap(),
        id.parse::<u64>().unwrap() + 1
    );
}

// ---------------------------------------------------------------- resume

#[tokio::test]
async fn replay_after_last_event_id_header_and_query() {
    let s = start(config()).await;
    for i in 1..=5 {
        assert_eq!(s.publish_ok("r", &publish_body(&i.to_string())).await, i);
    }
    // Header.
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=r"),
            &[(LAST_EVENT_ID_HEADER, "2")],
        )
        .await;
    assert_eq!(ids(&c.events(3, T).await), [3, 4, 5]);
    // Live events follow without duplicates.
    s.publish_ok("r", &publish_body("6")).await;
    assert_eq!(ids(&c.events(1, T).await), [6]);
    // Query parameter; 0 replays everything.
    let mut c = s
        .open(&format!("/events?{TOPIC}=r&{LAST_EVENT_ID}=0"), &[])
        .await;
    assert_eq!(ids(&c.events(6, T).await), [1, 2, 3, 4, 5, 6]);
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=r&{LAST_EVENT_ID}=4&{CLOSE_AFTER}=2"),
            &[],
        )
        .await;
    assert_eq!(
        ids(&c.read_to_end(T).await.as_slice().pipe(parse_all)),
        [5, 6]
    );
    // The header wins over the query (a reconnecting EventSource keeps its URL).
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=r&{LAST_EVENT_ID}=0&{CLOSE_AFTER}=1"),
            &[(LAST_EVENT_ID_HEADER, "5")],
        )
        .await;
    assert_eq!(ids(&parse_all(&c.read_to_end(T).await)), [6]);
}

trait Pipe: Sized {
    fn pipe<R>(self, f: impl FnOnce(Self) -> R) -> R {
        f(self)
    }
}
impl<T> Pipe for T {}

#[tokio::test]
async fn expired_and_unknown_ids_send_reset() {
    let s = start(Config {
        retain: 3,
        ..config()
    })
    .await;
    for i in 1..=6 {
        s.publish_ok("x", &publish_body(&i.to_string())).await;
    }
    // Retained: 4, 5, 6. Cursor 3 is exactly at the edge: no reset.
    let r = s
        .get(
            &format!("/events?{TOPIC}=x&{LAST_EVENT_ID}=3&{CLOSE_AFTER}=3"),
            &[],
        )
        .await;
    let evs = events(&r.events());
    assert!(evs.iter().all(|e| e.1 != "reset"));
    assert_eq!(ids(&r.events()), [4, 5, 6]);
    // Cursor 2: events 3 was dropped.
    let r = s
        .get(
            &format!("/events?{TOPIC}=x&{LAST_EVENT_ID}=2&{CLOSE_AFTER}=3"),
            &[],
        )
        .await;
    let evs = events(&r.events());
    assert_eq!(evs[0].1, "reset");
    let v: serde_json::Value = serde_json::from_str(&evs[0].2).unwrap();
    assert_eq!(v["reason"], "expired");
    assert_eq!(v["lastEventId"], "2");
    assert_eq!(v["firstRetainedId"], "4");
    assert_eq!(ids(&r.events()), [4, 5, 6]);
    // From the future (e.g. the server restarted).
    let r = s
        .get(
            &format!("/events?{TOPIC}=x&{LAST_EVENT_ID}=99&{CLOSE_AFTER}=3"),
            &[],
        )
        .await;
    let evs = events(&r.events());
    assert_eq!(evs[0].1, "reset");
    assert!(evs[0].2.contains("unknown-id"));
    // Not a number.
    let r = s
        .get(
            &format!("/events?{TOPIC}=x&{CLOSE_AFTER}=3"),
            &[(LAST_EVENT_ID_HEADER, "abc")],
        )
        .await;
    assert!(events(&r.events())[0].2.contains("invalid-id"));
    // Reset with nothing to replay moves the cursor with a bare `id:` block.
    let r = s
        .get(
            &format!("/events?{TOPIC}=empty&{LAST_EVENT_ID}=7&{CLOSE_AFTER}=0"),
            &[],
        )
        .await;
    assert!(r.text().contains("event: reset"));
    assert!(r.text().ends_with("id: 0\n\n"), "{}", r.text());
}

// ---------------------------------------------------------------- long polling

#[tokio::test]
async fn long_poll_answers_at_once_with_a_bounded_batch() {
    let s = start(Config {
        long_poll_batch: 3,
        ..config()
    })
    .await;
    for i in 1..=5 {
        s.publish_ok("lp", &publish_body(&i.to_string())).await;
    }
    let t0 = Instant::now();
    let r = s
        .get(
            &format!("/events?{TOPIC}=lp&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=0"),
            &[],
        )
        .await;
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(ids(&r.events()), [1, 2, 3]);
    let r = s
        .get(
            &format!("/events?{TOPIC}=lp&{TRANSPORT}={TRANSPORT_LONG_POLL}"),
            &[(LAST_EVENT_ID_HEADER, "3")],
        )
        .await;
    assert_eq!(ids(&r.events()), [4, 5]);
}

#[tokio::test]
async fn long_poll_holds_until_an_event_arrives() {
    let s = start(config()).await;
    s.publish_ok("h", &publish_body("old")).await;
    let addr = s.addr;
    let poll = tokio::spawn(async move {
        request(
            addr,
            "GET",
            &format!("/events?{TOPIC}=h&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=1"),
            &[],
            None,
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!poll.is_finished());
    s.publish_ok("h", &publish_body("new")).await;
    let r = tokio::time::timeout(T, poll).await.unwrap().unwrap();
    assert_eq!(
        events(&r.events()),
        [("2".into(), "message".into(), "new".into())]
    );
}

#[tokio::test]
async fn long_poll_times_out_with_a_comment_only_body() {
    let s = start(Config {
        long_poll_timeout: Duration::from_millis(150),
        ..config()
    })
    .await;
    let t0 = Instant::now();
    let r = s
        .get(
            &format!("/events?{TOPIC}=t&{TRANSPORT}={TRANSPORT_LONG_POLL}"),
            &[],
        )
        .await;
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.events(), [Item::Comment("no events".into())]);
    // Per-request timeout.
    let t0 = Instant::now();
    let r = s
        .get(
            &format!("/events?{TOPIC}=t&{TRANSPORT}={TRANSPORT_LONG_POLL}&{TIMEOUT_MS}=50"),
            &[],
        )
        .await;
    assert!(t0.elapsed() < Duration::from_secs(1));
    assert_eq!(r.events(), [Item::Comment("no events".into())]);
}

// ---------------------------------------------------------------- publish

#[tokio::test]
async fn publish_errors_publish_nothing() {
    let s = start(Config {
        max_body_bytes: 100,
        ..config()
    })
    .await;
    let cases: &[(&str, u16)] = &[
        ("{not json", 400),
        ("[1,2]", 400),
        (r#"{"event":"x"}"#, 400),
        (r#"{"data":"x","extra":1}"#, 400),
        (r#"{"data":"x","event":"a\nb"}"#, 400),
        (r#"{"data":"x","id":"1a"}"#, 400),
        (r#"{"data":"x","id":-1}"#, 400),
        (r#"{"data":"x","id":1.5}"#, 400),
    ];
    for (body, status) in cases {
        let r = s.publish("p", body).await;
        assert_eq!(r.status, *status, "{body}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }
    let big = publish_body(&"x".repeat(200));
    let r = s.publish("p", &big).await;
    assert_eq!(r.status, 413);
    assert!(r.json()["error"].is_string());
    let r = s.publish("bad topic!", &publish_body("x")).await;
    assert_eq!(r.status, 400);
    // Explicit ids must increase.
    assert_eq!(s.publish_ok("p", r#"{"data":"a","id":"10"}"#).await, 10);
    let r = s.publish("p", r#"{"data":"b","id":10}"#).await;
    assert_eq!(r.status, 409);
    assert_eq!(s.publish_ok("p", r#"{"data":"c"}"#).await, 11);
    let r = s
        .get(
            &format!("/events?{TOPIC}=p&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=0"),
            &[],
        )
        .await;
    assert_eq!(
        events(&r.events()),
        [
            ("10".into(), "message".into(), "a".into()),
            ("11".into(), "message".into(), "c".into())
        ]
    );
}

#[tokio::test]
async fn publish_token() {
    let s = start(Config {
        publish_token: Some("s3cret".into()),
        ..config()
    })
    .await;
    let body = publish_body("x");
    let r = s.publish("t", &body).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = request(
        s.addr,
        "POST",
        &format!("/publish?{TOPIC}=t"),
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer nope"),
        ],
        Some(body.as_bytes()),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = request(
        s.addr,
        "POST",
        &format!("/publish?{TOPIC}=t"),
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer s3cret"),
        ],
        Some(body.as_bytes()),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["id"], "1");
}

// ---------------------------------------------------------------- slow clients, limits, shutdown

#[tokio::test]
async fn slow_client_is_disconnected_and_resumes_without_loss() {
    let s = start(Config {
        client_queue: 4,
        retain: 1000,
        max_body_bytes: 64 * 1024,
        ..config()
    })
    .await;
    let mut slow = Conn::connect_small(s.addr, 4096).await;
    slow.send_request("GET", &format!("/events?{TOPIC}=slow"), &[], None)
        .await;
    slow.read_head().await;
    let total = 300u64;
    let payload = "y".repeat(32 * 1024);
    for _ in 0..total {
        s.publish_ok("slow", &publish_body(&payload)).await;
    }
    // Now read everything the server had written before it gave up on us.
    let body = slow.read_to_end(T).await;
    assert!(slow.finished, "the server must end the stream cleanly");
    let items = parse_all(&body);
    assert!(
        items.contains(&Item::Comment(
            "overflow: client queue full, reconnect with Last-Event-ID".into()
        )),
        "no overflow notice"
    );
    let got = ids(&items);
    let last = *got.last().unwrap_or(&0);
    assert!(last < total, "the slow client was not cut off");
    assert_eq!(got, (1..=last).collect::<Vec<_>>());
    // Resume: nothing lost.
    let remaining = total - last;
    let lei = last.to_string();
    let mut c = s
        .open(
            &format!("/events?{TOPIC}=slow&{CLOSE_AFTER}={remaining}"),
            &[(LAST_EVENT_ID_HEADER, &lei)],
        )
        .await;
    let body = c.read_to_end(T).await;
    assert_eq!(
        ids(&parse_all(&body)),
        (last + 1..=total).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn max_connections_answers_503_with_retry_after() {
    let s = start(Config {
        max_connections: 2,
        ..config()
    })
    .await;
    let _a = s.open(&format!("/events?{TOPIC}=m"), &[]).await;
    let mut b = s.open(&format!("/events?{TOPIC}=m"), &[]).await;
    let r = s.get(&format!("/events?{TOPIC}=m"), &[]).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    // Closing one frees a slot.
    b.stream.shutdown().await.ok();
    drop(b);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut c = Conn::connect(s.addr).await;
        c.send_request(
            "GET",
            &format!("/events?{TOPIC}=m&{CLOSE_AFTER}=0"),
            &[],
            None,
        )
        .await;
        if c.read_head().await.0 == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok);
}

use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn header_size_limit() {
    let s = start(Config {
        max_header_bytes: 1024,
        ..config()
    })
    .await;
    let big = "v".repeat(2000);
    let r = s
        .get(&format!("/events?{TOPIC}=a"), &[("x-big", &big)])
        .await;
    assert_eq!(r.status, 431);
}

#[tokio::test]
async fn graceful_shutdown_ends_streams_cleanly() {
    let mut s = start(Config {
        long_poll_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(10),
        replays: vec![ReplayFile::parse("/replay", b"data: x\n\n").unwrap()],
        ..config()
    })
    .await;
    let mut stream = s.open(&format!("/events?{TOPIC}=g"), &[]).await;
    stream.items(2, T).await;
    let mut replay = s.open("/replay", &[]).await;
    assert_eq!(replay.events(1, T).await.len(), 1);
    let addr = s.addr;
    let poll = tokio::spawn(async move {
        request(
            addr,
            "GET",
            &format!("/events?{TOPIC}=g&{TRANSPORT}={TRANSPORT_LONG_POLL}"),
            &[],
            None,
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    s.signal();
    let rest = stream.read_to_end(T).await;
    assert!(
        stream.finished,
        "stream must end with its terminating chunk"
    );
    assert!(parse_all(&rest)
        .iter()
        .all(|i| !matches!(i, Item::Event(_))));
    let r = tokio::time::timeout(T, poll).await.unwrap().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.events(), [Item::Comment("no events".into())]);
    s.stop().await.unwrap();
    // Well before the 10 s grace period: every stream ended by itself.
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

// ---------------------------------------------------------------- replay files

#[tokio::test]
async fn replay_file_route() {
    let file = b": recorded\n\nid: a\ndata: one\n\n:delay=150\nid: b\nevent: two\ndata: 2\n\nid: c\ndata: three\n\n";
    let s = start(Config {
        replays: vec![ReplayFile::parse("/replay", file).unwrap()],
        ..config()
    })
    .await;
    let t0 = Instant::now();
    let r = s.get(&format!("/replay?{HOLD}=0"), &[]).await;
    assert!(t0.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        &r.body[..],
        b": recorded\n\nid: a\ndata: one\n\nid: b\nevent: two\ndata: 2\n\nid: c\ndata: three\n\n"
    );
    // Resume after an id.
    let r = s
        .get(&format!("/replay?{HOLD}=0"), &[(LAST_EVENT_ID_HEADER, "b")])
        .await;
    assert_eq!(r.text(), "id: c\ndata: three\n\n");
    // Holding (the default) keeps the stream open; faults compose.
    let r = s
        .get(&format!("/replay?{CLOSE_AFTER}=1&{RETRY}=10"), &[])
        .await;
    assert_eq!(r.text(), "retry: 10\n\n: recorded\n\nid: a\ndata: one\n\n");
    assert!(ReplayFile::parse("/events", b"").is_err());
}

// ---------------------------------------------------------------- static files

#[tokio::test]
async fn static_files_mime_types_and_no_listing() {
    let s = start(config()).await;
    let www = s.dir.join("www");
    let dist = s.dir.join("dist");
    std::fs::create_dir_all(www.join("sub")).unwrap();
    std::fs::create_dir_all(www.join("empty")).unwrap();
    std::fs::create_dir_all(dist.join("snippets")).unwrap();
    std::fs::write(www.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(www.join("sub/index.html"), "sub").unwrap();
    std::fs::write(www.join("app.mjs"), "export {}").unwrap();
    std::fs::write(dist.join("index.js"), "export {}").unwrap();
    std::fs::write(dist.join("wasm_sse_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join("index.d.ts"), "export {}").unwrap();
    let r = s.get("/", &[]).await;
    assert_eq!((r.status, r.text().as_str()), (200, "<h1>hi</h1>"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        s.get("/app.mjs", &[]).await.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let r = s.get("/pkg/wasm_sse_bg.wasm", &[]).await;
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/wasm"))
    );
    assert_eq!(&r.body[..], b"\0asm\x01\0\0\0");
    assert_eq!(
        s.get("/pkg/index.js", &[]).await.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(s.get("/pkg/index.d.ts", &[]).await.status, 200);
    let r = s.get("/sub", &[]).await;
    assert_eq!((r.status, r.header("location")), (301, Some("/sub/")));
    assert_eq!(s.get("/sub/", &[]).await.text(), "sub");
    assert_eq!(s.get("/empty/", &[]).await.status, 404);
    assert_eq!(s.get("/pkg/snippets/", &[]).await.status, 404);
    assert_eq!(s.get("/missing.js", &[]).await.status, 404);
    let r = request(s.addr, "POST", "/index.html", &[], Some(b"x")).await;
    assert_eq!(r.status, 405);
    // `POST /events` is the stream (for clients that send a body); other methods are not.
    let r = request(s.addr, "PUT", "/events", &[], Some(b"x")).await;
    assert_eq!(r.status, 405);
    assert!(r.json()["error"].is_string());
    let r = request(s.addr, "GET", "/publish", &[], None).await;
    assert_eq!(r.status, 405);
    let r = request(s.addr, "HEAD", "/index.html", &[], None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn path_traversal_is_refused() {
    let s = start(config()).await;
    let www = s.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(s.dir.join("dist")).unwrap();
    std::fs::write(s.dir.join("secret.txt"), "TOP SECRET").unwrap();
    std::fs::write(www.join(".env"), "TOP SECRET").unwrap();
    std::fs::write(www.join("ok.txt"), "fine").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(s.dir.join("secret.txt"), www.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(&s.dir, www.join("up")).unwrap();
        std::os::unix::fs::symlink(www.join("ok.txt"), www.join("inside.txt")).unwrap();
    }
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/..%5csecret.txt",
        "/sub/../../secret.txt",
        "/pkg/../secret.txt",
        "/pkg/%2e%2e/secret.txt",
        "/pkg/..%2f..%2fsecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/.env",
        "/%2eenv",
        "/link.txt",
        "/up/secret.txt",
        "/%00secret.txt",
        "//etc/passwd",
        "/C:%5cWindows",
    ] {
        let r = s.get(path, &[]).await;
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        assert!(!r.text().contains("SECRET"), "{path}");
    }
    #[cfg(unix)]
    assert_eq!(s.get("/inside.txt", &[]).await.text(), "fine");
}

// ---------------------------------------------------------------- CORS

#[tokio::test]
async fn cors_preflight_and_credentials() {
    let s = start(config()).await;
    let pre = |origin: &'static str, headers: &'static str| {
        let addr = s.addr;
        async move {
            request(
                addr,
                "OPTIONS",
                &format!("/publish?{TOPIC}=c"),
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", headers),
                ],
                None,
            )
            .await
        }
    };
    let r = pre(
        "http://127.0.0.1:4000",
        "content-type, last-event-id, x-custom",
    )
    .await;
    assert!(matches!(r.status, 200 | 204));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://127.0.0.1:4000")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type, last-event-id, x-custom")
    );
    let r = pre("http://localhost:1234", LAST_EVENT_ID_HEADER).await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:1234")
    );
    let r = pre("http://evil.example", LAST_EVENT_ID_HEADER).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Preflight for the stream itself.
    let r = request(
        s.addr,
        "OPTIONS",
        &format!("/events?{TOPIC}=c"),
        &[
            ("origin", "http://127.0.0.1:4000"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", LAST_EVENT_ID_HEADER),
        ],
        None,
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://127.0.0.1:4000")
    );
    // Actual requests.
    let r = request(
        s.addr,
        "GET",
        &format!("/events?{TOPIC}=c&{CLOSE_AFTER}=0"),
        &[("origin", "http://127.0.0.1:4000")],
        None,
    )
    .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://127.0.0.1:4000")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r.header("vary").unwrap().contains("Origin"));
    let r = request(
        s.addr,
        "GET",
        &format!("/events?{TOPIC}=c&{CLOSE_AFTER}=0"),
        &[("origin", "https://evil.example")],
        None,
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}
