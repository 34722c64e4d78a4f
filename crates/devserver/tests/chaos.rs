//! Chaos mode (`--chaos SEED`) and state persistence (`--state-dir`), over real TCP.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use wasm_sse_codec::{Item, Parser};
use wasm_sse_devserver::{Chaos, Config, CutKind, Plan};
use wasm_sse_test_support::DevServer;

const BIN: &str = env!("CARGO_BIN_EXE_sse-devserver");

/// Chaos on topics `chaos-*`, with no time-based cut within a test's reach and short stalls,
/// so that what a request receives depends on its plan only.
fn chaos_settings(seed: u64) -> Chaos {
    Chaos {
        topic_prefix: "chaos-".into(),
        max_ms: 600_000,
        stall_ms: 30,
        ..Chaos::new(seed)
    }
}

fn chaos_config(seed: u64) -> Config {
    Config {
        chaos: Some(chaos_settings(seed)),
        ..config()
    }
}

/// A data payload with several lines, so that cuts land inside multi-line events too.
fn payload(i: u64) -> String {
    format!("{{\"seq\":{i}}}\nline two of {i}\nthree")
}

async fn publish_all(s: &Server, topic: &str, n: u64) {
    for i in 1..=n {
        let body = serde_json::json!({ "event": "e", "data": payload(i) }).to_string();
        assert_eq!(s.publish_ok(topic, &body).await, i);
    }
}

/// What one request received: status, body (decoded), whether the body ended properly.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    status: u16,
    body: Vec<u8>,
    finished: bool,
}

/// One request, its body read until it ends or for `limit`: a response cut after some
/// bytes is read to its end, a live stream without such a cut for a moment only.
async fn fetch_for(s: &Server, path: &str, limit: Duration) -> Outcome {
    let mut c = s.open(path, &[]).await;
    let body = c.read_to_end(limit).await;
    Outcome {
        status: c.status,
        body,
        finished: c.finished,
    }
}

/// [`fetch_for`] with the limit `plan` calls for: a cut by bytes comes within 5 s even when
/// the body trickles (at worst 1 byte every 2 ms).
async fn fetch(s: &Server, path: &str, plan: &Plan) -> Outcome {
    let cut = plan.cut.is_some_and(|c| c.at_byte.is_some());
    let limit = Duration::from_millis(if cut { 5000 } else { 400 });
    fetch_for(s, path, limit).await
}

#[test]
fn the_same_seed_gives_the_same_plans_and_every_fault_occurs() {
    let plans = |seed: u64, topic: &str| -> Vec<Plan> {
        (0..400).map(|n| Chaos::new(seed).plan(topic, n)).collect()
    };
    let a = plans(42, "chaos-a");
    assert_eq!(a, plans(42, "chaos-a"));
    assert_ne!(a, plans(43, "chaos-a"));
    assert_ne!(a, plans(42, "chaos-b"));
    let count = |f: &dyn Fn(&Plan) -> bool| a.iter().filter(|p| f(p)).count();
    let statuses = count(&|p| p.status.is_some());
    assert!(
        (20..=60).contains(&statuses),
        "{statuses} statuses of 400 at 10%"
    );
    assert!(count(&|p| p.status.is_some_and(|s| s.status == 500)) > 0);
    assert!(
        count(&|p| p
            .status
            .is_some_and(|s| s.status == 503 && s.retry_after.is_some()))
            > 0
    );
    assert!(
        count(&|p| p
            .status
            .is_some_and(|s| s.status == 503 && s.retry_after.is_none()))
            > 0
    );
    let cuts = count(&|p| p.cut.is_some_and(|c| c.at_byte.is_some()));
    assert!(
        (250..=330).contains(&cuts),
        "{cuts} byte cuts of ~360 at 80%"
    );
    // Every other answer is cut after some time at the latest.
    assert_eq!(count(&|p| p.cut.is_some()), 400 - statuses);
    assert!(count(&|p| p.cut.is_some_and(|c| c.kind == CutKind::Abort)) > 100);
    assert!(count(&|p| p.cut.is_some_and(|c| c.kind == CutKind::End)) > 100);
    assert!(a.iter().filter_map(|p| p.cut).all(|c| {
        c.at_byte.is_none_or(|b| (1..=1024).contains(&b))
            && c.after.is_some_and(|t| (1..=2000).contains(&t.as_millis()))
    }));
    assert!(count(&|p| p.stall.is_some()) > 10);
    assert!(count(&|p| p.trickle.is_some()) > 10);
    // A status answer carries no other fault.
    assert!(a
        .iter()
        .filter(|p| p.status.is_some())
        .all(|p| p.cut.is_none() && p.stall.is_none() && p.trickle.is_none()));
    // Rates of 0 and 100.
    let calm = Chaos {
        status_pct: 0,
        drop_pct: 0,
        max_ms: 0,
        stall_pct: 0,
        trickle_pct: 0,
        ..Chaos::new(1)
    };
    assert!((0..100).all(|n| calm.plan("x", n) == Plan::default()));
    let wild = Chaos {
        status_pct: 0,
        drop_pct: 100,
        ..Chaos::new(1)
    };
    assert!((0..100).all(|n| wild.plan("x", n).cut.is_some_and(|c| c.at_byte.is_some())));
}

/// Runs `n` requests per transport against a chaos server and checks each outcome against
/// the plan: the status, the exact cut position, how the body ended, and that the body is a
/// prefix of what the same request gets from a topic without chaos.
async fn run_against_plans(seed: u64, n: u64) -> Vec<Outcome> {
    let s = start(chaos_config(seed)).await;
    publish_all(&s, "chaos-s", 100).await;
    publish_all(&s, "chaos-l", 100).await;
    publish_all(&s, "calm", 100).await;
    let chaos = chaos_settings(seed);
    let mut outcomes = Vec::new();
    for (topic, query) in [("chaos-s", ""), ("chaos-l", "&transport=long-poll")] {
        let path = format!("/events?{TOPIC}=calm&{LAST_EVENT_ID}=0{query}");
        let calm = fetch_for(&s, &path, Duration::from_millis(400)).await;
        assert_eq!(calm.status, 200);
        assert!(calm.body.len() > 1024, "the replay is longer than any cut");
        for i in 0..n {
            let plan = chaos.plan(topic, i);
            let path = format!("/events?{TOPIC}={topic}&{LAST_EVENT_ID}=0{query}");
            let got = fetch(&s, &path, &plan).await;
            if let Some(status) = plan.status {
                assert_eq!(got.status, status.status, "request {i}");
                assert!(got.finished);
            } else {
                assert_eq!(got.status, 200, "request {i}");
                assert!(
                    calm.body.starts_with(&got.body),
                    "request {i}: not a prefix"
                );
                if let Some((at_byte, kind)) = plan.cut.and_then(|c| Some((c.at_byte?, c.kind))) {
                    assert_eq!(got.body.len(), at_byte, "request {i}: {plan:?}");
                    assert_eq!(got.finished, kind == CutKind::End, "request {i}");
                } else if query.is_empty() {
                    assert!(!got.finished, "request {i}: an uncut stream stays open");
                } else if got.finished {
                    // (a trickled answer may still be on its way when the read stops)
                    assert!(
                        got.body == calm.body,
                        "request {i}: an uncut long-poll answer"
                    );
                }
            }
            outcomes.push(got);
        }
    }
    let stats = s.get("/chaos", &[]).await.json();
    assert_eq!(stats["seed"], seed);
    assert_eq!(stats["topics"]["chaos-s"]["requests"], n);
    assert!(
        stats["topics"]["calm"].is_null(),
        "no chaos outside the prefix"
    );
    outcomes
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults_on_the_wire() {
    let a = run_against_plans(7, 30).await;
    let b = run_against_plans(7, 30).await;
    // Uncut streams are read for a fixed time: compare the deterministic outcomes only.
    let fixed = |o: &[Outcome]| {
        o.iter()
            .map(|o| {
                (
                    o.status,
                    o.finished,
                    if o.finished || o.status != 200 {
                        o.body.len()
                    } else {
                        0
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(fixed(&a), fixed(&b));
    let c = run_against_plans(8, 30).await;
    assert_ne!(fixed(&a), fixed(&c));
}

#[tokio::test]
async fn chaos_stats_and_off_without_the_flag() {
    let s = start(config()).await;
    assert_eq!(s.get("/chaos", &[]).await.status, 404);
    let s = start(chaos_config(3)).await;
    publish_all(&s, "chaos-x", 50).await;
    for _ in 0..20 {
        let path =
            &format!("/events?{TOPIC}=chaos-x&{LAST_EVENT_ID}=0&{TRANSPORT}={TRANSPORT_LONG_POLL}");
        fetch_for(&s, path, Duration::from_millis(400)).await;
    }
    let stats = s.get("/chaos", &[]).await.json();
    let t = &stats["topics"]["chaos-x"];
    assert_eq!(t["requests"], 20);
    let forced = ["status500", "status503", "aborted", "ended", "timedOut"]
        .iter()
        .map(|k| t[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(t["forcedDisconnects"], forced);
    assert!(forced > 10, "{t}");
    assert_eq!(stats["topicPrefix"], "chaos-");
}

#[tokio::test]
async fn a_stream_cut_mid_event_never_yields_a_partial_event() {
    let s = start(chaos_config(11)).await;
    publish_all(&s, "chaos-p", 100).await;
    let chaos = chaos_settings(11);
    let mut mid_event = 0;
    let mut mid_line = 0;
    for i in 0..80 {
        let plan = chaos.plan("chaos-p", i);
        let got = fetch(
            &s,
            &format!("/events?{TOPIC}=chaos-p&{LAST_EVENT_ID}=0"),
            &plan,
        )
        .await;
        let Some(at_byte) = plan.cut.and_then(|c| c.at_byte) else {
            continue;
        };
        assert_eq!(got.body.len(), at_byte);
        if !got.body.ends_with(b"\n\n") {
            mid_event += 1;
        }
        if !got.body.ends_with(b"\n") {
            mid_line += 1;
        }
        // A spec parser fed the cut body (and told the stream ended) yields only whole
        // events, each exactly as published, ids 1, 2, 3... in order.
        let mut parser = Parser::new();
        let mut items = Vec::new();
        parser.feed(&got.body, |item| items.push(item)).unwrap();
        parser.finish();
        let events = events(&items);
        let complete = got.body.windows(2).filter(|w| w == b"\n\n").count();
        // The preamble has two blocks (`: connected`, `retry:`) that are not events.
        assert_eq!(
            events.len(),
            complete.saturating_sub(2),
            "request {i}: {:?}",
            String::from_utf8_lossy(&got.body)
        );
        for (k, (id, ty, data)) in events.iter().enumerate() {
            let n = k as u64 + 1;
            assert_eq!(
                (id.as_str(), ty.as_str(), data.as_str()),
                (n.to_string().as_str(), "e", payload(n).as_str())
            );
        }
        assert!(!items
            .iter()
            .any(|i| matches!(i, Item::Event(e) if e.event_type() != "e")));
    }
    assert!(mid_event >= 20, "only {mid_event} cuts inside an event");
    assert!(mid_line >= 10, "only {mid_line} cuts inside a line");
}

#[tokio::test]
async fn a_restart_with_the_state_dir_keeps_ids_and_replays() {
    let dir = scratch().join("state");
    let with_state = |retain: usize| Config {
        state_dir: Some(dir.clone()),
        retain,
        ..config()
    };
    let mut a = start(with_state(1000)).await;
    publish_all(&a, "t:x", 3).await;
    assert_eq!(
        a.publish_ok("t:x", r#"{"id":10,"event":"named","data":"a\nb"}"#)
            .await,
        10
    );
    a.stop().await.unwrap();
    assert!(dir.join("t_t%3Ax.sse").is_file());

    let mut b = start(with_state(1000)).await;
    // Ids go on after the newest persisted one; an old id is still refused.
    assert_eq!(
        b.publish("t:x", r#"{"id":10,"data":"x"}"#).await.status,
        409
    );
    assert_eq!(b.publish_ok("t:x", r#"{"data":"after"}"#).await, 11);
    // Replay after Last-Event-ID (header and query) and long-poll, across the restart.
    let want = vec![
        ("3".to_owned(), "e".to_owned(), payload(3)),
        ("10".to_owned(), "named".to_owned(), "a\nb".to_owned()),
        ("11".to_owned(), "message".to_owned(), "after".to_owned()),
    ];
    let mut c = b
        .open(
            &format!("/events?{TOPIC}=t:x"),
            &[(LAST_EVENT_ID_HEADER, "2")],
        )
        .await;
    assert_eq!(events(&c.events(3, T).await), want);
    let r = b
        .get(
            &format!("/events?{TOPIC}=t:x&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=2"),
            &[],
        )
        .await;
    assert_eq!(events(&r.events()), want);
    b.stop().await.unwrap();

    // A torn last block (the process died mid-write) is cut off; the next id follows the
    // last whole event, and the replay shows no trace of the torn bytes.
    let file = dir.join("t_t%3Ax.sse");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"id: 12\ndata: torn");
    std::fs::write(&file, &bytes).unwrap();
    // A small retention window: the oldest events are not replayed, and resuming before
    // them is an `expired` reset, as without a restart.
    let c = start(with_state(2)).await;
    assert_eq!(c.publish_ok("t:x", r#"{"data":"twelve"}"#).await, 12);
    let r = c
        .get(
            &format!("/events?{TOPIC}=t:x&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=10"),
            &[],
        )
        .await;
    assert_eq!(
        events(&r.events()),
        [
            ("11".to_owned(), "message".to_owned(), "after".to_owned()),
            ("12".to_owned(), "message".to_owned(), "twelve".to_owned())
        ]
    );
    let r = c
        .get(
            &format!("/events?{TOPIC}=t:x&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=1"),
            &[],
        )
        .await;
    let items = r.events();
    assert_eq!(events(&items)[0].1, "reset");
    assert!(r.text().contains("\"reason\":\"expired\""), "{}", r.text());
    assert!(!std::fs::read_to_string(&file).unwrap().contains("torn"));
}

#[tokio::test]
async fn the_binary_survives_sigkill_with_its_state_dir() {
    let dir = scratch();
    let state = dir.join("state");
    let state = state.to_str().unwrap();
    let base = [
        "--demo-interval-ms",
        "0",
        "--state-dir",
        state,
        "--chaos",
        "5",
    ];
    let mut first = DevServer::start(BIN, base).unwrap();
    let addr = first.addr();
    let post = |addr, body: &'static str| async move {
        request(
            addr,
            "POST",
            &format!("/publish?{TOPIC}=k"),
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
        .await
    };
    for _ in 0..3 {
        assert_eq!(post(addr, r#"{"data":"x"}"#).await.status, 200);
    }
    first.kill().unwrap(); // SIGKILL: no graceful anything
    let port = addr.to_string();
    let second = DevServer::builder(BIN)
        .args(["--addr", port.as_str()])
        .args(base)
        .start()
        .unwrap();
    assert_eq!(second.addr(), addr);
    let r = post(addr, r#"{"data":"y"}"#).await;
    assert_eq!(r.json()["id"], "4");
    // `--chaos-topics` defaults to every topic: ask until a request gets through unharmed;
    // a harmed one (an error status, a cut body) never shows anything but a prefix.
    let mut whole = false;
    for _ in 0..50 {
        let path =
            &format!("/events?{TOPIC}=k&{TRANSPORT}={TRANSPORT_LONG_POLL}&{LAST_EVENT_ID}=2");
        let r = request(addr, "GET", path, &[], None).await;
        if r.status != 200 {
            continue;
        }
        let got = ids(&r.events());
        assert!([3, 4].starts_with(&got), "{got:?}");
        if got == [3, 4] {
            whole = true;
            break;
        }
    }
    assert!(whole, "ids 3 and 4 replayed after the restart");
    let stats = request(addr, "GET", "/chaos", &[], None).await.json();
    assert_eq!(stats["seed"], 5);
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_documents_the_chaos_flags() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--state-dir",
        "--chaos <SEED>",
        "--chaos-topics",
        "--chaos-status-pct",
        "--chaos-drop-pct",
        "--chaos-max-bytes",
        "--chaos-max-ms",
        "--chaos-stall-pct",
        "--chaos-stall-ms",
        "--chaos-trickle-pct",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let out = Command::new(BIN)
        .args(["--chaos", "1", "--chaos-drop-pct", "101"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
