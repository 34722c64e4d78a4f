//! `GET /events` (stream and long-poll transports) and the replay-file routes.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use wasm_sse_codec::protocol::{self, query};

use crate::chaos::{self, Plan, TopicStats};
use crate::faults::Faults;
use crate::hub::{valid_topic, Cursor, Event, Feed, PublishError, Subscription, Take};
use crate::limits::ConnGuard;
use crate::replay::Block;
use crate::{
    json_error, param, query_pairs, topic_param, wire, AppState, ReplayFile, ShutdownSignal,
};

/// `Last-Event-ID` from the header (preferred: a reconnecting `EventSource` keeps the original
/// URL but sends the header) or from the `lastEventId` query parameter.
fn cursor_text(headers: &HeaderMap, pairs: &[(String, String)]) -> Option<Result<String, ()>> {
    if let Some(v) = headers.get(protocol::header::LAST_EVENT_ID) {
        return Some(v.to_str().map(str::to_owned).map_err(|_| ()));
    }
    pairs
        .iter()
        .find(|(k, _)| k == query::LAST_EVENT_ID)
        .map(|(_, v)| Ok(v.clone()))
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
    let faults = Faults::parse(pairs, app.config.max_huge_bytes)
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, &e))?;
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

/// The long-poll hold time: `timeoutMs`, else the configured default (`Err`: the 400 message).
fn poll_timeout(app: &AppState, pairs: &[(String, String)]) -> Result<Duration, &'static str> {
    match param(pairs, query::TIMEOUT_MS).map(str::parse::<u64>) {
        None => Ok(app.config.long_poll_timeout),
        Some(Ok(ms)) if ms <= 600_000 => Ok(Duration::from_millis(ms)),
        Some(_) => Err("timeoutMs must be an integer of at most 600000"),
    }
}

/// `format=json` (long-poll answers as a JSON array) or `format=sse` (the default).
fn json_format(pairs: &[(String, String)]) -> Result<bool, &'static str> {
    match param(pairs, query::FORMAT) {
        None | Some(query::FORMAT_SSE) => Ok(false),
        Some(query::FORMAT_JSON) => Ok(true),
        Some(_) => Err("format must be `sse` or `json`"),
    }
}

/// The `echo=1` event: `event: request`, data `{"method", "headers", "body"}` (header names
/// lower-cased, repeated headers joined with `, `, the body as UTF-8 with U+FFFD for bad bytes).
fn echo_event(method: &Method, headers: &HeaderMap, body: &[u8]) -> Bytes {
    let mut seen = serde_json::Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match seen.get_mut(name.as_str()) {
            Some(serde_json::Value::String(earlier)) => {
                earlier.push_str(", ");
                earlier.push_str(&value);
            }
            _ => {
                seen.insert(name.as_str().to_owned(), value.into());
            }
        }
    }
    let data = serde_json::json!({
        "method": method.as_str(),
        "headers": seen,
        "body": String::from_utf8_lossy(body),
    });
    wire::encode_event(None, Some("request"), &data.to_string())
}

/// The chaos plan of one request and the counters of its topic.
type ChaosPlan = Option<(Plan, Arc<TopicStats>)>;

/// A long-poll answer before it is encoded: the `retry:` line, the `hugeBytes` event, then
/// the other blocks (shared event frames among them).
#[derive(Default)]
struct Answer {
    pre: Option<Bytes>,
    huge: Option<usize>,
    rest: Vec<Bytes>,
}

impl Answer {
    /// The body as `text/event-stream` pieces (nothing copied).
    fn sse(self) -> Vec<Bytes> {
        let mut out: Vec<Bytes> = self.pre.into_iter().collect();
        if let Some(n) = self.huge {
            out.extend(wire::huge_event(n));
        }
        out.extend(self.rest);
        out
    }

    /// The body as a JSON array (`format=json`); the huge event's data stays static pieces.
    fn json(self) -> Vec<Bytes> {
        let mut joined = BytesMut::new();
        for piece in self.rest {
            joined.extend_from_slice(&piece);
        }
        let array = wire::json_batch(&joined);
        match self.huge {
            None => vec![array],
            Some(n) => {
                let mut out = vec![Bytes::from_static(b"[")];
                out.extend(wire::huge_json(n, array.len() > 2));
                out.push(array.slice(1..));
                out
            }
        }
    }

    /// The last event ID a spec parser holds after reading the body whole, when the body
    /// sets a non-empty one (the huge event has no `id:` field and is skipped).
    fn last_event_id(&self) -> Option<String> {
        let mut parser = wasm_sse_codec::Parser::with_max_event_size(usize::MAX);
        for piece in self.pre.iter().chain(&self.rest) {
            // Unbounded events cannot fail.
            parser.feed(piece, |_| {}).ok()?;
        }
        Some(parser.last_event_id().to_owned()).filter(|id| !id.is_empty())
    }
}

/// A complete long-poll answer: `body` as `text/event-stream`, or as a JSON array of its
/// events with `format=json`; under chaos, cut, stalled or trickled per the plan.
fn long_poll_answer(
    app: &AppState,
    body: Answer,
    ahead: &[String],
    json: bool,
    faults: &Faults,
    chaos: ChaosPlan,
) -> Response {
    let cursor = body.last_event_id();
    let pieces = if json { body.json() } else { body.sse() };
    let body = match chaos {
        Some((plan, stats))
            if plan.cut.is_some() || plan.stall.is_some() || plan.trickle.is_some() =>
        {
            Body::from_stream(chaos::wrap(
                futures_util::stream::iter(pieces),
                plan,
                stats,
                app.shutdown.signalled(),
            ))
        }
        _ => Body::new(wire::Pieces::new(pieces)),
    };
    let mut resp = body.into_response();
    stream_headers(&mut resp, faults);
    // The body's last event ID, ahead of the body: a client may send its next poll as soon
    // as the headers arrive (docs/protocol.md, "Long-Poll-Cursor").
    if let Some(value) = cursor.and_then(|id| HeaderValue::from_str(&id).ok()) {
        resp.headers_mut()
            .insert(protocol::header::LONG_POLL_CURSOR, value);
        // Only next to a cursor: the batches it announces follow this body.
        if let Some(value) = ahead_header(ahead) {
            resp.headers_mut()
                .insert(protocol::header::LONG_POLL_AHEAD, value);
        }
    }
    if json && faults.content_type.is_none() {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    resp
}

/// The most events one long-poll answer carries: `--long-poll-batch`, or fewer with
/// `closeAfter`.
fn batch_size(app: &AppState, faults: &Faults) -> usize {
    app.config
        .long_poll_batch
        .min(usize::try_from(faults.close_after.unwrap_or(u64::MAX)).unwrap_or(usize::MAX))
}

/// The most bytes of events one long-poll answer of a topic carries (at least one event,
/// however large): with `--long-poll-batch`, what one held answer can keep alive.
const LONG_POLL_BYTES: usize = 1 << 20;

/// How many batches past the current answer a `Long-Poll-Ahead` header announces at most.
/// A client may keep one poll in flight for each (docs/protocol.md), so this stays well under
/// a browser's six connections per host.
const AHEAD_BATCHES: usize = 3;

/// `Long-Poll-Ahead: A, B, C`, or nothing when there is nothing to announce or an ID could be
/// misread in a comma-separated list (the protocol allows no announcement for such IDs).
fn ahead_header(ids: &[String]) -> Option<HeaderValue> {
    if ids.is_empty()
        || ids
            .iter()
            .any(|id| id.is_empty() || id.contains([',', ' ', '\t']))
    {
        return None;
    }
    HeaderValue::from_str(&ids.join(", ")).ok()
}

/// As [`Feed::ahead`] for a replay file's blocks from `start` on: the ID each of the next
/// full batches would end with. Every batch end, the current answer's included, must be
/// found again from its ID: a batch ending in a block without an ID, or with an ID the file
/// repeats (the index points at its first block), ends the announcement, since a poll after
/// that ID would not start where the batch ended.
fn ahead_of_replay(
    blocks: &[crate::replay::Block],
    index: &HashMap<String, usize>,
    start: usize,
    batch: usize,
) -> Vec<String> {
    let mut ahead = Vec::new();
    let mut taken = 0;
    for (at, block) in blocks.iter().enumerate().skip(start) {
        if !block.is_event {
            continue;
        }
        taken += 1;
        if taken % batch != 0 {
            continue;
        }
        match &block.id {
            Some(id) if index.get(id) == Some(&at) => {
                if taken > batch {
                    ahead.push(id.clone());
                }
            }
            _ => break,
        }
        if ahead.len() == AHEAD_BATCHES {
            break;
        }
    }
    ahead
}

/// `GET` or `POST /events?topic=T[&transport=long-poll][&lastEventId=N][&fault params]`,
/// given the request's query pairs (`pairs`, from [`query_pairs`]): the route's handler is
/// [`crate::control::events`], which reads them first.
pub(crate) async fn events(
    app: Arc<AppState>,
    method: Method,
    uri: Uri,
    pairs: Vec<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let topic = topic_param(&pairs).to_owned();
    if !valid_topic(&topic) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "topic must be 1 to 64 characters of A-Z a-z 0-9 _ - . :",
        );
    }
    let long_poll = match param(&pairs, query::TRANSPORT) {
        None | Some(query::TRANSPORT_SSE | query::TRANSPORT_STREAM) => false,
        Some(query::TRANSPORT_LONG_POLL | query::TRANSPORT_LONGPOLL) => true,
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "transport must be `sse` or `long-poll`",
            )
        }
    };
    let (poll_timeout, json) = match (poll_timeout(&app, &pairs), json_format(&pairs)) {
        (Ok(timeout), Ok(json)) => (timeout, json),
        (Err(e), _) | (_, Err(e)) => return json_error(StatusCode::BAD_REQUEST, e),
    };
    // The request body (POST) is read whole, bounded like a publish body; only `echo` uses it.
    let limit = app.config.max_body_bytes;
    let Ok(request_body) = axum::body::to_bytes(body, limit).await else {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("body is over the {limit}-byte limit"),
        );
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
    let chaos = app.chaos.as_ref().and_then(|c| c.next(&topic));
    if let Some(status) = chaos.as_ref().and_then(|(plan, _)| plan.status) {
        return chaos::status_response(status);
    }
    let sub = match app.hub.subscribe(&topic, &cursor) {
        Ok(sub) => sub,
        Err(PublishError::Storage(e)) => {
            tracing::error!(%e, "state file");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, &e);
        }
        Err(PublishError::Closed) => return busy("shutting down"),
        Err(_) => return busy("too many topics"),
    };

    let Subscription {
        reset,
        mut feed,
        latest,
    } = sub;
    let mut head = BytesMut::new();
    if long_poll {
        // `closeAfter` on a long poll is the batch size: the polls after this one carry it
        // too, so the batches announced ahead are that size.
        let max = batch_size(&app, &faults);
        let ahead = if reset.is_none() && !faults.echo {
            feed.ahead(max, LONG_POLL_BYTES, AHEAD_BATCHES)
        } else {
            Vec::new()
        };
        let mut answer = Answer {
            pre: faults.retry.map(wire::retry),
            huge: faults.huge_bytes,
            rest: Vec::new(),
        };
        if faults.invalid_utf8 {
            answer.rest.push(wire::invalid_utf8_event());
        }
        if faults.echo {
            answer
                .rest
                .push(echo_event(&method, &headers, &request_body));
        }
        let mut events = match feed.take(max, LONG_POLL_BYTES) {
            Take::Events(events) if max > 0 => events,
            _ => Vec::new(),
        };
        if let Some(reset) = &reset {
            answer.rest.push(reset.frame());
            if events.is_empty() {
                answer.rest.push(Bytes::from(format!("id: {latest}\n\n")));
            }
        } else if events.is_empty() && max > 0 && !faults.echo {
            events = wait_for_events(&app, &mut feed, max, poll_timeout).await;
        }
        drop(feed);
        if events.is_empty() && reset.is_none() {
            answer.rest.push(wire::comment("no events"));
        }
        answer.rest.extend(events.into_iter().map(|e| e.frame));
        drop(guard);
        return long_poll_answer(&app, answer, &ahead, json, &faults, chaos);
    }

    head.extend_from_slice(&wire::comment("connected"));
    head.extend_from_slice(&wire::retry(
        faults
            .retry
            .unwrap_or(app.config.retry.as_millis().try_into().unwrap_or(u64::MAX)),
    ));
    if faults.echo {
        head.extend_from_slice(&echo_event(&method, &headers, &request_body));
    }
    if let Some(reset) = &reset {
        head.extend_from_slice(&reset.frame());
        // Nothing to replay after it: a bare `id:` moves the client's cursor.
        if reset.first_retained_id.is_none() || faults.close_after == Some(0) {
            head.extend_from_slice(format!("id: {latest}\n\n").as_bytes());
        }
    }
    let mut queue = VecDeque::from([head.freeze()]);
    if let Some(n) = faults.huge_bytes {
        queue.extend(wire::huge_event(n));
    }
    if faults.invalid_utf8 {
        queue.push_back(wire::invalid_utf8_event());
    }
    if chaos.is_none() && faults.stall.is_none() && faults.trickle.is_none() && !faults.buffer {
        // The common case, 10,000 streams on one topic among them: a body that reads the feed
        // directly, without the fault machinery in between.
        let body = LiveBody {
            head: queue,
            feed,
            remaining: faults.close_after,
            heartbeat: Box::pin(tokio::time::sleep(heartbeat_period(&app))),
            period: heartbeat_period(&app),
            done: false,
            _guard: guard,
        };
        let mut resp = Body::new(body).into_response();
        stream_headers(&mut resp, &faults);
        return resp;
    }
    let stream = SseStream::new(
        &app,
        queue,
        Source::Topic(feed),
        &faults,
        faults.close_after,
        guard,
    );
    respond(&app, stream, &faults, chaos)
}

/// The heartbeat period of streams (at least 10 ms).
fn heartbeat_period(app: &AppState) -> Duration {
    app.config.heartbeat.max(Duration::from_millis(10))
}

/// The frames of `events` as one chunk: the shared frame itself for one event, else the
/// frames copied together (a replay: at most `REPLAY_CHUNK` bytes, or one larger event).
fn frames_chunk(events: Vec<Event>) -> Bytes {
    match <[Event; 1]>::try_from(events) {
        Ok([one]) => one.frame,
        Err(events) => {
            let mut chunk = BytesMut::with_capacity(events.iter().map(|e| e.frame.len()).sum());
            for e in &events {
                chunk.extend_from_slice(&e.frame);
            }
            chunk.freeze()
        }
    }
}

/// The body of a topic stream without stream faults or chaos: the head (preamble, reset,
/// fault events), then the feed (replay and live events), heartbeats while it is quiet,
/// the overflow notice when the client falls behind; it ends after `closeAfter` events, on
/// overflow, and on shutdown (the feed closes).
struct LiveBody {
    head: VecDeque<Bytes>,
    feed: Feed,
    remaining: Option<u64>,
    heartbeat: std::pin::Pin<Box<tokio::time::Sleep>>,
    period: Duration,
    done: bool,
    _guard: ConnGuard,
}

impl http_body::Body for LiveBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        use std::future::Future;
        use std::task::Poll;
        let this = self.get_mut();
        let data = |b: Bytes| Poll::Ready(Some(Ok(http_body::Frame::data(b))));
        if let Some(b) = this.head.pop_front() {
            return data(b);
        }
        if this.done || this.remaining == Some(0) {
            return Poll::Ready(None);
        }
        let max = this
            .remaining
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        match this.feed.poll_next(cx, max, REPLAY_CHUNK) {
            Poll::Ready(Take::Events(events)) => {
                if let Some(r) = &mut this.remaining {
                    *r = r.saturating_sub(events.len() as u64);
                }
                return data(frames_chunk(events));
            }
            Poll::Ready(Take::Overflow) => {
                this.done = true;
                return data(wire::comment(
                    "overflow: client queue full, reconnect with Last-Event-ID",
                ));
            }
            Poll::Ready(Take::Empty | Take::Closed) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if this.heartbeat.as_mut().poll(cx).is_ready() {
            let next = Instant::now() + this.period;
            this.heartbeat.as_mut().reset(next);
            return data(wire::comment("heartbeat"));
        }
        Poll::Pending
    }
}

/// Holds a long-poll until an event after the feed's cursor exists, the timeout passes or
/// the server shuts down.
async fn wait_for_events(
    app: &AppState,
    feed: &mut Feed,
    max: usize,
    timeout: Duration,
) -> Vec<Event> {
    let mut shutdown = app.shutdown.subscribe();
    tokio::select! {
        biased;
        _ = shutdown.changed() => Vec::new(),
        () = tokio::time::sleep(timeout) => Vec::new(),
        taken = feed.next(max, LONG_POLL_BYTES) => match taken {
            Take::Events(events) => events,
            Take::Empty | Take::Overflow | Take::Closed => Vec::new(),
        },
    }
}

/// A replay-file route: streams the recorded blocks, honouring their delays; with
/// `transport=long-poll`, answers the next batch of blocks after the cursor at once.
pub(crate) async fn replay(
    app: Arc<AppState>,
    file: ReplayFile,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ReplayFile { blocks, index, .. } = file;
    let pairs = query_pairs(&uri);
    let hold = match param(&pairs, query::HOLD) {
        None | Some("1" | "true") => true,
        Some("0" | "false") => false,
        Some(_) => return json_error(StatusCode::BAD_REQUEST, "hold must be 1/true or 0/false"),
    };
    let long_poll = match param(&pairs, query::TRANSPORT) {
        None | Some(query::TRANSPORT_SSE | query::TRANSPORT_STREAM) => false,
        Some(query::TRANSPORT_LONG_POLL | query::TRANSPORT_LONGPOLL) => true,
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "transport must be `sse` or `long-poll`",
            )
        }
    };
    let (timeout, json) = match (poll_timeout(&app, &pairs), json_format(&pairs)) {
        (Ok(timeout), Ok(json)) => (timeout, json),
        (Err(e), _) | (_, Err(e)) => return json_error(StatusCode::BAD_REQUEST, e),
    };
    let start = match cursor_text(&headers, &pairs) {
        Some(Ok(id)) if !id.is_empty() => index.get(&id).map_or(0, |i| i + 1),
        _ => 0,
    };
    let (faults, guard) = match prologue(&app, &uri, &pairs).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if long_poll {
        let body = replay_batch(&app, &blocks, start, &faults, hold, timeout).await;
        drop(guard);
        let ahead = ahead_of_replay(&blocks, &index, start, batch_size(&app, &faults));
        return long_poll_answer(&app, body, &ahead, json, &faults, None);
    }
    let mut queue = VecDeque::new();
    if let Some(ms) = faults.retry {
        queue.push_back(wire::retry(ms));
    }
    if let Some(n) = faults.huge_bytes {
        queue.extend(wire::huge_event(n));
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
    respond(&app, stream, &faults, None)
}

/// One long-poll answer of a replay route: the fault events, then up to
/// `--long-poll-batch` blocks with events from `start` on (delays ignored). Past the end of
/// the file: `: no events`, after the poll timeout unless `hold=0`.
async fn replay_batch(
    app: &AppState,
    blocks: &[Block],
    start: usize,
    faults: &Faults,
    hold: bool,
    timeout: Duration,
) -> Answer {
    let mut body = Answer {
        pre: faults.retry.map(wire::retry),
        huge: faults.huge_bytes,
        rest: Vec::new(),
    };
    if faults.invalid_utf8 {
        body.rest.push(wire::invalid_utf8_event());
    }
    let max = batch_size(app, faults);
    let mut taken = 0;
    for block in blocks.iter().skip(start) {
        if taken == max {
            break;
        }
        body.rest.push(block.bytes.clone());
        taken += usize::from(block.is_event);
    }
    if taken == 0 {
        if hold {
            let mut shutdown = app.shutdown.subscribe();
            tokio::select! {
                () = tokio::time::sleep(timeout) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
        }
        body.rest.push(wire::comment("no events"));
    }
    body
}

fn respond(app: &AppState, stream: SseStream, faults: &Faults, chaos: ChaosPlan) -> Response {
    use futures_util::StreamExt;
    let pieces = if faults.buffer {
        let hold = faults.buffer_hold;
        let budget = app.buffered.clone();
        futures_util::stream::once(async move { stream.buffered(hold, budget).await }).boxed()
    } else {
        futures_util::stream::unfold(stream, |mut s| async move {
            let chunk = s.next().await?;
            Some((chunk, s))
        })
        .boxed()
    };
    let body = match chaos {
        // Chaos applies to what leaves the server, after the query's own faults.
        Some((plan, stats)) => {
            Body::from_stream(chaos::wrap(pieces, plan, stats, app.shutdown.signalled()))
        }
        None => Body::from_stream(pieces.map(Ok::<_, Infallible>)),
    };
    let mut resp = body.into_response();
    stream_headers(&mut resp, faults);
    resp
}

/// Where live events come from.
enum Source {
    /// A topic's feed (replay, then live events).
    Topic(Feed),
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
    /// Event blocks; the number of them that count for `closeAfter`.
    Data(Bytes, u64),
    /// The client fell behind its bounded queue: tell it and disconnect.
    Overflow,
    /// Nothing more, ever.
    End,
}

/// A replay chunk grows up to this size with the blocks that follow without a delay.
const REPLAY_CHUNK: usize = 64 * 1024;

impl Source {
    /// The next piece of data; at most `budget` blocks that count for `closeAfter`.
    async fn next(&mut self, budget: Option<u64>) -> Item {
        match self {
            Source::Topic(feed) => {
                let max = budget.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
                match feed.next(max, REPLAY_CHUNK).await {
                    Take::Events(events) => {
                        let n = events.len() as u64;
                        Item::Data(frames_chunk(events), n)
                    }
                    Take::Overflow => Item::Overflow,
                    Take::Empty | Take::Closed => Item::End,
                }
            }
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
                // Blocks due at once go out together (as a topic's replay does), up to
                // `REPLAY_CHUNK` bytes: one small chunk per block would make the server the
                // bottleneck of every benchmark reading a recording.
                let mut counted = u64::from(block.is_event);
                let follow = blocks[*next..].iter().take_while(|b| b.delay.is_zero());
                let mut chunk: Option<BytesMut> = None;
                for b in follow {
                    let len = chunk.as_ref().map_or(block.bytes.len(), BytesMut::len);
                    if len + b.bytes.len() > REPLAY_CHUNK
                        || budget.is_some_and(|n| counted + u64::from(b.is_event) > n)
                    {
                        break;
                    }
                    let chunk = chunk.get_or_insert_with(|| BytesMut::from(&block.bytes[..]));
                    chunk.extend_from_slice(&b.bytes);
                    counted += u64::from(b.is_event);
                    *next += 1;
                }
                let bytes = chunk.map_or_else(|| block.bytes.clone(), BytesMut::freeze);
                Item::Data(bytes, counted)
            }
        }
    }
}

/// The most bytes every `buffer=1` response together holds back.
pub(crate) const MAX_BUFFERED_TOTAL: usize = 32 << 20;

/// A buffered body, counted in the shared budget until it is freed (sent, or its
/// connection dropped).
struct Counted {
    bytes: Bytes,
    /// Bytes added to `budget` for it.
    counted: usize,
    budget: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Counted {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.counted, Ordering::AcqRel);
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
        let period = heartbeat_period(app);
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

    /// Everything the stream sends until it ends or `hold` passes, as one piece: the
    /// `buffer=1` fault (a proxy that buffers whole responses). Heartbeats are held back too.
    ///
    /// A buffering proxy gives up at some size too: the piece goes out early once it holds
    /// `MAX_BUFFERED` bytes, or once every buffered response together would hold more than
    /// [`MAX_BUFFERED_TOTAL`] (counted in `budget` until the piece is freed).
    async fn buffered(mut self, hold: Duration, budget: Arc<AtomicUsize>) -> Bytes {
        const MAX_BUFFERED: usize = 16 << 20;
        let mut out = BytesMut::new();
        // Counted from the first byte: a response dropped while buffering gives it back.
        let mut held = Counted {
            bytes: Bytes::new(),
            counted: 0,
            budget,
        };
        let deadline = tokio::time::sleep(hold);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                biased;
                () = &mut deadline => break,
                chunk = self.next() => match chunk {
                    Some(chunk) => {
                        let total =
                            held.budget.fetch_add(chunk.len(), Ordering::AcqRel) + chunk.len();
                        held.counted += chunk.len();
                        out.extend_from_slice(&chunk);
                        if out.len() > MAX_BUFFERED || total > MAX_BUFFERED_TOTAL {
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
        held.bytes = out.freeze();
        Bytes::from_owner(held)
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
            item = self.source.next(self.remaining) => match item {
                Item::Data(bytes, counted) => {
                    if let Some(r) = &mut self.remaining {
                        *r = r.saturating_sub(counted);
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
