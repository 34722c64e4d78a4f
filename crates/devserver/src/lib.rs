//! `sse-devserver`: the Server-Sent Events dev server of wasm-sse.
//!
//! [`app`] builds the whole HTTP application (event streams with replay, the long-poll twin,
//! the publish API, fault injection, replay files, static files, CORS); [`serve`] runs it on a
//! listener with graceful shutdown. The wire protocol is documented in `docs/protocol.md`.
#![forbid(unsafe_code)]

mod chaos;
mod control;
mod cors;
mod events;
mod faults;
mod guard;
mod hub;
mod limits;
mod publish;
mod replay;
mod statics;
mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use tokio::sync::watch;
use wasm_sse_codec::protocol::{path, query};

pub use chaos::{Chaos, Cut, CutKind, InjectedStatus, Plan, Stall, Trickle};
pub use cors::DEFAULT_ORIGINS;

/// A shutdown switch shared by the server and every open stream.
///
/// Triggering it ends every event stream cleanly (the body finishes with its terminating
/// chunk) and answers held long-polls with a comment-only body.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            tx: Arc::new(watch::channel(false).0),
        }
    }
}

impl Shutdown {
    /// Starts the shutdown (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Has [`Shutdown::trigger`] been called?
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }

    /// A future that completes once the switch is triggered (or its owner is gone).
    ///
    /// Streams keep one of these pinned for their whole life: it registers with the watch
    /// channel once, instead of once per poll, which matters with thousands of open streams all
    /// watching the same channel.
    pub(crate) fn signalled(&self) -> ShutdownSignal {
        let mut rx = self.tx.subscribe();
        Box::pin(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
    }
}

/// See [`Shutdown::signalled`].
pub(crate) type ShutdownSignal = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

impl Shutdown {}

/// A recorded stream served on its own route (see `docs/protocol.md`, "Replay files").
#[derive(Clone, Debug)]
pub struct ReplayFile {
    route: String,
    blocks: Arc<[replay::Block]>,
    /// The position of the first block carrying each id (resume and long-poll cursors).
    index: Arc<HashMap<String, usize>>,
}

impl ReplayFile {
    /// Parses `text` (a `text/event-stream` recording with optional `:delay=MS` lines) to be
    /// served on `route`.
    pub fn parse(route: &str, text: &[u8]) -> Result<Self, String> {
        let reserved = [
            path::EVENTS,
            path::PUBLISH,
            path::HEALTHZ,
            path::CHAOS,
            path::CONTROL_DROP,
            path::CONTROL_OUTAGE,
        ];
        if !route.starts_with('/')
            || route.len() < 2
            || reserved.contains(&route)
            || route == "/pkg"
            || route.starts_with("/pkg/")
            || route.contains(['{', '}', '*', '?', '#'])
        {
            return Err(format!(
                "replay route `{route}` must start with `/` and not clash with a built-in route"
            ));
        }
        let blocks: Arc<[replay::Block]> = replay::parse(text)?.into();
        let mut index = HashMap::new();
        for (i, block) in blocks.iter().enumerate() {
            if let Some(id) = &block.id {
                index.entry(id.clone()).or_insert(i);
            }
        }
        Ok(ReplayFile {
            route: route.to_owned(),
            blocks,
            index: Arc::new(index),
        })
    }

    /// Reads and parses a replay file: `spec` is `FILE` (served on `/replay`) or `ROUTE=FILE`.
    pub fn load(spec: &str) -> Result<Self, String> {
        let (route, file) = match spec.split_once('=') {
            Some((route, file)) if route.starts_with('/') => (route, file),
            _ => ("/replay", spec),
        };
        let text = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        Self::parse(route, &text).map_err(|e| format!("{file}: {e}"))
    }

    /// The route it is served on.
    pub fn route(&self) -> &str {
        &self.route
    }
}

/// Everything configurable. [`Config::default`] matches the command-line defaults.
///
/// # Example
///
/// The dev server inside a test or tool of your own, on a free loopback port:
///
/// ```no_run
/// use std::time::Duration;
/// use wasm_sse_devserver::{serve, Config};
///
/// # async fn demo() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// println!("listening on http://{}", listener.local_addr()?);
/// let config = Config {
///     www: "public".into(),              // your app's files at `/`
///     demo_interval: None,               // no ticking `demo` topic
///     retry: Duration::from_millis(100), // the `retry:` hint: quick reconnections in tests
///     ..Config::default()
/// };
/// serve(listener, config, std::future::pending()).await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Directory served at `/` (`index.html` for directories, never a listing).
    pub www: PathBuf,
    /// Directory served at `/pkg/` (the built npm package).
    pub pkg: PathBuf,
    /// Events retained per topic for replay.
    pub retain: usize,
    /// Bytes of retained events (encoded frames plus a small fixed cost each) for the whole
    /// server; over it, the oldest event of the topic holding the most goes first.
    pub retain_bytes: usize,
    /// Bytes of retained events for one topic; over it, the topic's oldest event goes first.
    pub retain_topic_bytes: usize,
    /// Events one client may fall behind before it is disconnected.
    pub client_queue: usize,
    /// Period of the heartbeat comment on open streams.
    pub heartbeat: Duration,
    /// The `retry:` hint sent on connect.
    pub retry: Duration,
    /// How long a long-poll is held when there is nothing to send.
    pub long_poll_timeout: Duration,
    /// Maximum events in one long-poll answer.
    pub long_poll_batch: usize,
    /// Period of the built-in `demo` topic (`None`: no ticking).
    pub demo_interval: Option<Duration>,
    /// When set, `POST /publish` needs `Authorization: Bearer <token>`.
    pub publish_token: Option<String>,
    /// Maximum concurrent event responses (streams and long-polls); more get 503.
    pub max_connections: usize,
    /// Maximum `POST /publish` body size in bytes.
    pub max_body_bytes: usize,
    /// Maximum size of the request line and headers in bytes; more gets 431.
    pub max_header_bytes: usize,
    /// Maximum number of topics that hold events (topics only subscribed to do not count).
    pub max_topics: usize,
    /// Largest accepted `hugeBytes` fault (the event is streamed from a static buffer).
    pub max_huge_bytes: usize,
    /// Refuse requests whose `Host` is not a loopback name (`localhost`, `*.localhost`,
    /// `127.0.0.0/8`, `[::1]`) or one of [`Config::allowed_hosts`]: the guard against DNS
    /// rebinding. [`serve`] turns it off when the listener is not on a loopback address.
    pub check_host: bool,
    /// Host names accepted besides the loopback ones (any port), with [`Config::check_host`].
    pub allowed_hosts: Vec<String>,
    /// CORS origin allowlist (`*`, exact origins, or `scheme://host:*`).
    pub cors_origins: Vec<String>,
    /// Recorded streams, each on its own route.
    pub replays: Vec<ReplayFile>,
    /// How long [`serve`] waits for connections to finish after the shutdown signal.
    pub shutdown_grace: Duration,
    /// The shutdown switch the streams watch.
    pub shutdown: Shutdown,
    /// Chaos mode: random faults on the event routes of chaos topics (`None`: off).
    pub chaos: Option<Chaos>,
    /// Where each topic's events are persisted and reloaded from after a restart
    /// (`None`: memory only).
    pub state_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            www: PathBuf::from("www"),
            pkg: PathBuf::from("dist"),
            retain: 1000,
            retain_bytes: 64 << 20,
            retain_topic_bytes: 16 << 20,
            client_queue: 256,
            heartbeat: Duration::from_secs(15),
            retry: Duration::from_millis(2000),
            long_poll_timeout: Duration::from_secs(25),
            long_poll_batch: 100,
            demo_interval: Some(Duration::from_secs(1)),
            publish_token: None,
            max_connections: 16_384,
            max_body_bytes: 64 * 1024,
            max_header_bytes: 16 * 1024,
            max_topics: 1024,
            max_huge_bytes: faults::MAX_HUGE_BYTES,
            check_host: true,
            allowed_hosts: Vec::new(),
            cors_origins: DEFAULT_ORIGINS.iter().map(|s| (*s).to_owned()).collect(),
            replays: Vec::new(),
            shutdown_grace: Duration::from_secs(5),
            shutdown: Shutdown::default(),
            chaos: None,
            state_dir: None,
        }
    }
}

/// Shared state of the handlers.
pub(crate) struct AppState {
    config: Config,
    hub: hub::Hub,
    limits: Arc<limits::Limits>,
    shutdown: Shutdown,
    chaos: Option<chaos::ChaosState>,
    /// The `conn`-labelled responses and the outages of the control routes.
    controls: Arc<control::Controls>,
    /// Bytes held back by `buffer=1` responses (bounded by `events::MAX_BUFFERED_TOTAL`).
    buffered: Arc<std::sync::atomic::AtomicUsize>,
}

/// Locks `m`, ignoring poisoning (the data stays consistent: every critical section is a
/// single insert, remove or drain).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A JSON error response: `{"error": message}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// The decoded query pairs of `uri`.
pub(crate) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The value of the first query pair named `name`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The topic a request names (`topic=`), or the default topic; not yet validated.
pub(crate) fn topic_param(pairs: &[(String, String)]) -> &str {
    param(pairs, query::TOPIC).unwrap_or(query::DEFAULT_TOPIC)
}

async fn www(State(app): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    statics::serve(&app.config.www, uri.path(), uri.path(), &method).await
}

async fn pkg(State(app): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let rest = uri.path().strip_prefix("/pkg").unwrap_or_default();
    statics::serve(&app.config.pkg, rest, uri.path(), &method).await
}

async fn header_limit(State(max): State<usize>, req: Request, next: Next) -> Response {
    let size = req.uri().path_and_query().map_or(0, |p| p.as_str().len())
        + req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if size > max {
        return json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!("request line and headers are over the {max}-byte limit"),
        );
    }
    next.run(req).await
}

async fn log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let resp = next.run(req).await;
    tracing::debug!(%method, %uri, status = resp.status().as_u16(), "request");
    resp
}

/// The payload of one `demo` tick.
fn demo_payload(count: u64) -> String {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    serde_json::json!({
        "count": count,
        "time": time,
        "payload": {
            "parity": if count % 2 == 0 { "even" } else { "odd" },
            "square": count.saturating_mul(count),
            "tags": ["demo", "tick"],
        },
    })
    .to_string()
}

async fn demo_ticker(app: Weak<AppState>, period: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut count = 0u64;
    loop {
        tick.tick().await;
        let Some(app) = app.upgrade() else { return };
        if app.shutdown.is_triggered() {
            return;
        }
        count += 1;
        if let Err(e) = app.hub.publish(
            query::DEFAULT_TOPIC,
            Some("tick"),
            &demo_payload(count),
            None,
        ) {
            tracing::warn!(?e, "demo tick not published");
        }
    }
}

/// Builds the application.
///
/// Call it inside a Tokio runtime: the `demo` ticker and the task that closes every topic when
/// the shutdown switch is triggered are spawned here (both stop when the router is dropped).
pub fn app(config: Config) -> Router {
    let cors = cors::Cors::new(config.cors_origins.clone());
    let hosts = config
        .check_host
        .then(|| Arc::new(guard::Hosts::new(&config.allowed_hosts)));
    let max_header = config.max_header_bytes;
    let replays = config.replays.clone();
    let state = Arc::new(AppState {
        hub: hub::Hub::new(
            hub::Retention {
                events: config.retain,
                client_queue: config.client_queue,
                topic_bytes: config.retain_topic_bytes,
                total_bytes: config.retain_bytes,
                max_topics: config.max_topics,
            },
            config.state_dir.clone(),
        ),
        limits: limits::Limits::new(config.max_connections),
        buffered: Arc::default(),
        controls: Arc::default(),
        shutdown: config.shutdown.clone(),
        chaos: config
            .chaos
            .clone()
            .map(|c| chaos::ChaosState::new(c, config.max_topics)),
        config,
    });
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        if let Some(period) = state.config.demo_interval.filter(|d| !d.is_zero()) {
            rt.spawn(demo_ticker(Arc::downgrade(&state), period));
        }
        // On shutdown, close every topic: live streams see their channel closed and end.
        let weak = Arc::downgrade(&state);
        let mut stop = state.shutdown.subscribe();
        rt.spawn(async move {
            let _ = stop.wait_for(|stop| *stop).await;
            if let Some(app) = weak.upgrade() {
                app.hub.close();
            }
        });
    }
    let mut router = Router::new()
        .route(path::EVENTS, get(control::events).post(control::events))
        .route(path::PUBLISH, post(publish::publish))
        .route(path::CONTROL_DROP, post(control::drop_conn))
        .route(path::CONTROL_OUTAGE, post(control::outage))
        .route(path::HEALTHZ, get(healthz))
        .route(path::CHAOS, get(chaos_stats))
        .route("/pkg", any(pkg))
        .route("/pkg/", any(pkg))
        .route("/pkg/{*path}", any(pkg))
        .fallback(www)
        .method_not_allowed_fallback(method_not_allowed);
    for r in replays {
        let st = state.clone();
        let route = r.route.clone();
        router = router.route(
            &route,
            get(move |uri: Uri, headers: axum::http::HeaderMap| {
                events::replay(st.clone(), r.clone(), uri, headers)
            }),
        );
    }
    router
        .with_state(state)
        .layer(from_fn_with_state(cors, cors::layer))
        .layer(from_fn_with_state(hosts, guard::host_layer))
        .layer(from_fn_with_state(max_header, header_limit))
        .layer(from_fn(log))
}

async fn method_not_allowed() -> Response {
    json_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}

async fn healthz(State(app): State<Arc<AppState>>) -> Response {
    let (topics, all_topics) = app.hub.topic_counts();
    Json(serde_json::json!({
        "status": "ok",
        "connections": app.limits.active(),
        "retainedBytes": app.hub.retained_bytes(),
        "topics": topics,
        "openTopics": all_topics,
        "streams": app.hub.stream_counts(),
    }))
    .into_response()
}

/// `GET /chaos`: the chaos settings and per-topic counters; `404` without `--chaos`.
async fn chaos_stats(State(app): State<Arc<AppState>>) -> Response {
    match &app.chaos {
        Some(c) => Json(c.json()).into_response(),
        None => json_error(StatusCode::NOT_FOUND, "chaos mode is off (--chaos SEED)"),
    }
}

/// Is `addr` a loopback address (127.0.0.0/8 or ::1)?
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The origin a browser uses for pages served by this server.
pub fn origin_of(addr: &SocketAddr) -> String {
    format!("http://{addr}")
}

/// Serves [`app`]`(config)` on `listener` until `signal` completes, then shuts down
/// gracefully: no new connections, every stream ends cleanly, and the call returns once all
/// connections are closed or `config.shutdown_grace` has passed.
///
/// Connections are served by hyper's HTTP/1.1 server directly (not `axum::serve`) so that
/// idle event streams stay small: `TCP_NODELAY`, a header read timeout, and no read buffer
/// re-armed while a response streams (see `docs/protocol.md`, "Connections").
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    config: Config,
    signal: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut config = config;
    if !listener.local_addr().is_ok_and(|a| is_loopback(&a)) {
        // Reachable from other machines by their own names: the Host guard against DNS
        // rebinding only makes sense for a loopback listener.
        config.check_host = false;
    }
    let shutdown = config.shutdown.clone();
    let grace = config.shutdown_grace;
    let max_buf = config.max_header_bytes.saturating_add(1024).max(8192);
    let router = app(config);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_buf_size(max_buf);
    // Each connection task holds a sender; `recv` returns `None` once all are gone.
    let (alive_tx, mut alive_rx) = tokio::sync::mpsc::channel::<()>(1);
    // One oneshot per open connection, fired on shutdown. A oneshot is cheap to poll on every
    // wake of its connection, unlike a receiver of one watch shared by 10,000 connections.
    let registry: Arc<std::sync::Mutex<HashMap<u64, tokio::sync::oneshot::Sender<()>>>> =
        Arc::default();
    let mut next_conn = 0u64;
    let mut stop = std::pin::pin!(signal);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let conn =
            http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(router.clone()));
        let (stop_tx, mut stopping) = tokio::sync::oneshot::channel::<()>();
        let id = next_conn;
        next_conn += 1;
        lock(&registry).insert(id, stop_tx);
        let alive = alive_tx.clone();
        let registry = registry.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                biased;
                r = conn.as_mut() => r,
                _ = &mut stopping => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::trace!(%peer, %e, "connection ended with an error");
            }
            lock(&registry).remove(&id);
            drop(alive);
        });
    }
    tracing::info!("shutting down");
    shutdown.trigger();
    drop(listener);
    for (_, tx) in lock(&registry).drain() {
        let _ = tx.send(());
    }
    drop(alive_tx);
    if tokio::time::timeout(grace, alive_rx.recv()).await.is_err() {
        tracing::warn!("shutdown grace period over; dropping remaining connections");
    }
    Ok(())
}
