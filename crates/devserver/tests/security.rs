//! The dev server against an attacker on the same machine (issue 19), each row of its table
//! against the real server: topics created by subscribing, cross-site publishing, DNS
//! rebinding, and the smaller ones (`*` with credentials, an open redirect, the bearer
//! scheme's case, a signed `Last-Event-ID`). Memory rows are in `memory.rs`.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use wasm_sse_devserver::{Chaos, Config};

/// `POST /publish?topic=TOPIC` with `headers` and a valid JSON body.
async fn post(s: &Server, topic: &str, headers: &[(&str, &str)]) -> Response {
    request(
        s.addr,
        "POST",
        &format!("{PUBLISH}?{TOPIC}={topic}"),
        headers,
        Some(br#"{"data":"x"}"#),
    )
    .await
}

/// The topic's newest id, by a long poll that starts from the oldest retained event.
async fn newest_id(s: &Server, topic: &str) -> u64 {
    let r = s
        .get(
            &format!("/events?{TOPIC}={topic}&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=0&{TIMEOUT_MS}=0"),
            &[],
        )
        .await;
    ids(&r.events()).last().copied().unwrap_or(0)
}

// ------------------------------------------------------------ row 4: topics made by subscribing

#[tokio::test]
async fn subscribing_to_new_topics_never_blocks_publishing() {
    let s = start(Config {
        max_topics: 16,
        publish_token: Some("tok".into()),
        ..config()
    })
    .await;
    // Many more subscriptions to new names than the topic limit, some held open.
    let mut held = Vec::new();
    for i in 0..40 {
        let r = s
            .get(&format!("/events?{TOPIC}=anon-{i}&{CLOSE_AFTER}=0"), &[])
            .await;
        assert_eq!(r.status, 200);
        if i % 10 == 0 {
            held.push(s.open(&format!("/events?{TOPIC}=held-{i}"), &[]).await);
        }
    }
    let health = s.get("/healthz", &[]).await.json();
    assert_eq!(health["topics"], 0, "{health}");
    // One open stream on each held topic, and none elsewhere.
    let streams = health["streams"].as_object().expect("streams");
    assert_eq!(streams.len(), held.len(), "{health}");
    for i in (0..40).step_by(10) {
        assert_eq!(streams[&format!("held-{i}")], 1, "{health}");
    }
    // The publisher with the token gets a new topic.
    let auth = [
        ("content-type", "application/json"),
        ("authorization", "Bearer tok"),
    ];
    let r = post(&s, "fresh", &auth).await;
    assert_eq!(r.status, 200, "{}", r.text());
    drop(held);
    // Topics only subscribed to go with their last subscriber.
    let deadline = std::time::Instant::now() + T;
    loop {
        let health = s.get("/healthz", &[]).await.json();
        if health["openTopics"] == 1 {
            assert_eq!(health["topics"], 1);
            assert_eq!(health["streams"], serde_json::json!({}), "{health}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The limit counts topics that hold events: 15 more fit, the 17th does not.
    for i in 0..15 {
        assert_eq!(post(&s, &format!("p{i}"), &auth).await.status, 200);
    }
    let r = post(&s, "one-too-many", &auth).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    // Subscribing to a further topic still works (it holds nothing).
    let r = s
        .get(&format!("/events?{TOPIC}=more&{CLOSE_AFTER}=0"), &[])
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn chaos_counters_stop_at_the_topic_limit() {
    let s = start(Config {
        max_topics: 8,
        chaos: Some(Chaos {
            status_pct: 100,
            ..Chaos::new(1)
        }),
        ..config()
    })
    .await;
    for i in 0..30 {
        s.get(&format!("/events?{TOPIC}=c{i}&{CLOSE_AFTER}=0"), &[])
            .await;
    }
    let stats = s.get("/chaos", &[]).await.json();
    assert_eq!(stats["topics"].as_object().unwrap().len(), 8, "{stats}");
}

// ------------------------------------------------------------------- row 5: cross-site publish

#[tokio::test]
async fn cross_site_simple_posts_are_refused() {
    let s = start(config()).await;
    for (content_type, origin) in [
        (Some("text/plain"), None),
        (
            Some("text/plain;charset=UTF-8"),
            Some("http://evil.example"),
        ),
        (Some("application/x-www-form-urlencoded"), None),
        (Some("multipart/form-data; boundary=x"), None),
        (None, None),
    ] {
        let mut headers = Vec::new();
        if let Some(t) = content_type {
            headers.push(("content-type", t));
        }
        if let Some(o) = origin {
            headers.push(("origin", o));
        }
        let r = post(&s, "xs", &headers).await;
        let case = format!("{content_type:?} from {origin:?}");
        if origin.is_some() {
            assert_eq!(r.status, 403, "{case}: {}", r.text());
        } else {
            assert_eq!(r.status, 415, "{case}: {}", r.text());
        }
    }
    // A JSON body from a page of another site: 403, nothing published.
    let r = post(
        &s,
        "xs",
        &[
            ("content-type", "application/json"),
            ("origin", "http://evil.example"),
        ],
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(newest_id(&s, "xs").await, 0);
    // The same from an allowed origin, and from a tool that sends no Origin: published.
    let r = post(
        &s,
        "xs",
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("origin", "http://localhost:5173"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let r = post(&s, "xs", &[("content-type", "application/json")]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(newest_id(&s, "xs").await, 2);
}

// ------------------------------------------------------------------------ row 6: DNS rebinding

#[tokio::test]
async fn only_loopback_host_names_are_served() {
    let s = start(Config {
        allowed_hosts: vec!["dev.example".into()],
        ..config()
    })
    .await;
    let port = s.addr.port();
    let get = |host: String| {
        let s = &s;
        async move {
            raw(
                s,
                format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .status
        }
    };
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("app.localhost:{port}"),
        format!("dev.example:{port}"),
    ] {
        assert_eq!(get(host.clone()).await, 200, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        "localhost.evil.example".to_owned(),
    ] {
        assert_eq!(get(host.clone()).await, 421, "{host}");
    }
    // A rebound page can neither read a stream nor publish.
    let r = raw(
        &s,
        b"GET /events?topic=t&closeAfter=0 HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 421);
    let r = raw(
        &s,
        b"POST /publish?topic=t HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"data\":\"x\"}",
    )
    .await;
    assert_eq!(r.status, 421);
    assert_eq!(newest_id(&s, "t").await, 0);
}

// ---------------------------------------------------------------------- row 7: the smaller ones

#[tokio::test]
async fn star_origin_never_comes_with_credentials() {
    let s = start(Config {
        cors_origins: vec!["*".into()],
        ..config()
    })
    .await;
    let r = s
        .get(HEALTHZ, &[("origin", "http://anything.example")])
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
    let r = request(
        s.addr,
        "OPTIONS",
        PUBLISH,
        &[
            ("origin", "http://anything.example"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        None,
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("access-control-allow-credentials"), None);
}

#[tokio::test]
async fn directory_redirects_stay_on_the_server() {
    let s = start(config()).await;
    std::fs::create_dir_all(s.dir.join("www/sub")).unwrap();
    std::fs::write(s.dir.join("www/sub/index.html"), "<p>sub</p>").unwrap();
    for path in ["/sub", "//sub", "///sub"] {
        let r = s.get(path, &[]).await;
        assert_eq!(r.status, 301, "{path}");
        assert_eq!(r.header("location"), Some("/sub/"), "{path}");
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let s = start(Config {
        publish_token: Some("s3cret".into()),
        ..config()
    })
    .await;
    for (value, status) in [
        ("bearer s3cret", 200),
        ("BEARER s3cret", 200),
        ("Bearer s3cret", 200),
        ("Bearer s3cre", 401),
        ("Bearer s3crets3cret", 401),
        ("Basic s3cret", 401),
    ] {
        let r = post(
            &s,
            "tok",
            &[
                ("content-type", "application/json"),
                ("authorization", value),
            ],
        )
        .await;
        assert_eq!(r.status, status, "{value}");
    }
}

#[tokio::test]
async fn last_event_id_is_digits_only() {
    let s = start(config()).await;
    for _ in 0..6 {
        s.publish_ok("lei", r#"{"data":"x"}"#).await;
    }
    for bad in ["+5", "-5", "5x", "0x5", "5.0", "99999999999999999999"] {
        let r = s
            .get(
                &format!("/events?{TOPIC}=lei&{CLOSE_AFTER}=6"),
                &[(LAST_EVENT_ID_HEADER, bad)],
            )
            .await;
        let items = r.events();
        let evs = events(&items);
        assert_eq!(evs[0].1, "reset", "{bad}");
        assert!(evs[0].2.contains("\"invalid-id\""), "{bad}: {}", evs[0].2);
        assert_eq!(ids(&items), [1, 2, 3, 4, 5, 6], "{bad}");
    }
    let r = s
        .get(
            &format!("/events?{TOPIC}=lei&{CLOSE_AFTER}=1"),
            &[(LAST_EVENT_ID_HEADER, "5")],
        )
        .await;
    assert_eq!(ids(&r.events()), [6]);
}
