//! `sse-devserver`: parses flags, binds, prints the address, serves until SIGINT/SIGTERM.
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use wasm_sse_devserver::{
    is_loopback, origin_of, serve, Chaos, Config, ReplayFile, DEFAULT_ORIGINS,
};

/// Server-Sent Events dev server for wasm-sse: demo topic, replay after Last-Event-ID,
/// long-poll twin, publish API, fault injection, replay files, static files.
///
/// Prints exactly one line to stdout once bound:
/// `sse-devserver listening on http://HOST:PORT`.
/// Logs go to stderr (quiet unless --verbose or RUST_LOG). Protocol: docs/protocol.md.
/// A count or size of at least 1: a limit of 0 would make the server refuse everything (or
/// silently mean 1), so it is refused at startup instead.
fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Parser, Debug)]
#[command(name = "sse-devserver", version)]
struct Args {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    addr: SocketAddr,
    /// Allow binding a non-loopback address (prints a warning).
    #[arg(long)]
    allow_non_loopback: bool,
    /// Directory served at `/`.
    #[arg(long, default_value = "www", value_name = "DIR")]
    www: PathBuf,
    /// Directory served at `/pkg/` (the built npm package).
    #[arg(long, default_value = "dist", value_name = "DIR")]
    pkg: PathBuf,
    /// Events retained per topic for replay after Last-Event-ID.
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = at_least_one)]
    retain: usize,
    /// Bytes of retained events in the whole server (encoded events plus 64 bytes each);
    /// over it, the oldest event of the topic holding the most bytes is dropped.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES", value_parser = at_least_one)]
    retain_bytes: usize,
    /// Bytes of retained events per topic (at most --retain-bytes); over it, the topic's
    /// oldest event is dropped.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES", value_parser = at_least_one)]
    retain_topic_bytes: usize,
    /// Events a client may fall behind before it is disconnected (it then resumes).
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = at_least_one)]
    client_queue: usize,
    /// Heartbeat comment period on open streams, in milliseconds.
    #[arg(long, default_value_t = 15_000, value_name = "MS")]
    heartbeat_ms: u64,
    /// `retry:` hint sent on connect, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    retry_ms: u64,
    /// How long a long-poll is held when there is nothing to send, in milliseconds.
    #[arg(long, default_value_t = 25_000, value_name = "MS")]
    long_poll_timeout_ms: u64,
    /// Maximum events in one long-poll answer.
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = at_least_one)]
    long_poll_batch: usize,
    /// Period of the built-in `demo` topic in milliseconds; 0 disables it.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    demo_interval_ms: u64,
    /// Require `Authorization: Bearer TOKEN` on POST /publish.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SSE_PUBLISH_TOKEN",
        hide_env_values = true
    )]
    publish_token: Option<String>,
    /// Maximum concurrent event responses (streams and held long-polls); more get 503 with
    /// Retry-After.
    #[arg(long, default_value_t = 16_384, value_name = "N", value_parser = at_least_one)]
    max_connections: usize,
    /// Maximum POST /publish body size in bytes (413 above).
    #[arg(long, default_value_t = 65_536, value_name = "BYTES", value_parser = at_least_one)]
    max_body_bytes: usize,
    /// Maximum size of request line plus headers in bytes (431 above).
    #[arg(long, default_value_t = 16_384, value_name = "BYTES", value_parser = at_least_one)]
    max_header_bytes: usize,
    /// Maximum number of topics that hold events (a publish to one more gets 503); topics
    /// that are only subscribed to do not count and are dropped with their last subscriber.
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = at_least_one)]
    max_topics: usize,
    /// Largest `hugeBytes` fault accepted (the event is streamed from a static buffer).
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    max_huge_bytes: usize,
    /// Host name (repeatable) accepted in the `Host` header besides localhost, *.localhost,
    /// 127.0.0.0/8 and [::1], when listening on loopback; other names get 421 (the guard
    /// against DNS rebinding).
    #[arg(long = "allowed-host", value_name = "NAME")]
    allowed_hosts: Vec<String>,
    /// CORS allowed origin (repeatable): `*`, an exact origin, or `scheme://host:*` for any
    /// port. Replaces the default (the server's own origin, http://127.0.0.1:*,
    /// http://localhost:*, http://[::1]:*).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Serve a recorded event-stream file (repeatable): `FILE` on /replay, or `ROUTE=FILE`.
    /// Lines `:delay=MS` in the file delay the next block.
    #[arg(long = "replay", value_name = "[ROUTE=]FILE")]
    replays: Vec<String>,
    /// After SIGINT/SIGTERM, how long to wait for connections to close, in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    shutdown_grace_ms: u64,
    /// Persist every topic's events in DIR (one `text/event-stream` file per topic, appended
    /// on publish) and reload them when the server starts again: ids stay monotonic and
    /// replay after Last-Event-ID works across restarts. The directory is created if missing.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Chaos mode with this seed: every event request (stream and long-poll) of a chaos topic
    /// gets a random, seeded fault plan: a 500/503 answer, a dropped connection after a
    /// random number of bytes (mid-event too) or a random time, a stall, trickled bytes.
    /// Counters at GET /chaos. Tuned by the --chaos-* flags.
    #[arg(long, value_name = "SEED")]
    chaos: Option<u64>,
    /// Chaos: only topics whose name starts with PREFIX get faults (default: every topic).
    #[arg(
        long,
        default_value = "",
        value_name = "PREFIX",
        hide_default_value = true
    )]
    chaos_topics: String,
    /// Chaos: percent of requests answered 500 or 503 (a 503 carries Retry-After 0 or 1
    /// half of the time).
    #[arg(long, default_value_t = 10, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    chaos_status_pct: u8,
    /// Chaos: percent of the other requests whose connection is dropped after a random
    /// number of body bytes (1..=--chaos-max-bytes), usually mid-event. Half of the drops
    /// close the connection without the body's end, half end the body cleanly.
    #[arg(long, default_value_t = 80, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    chaos_drop_pct: u8,
    /// Chaos: the largest byte position of a drop (and of a stall).
    #[arg(long, default_value_t = 1024, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    chaos_max_bytes: u64,
    /// Chaos: every response that is not an injected status is dropped after a random time
    /// of 1..=MS milliseconds at the latest (0: no time limit).
    #[arg(long, default_value_t = 2000, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=600_000))]
    chaos_max_ms: u64,
    /// Chaos: percent of requests that stall (send nothing) at a random byte position.
    #[arg(long, default_value_t = 10, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    chaos_stall_pct: u8,
    /// Chaos: the longest stall, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=600_000))]
    chaos_stall_ms: u64,
    /// Chaos: percent of requests whose body trickles out in pieces of 1 to 16 bytes, 0 to 2
    /// ms apart.
    #[arg(long, default_value_t = 10, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    chaos_trickle_pct: u8,
    /// Runtime worker threads (default: one per CPU core).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    threads: Option<usize>,
    /// Log requests and lifecycle to stderr (RUST_LOG=LEVEL or target=LEVEL also works).
    #[arg(short, long)]
    verbose: bool,
}

fn init_logs(verbose: bool) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => spec.parse::<Targets>().unwrap_or_else(|_| {
            eprintln!("sse-devserver: ignoring unparsable RUST_LOG={spec:?}");
            Targets::new().with_default(LevelFilter::WARN)
        }),
        _ if verbose => Targets::new().with_default(LevelFilter::DEBUG),
        _ => Targets::new().with_default(LevelFilter::WARN),
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .init();
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !is_loopback(&args.addr) && !args.allow_non_loopback {
        return Err(format!(
            "refusing to bind non-loopback address {} without --allow-non-loopback",
            args.addr
        ));
    }
    if let Some(dir) = &args.state_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create --state-dir {}: {e}", dir.display()))?;
    }
    let chaos = args.chaos.map(|seed| Chaos {
        topic_prefix: args.chaos_topics.clone(),
        status_pct: args.chaos_status_pct,
        drop_pct: args.chaos_drop_pct,
        max_bytes: usize::try_from(args.chaos_max_bytes).unwrap_or(usize::MAX),
        max_ms: args.chaos_max_ms,
        stall_pct: args.chaos_stall_pct,
        stall_ms: args.chaos_stall_ms,
        trickle_pct: args.chaos_trickle_pct,
        ..Chaos::new(seed)
    });
    let mut replays = Vec::new();
    for spec in &args.replays {
        replays.push(ReplayFile::load(spec)?);
    }
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot bind {}: {e}", args.addr))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read bound address: {e}"))?;
    if !is_loopback(&local) {
        eprintln!(
            "sse-devserver: WARNING: listening on non-loopback address {local}; anyone who can reach it can read and publish events"
        );
    }
    let cors_origins = if args.cors_origins.is_empty() {
        let mut v = vec![origin_of(&local)];
        v.extend(DEFAULT_ORIGINS.iter().map(|s| (*s).to_owned()));
        v
    } else {
        args.cors_origins
    };
    let config = Config {
        www: args.www,
        pkg: args.pkg,
        retain: args.retain,
        retain_bytes: args.retain_bytes,
        retain_topic_bytes: args.retain_topic_bytes,
        client_queue: args.client_queue,
        heartbeat: Duration::from_millis(args.heartbeat_ms),
        retry: Duration::from_millis(args.retry_ms),
        long_poll_timeout: Duration::from_millis(args.long_poll_timeout_ms),
        long_poll_batch: args.long_poll_batch,
        demo_interval: (args.demo_interval_ms > 0)
            .then(|| Duration::from_millis(args.demo_interval_ms)),
        publish_token: args.publish_token,
        max_connections: args.max_connections,
        max_body_bytes: args.max_body_bytes,
        max_header_bytes: args.max_header_bytes,
        max_topics: args.max_topics,
        max_huge_bytes: args.max_huge_bytes,
        allowed_hosts: args.allowed_hosts,
        cors_origins,
        replays,
        shutdown_grace: Duration::from_millis(args.shutdown_grace_ms),
        chaos,
        state_dir: args.state_dir,
        ..Config::default()
    };
    {
        #[allow(clippy::print_stdout)]
        let mut out = std::io::stdout().lock();
        writeln!(out, "sse-devserver listening on http://{local}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    }
    tracing::info!(%local, "listening");
    serve(listener, config, signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logs(args.verbose);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        builder.worker_threads(n.max(1));
    }
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sse-devserver: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sse-devserver: {e}");
            ExitCode::FAILURE
        }
    }
}
