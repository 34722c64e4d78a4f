//! `sse-load soak`: many clients held under steady publishing for a bounded time.
//!
//! Starts the dev server itself on `127.0.0.1:0`, connects every client (a live stream, no
//! `Last-Event-ID`) before the first publish, then publishes ids `1..=rate*duration` at a
//! steady rate, each with data `"<id> <padding>"`. The server's RSS (`VmRSS` of
//! `/proc/PID/status`) is sampled every few seconds. Whenever a client's stream ends (the
//! server cut it for lag, or `--churn` made it cut), the client resumes with `Last-Event-ID`
//! like a browser would. At the end every client must hold exactly the ids
//! `1..=rate*duration`, each once, in order, with the right data; and the RSS at the end must
//! be within `--max-growth-pct` of the RSS after the warm-up. Otherwise the exit status is 1.
//!
//! Since every client connects before the first publish, "every event published after it
//! connected" is every event.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wasm_sse_codec::{Item, Parser};

use crate::{
    check_fd_limit, devserver_cmd, open_stream, rss_kib, start_devserver, Dechunk, OpenError,
    OpenStream, Publisher,
};
use wasm_sse_test_support::devserver_bin;

/// The topic every client follows.
const TOPIC: &str = "soak";

/// Flags of `sse-load soak`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct SoakArgs {
    /// Concurrent SSE clients.
    #[arg(short = 'n', long, default_value_t = 1000)]
    clients: usize,
    /// Seconds of publishing (at most 900).
    #[arg(short, long, default_value_t = 60)]
    duration: u64,
    /// Events published per second (each goes to every client).
    #[arg(short, long, default_value_t = 20)]
    rate: u32,
    /// Bytes of padding in each event's data.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Seconds between two samples of the server's RSS.
    #[arg(long, default_value_t = 5)]
    sample_secs: u64,
    /// Seconds of publishing before the RSS baseline of the flatness check is taken (the
    /// retention ring, buffers and allocator pools settle meanwhile); default 10, or a third
    /// of `--duration` when that is shorter.
    #[arg(long)]
    warmup: Option<u64>,
    /// Largest accepted RSS growth from the end of the warm-up to the end, in percent of the
    /// RSS after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    max_growth_pct: f64,
    /// Percent of the clients whose every connection the server ends after 20 to 119 events
    /// (the `closeAfter` fault), so they resume with `Last-Event-ID` all along.
    #[arg(long, default_value_t = 0)]
    churn: u32,
    /// Clients that read slowly (4 kibibytes every `--slow-ms`) during the first half of
    /// publishing, so that the server disconnects them for lag (with a small
    /// `--client-queue` and a large `--payload`) and they resume with `Last-Event-ID`.
    #[arg(long, default_value_t = 0)]
    slow: usize,
    /// Pause between two reads of a slow client, in milliseconds.
    #[arg(long, default_value_t = 100)]
    slow_ms: u64,
    /// Seconds to wait after the last publish for every client to receive it.
    #[arg(long, default_value_t = 15)]
    drain: u64,
    /// Maximum connection attempts in flight.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// The sse-devserver binary (default: $SSE_DEVSERVER_BIN, else the one next to this binary).
    #[arg(long)]
    devserver_bin: Option<PathBuf>,
    /// Extra argument for sse-devserver (repeatable), e.g. `--devserver-arg=--client-queue=8`.
    #[arg(long = "devserver-arg", allow_hyphen_values = true)]
    devserver_args: Vec<String>,
}

impl SoakArgs {
    fn warmup(&self) -> u64 {
        self.warmup.unwrap_or(10.min(self.duration / 3))
    }
}

/// State shared by the clients and the driver.
struct Shared {
    /// Ids `1..=total` are published.
    total: u64,
    /// Clients whose first connection succeeded.
    connected: AtomicUsize,
    /// Clients whose first connection failed for good.
    failed: AtomicUsize,
    /// Streams open right now.
    open: AtomicUsize,
    /// Clients that received id `total`.
    finished: AtomicUsize,
    /// Events received by all clients (duplicates included).
    deliveries: AtomicU64,
    /// The server is being stopped: streams that end now are not resumed.
    stopping: AtomicBool,
    /// Slow clients are slow while this is set (the first half of publishing).
    slow_phase: AtomicBool,
    /// Pause between two reads of a slow client.
    slow_pause: Duration,
}

/// What one client saw.
#[derive(Debug, Default)]
struct Tally {
    /// Bit `id - 1` is set once id `id` arrived.
    seen: Vec<u64>,
    /// Distinct ids received.
    distinct: u64,
    /// Events received (duplicates included).
    received: u64,
    /// Ids received a second time.
    duplicates: u64,
    /// First receipts of an id below one already received.
    out_of_order: u64,
    /// Events whose id is not in `1..=total` or whose data does not start with their id.
    corrupt: u64,
    /// Highest id received.
    last_id: u64,
    /// Streams opened.
    connections: u32,
    /// `: overflow` notices (the server cut the stream for lag).
    overflows: u32,
    /// Streams the server ended on purpose (`closeAfter`).
    cut: u32,
    /// `event: reset` received (the resume could not be honoured exactly).
    resets: u32,
    /// Failed connection attempts (refused, non-200, I/O error).
    failed_attempts: u32,
    /// The last failure, if any.
    last_error: Option<String>,
}

impl Tally {
    fn new(total: u64) -> Self {
        Tally {
            seen: vec![0; usize::try_from(total.div_ceil(64)).unwrap_or(0)],
            ..Tally::default()
        }
    }

    /// Accounts one event; `true` when it was id `total`, received for the first time.
    fn event(&mut self, total: u64, id: &str, data: &str) -> bool {
        self.received += 1;
        let Some(id) = id.parse::<u64>().ok().filter(|id| (1..=total).contains(id)) else {
            self.corrupt += 1;
            return false;
        };
        if data.split(' ').next() != Some(id.to_string().as_str()) {
            self.corrupt += 1;
        }
        let (word, bit) = (usize::try_from((id - 1) / 64).unwrap_or(0), (id - 1) % 64);
        if self.seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return false;
        }
        self.seen[word] |= 1 << bit;
        self.distinct += 1;
        if id < self.last_id {
            self.out_of_order += 1;
        }
        self.last_id = self.last_id.max(id);
        id == total
    }

    fn complete(&self, total: u64) -> bool {
        self.distinct == total
            && self.duplicates == 0
            && self.out_of_order == 0
            && self.corrupt == 0
            && self.resets == 0
    }
}

/// `closeAfter` for connection number `conn` of churning client `idx`: 20 to 119 events.
fn churn_close_after(idx: usize, conn: u32) -> u64 {
    20 + (idx as u64 * 37 + u64::from(conn) * 53) % 100
}

/// Feeds received body bytes (de-chunked first when `dechunk` is given) to the client's
/// parser and accounts what it finds.
fn feed(
    t: &mut Tally,
    shared: &Shared,
    parser: &mut Parser,
    dechunk: Option<&mut Dechunk>,
    bytes: &[u8],
) {
    let mut error = None;
    let mut on_item = |item: Item| match item {
        Item::Event(e) if e.event_type() == "reset" => t.resets += 1,
        Item::Event(e) => {
            shared.deliveries.fetch_add(1, Ordering::Relaxed);
            if t.event(shared.total, e.id(), e.data()) {
                shared.finished.fetch_add(1, Ordering::AcqRel);
            }
        }
        Item::Comment(c) if c.starts_with("overflow") => t.overflows += 1,
        Item::Comment(_) | Item::Retry(_) => {}
    };
    let mut parse = |piece: &[u8]| {
        if let Err(e) = parser.feed(piece, &mut on_item) {
            error = Some(format!("parse: {e}"));
        }
    };
    match dechunk {
        Some(d) => d.feed(bytes, parse),
        None => parse(bytes),
    }
    if error.is_some() {
        t.last_error = error;
    }
}

/// One client: a live stream, resumed with `Last-Event-ID` whenever it ends, until the
/// server is stopped. At most 50 failed attempts in a row.
async fn client(
    idx: usize,
    addr: SocketAddr,
    churn: bool,
    slow: bool,
    shared: Arc<Shared>,
    gate: Arc<Semaphore>,
) -> (usize, Tally) {
    let mut t = Tally::new(shared.total);
    let mut cursor = String::new();
    let mut failures_in_a_row = 0u32;
    let mut buf = vec![0u8; 16384];
    let mut first = true;
    while !shared.stopping.load(Ordering::Acquire) && failures_in_a_row < 50 {
        let mut path = format!("/events?topic={TOPIC}");
        if churn {
            path.push_str(&format!(
                "&closeAfter={}",
                churn_close_after(idx, t.connections)
            ));
        }
        let resume = if cursor.is_empty() {
            String::new()
        } else {
            format!("Last-Event-ID: {cursor}\r\n")
        };
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{resume}\r\n"
        );
        let opened = {
            let _permit = gate.acquire().await;
            open_stream(addr, &req, Duration::from_secs(10)).await
        };
        let OpenStream {
            mut sock,
            chunked,
            rest,
        } = match opened {
            Ok(s) => s,
            Err(e) => {
                t.failed_attempts += 1;
                failures_in_a_row += 1;
                let wait = match &e {
                    OpenError::Status(503) => Duration::from_secs(1),
                    _ => Duration::from_millis(200),
                };
                t.last_error = Some(e.to_string());
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        failures_in_a_row = 0;
        t.connections += 1;
        if first {
            first = false;
            shared.connected.fetch_add(1, Ordering::AcqRel);
        }
        shared.open.fetch_add(1, Ordering::AcqRel);
        let mut parser = Parser::new();
        let mut dechunk = Dechunk::default();
        let overflows_before = t.overflows;
        feed(
            &mut t,
            &shared,
            &mut parser,
            chunked.then_some(&mut dechunk),
            &rest,
        );
        // The response ends with its last chunk (the connection itself may stay open for
        // keep-alive) or, unchunked, when the server closes the connection.
        while !dechunk.done {
            let slow_now = slow && shared.slow_phase.load(Ordering::Acquire);
            if slow_now {
                tokio::time::sleep(shared.slow_pause).await;
            }
            let want = if slow_now { 4096 } else { buf.len() };
            match sock.read(&mut buf[..want]).await {
                Ok(n) if n > 0 => feed(
                    &mut t,
                    &shared,
                    &mut parser,
                    chunked.then_some(&mut dechunk),
                    &buf[..n],
                ),
                _ => break,
            }
        }
        shared.open.fetch_sub(1, Ordering::AcqRel);
        if churn
            && chunked
            && dechunk.done
            && t.overflows == overflows_before
            && !shared.stopping.load(Ordering::Acquire)
        {
            t.cut += 1;
        }
        cursor = parser.last_event_id().to_owned();
    }
    if first {
        shared.failed.fetch_add(1, Ordering::AcqRel);
    }
    (idx, t)
}

/// One RSS sample: seconds since the first publish (negative: before), kibibytes, open streams.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: f64,
    rss_kib: u64,
    open: usize,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Least-squares slope of RSS over time, in kibibytes per minute.
fn slope_kib_per_min(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mx = samples.iter().map(|s| s.at).sum::<f64>() / n;
    let my = samples.iter().map(|s| s.rss_kib as f64).sum::<f64>() / n;
    let sxy: f64 = samples
        .iter()
        .map(|s| (s.at - mx) * (s.rss_kib as f64 - my))
        .sum();
    let sxx: f64 = samples.iter().map(|s| (s.at - mx).powi(2)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx * 60.0
    }
}

/// The sample taken at or right after `at` seconds of publishing.
fn sample_at(samples: &[Sample], at: f64) -> Option<Sample> {
    samples.iter().copied().find(|s| s.at >= at - 0.5)
}

fn validate(args: &SoakArgs) -> Result<(), String> {
    if args.clients == 0 || args.clients > 20_000 {
        return Err("--clients must be within 1..=20000".into());
    }
    if args.duration == 0 || args.duration > 900 {
        return Err("keep runs bounded: --duration must be within 1..=900".into());
    }
    if args.rate == 0 || args.rate > 1000 {
        return Err("--rate must be within 1..=1000".into());
    }
    if args.drain > 120 {
        return Err("keep runs bounded: --drain at most 120".into());
    }
    if args.sample_secs == 0 || args.sample_secs > args.duration {
        return Err("--sample-secs must be within 1..=--duration".into());
    }
    if args.warmup() >= args.duration {
        return Err("--warmup must be shorter than --duration".into());
    }
    if args.churn > 100 {
        return Err("--churn is a percentage (0..=100)".into());
    }
    Ok(())
}

/// Runs the soak, prints the figures; `Err` when a check failed.
pub(crate) async fn run(args: SoakArgs) -> Result<(), String> {
    validate(&args)?;
    check_fd_limit(args.clients)?;
    let bin = args.devserver_bin.clone().unwrap_or_else(devserver_bin);
    let mut cmd = devserver_cmd(&bin, args.clients);
    cmd.args(&args.devserver_args);
    let server = start_devserver(cmd)?;
    let pid = server.pid();
    let addr = server.addr();
    let total = u64::from(args.rate) * args.duration;
    let shared = Arc::new(Shared {
        total,
        connected: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        open: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        deliveries: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
        slow_phase: AtomicBool::new(true),
        slow_pause: Duration::from_millis(args.slow_ms),
    });

    // Connect everyone (bounded), then let the server settle.
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let churners = args.clients * args.churn as usize / 100;
    let mut set = JoinSet::new();
    let t0 = Instant::now();
    for idx in 0..args.clients {
        // Churning clients are spread evenly over the index range.
        let churn =
            churners > 0 && idx * churners / args.clients != (idx + 1) * churners / args.clients;
        // Slow clients are the last ones.
        let slow = idx >= args.clients - args.slow.min(args.clients);
        set.spawn(client(idx, addr, churn, slow, shared.clone(), gate.clone()));
    }
    let connect_deadline = t0 + Duration::from_secs(60);
    while shared.connected.load(Ordering::Acquire) + shared.failed.load(Ordering::Acquire)
        < args.clients
        && Instant::now() < connect_deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connected = shared.connected.load(Ordering::Acquire);
    eprintln!(
        "[soak] {connected}/{} clients connected in {:.1} s ({churners} churning, {} slow)",
        args.clients,
        t0.elapsed().as_secs_f64(),
        args.slow.min(args.clients)
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Sample RSS every `sample_secs` from the first publish on, until told to stop.
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let publish_start = Instant::now();
    let sampler = {
        let (samples, sampling, shared) = (samples.clone(), sampling.clone(), shared.clone());
        let period = Duration::from_secs(args.sample_secs);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while sampling.load(Ordering::Acquire) {
                tick.tick().await;
                let s = Sample {
                    at: publish_start.elapsed().as_secs_f64(),
                    rss_kib: rss_kib(pid),
                    open: shared.open.load(Ordering::Acquire),
                };
                samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(s);
            }
        })
    };

    // Publish ids 1..=total at a steady rate; each answer must carry the expected id.
    let padding = "p".repeat(args.payload);
    let mut published = 0u64;
    let mut publish_error = None;
    match Publisher::connect(addr).await {
        Ok(mut publisher) => {
            let period = Duration::from_secs_f64(1.0 / f64::from(args.rate));
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            eprintln!("[soak] publishing {total} events at {}/s", args.rate);
            for id in 1..=total {
                tick.tick().await;
                if id > total / 2 {
                    shared.slow_phase.store(false, Ordering::Release);
                }
                let body = format!("{{\"id\":{id},\"data\":\"{id} {padding}\"}}");
                match publisher.post(TOPIC, &body).await {
                    Ok(answer) if answer == format!("{{\"id\":\"{id}\"}}").as_bytes() => {
                        published += 1;
                    }
                    Ok(answer) => {
                        publish_error = Some(format!(
                            "publish {id} answered {}",
                            String::from_utf8_lossy(&answer)
                        ));
                        break;
                    }
                    Err(e) => {
                        publish_error = Some(format!("publish {id} failed: {e}"));
                        break;
                    }
                }
            }
        }
        Err(e) => publish_error = Some(format!("cannot connect the publisher: {e}")),
    }
    let publish_secs = publish_start.elapsed().as_secs_f64();

    // Drain: every connected client must get the last id (bounded).
    let drain_start = Instant::now();
    let drain_deadline = drain_start + Duration::from_secs(args.drain);
    while shared.finished.load(Ordering::Acquire) < connected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_secs = drain_start.elapsed().as_secs_f64();
    let held_at_end = shared.open.load(Ordering::Acquire);
    let end = Sample {
        at: publish_start.elapsed().as_secs_f64(),
        rss_kib: rss_kib(pid),
        open: held_at_end,
    };
    sampling.store(false, Ordering::Release);
    sampler.abort();

    // Stop the server: every stream ends and no client resumes.
    shared.stopping.store(true, Ordering::Release);
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .map_err(|e| format!("stopping the server: {e}"))?;
    let mut tallies: Vec<Option<Tally>> = (0..args.clients).map(|_| None).collect();
    let collect = async {
        while let Some(r) = set.join_next().await {
            if let Ok((idx, t)) = r {
                tallies[idx] = Some(t);
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(15), collect)
        .await
        .is_err()
    {
        eprintln!("[soak] some clients did not see their stream end");
    }
    set.abort_all();

    let mut samples = samples
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    samples.push(end);
    let report = Report::new(&args, total, published, &tallies, &samples, end);
    report.print(&args, connected, held_at_end, publish_secs, drain_secs);
    let mut failures = Vec::new();
    if let Some(e) = publish_error {
        failures.push(e);
    }
    if report.complete < args.clients {
        failures.push(format!(
            "{} of {} clients incomplete",
            args.clients - report.complete,
            args.clients
        ));
    }
    if !report.flat {
        failures.push(format!(
            "server RSS grew {:.1}% after the warm-up (limit {}%)",
            report.growth_pct, args.max_growth_pct
        ));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("soak FAILED: {}", failures.join("; ")))
    }
}

/// The figures of a soak.
struct Report {
    deliveries: u64,
    complete: usize,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    corrupt: u64,
    resets: u64,
    reconnects: u64,
    overflows: u64,
    cut: u64,
    failed_attempts: u64,
    worst: Option<(usize, String)>,
    rss_start: u64,
    rss_warm: u64,
    warm_at: f64,
    rss_mid: u64,
    mid_at: f64,
    rss_end: u64,
    growth_pct: f64,
    slope: f64,
    flat: bool,
    samples: Vec<Sample>,
}

impl Report {
    fn new(
        args: &SoakArgs,
        total: u64,
        published: u64,
        tallies: &[Option<Tally>],
        samples: &[Sample],
        end: Sample,
    ) -> Self {
        let mut r = Report {
            deliveries: 0,
            complete: 0,
            lost: 0,
            duplicated: 0,
            out_of_order: 0,
            corrupt: 0,
            resets: 0,
            reconnects: 0,
            overflows: 0,
            cut: 0,
            failed_attempts: 0,
            worst: None,
            rss_start: samples.first().map_or(0, |s| s.rss_kib),
            rss_warm: 0,
            warm_at: 0.0,
            rss_mid: 0,
            mid_at: 0.0,
            rss_end: end.rss_kib,
            growth_pct: 0.0,
            slope: 0.0,
            flat: false,
            samples: samples.to_vec(),
        };
        for (idx, t) in tallies.iter().enumerate() {
            let Some(t) = t else {
                // A client that never handed in its tally lost everything.
                r.lost += total;
                r.worst.get_or_insert((idx, "did not finish".into()));
                continue;
            };
            r.deliveries += t.received;
            // Ids that were never published are lost too: `total` is what was due.
            let lost = total - t.distinct;
            r.lost += lost;
            r.duplicated += t.duplicates;
            r.out_of_order += t.out_of_order;
            r.corrupt += t.corrupt;
            r.resets += u64::from(t.resets);
            r.reconnects += u64::from(t.connections.saturating_sub(1));
            r.overflows += u64::from(t.overflows);
            r.cut += u64::from(t.cut);
            r.failed_attempts += u64::from(t.failed_attempts);
            if t.complete(total) && published == total {
                r.complete += 1;
            } else if r.worst.is_none() {
                r.worst = Some((
                    idx,
                    format!(
                        "{} of {total} ids, last {}, {} dup, {} out of order, {} corrupt, {} resets, {} connections, last error {:?}",
                        t.distinct,
                        t.last_id,
                        t.duplicates,
                        t.out_of_order,
                        t.corrupt,
                        t.resets,
                        t.connections,
                        t.last_error
                    ),
                ));
            }
        }
        if let Some(s) = sample_at(samples, args.warmup() as f64) {
            (r.rss_warm, r.warm_at) = (s.rss_kib, s.at);
        }
        if let Some(s) = sample_at(samples, args.duration as f64 / 2.0) {
            (r.rss_mid, r.mid_at) = (s.rss_kib, s.at);
        }
        r.growth_pct = if r.rss_warm == 0 {
            f64::INFINITY
        } else {
            (r.rss_end as f64 - r.rss_warm as f64) / r.rss_warm as f64 * 100.0
        };
        let after_warmup: Vec<Sample> = samples
            .iter()
            .copied()
            .filter(|s| s.at >= args.warmup() as f64 - 0.5)
            .collect();
        r.slope = slope_kib_per_min(&after_warmup);
        // Growth is judged from the first sample at or after the warm-up (at least one
        // sampling period into publishing) to the end, with every client still connected.
        r.flat = r.growth_pct <= args.max_growth_pct;
        r
    }

    fn print(
        &self,
        args: &SoakArgs,
        connected: usize,
        held_at_end: usize,
        publish_secs: f64,
        drain_secs: f64,
    ) {
        let total = u64::from(args.rate) * args.duration;
        println!(
            "\nsse-load soak: {} clients, {} events/s for {} s, {}-byte padding, churn {}%, {} slow, loopback",
            args.clients, args.rate, args.duration, args.payload, args.churn, args.slow
        );
        let row = |k: &str, v: String| println!("  {k:<20} {v}");
        row(
            "clients",
            format!(
                "{} ({connected} connected before the first publish, {held_at_end} streams open at the end)",
                args.clients
            ),
        );
        row(
            "duration",
            format!("{publish_secs:.1} s publishing + {drain_secs:.1} s until the last delivery"),
        );
        row("events published", format!("{total} (ids 1..={total})"));
        row(
            "deliveries",
            format!(
                "{} (expected {} = events x clients)",
                self.deliveries,
                total * args.clients as u64
            ),
        );
        row(
            "complete clients",
            format!("{} / {}", self.complete, args.clients),
        );
        row("lost", self.lost.to_string());
        row("duplicated", self.duplicated.to_string());
        row("out of order", self.out_of_order.to_string());
        row("corrupt", self.corrupt.to_string());
        row(
            "resumes",
            format!(
                "{} with Last-Event-ID ({} after a lag disconnect, {} after a closeAfter cut), {} resets, {} failed attempts",
                self.reconnects, self.overflows, self.cut, self.resets, self.failed_attempts
            ),
        );
        if let Some((idx, what)) = &self.worst {
            row("first incomplete", format!("client {idx}: {what}"));
        }
        row(
            "server RSS",
            format!(
                "start of publishing {:.1} MiB, after warm-up ({:.0} s) {:.1} MiB, middle ({:.0} s) {:.1} MiB, end ({:.0} s) {:.1} MiB",
                mib(self.rss_start),
                self.warm_at,
                mib(self.rss_warm),
                self.mid_at,
                mib(self.rss_mid),
                self.samples.last().map_or(0.0, |s| s.at),
                mib(self.rss_end)
            ),
        );
        row(
            "RSS growth",
            format!(
                "{:+.2} MiB ({:+.1}%) end vs after warm-up, limit {}%: {}; since start of publishing {:+.2} MiB",
                mib(self.rss_end) - mib(self.rss_warm),
                self.growth_pct,
                args.max_growth_pct,
                if self.flat { "flat" } else { "GROWING" },
                mib(self.rss_end) - mib(self.rss_start)
            ),
        );
        row(
            "RSS slope",
            format!(
                "{:+.0} KiB/min after the warm-up (least squares)",
                self.slope
            ),
        );
        let series: Vec<String> = self
            .samples
            .iter()
            .map(|s| format!("{:.0}s {:.1} ({})", s.at, mib(s.rss_kib), s.open))
            .collect();
        row("samples", "t RSS-MiB (open streams)".into());
        for chunk in series.chunks(6) {
            println!("  {:<20} {}", "", chunk.join(", "));
        }
        let pass = self.complete == args.clients && self.flat;
        row("result", if pass { "PASS" } else { "FAIL" }.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_gaps_duplicates_order_and_corruption() {
        let mut t = Tally::new(5);
        assert!(!t.event(5, "1", "1 p"));
        assert!(!t.event(5, "3", "3 p"));
        assert!(!t.event(5, "3", "3 p"));
        assert!(!t.event(5, "2", "2 p"));
        assert!(!t.event(5, "9", "9 p"));
        assert!(!t.event(5, "x", "x"));
        assert!(t.event(5, "5", "4 p"));
        assert_eq!(
            (
                t.received,
                t.distinct,
                t.duplicates,
                t.out_of_order,
                t.corrupt
            ),
            (7, 4, 1, 1, 3)
        );
        assert!(!t.complete(5));
        let mut t = Tally::new(70);
        for id in 1..=70u64 {
            assert_eq!(t.event(70, &id.to_string(), &format!("{id} pad")), id == 70);
        }
        assert!(t.complete(70));
        t.resets = 1;
        assert!(!t.complete(70));
    }

    #[test]
    fn slope_and_samples() {
        let s: Vec<Sample> = (0..5)
            .map(|i| Sample {
                at: f64::from(i) * 5.0,
                rss_kib: 1000 + u64::try_from(i).unwrap_or(0) * 10,
                open: 0,
            })
            .collect();
        assert!((slope_kib_per_min(&s) - 120.0).abs() < 1e-9);
        assert_eq!(sample_at(&s, 10.0).map(|s| s.rss_kib), Some(1020));
        assert_eq!(sample_at(&s, 99.0).map(|s| s.rss_kib), None);
        assert!((20..120).contains(&churn_close_after(3, 7)));
    }
}
