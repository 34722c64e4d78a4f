//! `sse-load`: load tool for sse-devserver.
//!
//! Starts each target server itself (the Rust `sse-devserver` and, for comparison, the
//! better-sse peer in `bench/devserver/better-sse-server.mjs`), opens N concurrent SSE
//! connections on loopback, publishes at rate R for a bounded time, and prints connections
//! held, delivered events per second, fan-out latency p50/p99 (publish to receipt, same clock) and
//! server RSS per idle connection, then the ratios between the two servers.
//!
//! Every run is bounded: connect phase, idle phase and publish phase each have a fixed time
//! limit, and the servers it started are stopped before it exits. Loopback only.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

mod abuse;
mod soak;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wasm_sse_test_support::{devserver_bin, DevServer, START_TIMEOUT};

/// Which servers to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The Rust dev server.
    Devserver,
    /// The better-sse (Node) peer.
    Node,
    /// Both, in one run, with ratios.
    Both,
}

/// Load tool for sse-devserver: N concurrent SSE connections on 127.0.0.1, publish at rate R,
/// report held connections, delivered events per second, fan-out latency p50/p99 and RSS/connection.
///
/// `sse-load soak` instead holds clients for a bounded time under steady publishing and
/// checks that the server's memory stays flat and that every client got every event.
#[derive(Parser, Debug)]
#[command(name = "sse-load", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    bench: Args,
}

/// What to run.
#[derive(Subcommand, Debug)]
enum Mode {
    /// Soak: clients held under steady publishing; memory must stay flat and every client's
    /// sequence complete (exit status 1 otherwise).
    Soak(soak::SoakArgs),
    /// Abuse: each attack of the dev server's threat table for a bounded time, with the
    /// server's peak RSS per attack and a well-behaved client that must lose nothing (exit
    /// status 1 otherwise).
    Abuse(abuse::AbuseArgs),
}

/// The benchmark's flags (the default mode).
#[derive(clap::Args, Debug)]
struct Args {
    /// Concurrent SSE connections.
    #[arg(short = 'n', long, default_value_t = 10_000)]
    connections: usize,
    /// Events published per second (each goes to every connection).
    #[arg(short, long, default_value_t = 10)]
    rate: u32,
    /// Seconds of publishing.
    #[arg(short, long, default_value_t = 20)]
    duration: u64,
    /// Seconds to hold the idle connections before measuring RSS.
    #[arg(long, default_value_t = 3)]
    idle: u64,
    /// Maximum connection attempts in flight.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Bytes of padding in each published event.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Servers to run.
    #[arg(long, value_enum, default_value_t = Target::Both)]
    target: Target,
    /// The sse-devserver binary (default: $SSE_DEVSERVER_BIN, else the one next to this binary).
    #[arg(long)]
    devserver_bin: Option<PathBuf>,
    /// Extra argument for sse-devserver (repeatable), e.g. `--devserver-arg=--threads=1`.
    #[arg(long = "devserver-arg", allow_hyphen_values = true)]
    devserver_args: Vec<String>,
    /// The peer server script.
    #[arg(long, default_value = "bench/devserver/better-sse-server.mjs")]
    node_script: PathBuf,
    /// The node binary.
    #[arg(long, default_value = "node")]
    node_bin: PathBuf,
}

/// Figures of one run.
#[derive(Debug, Default, Clone)]
struct Figures {
    name: String,
    connected: usize,
    held: usize,
    connect_secs: f64,
    published: u64,
    delivered: u64,
    expected: u64,
    delivered_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    rss_base_kib: u64,
    rss_idle_kib: u64,
    rss_load_kib: u64,
    rss_per_conn_kib: f64,
    server_cpu: f64,
    client_cpu: f64,
}

#[derive(Default)]
struct Stats {
    connected: AtomicUsize,
    open: AtomicUsize,
    failed: AtomicUsize,
    delivered: AtomicU64,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system) a process used so far (clock ticks of 10 ms).
fn cpu_secs(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

fn fd_limit() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = s.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// `Err` with the `ulimit -n` to use when this process (and the server it starts, which
/// inherits the limit) cannot open `connections` sockets plus some headroom.
fn check_fd_limit(connections: usize) -> Result<(), String> {
    if let Some(limit) = fd_limit() {
        let need = connections as u64 + 64;
        if limit < need {
            return Err(format!(
                "open-file limit {limit} is below {need}: raise it first (ulimit -n {})",
                need * 2
            ));
        }
    }
    Ok(())
}

/// Decodes `Transfer-Encoding: chunked`.
#[derive(Default)]
struct Dechunk {
    line: Vec<u8>,
    /// Bytes of chunk data still expected; `None` while reading a size line.
    data: Option<usize>,
    /// CRLF bytes to skip after a chunk.
    skip: usize,
    done: bool,
}

impl Dechunk {
    fn feed(&mut self, mut input: &[u8], mut out: impl FnMut(&[u8])) {
        while !input.is_empty() && !self.done {
            if self.skip > 0 {
                let n = self.skip.min(input.len());
                self.skip -= n;
                input = &input[n..];
                continue;
            }
            match self.data {
                Some(left) => {
                    let n = left.min(input.len());
                    out(&input[..n]);
                    input = &input[n..];
                    if left == n {
                        self.data = None;
                        self.skip = 2;
                    } else {
                        self.data = Some(left - n);
                    }
                }
                None => match input.iter().position(|&b| b == b'\n') {
                    Some(p) => {
                        self.line.extend_from_slice(&input[..p]);
                        input = &input[p + 1..];
                        let text = String::from_utf8_lossy(&self.line);
                        let hex = text.split(';').next().unwrap_or("").trim();
                        let size = usize::from_str_radix(hex, 16).unwrap_or(0);
                        self.line.clear();
                        if size == 0 {
                            self.done = true;
                        } else {
                            self.data = Some(size);
                        }
                    }
                    None => {
                        self.line.extend_from_slice(input);
                        input = &[];
                    }
                },
            }
        }
    }
}

/// Finds `data:` lines and turns their leading timestamp into a latency.
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

/// The first run of digits after `data:` (without allocating: the client reads 100,000
/// events a second in the benchmark, on the machine the server runs on).
fn timestamp(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"data:")?;
    let start = rest.iter().position(u8::is_ascii_digit)?;
    rest[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .try_fold(0u64, |n, b| {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })
}

impl Lines {
    fn feed(&mut self, input: &[u8], mut on_ts: impl FnMut(u64)) {
        let mut rest = input;
        while let Some(p) = rest.iter().position(|&b| b == b'\n') {
            let line = &rest[..p];
            rest = &rest[p + 1..];
            if self.partial.is_empty() {
                if let Some(ts) = timestamp(line) {
                    on_ts(ts);
                }
            } else {
                self.partial.extend_from_slice(line);
                if let Some(ts) = timestamp(&self.partial) {
                    on_ts(ts);
                }
                self.partial.clear();
            }
        }
        self.partial.extend_from_slice(rest);
    }
}

/// An open event stream: the socket after a `200` head, whether the body is chunked, and
/// the body bytes that arrived with the head.
struct OpenStream {
    sock: TcpStream,
    chunked: bool,
    rest: Vec<u8>,
}

/// Why [`open_stream`] failed.
#[derive(Debug)]
enum OpenError {
    /// No connection, a write or read error, or a timeout.
    Io(String),
    /// The server answered with this status instead of `200`.
    Status(u16),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => f.write_str(e),
            OpenError::Status(s) => write!(f, "answered {s}"),
        }
    }
}

/// Connects to `addr`, sends `request` (a complete HTTP/1.1 request) and reads the response
/// head, each step bounded by `limit`.
async fn open_stream(
    addr: SocketAddr,
    request: &str,
    limit: Duration,
) -> Result<OpenStream, OpenError> {
    let mut sock = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(sock)) => sock,
        Ok(Err(e)) => return Err(OpenError::Io(format!("connect: {e}"))),
        Err(_) => return Err(OpenError::Io("connect timed out".into())),
    };
    let _ = sock.set_nodelay(true);
    sock.write_all(request.as_bytes())
        .await
        .map_err(|e| OpenError::Io(format!("write: {e}")))?;
    let mut buf = vec![0u8; 2048];
    let mut head = Vec::new();
    let body_start = loop {
        let n = match tokio::time::timeout(limit, sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            Ok(Ok(_)) => return Err(OpenError::Io("closed before the response head".into())),
            Ok(Err(e)) => return Err(OpenError::Io(format!("read: {e}"))),
            Err(_) => return Err(OpenError::Io("response head timed out".into())),
        };
        head.extend_from_slice(&buf[..n]);
        if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..body_start]).to_ascii_lowercase();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    if status != 200 {
        return Err(OpenError::Status(status));
    }
    Ok(OpenStream {
        sock,
        chunked: text.contains("transfer-encoding: chunked"),
        rest: head.split_off(body_start),
    })
}

/// One SSE client: returns its fan-out latencies in microseconds.
async fn client(addr: SocketAddr, stats: Arc<Stats>, gate: Arc<Semaphore>) -> Vec<u32> {
    let mut lat = Vec::new();
    let permit = gate.acquire().await;
    let req =
        "GET /events?topic=load HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    let Ok(OpenStream {
        mut sock,
        chunked,
        rest,
    }) = open_stream(addr, req, Duration::from_secs(10)).await
    else {
        stats.failed.fetch_add(1, Ordering::Relaxed);
        return lat;
    };
    let mut buf = vec![0u8; 2048];
    drop(permit);
    stats.connected.fetch_add(1, Ordering::Relaxed);
    stats.open.fetch_add(1, Ordering::Relaxed);
    let mut dechunk = Dechunk::default();
    let mut lines = Lines::default();
    let mut on_ts = |ts: u64| {
        let us = now_ns().saturating_sub(ts) / 1000;
        lat.push(u32::try_from(us).unwrap_or(u32::MAX));
        stats.delivered.fetch_add(1, Ordering::Relaxed);
    };
    let mut feed = |bytes: &[u8], on_ts: &mut dyn FnMut(u64)| {
        if chunked {
            dechunk.feed(bytes, |piece| lines.feed(piece, &mut *on_ts));
        } else {
            lines.feed(bytes, &mut *on_ts);
        }
    };
    feed(&rest, &mut on_ts);
    drop(rest);
    // Runs until the server closes the stream (it is stopped at the end of the run): no
    // per-read shutdown check, which would contend across 10,000 tasks.
    while let Ok(n) = sock.read(&mut buf).await {
        if n == 0 {
            break;
        }
        feed(&buf[..n], &mut on_ts);
    }
    stats.open.fetch_sub(1, Ordering::Relaxed);
    lat
}

/// Publishes over one keep-alive connection.
struct Publisher {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl Publisher {
    async fn connect(addr: SocketAddr) -> std::io::Result<Self> {
        let sock = TcpStream::connect(addr).await?;
        sock.set_nodelay(true)?;
        Ok(Publisher {
            sock,
            buf: Vec::new(),
        })
    }

    async fn publish(&mut self, padding: &str) -> std::io::Result<()> {
        let body = format!("{{\"data\":\"{} {padding}\"}}", now_ns());
        self.post("load", &body).await.map(drop)
    }

    /// `POST /publish?topic=TOPIC` with the JSON `body`; the response body of a `200`,
    /// anything else is an error.
    async fn post(&mut self, topic: &str, body: &str) -> std::io::Result<Vec<u8>> {
        let req = format!(
            "POST /publish?topic={topic} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.sock.write_all(req.as_bytes()).await?;
        let mut tmp = [0u8; 1024];
        loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..p]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if self.buf.len() >= p + 4 + len {
                    let ok = head.starts_with("http/1.1 200");
                    let answer: Vec<u8> = self.buf.drain(..p + 4 + len).skip(p + 4).collect();
                    return if ok {
                        Ok(answer)
                    } else {
                        Err(std::io::Error::other(format!(
                            "publish answered: {head} {}",
                            String::from_utf8_lossy(&answer)
                        )))
                    };
                }
            }
            let n = self.sock.read(&mut tmp).await?;
            if n == 0 {
                return Err(std::io::Error::other("publisher connection closed"));
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx.min(sorted.len() - 1)]) / 1000.0
}

async fn measure(server: DevServer, args: &Args) -> Figures {
    let pid = server.pid();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut f = Figures {
        name: server.name().to_owned(),
        rss_base_kib: rss_kib(pid),
        ..Figures::default()
    };
    let stats = Arc::new(Stats::default());
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let mut set = JoinSet::new();
    let t0 = Instant::now();
    for _ in 0..args.connections {
        set.spawn(client(server.addr(), stats.clone(), gate.clone()));
    }
    let deadline = t0 + Duration::from_secs(60);
    while stats.connected.load(Ordering::Relaxed) + stats.failed.load(Ordering::Relaxed)
        < args.connections
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f.connect_secs = t0.elapsed().as_secs_f64();
    f.connected = stats.connected.load(Ordering::Relaxed);
    eprintln!(
        "[{}] {} connected ({} failed) in {:.1} s; idling {} s",
        f.name,
        f.connected,
        stats.failed.load(Ordering::Relaxed),
        f.connect_secs,
        args.idle
    );
    tokio::time::sleep(Duration::from_secs(args.idle)).await;
    f.rss_idle_kib = rss_kib(pid);
    if f.connected > 0 {
        f.rss_per_conn_kib =
            f.rss_idle_kib.saturating_sub(f.rss_base_kib) as f64 / f.connected as f64;
    }

    let padding = "p".repeat(args.payload);
    let before = stats.delivered.load(Ordering::Relaxed);
    let open_at_start = stats.open.load(Ordering::Relaxed) as u64;
    let (srv0, cli0) = (cpu_secs(&pid.to_string()), cpu_secs("self"));
    let publish_start = Instant::now();
    match Publisher::connect(server.addr()).await {
        Ok(mut publisher) => {
            let period = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let total = u64::from(args.rate) * args.duration;
            eprintln!("[{}] publishing {total} events at {}/s", f.name, args.rate);
            for _ in 0..total {
                tick.tick().await;
                if let Err(e) = publisher.publish(&padding).await {
                    eprintln!("[{}] publish failed: {e}", f.name);
                    break;
                }
                f.published += 1;
            }
        }
        Err(e) => eprintln!("[{}] cannot connect publisher: {e}", f.name),
    }
    // Let the last fan-out drain (bounded).
    f.expected = f.published * open_at_start;
    let drain = Instant::now() + Duration::from_secs(5);
    while stats.delivered.load(Ordering::Relaxed) - before < f.expected && Instant::now() < drain {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f.delivered = stats.delivered.load(Ordering::Relaxed) - before;
    let window = publish_start.elapsed().as_secs_f64();
    f.server_cpu = (cpu_secs(&pid.to_string()) - srv0) / window;
    f.client_cpu = (cpu_secs("self") - cli0) / window;
    f.delivered_per_sec = f.delivered as f64 / args.duration.max(1) as f64;
    f.rss_load_kib = rss_kib(pid);
    f.held = stats.open.load(Ordering::Relaxed);

    // Stopping the server ends every stream; each client then hands in its latencies.
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap_or_default();
    let mut lat = Vec::with_capacity(usize::try_from(f.delivered).unwrap_or(0));
    let collect = async {
        while let Some(r) = set.join_next().await {
            if let Ok(v) = r {
                lat.extend(v);
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(15), collect)
        .await
        .is_err()
    {
        eprintln!("[{}] some clients did not see their stream end", f.name);
    }
    set.abort_all();
    lat.sort_unstable();
    f.p50_ms = percentile(&lat, 0.50);
    f.p99_ms = percentile(&lat, 0.99);
    f.max_ms = percentile(&lat, 1.0);
    f
}

fn print_table(rows: &[Figures]) {
    println!(
        "{:<12} {:>7} {:>7} {:>10} {:>12} {:>12} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "server",
        "conns",
        "held",
        "published",
        "delivered",
        "deliv/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "RSS MiB",
        "KiB/conn"
    );
    for f in rows {
        println!(
            "{:<12} {:>7} {:>7} {:>10} {:>16} {:>9.0} {:>8.2} {:>8.2} {:>8.1} {:>9.1} {:>9.2} {:>7.0}% {:>7.0}%",
            f.name,
            f.connected,
            f.held,
            f.published,
            format!("{}/{}", f.delivered, f.expected),
            f.delivered_per_sec,
            f.p50_ms,
            f.p99_ms,
            f.max_ms,
            f.rss_idle_kib as f64 / 1024.0,
            f.rss_per_conn_kib,
            f.server_cpu * 100.0,
            f.client_cpu * 100.0
        );
    }
}

/// Starts `sse-devserver` from `cmd` and waits until it answers `GET /healthz`.
fn start_devserver(cmd: Command) -> Result<DevServer, String> {
    let server = DevServer::spawn("devserver", cmd).map_err(|e| e.to_string())?;
    server
        .wait_healthy(START_TIMEOUT)
        .map_err(|e| e.to_string())?;
    Ok(server)
}

fn devserver_cmd(bin: &Path, n: usize) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--addr",
        "127.0.0.1:0",
        "--demo-interval-ms",
        "0",
        "--max-connections",
        &(n + 64).to_string(),
    ]);
    cmd
}

async fn run(args: Args) -> Result<(), String> {
    if args.duration > 120 || args.idle > 60 {
        return Err("keep runs bounded: --duration at most 120, --idle at most 60".into());
    }
    check_fd_limit(args.connections)?;
    let mut rows = Vec::new();
    if matches!(args.target, Target::Devserver | Target::Both) {
        let bin = args.devserver_bin.clone().unwrap_or_else(devserver_bin);
        let mut cmd = devserver_cmd(&bin, args.connections);
        cmd.args(&args.devserver_args);
        let server = start_devserver(cmd)?;
        rows.push(measure(server, &args).await);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if matches!(args.target, Target::Node | Target::Both) {
        let mut cmd = Command::new(&args.node_bin);
        cmd.arg(&args.node_script);
        let server = DevServer::spawn("better-sse", cmd).map_err(|e| e.to_string())?;
        rows.push(measure(server, &args).await);
    }
    println!(
        "\nsse-load: {} connections, {} events/s for {} s ({} expected deliveries/s), loopback",
        args.connections,
        args.rate,
        args.duration,
        args.connections as u64 * u64::from(args.rate)
    );
    print_table(&rows);
    if let [dev, node] = rows.as_slice() {
        println!("\nratios (better is > 1 for devserver):");
        println!(
            "  held              {:>6.2}x",
            dev.held as f64 / node.held.max(1) as f64
        );
        println!(
            "  deliveries/s      {:>6.2}x",
            dev.delivered_per_sec / node.delivered_per_sec.max(1.0)
        );
        println!(
            "  p50 latency       {:>6.2}x (node / devserver)",
            node.p50_ms / dev.p50_ms
        );
        println!(
            "  p99 latency       {:>6.2}x (node / devserver)",
            node.p99_ms / dev.p99_ms
        );
        println!(
            "  RSS per conn      {:>6.2}x (node / devserver)",
            node.rss_per_conn_kib / dev.rss_per_conn_kib
        );
        println!(
            "  server CPU        {:>6.2}x (node / devserver)",
            node.server_cpu / dev.server_cpu
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sse-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.mode {
        Some(Mode::Soak(args)) => rt.block_on(soak::run(args)),
        Some(Mode::Abuse(args)) => rt.block_on(abuse::run(args)),
        None => rt.block_on(run(cli.bench)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse-load: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunk_and_lines() {
        let body =
            b"8\r\ndata: 12\r\n3;x=y\r\n34\n\r\n7\r\n: 999\n\n\r\nc\r\ndata: \"567\"\n\r\n0\r\n\r\n";
        for split in 1..body.len() {
            let mut d = Dechunk::default();
            let mut l = Lines::default();
            let mut got = Vec::new();
            for part in body.chunks(split) {
                d.feed(part, |p| l.feed(p, |ts| got.push(ts)));
            }
            assert!(d.done);
            assert_eq!(got, [1234, 567], "split {split}");
        }
    }
}
