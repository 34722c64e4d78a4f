//! `GET /events` (stream and long-poll transports) and the replay-file routes.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use tokio::sync::broadcast;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::faults::Faults;
use crate::hub::{valid_topic, Cursor, Event};
use crate::limits::ConnGuard;
use crate::replay::Block;
use crate::{json_error, query_pairs, wire, AppState, ShutdownSignal};

/// `Last-Event-ID` from the header (preferred: a reconnecting `EventSource` keeps the original
/// URL but sends the header) or from the `lastEventId` query parameter.
fn cursor_text(headers: &HeaderMap, pairs: &[(String, String)]) -> Option<Result<String, ()>> {
    if let Some(v) = headers.get("last-event-id") {
        return Some(v.to_str().map(str::to_owned).map_err(|_| ()));
    }
    pairs
        .iter()
        .find(|(k, _)| k == "lastEventId")
        .map(|(_, v)| Ok(v.clone()))
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// 503 with `Retry-After`, for limits and shutdown.
pub(crate) fn busy(message: &str) -> Response {
    let mut r = json_error(StatusCode::SERVICE_UNAVAILABLE, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// Work common to every event route before the body starts: limits, `delayMs`, `status`.
async fn prologue(
    app: &AppState,
    uri: &Uri,
    pairs: &[(String, String)],
) -> Result<(Faults, ConnGuard), Response> {
    let faults = Faults::parse(pairs).map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
    let guard = app
        .limits
        .try_acquire()
        .ok_or_else(|| busy("too many connections"))?;
    let mut shutdown = app.shutdown.subscribe();
    if *shutdown.borrow() {
        return Err(busy("shutting down"));
    }
    if let Some(delay) = faults.delay {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return Err(busy("shutting down")),
        }
    }
    if let Some(resp) = faults.status_response(uri.path(), pairs) {
        return Err(resp);
    }
    Ok((faults, guard))
}

fn stream_headers(resp: &mut Response, faults: &Faults) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        faults
            .content_type
            .clone()
            .unwrap_or(HeaderValue::from_static("text/event-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
}

/// `GET /events?topic=T[&transport=long-poll][&lastEventId=N][&fault params]`.
pub(crate) async fn events(
    State(app): State<Arc<AppState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let pairs = query_pairs(&uri);
    let topic = param(&pairs, "topic").unwrap_or("demo").to_owned();
    if !valid_topic(&topic) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :",
        );
    }
    let long_poll = match param(&pairs, "transport") {
        None | Some("sse" | "stream") => false,
        Some("long-poll" | "longpoll") => true,
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "transport must be `sse` or `long-poll`",
            )
        }
    };
    let poll_timeout = match param(&pairs, "timeoutMs").map(str::parse::<u64>) {
        None => app.config.long_poll_timeout,
        Some(Ok(ms)) if ms <= 600_000 => Duration::from_millis(ms),
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "timeoutMs must be an integer of at most 600000",
            )
        }
    };
    let cursor = match cursor_text(&headers, &pairs) {
        None => Cursor::Live,
        Some(Ok(text)) => Cursor::parse(&text),
        Some(Err(())) => Cursor::Invalid,
    };
    let (faults, guard) = match prologue(&app, &uri, &pairs).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let Some(sub) = app.hub.subscribe(&topic, &cursor) else {
        return busy("too many topics");
    };

    let mut head = BytesMut::new();
    let mut replay = sub.replay;
    if let Some(n) = faults.close_after {
        replay.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if long_poll {
        let max = app
            .config
            .long_poll_batch
            .min(usize::try_from(faults.close_after.unwrap_or(u64::MAX)).unwrap_or(usize::MAX));
        replay.truncate(max);
        if let Some(ms) = faults.retry {
            head.extend_from_slice(&wire::retry(ms));
        }
        if let Some(n) = faults.huge_bytes {
            head.extend_from_slice(&wire::huge_event(n));
        }
        if faults.invalid_utf8 {
            head.extend_from_slice(&wire::invalid_utf8_event());
        }
        let mut events = replay;
        if let Some(reset) = &sub.reset {
            head.extend_from_slice(&reset.frame());
            if events.is_empty() {
                head.extend_from_slice(format!("id: {}\n\n", sub.latest).as_bytes());
            }
        } else if events.is_empty() && max > 0 {
            let after = match cursor {
                Cursor::After(n) => n,
                _ => sub.latest,
            };
            events = wait_for_events(&app, &topic, sub.live, after, max, poll_timeout).await;
        }
        if events.is_empty() && sub.reset.is_none() {
            head.extend_from_slice(&wire::comment("no events"));
        }
        for e in &events {
            head.extend_from_slice(&e.frame);
        }
        drop(guard);
        let mut resp = Body::from(head.freeze()).into_response();
        stream_headers(&mut resp, &faults);
        return resp;
    }

    head.extend_from_slice(&wire::comment("connected"));
    head.extend_from_slice(&wire::retry(
        faults
            .retry
            .unwrap_or(app.config.retry.as_millis().try_into().unwrap_or(u64::MAX)),
    ));
    if let Some(reset) = &sub.reset {
        head.extend_from_slice(&reset.frame());
        if replay.is_empty() {
            head.extend_from_slice(format!("id: {}\n\n", sub.latest).as_bytes());
        }
    }
    let mut queue = VecDeque::from([head.freeze()]);
    if let Some(n) = faults.huge_bytes {
        queue.push_back(wire::huge_event(n));
    }
    if faults.invalid_utf8 {
        queue.push_back(wire::invalid_utf8_event());
    }
    let replayed = replay.len() as u64;
    if !replay.is_empty() {
        let mut joined = BytesMut::with_capacity(replay.iter().map(|e| e.frame.len()).sum());
        for e in &replay {
            joined.extend_from_slice(&e.frame);
        }
        queue.push_back(joined.freeze());
    }
    let remaining = faults.close_after.map(|n| n.saturating_sub(replayed));
    let stream = SseStream::new(
        &app,
        queue,
        Source::Topic(sub.live),
        &faults,
        remaining,
        guard,
    );
    respond(stream, &faults)
}

/// Holds a long-poll until an event after `after` exists, the timeout passes or the server
/// shuts down.
async fn wait_for_events(
    app: &AppState,
    topic: &str,
    mut live: broadcast::Receiver<Event>,
    after: u64,
    max: usize,
    timeout: Duration,
) -> Vec<Event> {
    let mut shutdown = app.shutdown.subscribe();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => return Vec::new(),
            () = &mut deadline => return Vec::new(),
            r = live.recv() => match r {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let events = app.hub.retained_after(topic, after, max);
                    if !events.is_empty() {
                        return events;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return Vec::new(),
            },
        }
    }
}

/// A replay-file route: streams the recorded blocks, honouring their delays.
pub(crate) async fn replay(
    app: Arc<AppState>,
    blocks: Arc<[Block]>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let pairs = query_pairs(&uri);
    let hold = match param(&pairs, "hold") {
        None | Some("1" | "true") => true,
        Some("0" | "false") => false,
        Some(_) => return json_error(StatusCode::BAD_REQUEST, "hold must be 1/true or 0/false"),
    };
    let start = match cursor_text(&headers, &pairs) {
        Some(Ok(id)) if !id.is_empty() => blocks
            .iter()
            .position(|b| b.id.as_deref() == Some(id.as_str()))
            .map_or(0, |i| i + 1),
        _ => 0,
    };
    let (faults, guard) = match prologue(&app, &uri, &pairs).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let mut queue = VecDeque::new();
    if let Some(ms) = faults.retry {
        queue.push_back(wire::retry(ms));
    }
    if let Some(n) = faults.huge_bytes {
        queue.push_back(wire::huge_event(n));
    }
    if faults.invalid_utf8 {
        queue.push_back(wire::invalid_utf8_event());
    }
    let source = Source::Replay {
        blocks,
        next: start,
        due: None,
        hold,
    };
    let stream = SseStream::new(&app, queue, source, &faults, faults.close_after, guard);
    respond(stream, &faults)
}

fn respond(stream: SseStream, faults: &Faults) -> Response {
    let body = futures_util::stream::unfold(stream, |mut s| async move {
        let chunk = s.next().await?;
        Some((Ok::<_, Infallible>(chunk), s))
    });
    let mut resp = Body::from_stream(body).into_response();
    stream_headers(&mut resp, faults);
    resp
}

/// Where live events come from.
enum Source {
    /// A topic's broadcast.
    Topic(broadcast::Receiver<Event>),
    /// A recorded file.
    Replay {
        blocks: Arc<[Block]>,
        next: usize,
        /// When the next block is due (set when its delay starts, so that a heartbeat in
        /// between does not restart the delay).
        due: Option<Instant>,
        /// Keep the stream open (heartbeats only) after the last block.
        hold: bool,
    },
}

enum Item {
    /// An event; `counts` tells whether it counts for `closeAfter`.
    Data(Bytes, bool),
    /// The client fell behind its bounded queue: tell it and disconnect.
    Overflow,
    /// Nothing more, ever.
    End,
}

impl Source {
    async fn next(&mut self) -> Item {
        match self {
            Source::Topic(rx) => match rx.recv().await {
                Ok(e) => Item::Data(e.frame, true),
                Err(broadcast::error::RecvError::Lagged(_)) => Item::Overflow,
                Err(broadcast::error::RecvError::Closed) => Item::End,
            },
            Source::Replay {
                blocks,
                next,
                due,
                hold,
            } => {
                let Some(block) = blocks.get(*next) else {
                    if *hold {
                        // Heartbeats and shutdown still run in the caller's select.
                        std::future::pending::<()>().await;
                    }
                    return Item::End;
                };
                if !block.delay.is_zero() {
                    let at = *due.get_or_insert_with(|| Instant::now() + block.delay);
                    tokio::time::sleep_until(at).await;
                }
                *due = None;
                *next += 1;
                Item::Data(block.bytes.clone(), block.is_event)
            }
        }
    }
}

/// The state of one streaming response.
struct SseStream {
    queue: VecDeque<Bytes>,
    stall: Option<Duration>,
    source: Source,
    heartbeat: Interval,
    /// Only for streams that can sit in a sleep or hold forever (replay files, `stallMs`,
    /// `trickle`). Topic streams end on shutdown through their channel: the hub drops every
    /// topic's sender, so their receivers report `Closed`. That keeps the hot path of 10,000
    /// streams free of a shared shutdown watch.
    shutdown: Option<ShutdownSignal>,
    /// `shutdown` completed (it must not be polled again).
    stopped: bool,
    remaining: Option<u64>,
    done: bool,
    trickle: Option<(usize, Duration)>,
    carry: Bytes,
    started: bool,
    _guard: ConnGuard,
}

impl SseStream {
    fn new(
        app: &AppState,
        queue: VecDeque<Bytes>,
        source: Source,
        faults: &Faults,
        remaining: Option<u64>,
        guard: ConnGuard,
    ) -> Self {
        let needs_signal = matches!(source, Source::Replay { .. })
            || faults.stall.is_some()
            || faults.trickle.is_some();
        let period = app.config.heartbeat.max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        SseStream {
            queue,
            stall: faults.stall,
            source,
            heartbeat,
            shutdown: needs_signal.then(|| app.shutdown.signalled()),
            stopped: false,
            remaining,
            done: false,
            trickle: faults.trickle.map(|n| (n, faults.trickle_interval)),
            carry: Bytes::new(),
            started: false,
            _guard: guard,
        }
    }

    /// Sleeps for `d`; `false` if the server started shutting down meanwhile.
    async fn sleep(&mut self, d: Duration) -> bool {
        match &mut self.shutdown {
            Some(signal) if !self.stopped => {
                tokio::select! {
                    () = tokio::time::sleep(d) => true,
                    () = signal => {
                        self.stopped = true;
                        false
                    }
                }
            }
            _ => {
                tokio::time::sleep(d).await;
                !self.stopped
            }
        }
    }

    /// The next piece of the body, applying `trickle`.
    async fn next(&mut self) -> Option<Bytes> {
        let Some((size, interval)) = self.trickle else {
            return self.next_chunk().await;
        };
        if self.carry.is_empty() {
            self.carry = self.next_chunk().await?;
        }
        if self.started && !self.sleep(interval).await {
            return None;
        }
        self.started = true;
        let n = size.min(self.carry.len());
        Some(self.carry.split_to(n))
    }

    /// The next chunk of the event stream (whole blocks).
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.stopped {
            return None;
        }
        if let Some(stall) = self.stall.take() {
            if !self.sleep(stall).await {
                return None;
            }
        }
        if let Some(chunk) = self.queue.pop_front() {
            return Some(chunk);
        }
        if self.done || self.remaining == Some(0) {
            return None;
        }
        let shutdown = &mut self.shutdown;
        let stopping = async move {
            match shutdown {
                Some(signal) => signal.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            item = self.source.next() => match item {
                Item::Data(bytes, counts) => {
                    if counts {
                        if let Some(r) = &mut self.remaining {
                            *r -= 1;
                        }
                    }
                    Some(bytes)
                }
                Item::Overflow => {
                    self.done = true;
                    Some(wire::comment(
                        "overflow: client queue full, reconnect with Last-Event-ID",
                    ))
                }
                Item::End => None,
            },
            _ = self.heartbeat.tick() => Some(wire::comment("heartbeat")),
            () = stopping, if !self.stopped => {
                self.stopped = true;
                None
            }
        }
    }
}
