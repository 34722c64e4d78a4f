//! The control routes the live demo drives (`docs/protocol.md`, "Control routes"):
//!
//! - `POST /control/drop` `{"conn": LABEL}` cuts the event responses opened with
//!   `conn=LABEL`: a stream sends the first half of its next event, then its connection is
//!   aborted (no body end), so the client must discard the partial event and resume; a held
//!   long-poll is aborted.
//! - `POST /control/outage` `{"topic": T, "seconds": S}` answers the topic's event requests
//!   with `503` and `Retry-After` for `S` seconds, and cuts its labelled responses as a drop
//!   does.
//!
//! Both change the server's state, so they follow the publish rules: `application/json` only,
//! a foreign `Origin` refused (the CORS layer), the bearer token when one is configured.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};
use wasm_sse_codec::protocol::query;

use crate::hub::valid_topic;
use crate::{json_error, lock, param, query_pairs, topic_param, AppState};

/// The most topics in an outage at once (expired ones are forgotten first).
pub(crate) const MAX_OUTAGES: usize = 64;

/// The longest outage, in seconds.
pub(crate) const MAX_OUTAGE_SECS: u64 = 60;

/// The largest control request body, in bytes.
const MAX_CONTROL_BODY: usize = 4096;

/// How long a cut stream waits for an event to cut in half; past it, the connection is
/// aborted between events.
const CUT_WAIT: Duration = Duration::from_secs(3);

/// hyper drops its unflushed output when a body fails: the half event gets a moment to
/// leave before the abort, so that the client sees it.
const FLUSH_BEFORE_ABORT: Duration = Duration::from_millis(5);

/// One labelled event response.
struct Entry {
    topic: String,
    cut: oneshot::Sender<()>,
}

/// The labelled responses and the outages.
///
/// Bounded: an entry lives as long as its response (so at most one per open request), and
/// at most [`MAX_OUTAGES`] outages are held.
#[derive(Default)]
pub(crate) struct Controls {
    /// `conn` label -> response id -> entry.
    labelled: Mutex<HashMap<String, HashMap<u64, Entry>>>,
    next_id: AtomicU64,
    /// Topic -> end of its outage.
    outages: Mutex<HashMap<String, Instant>>,
    /// `outages` may hold an entry: every event request checks this, not the lock.
    any_outage: AtomicBool,
}

/// Removes its entry when the response ends (or is dropped).
pub(crate) struct Registration {
    controls: Arc<Controls>,
    conn: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut labelled = lock(&self.controls.labelled);
        if let Some(streams) = labelled.get_mut(&self.conn) {
            streams.remove(&self.id);
            if streams.is_empty() {
                labelled.remove(&self.conn);
            }
        }
    }
}

impl Controls {
    /// Labels a response of `topic` with `conn`; the receiver fires when it is to be cut.
    fn register(
        self: &Arc<Self>,
        conn: &str,
        topic: &str,
    ) -> (Registration, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.labelled)
            .entry(conn.to_owned())
            .or_default()
            .insert(
                id,
                Entry {
                    topic: topic.to_owned(),
                    cut: tx,
                },
            );
        let registration = Registration {
            controls: self.clone(),
            conn: conn.to_owned(),
            id,
        };
        (registration, rx)
    }

    /// Cuts the responses labelled `conn`; returns how many.
    fn drop_conn(&self, conn: &str) -> usize {
        let taken = lock(&self.labelled).remove(conn).unwrap_or_default();
        taken
            .into_values()
            .filter_map(|e| e.cut.send(()).ok())
            .count()
    }

    /// Cuts the labelled responses of `topic`; returns how many.
    fn drop_topic(&self, topic: &str) -> usize {
        let mut cut = Vec::new();
        {
            let mut labelled = lock(&self.labelled);
            for streams in labelled.values_mut() {
                let ids: Vec<u64> = streams
                    .iter()
                    .filter(|(_, e)| e.topic == topic)
                    .map(|(id, _)| *id)
                    .collect();
                cut.extend(ids.into_iter().filter_map(|id| streams.remove(&id)));
            }
            labelled.retain(|_, streams| !streams.is_empty());
        }
        cut.into_iter().filter_map(|e| e.cut.send(()).ok()).count()
    }

    /// Starts (or extends) an outage of `topic` until `until`; `false` when
    /// [`MAX_OUTAGES`] others are running.
    fn start_outage(&self, topic: &str, until: Instant) -> bool {
        let mut outages = lock(&self.outages);
        let now = Instant::now();
        outages.retain(|_, end| *end > now);
        if outages.len() >= MAX_OUTAGES && !outages.contains_key(topic) {
            return false;
        }
        let end = outages.entry(topic.to_owned()).or_insert(until);
        *end = (*end).max(until);
        self.any_outage.store(true, Ordering::Release);
        true
    }

    /// The time left of `topic`'s outage, if one is running.
    fn outage_left(&self, topic: &str) -> Option<Duration> {
        if !self.any_outage.load(Ordering::Acquire) {
            return None;
        }
        let mut outages = lock(&self.outages);
        let now = Instant::now();
        outages.retain(|_, end| *end > now);
        if outages.is_empty() {
            self.any_outage.store(false, Ordering::Release);
        }
        let left = outages.get(topic)?.saturating_duration_since(now);
        (!left.is_zero()).then_some(left)
    }
}

/// `GET`/`POST /events`: the outage check and the `conn` label around
/// [`crate::events::events`].
pub(crate) async fn events(
    State(app): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let pairs = query_pairs(&uri);
    let topic = topic_param(&pairs).to_owned();
    let conn = match param(&pairs, query::CONN) {
        None => None,
        Some(c) if valid_topic(c) => Some(c.to_owned()),
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "conn must be 1 to 64 characters of A-Z a-z 0-9 _ - . :",
            )
        }
    };
    if let Some(left) = app.controls.outage_left(&topic) {
        return outage_response(left);
    }
    let inner = crate::events::events(app.clone(), method, uri, pairs, headers, body);
    let Some(conn) = conn else {
        return inner.await;
    };
    let (registration, mut cut) = app.controls.register(&conn, &topic);
    let resp = tokio::select! {
        biased;
        // Cut before the answer is ready: a held long-poll (or a `delayMs` wait).
        _ = &mut cut => return aborted_response(),
        resp = inner => resp,
    };
    if !resp.status().is_success() {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let body = Cuttable {
        inner: body,
        cut,
        state: CutState::Live,
        _registration: registration,
    };
    Response::from_parts(parts, Body::new(body))
}

/// `503` with `Retry-After` (whole seconds, rounded up) for a topic in an outage.
fn outage_response(left: Duration) -> Response {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let mut r = json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("outage: this topic is unavailable for {secs} more seconds"),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn cut_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "control: connection dropped",
    )
}

/// An event-stream response whose body fails at once: its connection is aborted.
fn aborted_response() -> Response {
    let body = Body::from_stream(futures_util::stream::once(async {
        Err::<Bytes, _>(cut_error())
    }));
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    resp
}

enum CutState {
    /// Passing the body through, watching for the cut.
    Live,
    /// Cut: waiting (until the deadline) for an event to send the first half of.
    Cutting(Pin<Box<Sleep>>),
    /// The half event is out: the abort follows.
    Flushing(Pin<Box<Sleep>>),
    Done,
}

/// A labelled response's body: the inner body until the cut, then half an event and an
/// aborted connection.
struct Cuttable {
    inner: Body,
    cut: oneshot::Receiver<()>,
    state: CutState,
    _registration: Registration,
}

/// The first half of the first event in `data`, or `None` when `data` holds only comments
/// and fields without an event (heartbeats, the preamble).
fn first_event_half(data: &Bytes) -> Option<Bytes> {
    if data.first().is_none_or(|b| *b == b':' || *b == b'r') {
        return None;
    }
    let end = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    Some(data.slice(..(end / 2).max(1)))
}

impl http_body::Body for Cuttable {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                CutState::Live => {
                    if Pin::new(&mut this.cut).poll(cx).is_ready() {
                        this.state = CutState::Cutting(Box::pin(tokio::time::sleep(CUT_WAIT)));
                        continue;
                    }
                    return Pin::new(&mut this.inner).poll_frame(cx);
                }
                CutState::Cutting(deadline) => {
                    match Pin::new(&mut this.inner).poll_frame(cx) {
                        Poll::Ready(Some(Ok(frame))) => {
                            let half = frame.data_ref().and_then(first_event_half);
                            return match half {
                                Some(half) => {
                                    this.state = CutState::Flushing(Box::pin(tokio::time::sleep(
                                        FLUSH_BEFORE_ABORT,
                                    )));
                                    Poll::Ready(Some(Ok(http_body::Frame::data(half))))
                                }
                                None => Poll::Ready(Some(Ok(frame))),
                            };
                        }
                        Poll::Ready(other) => {
                            this.state = CutState::Done;
                            return Poll::Ready(other);
                        }
                        Poll::Pending => {}
                    }
                    if deadline.as_mut().poll(cx).is_ready() {
                        this.state = CutState::Done;
                        return Poll::Ready(Some(Err(axum::Error::new(cut_error()))));
                    }
                    return Poll::Pending;
                }
                CutState::Flushing(pause) => {
                    if pause.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state = CutState::Done;
                    return Poll::Ready(Some(Err(axum::Error::new(cut_error()))));
                }
                CutState::Done => return Poll::Ready(None),
            }
        }
    }
}

/// The `Content-Type`, token and body checks of a control request; the body's JSON object.
async fn control_body(
    app: &AppState,
    headers: &HeaderMap,
    body: Body,
    fields: &[&str],
) -> Result<serde_json::Map<String, Value>, Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(crate::publish::is_json) {
        return Err(json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be sent as Content-Type: application/json",
        ));
    }
    if let Some(token) = &app.config.publish_token {
        if !crate::publish::authorized(headers, token) {
            let mut r = json_error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sse-devserver\""),
            );
            return Err(r);
        }
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_CONTROL_BODY).await else {
        return Err(json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("body is over the {MAX_CONTROL_BODY}-byte limit"),
        ));
    };
    let obj = match serde_json::from_slice(&bytes) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => {
            return Err(json_error(
                StatusCode::BAD_REQUEST,
                "body must be a JSON object",
            ))
        }
        Err(e) => {
            return Err(json_error(
                StatusCode::BAD_REQUEST,
                &format!("bad JSON: {e}"),
            ))
        }
    };
    if let Some(k) = obj.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            &format!("unknown field `{k}`"),
        ));
    }
    Ok(obj)
}

/// A string field that must be a topic-like name; `Err`: the `400` answer.
fn name_field(obj: &serde_json::Map<String, Value>, field: &str) -> Result<String, Box<Response>> {
    match obj.get(field) {
        Some(Value::String(s)) if valid_topic(s) => Ok(s.clone()),
        _ => Err(Box::new(json_error(
            StatusCode::BAD_REQUEST,
            &format!("`{field}` must be 1 to 64 characters of A-Z a-z 0-9 _ - . :"),
        ))),
    }
}

/// `POST /control/drop` `{"conn": LABEL}` -> `{"dropped": N}`.
pub(crate) async fn drop_conn(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let obj = match control_body(&app, &headers, body, &["conn"]).await {
        Ok(obj) => obj,
        Err(resp) => return resp,
    };
    let conn = match name_field(&obj, "conn") {
        Ok(c) => c,
        Err(resp) => return *resp,
    };
    let dropped = app.controls.drop_conn(&conn);
    tracing::debug!(conn, dropped, "control: drop");
    Json(serde_json::json!({ "dropped": dropped })).into_response()
}

/// `POST /control/outage` `{"topic": T, "seconds": S}` -> `{"seconds": S, "dropped": N}`.
pub(crate) async fn outage(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let obj = match control_body(&app, &headers, body, &["topic", "seconds"]).await {
        Ok(obj) => obj,
        Err(resp) => return resp,
    };
    let topic = match obj.get("topic") {
        None => query::DEFAULT_TOPIC.to_owned(),
        Some(_) => match name_field(&obj, "topic") {
            Ok(t) => t,
            Err(resp) => return *resp,
        },
    };
    let seconds = match obj.get("seconds").map(Value::as_u64) {
        None => 5,
        Some(Some(s)) if (1..=MAX_OUTAGE_SECS).contains(&s) => s,
        Some(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("`seconds` must be an integer from 1 to {MAX_OUTAGE_SECS}"),
            )
        }
    };
    let until = Instant::now() + Duration::from_secs(seconds);
    if !app.controls.start_outage(&topic, until) {
        return crate::events::busy("too many outages");
    }
    let dropped = app.controls.drop_topic(&topic);
    tracing::debug!(topic, seconds, dropped, "control: outage");
    Json(serde_json::json!({ "topic": topic, "seconds": seconds, "dropped": dropped }))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_first_event_in_half() {
        let ev = Bytes::from_static(b"id: 7\nevent: tick\ndata: {\"count\":7}\n\nid: 8\n\n");
        let half = first_event_half(&ev).unwrap_or_default();
        assert_eq!(&half[..], b"id: 7\nevent: tick");
        assert!(first_event_half(&Bytes::from_static(b": heartbeat\n\n")).is_none());
        assert!(first_event_half(&Bytes::from_static(b"retry: 2000\n\n")).is_none());
        assert!(first_event_half(&Bytes::new()).is_none());
    }

    #[test]
    fn outages_are_bounded_and_expire() {
        let c = Controls::default();
        let now = Instant::now();
        for i in 0..MAX_OUTAGES {
            assert!(c.start_outage(&format!("t{i}"), now + Duration::from_secs(5)));
        }
        assert!(!c.start_outage("one-more", now + Duration::from_secs(5)));
        // Extending a running one is always possible.
        assert!(c.start_outage("t0", now + Duration::from_secs(9)));
        assert!(c
            .outage_left("t0")
            .is_some_and(|d| d > Duration::from_secs(8)));
        assert!(c.outage_left("one-more").is_none());
        // Expired outages make room.
        let c = Controls::default();
        for i in 0..MAX_OUTAGES {
            assert!(c.start_outage(&format!("t{i}"), now));
        }
        assert!(c.start_outage("fresh", now + Duration::from_secs(1)));
        assert!(c.outage_left("t1").is_none());
    }
}
