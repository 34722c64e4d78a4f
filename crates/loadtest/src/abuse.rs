//! `sse-load abuse`: replays each attack of issue 19 against a fresh dev server for a
//! bounded time, with the server's default flags, and prints the server's peak RSS per
//! attack while a well-behaved client checks that it loses nothing.
//!
//! For every attack: a server is started (`--demo-interval-ms 0`, nothing else changed); a
//! well-behaved subscriber follows topic `honest` (a live stream; when the server ends it, it
//! resumes with `Last-Event-ID`, as a browser would) while a well-behaved publisher publishes
//! `{"seq": n}` there 50 times a second; the attack runs for `--secs`; the server's `VmRSS`
//! is sampled every 20 ms (and `VmHWM` read at the end). The subscriber must receive ids
//! `1..=published`, each once, in order, with no `reset`, and every attack's peak RSS must
//! stay within `--budget-mib` (default: the default retention budget, 64 MiB, plus 64 MiB).
//! Otherwise the exit status is 1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;
use wasm_sse_codec::{Item, Parser};

use crate::{check_fd_limit, open_stream, start_devserver, Dechunk, OpenStream};
use wasm_sse_test_support::devserver_bin;

/// Flags of `sse-load abuse`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct AbuseArgs {
    /// Seconds each attack runs (at most 120).
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Largest accepted peak RSS of the server under any attack, in MiB.
    #[arg(long, default_value_t = 128)]
    budget_mib: u64,
    /// Run only the attacks whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// The sse-devserver binary (default: $SSE_DEVSERVER_BIN, else the one next to this binary).
    #[arg(long)]
    devserver_bin: Option<PathBuf>,
    /// Extra argument for sse-devserver (repeatable).
    #[arg(long = "devserver-arg", allow_hyphen_values = true)]
    devserver_args: Vec<String>,
}

/// The attacks, in the order of the issue's table.
const ATTACKS: [(&str, &str); 9] = [
    ("retain", "publishers flood 32 topics with 64 KiB events"),
    (
        "replay",
        "600 clients resume from id 0 of a full topic and never read",
    ),
    (
        "huge",
        "clients ask for 64 MiB hugeBytes events and never read",
    ),
    (
        "topics",
        "subscribes to ever new topic names (1,000 held open)",
    ),
    ("cross-site", "text/plain and foreign-Origin publishes"),
    ("rebinding", "requests with a foreign Host"),
    ("slow", "500 live subscribers of the busy topic never read"),
    ("echo", "POST /events with 64 KiB bodies, never read"),
    (
        "buffer",
        "buffer=1 responses of 16 MiB hugeBytes events, never read",
    ),
];

/// One request on a fresh connection; the status (0 when none came).
async fn status_of(addr: SocketAddr, request: &[u8]) -> u16 {
    let Ok(Ok(mut sock)) =
        tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await
    else {
        return 0;
    };
    if sock.write_all(request).await.is_err() {
        return 0;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while !got.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return 0,
        }
    }
    String::from_utf8_lossy(&got)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Sends `request` on a connection with a tiny receive buffer and never reads: the socket
/// is returned to be held open.
async fn non_reader(addr: SocketAddr, request: &[u8]) -> Option<TcpStream> {
    let sock = TcpSocket::new_v4().ok()?;
    sock.set_recv_buffer_size(4096).ok()?;
    let mut s = tokio::time::timeout(Duration::from_secs(5), sock.connect(addr))
        .await
        .ok()?
        .ok()?;
    s.write_all(request).await.ok()?;
    Some(s)
}

fn publish_request(topic: &str, content_type: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /publish?topic={topic} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The 64 KiB publish body of the flooding attacks (the default `--max-body-bytes`).
fn big_body() -> String {
    format!("{{\"data\":\"{}\"}}", "z".repeat(64 * 1024 - 12))
}

/// Runs attack `name` until `stop` is set; returns a line about what it did.
async fn attack(name: &str, addr: SocketAddr, stop: Arc<AtomicBool>) -> String {
    let mut held: Vec<TcpStream> = Vec::new();
    let mut statuses: std::collections::BTreeMap<u16, u64> = Default::default();
    let mut note = |s: u16| *statuses.entry(s).or_default() += 1;
    match name {
        "retain" => {
            let body = big_body();
            let mut set = JoinSet::new();
            for w in 0..4u64 {
                let stop = stop.clone();
                let body = body.clone();
                set.spawn(async move {
                    let mut n = 0u64;
                    let mut ok = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let topic = format!("flood-{}", (w * 8 + n) % 32);
                        let req = publish_request(&topic, "application/json", "", &body);
                        ok += u64::from(status_of(addr, &req).await == 200);
                        n += 1;
                    }
                    ok
                });
            }
            let mut ok = 0;
            while let Some(r) = set.join_next().await {
                ok += r.unwrap_or(0);
            }
            return format!("{ok} events of 64 KiB published (200) to 32 topics");
        }
        "replay" => {
            let body = big_body();
            for _ in 0..256 {
                let req = publish_request("full", "application/json", "", &body);
                note(status_of(addr, &req).await);
            }
            let req =
                b"GET /events?topic=full HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: 0\r\n\r\n";
            while held.len() < 600 && !stop.load(Ordering::Relaxed) {
                if let Some(s) = non_reader(addr, req).await {
                    held.push(s);
                }
            }
        }
        "huge" => {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && held.len() < 400 {
                let transport = if i.is_multiple_of(2) {
                    "sse"
                } else {
                    "long-poll"
                };
                let req = format!(
                    "GET /events?topic=h{i}&transport={transport}&hugeBytes=67108864&closeAfter=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                );
                if let Some(s) = non_reader(addr, req.as_bytes()).await {
                    held.push(s);
                }
                i += 1;
            }
        }
        "topics" => {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let req = format!("GET /events?topic=anon-{i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
                if held.len() < 1000 {
                    if let Some(s) = non_reader(addr, req.as_bytes()).await {
                        held.push(s);
                    }
                } else {
                    let req = format!(
                        "GET /events?topic=anon-{i}&closeAfter=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    );
                    note(status_of(addr, req.as_bytes()).await);
                }
                i += 1;
            }
            // After all that, a publish to a topic never seen before.
            let req = publish_request("brand-new", "application/json", "", r#"{"data":"x"}"#);
            let s = status_of(addr, &req).await;
            return format!("{i} subscribes to new names; then a publish to a new topic: {s}");
        }
        "cross-site" => {
            let body = r#"{"data":"x"}"#;
            while !stop.load(Ordering::Relaxed) {
                let plain = publish_request(
                    "honest",
                    "text/plain;charset=UTF-8",
                    "Origin: http://evil.example\r\n",
                    body,
                );
                note(status_of(addr, &plain).await);
                let plain = publish_request("honest", "text/plain", "", body);
                note(status_of(addr, &plain).await);
                let json = publish_request(
                    "honest",
                    "application/json",
                    "Origin: http://evil.example\r\n",
                    body,
                );
                note(status_of(addr, &json).await);
            }
        }
        "rebinding" => {
            while !stop.load(Ordering::Relaxed) {
                note(status_of(addr, b"GET /events?topic=honest&lastEventId=0&closeAfter=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n").await);
                let req = format!(
                    "POST /publish?topic=honest HTTP/1.1\r\nHost: evil.example:{}\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{{\"data\":\"x\"}}",
                    addr.port()
                );
                note(status_of(addr, req.as_bytes()).await);
            }
        }
        "slow" => {
            let req = b"GET /events?topic=honest HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
            while held.len() < 500 && !stop.load(Ordering::Relaxed) {
                if let Some(s) = non_reader(addr, req).await {
                    held.push(s);
                }
            }
        }
        "echo" => {
            let body = "e".repeat(64 * 1024);
            while held.len() < 1000 && !stop.load(Ordering::Relaxed) {
                let req = format!(
                    "POST /events?topic=e&echo=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if let Some(s) = non_reader(addr, req.as_bytes()).await {
                    held.push(s);
                }
            }
        }
        "buffer" => {
            let mut i = 0u64;
            while held.len() < 400 && !stop.load(Ordering::Relaxed) {
                let req = format!(
                    "GET /events?topic=b{i}&buffer=1&bufferMs=50&hugeBytes=16777216&closeAfter=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                );
                if let Some(s) = non_reader(addr, req.as_bytes()).await {
                    held.push(s);
                }
                i += 1;
            }
        }
        _ => {}
    }
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}x {s}")).collect();
    format!(
        "{} connections held{}{}",
        held.len(),
        if statuses.is_empty() {
            ""
        } else {
            "; answers: "
        },
        statuses.join(", ")
    )
}

/// What the well-behaved subscriber saw.
#[derive(Debug, Default)]
struct Honest {
    /// Ids received, in order.
    ids: Vec<u64>,
    resets: u64,
    reconnects: u64,
}

/// Follows topic `honest` until `stop`, resuming after each end.
async fn subscriber(addr: SocketAddr, stop: Arc<AtomicBool>) -> Honest {
    let mut seen = Honest::default();
    let mut last: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        let resume = last.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        let req = format!(
            "GET /events?topic=honest HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{resume}\r\n"
        );
        let Ok(OpenStream {
            mut sock,
            chunked,
            rest,
        }) = open_stream(addr, &req, Duration::from_secs(5)).await
        else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            seen.reconnects += 1;
            continue;
        };
        let mut dechunk = Dechunk::default();
        let mut parser = Parser::new();
        let mut on = |bytes: &[u8], seen: &mut Honest, last: &mut Option<u64>| {
            let mut feed = |piece: &[u8]| {
                let _ = parser.feed(piece, |item| {
                    if let Item::Event(e) = item {
                        if e.event_type() == "reset" {
                            seen.resets += 1;
                        } else if let Ok(id) = e.id().parse::<u64>() {
                            seen.ids.push(id);
                            *last = Some(id);
                        }
                    }
                });
            };
            if chunked {
                dechunk.feed(bytes, &mut feed);
            } else {
                feed(bytes);
            }
        };
        on(&rest, &mut seen, &mut last);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let read = tokio::select! {
                r = sock.read(&mut buf) => r,
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    if stop.load(Ordering::Relaxed) { break; }
                    continue;
                }
            };
            match read {
                Ok(n) if n > 0 => on(&buf[..n], &mut seen, &mut last),
                _ => break,
            }
        }
        if !stop.load(Ordering::Relaxed) {
            seen.reconnects += 1;
        }
    }
    seen
}

/// Publishes `{"seq": n}` to `honest` 50 times a second until `stop`; returns how many
/// were published (answered 200).
async fn publisher(addr: SocketAddr, stop: Arc<AtomicBool>, published: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let body = format!("{{\"data\":{{\"seq\":{}}}}}", n + 1);
        let req = publish_request("honest", "application/json", "", &body);
        if status_of(addr, &req).await == 200 {
            n += 1;
            published.store(n, Ordering::Relaxed);
        }
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs every attack; `Err` when one broke the goal.
pub(crate) async fn run(args: AbuseArgs) -> Result<(), String> {
    if args.secs > 120 {
        return Err("keep runs bounded: --secs at most 120".into());
    }
    check_fd_limit(2200)?;
    let bin = args.devserver_bin.clone().unwrap_or_else(devserver_bin);
    let mut failures = Vec::new();
    println!(
        "sse-load abuse: {} s per attack, default flags, goal: peak RSS <= {} MiB and the well-behaved client loses nothing\n",
        args.secs, args.budget_mib
    );
    println!(
        "{:<11} {:>9} {:>9} {:>10} {:>9}  what the attack did",
        "attack", "peak MiB", "HWM MiB", "honest", "lost/dup"
    );
    for (name, what) in ATTACKS {
        if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(["--addr", "127.0.0.1:0", "--demo-interval-ms", "0"]);
        cmd.args(&args.devserver_args);
        let server = start_devserver(cmd)?;
        let (addr, pid) = (server.addr(), server.pid());
        let stop = Arc::new(AtomicBool::new(false));
        let stop_attack = Arc::new(AtomicBool::new(false));
        let published = Arc::new(AtomicU64::new(0));
        let sub = tokio::spawn(subscriber(addr, stop.clone()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let publ = tokio::spawn(publisher(addr, stop_attack.clone(), published.clone()));
        let atk = tokio::spawn({
            let stop = stop_attack.clone();
            let name = name.to_owned();
            async move { attack(&name, addr, stop).await }
        });
        let started = Instant::now();
        let mut peak = 0;
        while started.elapsed() < Duration::from_secs(args.secs) {
            peak = peak.max(status_kib(pid, "VmRSS:"));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop_attack.store(true, Ordering::Relaxed);
        let did = atk.await.unwrap_or_default();
        let _ = publ.await;
        // Let the last events reach the subscriber (bounded).
        let total = published.load(Ordering::Relaxed);
        let hwm = status_kib(pid, "VmHWM:");
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::Relaxed);
        let seen = sub.await.unwrap_or_default();
        tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap_or_default();
        let want: Vec<u64> = (1..=total).collect();
        let exact = seen.ids == want && seen.resets == 0;
        let mut uniq = seen.ids.clone();
        uniq.sort_unstable();
        uniq.dedup();
        let dup = seen.ids.len() - uniq.len();
        let lost = want.len().saturating_sub(uniq.len());
        let peak_mib = peak as f64 / 1024.0;
        println!(
            "{:<11} {:>9.1} {:>9.1} {:>10} {:>9}  {what}: {did}{}",
            name,
            peak_mib,
            hwm as f64 / 1024.0,
            format!("{}/{}", seen.ids.len(), total),
            format!("{lost}/{dup}"),
            if seen.reconnects > 0 {
                format!(
                    " (the well-behaved client reconnected {} times)",
                    seen.reconnects
                )
            } else {
                String::new()
            }
        );
        if !exact {
            failures.push(format!(
                "{name}: the well-behaved client got {} of {total} events ({lost} lost, {dup} duplicated, {} resets, in order: {})",
                seen.ids.len(),
                seen.resets,
                seen.ids.windows(2).all(|w| w[0] < w[1])
            ));
        }
        if peak_mib > args.budget_mib as f64 {
            failures.push(format!(
                "{name}: peak RSS {peak_mib:.1} MiB is over {} MiB",
                args.budget_mib
            ));
        }
    }
    if failures.is_empty() {
        println!("\nall attacks within the goal");
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
