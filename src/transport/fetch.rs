//! The fetch-streaming transport: one `fetch` whose response body is read as a stream and
//! parsed in wasm by the workspace codec.
//!
//! Unlike `EventSource` it can send headers (`Last-Event-ID`, `Authorization`, ...), use
//! `POST` with a body, and see the response's status, `Retry-After` and `Content-Type`, so
//! every failure is reported precisely. It uses the global `fetch`, so it runs in windows,
//! workers and Node alike.
//!
//! The pieces both fetch-based transports share (building the request, reading the body,
//! feeding the parser, owning the task) live here too; see [`longpoll`](super::longpoll).
//! Which responses are accepted is the engine's decision ([`crate::engine::response`]).
//!
//! # Lifetime
//!
//! The I/O runs in a `spawn_local` task owned by the transport. Dropping the transport
//! aborts that task at once (its pending promises and timers are dropped with it, so nothing
//! is reported afterwards) and aborts the `AbortController` whose signal is on every request,
//! which closes the connection. The task also stops by itself when the receiving end of the
//! sink is gone, and aborts the controller whenever it ends.

use std::future::Future;
use std::time::Duration;

use futures::future::{AbortHandle, Abortable};
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_sse_codec::{Item, ParseError, Parser};
use web_sys::{
    AbortController, AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader,
    ReadableStreamReadResult, RequestCache, RequestCredentials, RequestInit, Response,
};

use super::eventsource::js_message;
use super::quoted;
use super::{Method, Request, Sink, TransportEvent};
use crate::engine::reconnect::Failure;
use crate::engine::response::{self, Head};
use crate::{Error, Event};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (`globalThis.fetch`): present in windows, workers and Node 18+,
    /// unlike `window.fetch`.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(input: &web_sys::Request) -> Result<Promise, JsValue>;
}

/// A live fetch stream. Dropping it aborts the request and its task.
pub(crate) struct FetchStream {
    _task: Task,
}

impl FetchStream {
    /// Starts `fetch(request.url)` and streams its body into `sink`.
    ///
    /// Fails synchronously only when the request cannot be built: no `fetch` or
    /// `AbortController` in this environment, an invalid header, a body with `GET`, or a
    /// URL the `Request` constructor refuses. Everything else is reported through `sink`:
    /// `Open` once the response is accepted, then events, and one final `Failed`.
    pub(crate) fn open(request: &Request, sink: Sink) -> Result<Self, Error> {
        let controller = new_abort_controller()?;
        let prepared = Prepared::new(request, &controller.signal())?;
        prepared.set_last_event_id(request.last_event_id.as_deref());
        let fetch_request = prepared.build(&request.url)?;
        let max_event_size = request.max_event_size;
        let signal = controller.signal();
        let task = Task::spawn(controller, async move {
            let failure = stream(&fetch_request, max_event_size, &sink).await;
            report_end(failure, &signal, &sink);
        });
        Ok(Self { _task: task })
    }
}

/// Fetches and streams; returns why the stream ended, or `None` when it should end quietly
/// (the sink is closed).
async fn stream(request: &web_sys::Request, max_event_size: usize, sink: &Sink) -> Option<Failure> {
    let response = match fetch(request).await {
        Ok(response) => response,
        Err(_) => return Some(Failure::Network),
    };
    if let Err(failure) = check_response(&response) {
        return Some(failure);
    }
    if sink.unbounded_send(TransportEvent::Open).is_err() {
        return None;
    }
    let mut parser = Parser::with_max_event_size(max_event_size);
    let Some(body) = response.body() else {
        // No streamable body (old engines): read it whole, then the stream has ended.
        let Ok(bytes) = read_body(&response).await else {
            return Some(Failure::Network);
        };
        return feed_chunk(&mut parser, &bytes, sink)
            .open
            .then_some(Failure::StreamEnded);
    };
    match pump(&body, &mut parser, sink).await.0 {
        Pumped::Ended => Some(Failure::StreamEnded),
        Pumped::Closed => None,
        Pumped::Failed => Some(Failure::Network),
    }
}

/// How reading a response body as a stream ended.
pub(crate) enum Pumped {
    /// The body ended.
    Ended,
    /// The sink was closed: stop quietly.
    Closed,
    /// Reading failed (network error, abort, or a broken stream).
    Failed,
}

/// Reads `body` chunk by chunk into `parser`, reporting into `sink` as it goes; returns how
/// it ended and how many events it delivered.
pub(crate) async fn pump(
    body: &ReadableStream,
    parser: &mut Parser,
    sink: &Sink,
) -> (Pumped, usize) {
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    // Chunks are copied into this one buffer with `copy_to_uninit` rather than with
    // `Uint8Array::to_vec`: both make exactly one copy out of JS memory, but `to_vec`
    // allocates (and later frees) a fresh `Vec` per chunk, while the reused buffer costs no
    // allocation once it has grown to the largest chunk, and writing into its spare capacity
    // needs no zero-filling first.
    let mut buffer: Vec<u8> = Vec::new();
    let mut events = 0;
    loop {
        let read = JsFuture::from(reader.read()).await;
        if sink.is_closed() {
            return (Pumped::Closed, events);
        }
        let Ok(read) = read else {
            return (Pumped::Failed, events);
        };
        let read: ReadableStreamReadResult = read.unchecked_into();
        if read.get_done().unwrap_or(false) {
            return (Pumped::Ended, events);
        }
        let value = read.get_value();
        let Some(chunk) = value.dyn_ref::<Uint8Array>() else {
            // A fetch body only ever yields Uint8Arrays; anything else is a broken stream.
            return (Pumped::Failed, events);
        };
        let len = chunk.length() as usize;
        buffer.clear();
        buffer.reserve(len);
        let Some(spare) = buffer.spare_capacity_mut().get_mut(..len) else {
            return (Pumped::Failed, events);
        };
        let bytes = chunk.copy_to_uninit(spare);
        let fed = feed_chunk(parser, bytes, sink);
        events += fed.events;
        if !fed.open {
            return (Pumped::Closed, events);
        }
    }
}

/// Sends the terminal report of a task that ended on its own, unless it was aborted.
pub(crate) fn report_end(failure: Option<Failure>, signal: &AbortSignal, sink: &Sink) {
    if let Some(failure) = failure {
        if !signal.aborted() {
            let _ = sink.unbounded_send(TransportEvent::Failed(failure));
        }
    }
}

/// A new `AbortController`, or `Unsupported` where there is none.
pub(crate) fn new_abort_controller() -> Result<AbortController, Error> {
    AbortController::new().map_err(|e| Error::Unsupported(prefixed("AbortController: ", &e)))
}

/// `prefix` followed by the message of a thrown JS value (no `format!` in the wasm).
fn prefixed(prefix: &str, thrown: &JsValue) -> String {
    prefix.to_owned() + &js_message(thrown)
}

/// The spawned I/O of a transport. Dropping it aborts the task (its future is dropped, so
/// nothing is reported afterwards) and the controller (closing the connection).
pub(crate) struct Task {
    controller: AbortController,
    handle: AbortHandle,
}

impl Task {
    /// Spawns `future` on the current thread's executor. When it ends on its own, the
    /// controller is aborted too, so no request outlives its task.
    pub(crate) fn spawn<F>(controller: AbortController, future: F) -> Self
    where
        F: Future<Output = ()> + 'static,
    {
        let (handle, registration) = AbortHandle::new_pair();
        let task = Abortable::new(future, registration);
        let on_end = controller.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if task.await.is_ok() {
                on_end.abort();
            }
        });
        Self { controller, handle }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // The abort flag is checked before the task is polled again, so the task never sees
        // the rejection that the controller's abort causes.
        self.handle.abort();
        self.controller.abort();
    }
}

/// The parts of a request that stay the same across the requests of one transport.
pub(crate) struct Prepared {
    init: RequestInit,
    headers: Headers,
}

impl Prepared {
    /// Validates and builds the request options: method, headers (plus
    /// `Accept: text/event-stream`), body, credentials, `cache: "no-store"` and `signal`.
    pub(crate) fn new(request: &Request, signal: &AbortSignal) -> Result<Self, Error> {
        if !js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("fetch")).unwrap_or(false) {
            return Err(Error::Unsupported("fetch is not available".to_owned()));
        }
        let headers = Headers::new().map_err(|e| Error::Unsupported(prefixed("Headers: ", &e)))?;
        for (name, value) in &request.headers {
            headers.set(name, value).map_err(|e| Error::InvalidOption {
                option: "headers",
                reason: quoted(name) + ": " + &js_message(&e),
            })?;
        }
        headers
            .set("Accept", "text/event-stream")
            .map_err(|e| Error::Js(js_message(&e)))?;
        let init = RequestInit::new();
        init.set_method(match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        });
        if let Some(body) = &request.body {
            if request.method == Method::Get {
                return Err(Error::InvalidOption {
                    option: "body",
                    reason: "a GET request cannot have a body; use POST".to_owned(),
                });
            }
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        init.set_credentials(if request.with_credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        });
        init.set_cache(RequestCache::NoStore);
        init.set_signal(Some(signal));
        Ok(Self { init, headers })
    }

    /// Sets (or, for `None` and `""`, removes) the `Last-Event-ID` header of the requests
    /// built from now on. An id that is not a valid header value (say, one holding U+FFFD)
    /// is not sent as a header; the query parameter still carries it where one is used.
    pub(crate) fn set_last_event_id(&self, id: Option<&str>) {
        match id.filter(|id| !id.is_empty()) {
            Some(id) => {
                if self.headers.set("Last-Event-ID", id).is_err() {
                    let _ = self.headers.delete("Last-Event-ID");
                }
            }
            None => {
                let _ = self.headers.delete("Last-Event-ID");
            }
        }
    }

    /// As [`build`](Self::build), aborted by `signal` instead of the transport's signal.
    pub(crate) fn build_with_signal(
        &self,
        url: &str,
        signal: &AbortSignal,
    ) -> Result<web_sys::Request, Error> {
        self.init.set_signal(Some(signal));
        self.build(url)
    }

    /// A `Request` for `url` with the current options (headers are copied, so later
    /// changes do not affect it).
    pub(crate) fn build(&self, url: &str) -> Result<web_sys::Request, Error> {
        web_sys::Request::new_with_str_and_init(url, &self.init).map_err(|e| Error::InvalidUrl {
            url: url.to_owned(),
            reason: js_message(&e),
        })
    }
}

/// `fetch(request)`, resolved to its `Response`.
pub(crate) async fn fetch(request: &web_sys::Request) -> Result<Response, JsValue> {
    into_response(start_fetch(request)).await
}

/// Calls `fetch(request)` now: the request goes out before the returned future is polled
/// (an `async fn` would only call it when first polled). Finish with [`into_response`].
pub(crate) fn start_fetch(request: &web_sys::Request) -> Result<JsFuture, JsValue> {
    global_fetch(request).map(JsFuture::from)
}

/// The response of a fetch started with [`start_fetch`].
pub(crate) async fn into_response(started: Result<JsFuture, JsValue>) -> Result<Response, JsValue> {
    started?.await?.dyn_into::<Response>()
}

/// The whole body as bytes (`arrayBuffer()`, which works where bodies cannot be streamed).
pub(crate) async fn read_body(response: &Response) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Runs the engine's [response checks](crate::engine::response::check) on `response`'s head.
pub(crate) fn check_response(response: &Response) -> Result<(), Failure> {
    let headers = response.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let head = Head {
        status: response.status(),
        content_type: header("content-type"),
        retry_after: header("retry-after"),
    };
    response::check(&head, crate::env::wall_ms())
}

/// What feeding one chunk produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fed {
    /// The sink still has a receiver.
    pub(crate) open: bool,
    /// Events dispatched by this chunk.
    pub(crate) events: usize,
}

/// Feeds one chunk to `parser` and reports what it produced: each event, each `retry`
/// value, and `EventTooLarge` when an event was dropped (after the chunk's other items:
/// the parser reports the error once the whole chunk is parsed, and recovers on its own).
///
/// `Activity` goes out at most once per chunk: at the chunk's first comment, or at its end
/// when it produced no other report (a partial event, a blank line), so the idle watchdog
/// learns about every chunk of bytes.
pub(crate) fn feed_chunk(parser: &mut Parser, chunk: &[u8], sink: &Sink) -> Fed {
    let mut open = true;
    let mut events = 0;
    let mut reported = false;
    let mut activity = false;
    let mut send = |report: TransportEvent| open &= sink.unbounded_send(report).is_ok();
    // Each event is built in the buffers of the previous one once it is spent: its type and
    // ID strings are refilled, and its data buffer goes back to the parser for a later
    // event, so a steady stream allocates nothing per event here.
    let result = parser.feed_recycling(chunk, |item| {
        let mut spent = None;
        let report = match item {
            Item::Event(event) => {
                events += 1;
                let (event, data) = into_event(event, sink.take_spare());
                spent = data;
                TransportEvent::Event(event)
            }
            Item::Retry(ms) => TransportEvent::Retry(Duration::from_millis(ms)),
            Item::Comment(_) if activity => return None,
            Item::Comment(_) => {
                activity = true;
                TransportEvent::Activity
            }
        };
        reported = true;
        send(report);
        spent
    });
    if let Err(ParseError::EventTooLarge { limit }) = result {
        reported = true;
        send(TransportEvent::EventTooLarge { limit });
    }
    if !reported {
        send(TransportEvent::Activity);
    }
    Fed { open, events }
}

/// The codec's event as the crate's, moving the data (usually the large part) uncopied.
/// The type and ID are copied into the strings of `spare` (a spent event) when there is
/// one; its data buffer is returned for the parser to reuse.
fn into_event(event: wasm_sse_codec::Event, spare: Option<Event>) -> (Event, Option<String>) {
    let (mut event_type, mut last_event_id, spent) = match spare {
        Some(spare) => (spare.event_type, spare.last_event_id, Some(spare.data)),
        None => (String::new(), String::new(), None),
    };
    event_type.clear();
    event_type.push_str(event.event_type());
    last_event_id.clear();
    last_event_id.push_str(event.id());
    let event = Event {
        event_type,
        data: event.into_data(),
        last_event_id,
    };
    (event, spent)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::channel::mpsc;
    use wasm_sse_codec::Parser;

    use super::{feed_chunk, Fed};
    use crate::transport::{Sink, TransportEvent};
    use crate::Event;

    #[test]
    fn feed_chunk_reports_items_and_one_activity_per_chunk() {
        let (sink, mut rx) = mpsc::unbounded();
        let sink = Sink::from(sink);
        let mut parser = Parser::with_max_event_size(16);
        let mut fed = |chunk: &[u8]| feed_chunk(&mut parser, chunk, &sink);
        assert_eq!(
            fed(b": a\n: b\nretry: 5\n"),
            Fed {
                open: true,
                events: 0
            }
        );
        assert_eq!(
            fed(b"id: 1\nda"),
            Fed {
                open: true,
                events: 0
            }
        );
        assert_eq!(
            fed(b"ta: x\n\n"),
            Fed {
                open: true,
                events: 1
            }
        );
        assert_eq!(
            fed(b"data: 0123456789abcdef\n\ndata: y\n\n"),
            Fed {
                open: true,
                events: 1
            }
        );
        let mut reports = Vec::new();
        while let Ok(report) = rx.try_recv() {
            reports.push(report);
        }
        assert_eq!(
            reports,
            [
                TransportEvent::Activity,
                TransportEvent::Retry(Duration::from_millis(5)),
                TransportEvent::Activity,
                TransportEvent::Event(Event::new("message", "x", "1")),
                TransportEvent::Event(Event::new("message", "y", "1")),
                TransportEvent::EventTooLarge { limit: 16 },
            ]
        );
        drop(rx);
        assert!(!fed(b"data: z\n\n").open);
    }
}

/// Browser-test helpers shared by the transports' tests: they talk to the dev server that
/// `scripts/test.sh` starts (its URL is baked in at compile time as `SSE_DEVSERVER_URL`).
#[cfg(all(test, target_arch = "wasm32"))]
#[allow(clippy::unwrap_used)]
pub(crate) mod testing {
    use std::time::Duration;

    use futures::channel::mpsc::{self, UnboundedReceiver};
    use futures::{FutureExt, StreamExt};
    use wasm_bindgen::JsValue;
    use wasm_bindgen_futures::JsFuture;

    use super::fetch;
    use crate::transport::{Request, TransportEvent};

    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    /// The dev server's base URL.
    pub(crate) fn server() -> &'static str {
        match option_env!("SSE_DEVSERVER_URL") {
            Some(url) => url,
            None => {
                panic!("SSE_DEVSERVER_URL is unset: run the browser tests through scripts/test.sh")
            }
        }
    }

    /// A topic no other test uses.
    pub(crate) fn fresh_topic(name: &str) -> String {
        format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
    }

    /// A transport request for `url` with the client's defaults.
    pub(crate) fn request(url: String) -> Request {
        Request {
            url,
            max_event_size: 1 << 20,
            last_event_id_param: "lastEventId".to_owned(),
            ..Request::default()
        }
    }

    async fn fetch_json(url: &str, method: &str, body: Option<&str>) -> JsValue {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            init.set_body(&JsValue::from_str(body));
            let headers = web_sys::Headers::new().unwrap();
            headers.set("content-type", "application/json").unwrap();
            init.set_headers(&headers);
        }
        let request = web_sys::Request::new_with_str_and_init(url, &init).unwrap();
        let response = fetch(&request).await.unwrap();
        assert_eq!(response.status(), 200, "{method} {url}");
        JsFuture::from(response.json().unwrap()).await.unwrap()
    }

    /// Publishes one event through `POST /publish`, returning its id.
    pub(crate) async fn publish(topic: &str, body: &str) -> String {
        let url = format!("{}/publish?topic={topic}", server());
        let json = fetch_json(&url, "POST", Some(body)).await;
        js_sys::Reflect::get(&json, &"id".into())
            .unwrap()
            .as_string()
            .unwrap()
    }

    /// The dev server's count of open event responses (`GET /healthz`).
    pub(crate) async fn connections() -> f64 {
        let json = fetch_json(&format!("{}/healthz", server()), "GET", None).await;
        js_sys::Reflect::get(&json, &"connections".into())
            .unwrap()
            .as_f64()
            .unwrap()
    }

    /// Waits (up to 500 ms) until the dev server counts fewer open event responses than
    /// `during`, measured while ours was open; panics otherwise. Tests run one at a time, so
    /// a drop means ours closed (`before`/`after` equality would trip over a connection of an
    /// earlier test that is still winding down).
    pub(crate) async fn server_sees_disconnect(during: f64) {
        for _ in 0..20 {
            if connections().await < during {
                return;
            }
            sleep(25).await;
        }
        panic!("the dev server still counts {during} open event responses");
    }

    /// Fails the test instead of hanging when `future` takes longer than `ms`.
    pub(crate) async fn within<T>(ms: u64, future: impl std::future::Future<Output = T>) -> T {
        let timeout = gloo_timers::future::sleep(Duration::from_millis(ms));
        futures::select! {
            value = future.fuse() => value,
            () = timeout.fuse() => panic!("timed out after {ms} ms"),
        }
    }

    /// Waits `ms` milliseconds.
    pub(crate) async fn sleep(ms: u64) {
        gloo_timers::future::sleep(Duration::from_millis(ms)).await;
    }

    /// Every report up to and including the first `Failed` (or the end of the channel).
    pub(crate) async fn until_failed(
        rx: &mut UnboundedReceiver<TransportEvent>,
    ) -> Vec<TransportEvent> {
        within(1500, async {
            let mut reports = Vec::new();
            while let Some(report) = rx.next().await {
                let last = matches!(report, TransportEvent::Failed(_));
                reports.push(report);
                if last {
                    break;
                }
            }
            reports
        })
        .await
    }

    /// Reports until `n` events have arrived (other reports included).
    pub(crate) async fn until_events(
        rx: &mut UnboundedReceiver<TransportEvent>,
        n: usize,
    ) -> Vec<TransportEvent> {
        within(1500, async {
            let mut reports = Vec::new();
            let mut events = 0;
            while events < n {
                let report = rx.next().await.expect("the transport ended early");
                events += usize::from(matches!(report, TransportEvent::Event(_)));
                reports.push(report);
            }
            reports
        })
        .await
    }

    /// Only the events of `reports`.
    pub(crate) fn events(reports: &[TransportEvent]) -> Vec<crate::Event> {
        reports
            .iter()
            .filter_map(|r| match r {
                TransportEvent::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// A sink and its receiver.
    pub(crate) fn channel() -> (crate::transport::Sink, UnboundedReceiver<TransportEvent>) {
        let (sink, rx) = mpsc::unbounded();
        (sink.into(), rx)
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
#[allow(clippy::unwrap_used)]
mod browser_tests {
    use std::time::Duration;

    use futures::StreamExt;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::testing::{
        channel, connections, events, fresh_topic, publish, request, server,
        server_sees_disconnect, until_failed, within,
    };
    use super::FetchStream;
    use crate::engine::reconnect::Failure;
    use crate::transport::{Request, TransportEvent};
    use crate::{Error, Event};

    fn events_url(query: &str) -> String {
        format!("{}/events?{query}", server())
    }

    async fn run(request: &Request) -> Vec<TransportEvent> {
        let (sink, mut rx) = channel();
        let _stream = FetchStream::open(request, sink).unwrap();
        until_failed(&mut rx).await
    }

    #[wasm_bindgen_test]
    async fn fetch_delivers_named_events_with_ids_in_order_then_stream_ended() {
        let topic = fresh_topic("fetch-order");
        let a = publish(&topic, r#"{"data":"hello"}"#).await;
        let b = publish(&topic, r#"{"event":"greeting","data":{"to":"world"}}"#).await;
        let c = publish(&topic, r#"{"data":"line one\nline two"}"#).await;
        let url = events_url(&format!("topic={topic}&lastEventId=0&closeAfter=3"));
        let reports = run(&request(url)).await;
        assert_eq!(reports.first(), Some(&TransportEvent::Open));
        assert_eq!(
            events(&reports),
            [
                Event::new("message", "hello", a),
                Event::new("greeting", r#"{"to":"world"}"#, b),
                Event::new("message", "line one\nline two", c),
            ]
        );
        assert_eq!(
            reports.last(),
            Some(&TransportEvent::Failed(Failure::StreamEnded))
        );
        let opens = reports
            .iter()
            .filter(|r| **r == TransportEvent::Open)
            .count();
        assert_eq!(opens, 1);
    }

    #[wasm_bindgen_test]
    async fn fetch_resumes_after_the_last_event_id_header() {
        let topic = fresh_topic("fetch-resume");
        let a = publish(&topic, r#"{"data":"1"}"#).await;
        let b = publish(&topic, r#"{"data":"2"}"#).await;
        let c = publish(&topic, r#"{"data":"3"}"#).await;
        // No query parameter: only the header can ask for the replay after `a`.
        let mut req = request(events_url(&format!("topic={topic}&closeAfter=2")));
        req.last_event_id = Some(a);
        let reports = run(&req).await;
        assert_eq!(
            events(&reports),
            [Event::new("message", "2", b), Event::new("message", "3", c)]
        );
    }

    #[wasm_bindgen_test]
    async fn fetch_posts_with_headers_and_body() {
        let topic = fresh_topic("fetch-post");
        // `echo=1`: the dev server's first event describes the request it saw.
        let mut req = request(events_url(&format!("topic={topic}&closeAfter=0&echo=1")));
        req.method = crate::transport::Method::Post;
        req.body = Some(r#"{"q":1}"#.to_owned());
        req.headers = vec![("X-Test".to_owned(), "1".to_owned())];
        let reports = run(&req).await;
        let seen = events(&reports);
        assert_eq!(seen.len(), 1, "{reports:?}");
        assert_eq!(seen[0].event_type, "request");
        let echo: serde_json::Value = serde_json::from_str(&seen[0].data).unwrap();
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["body"], r#"{"q":1}"#);
        assert_eq!(echo["headers"]["x-test"], "1");
        assert_eq!(
            reports.last(),
            Some(&TransportEvent::Failed(Failure::StreamEnded))
        );
    }

    #[wasm_bindgen_test]
    fn fetch_refuses_invalid_options_synchronously() {
        let (sink, _rx) = channel();
        let mut req = request(events_url("topic=x"));
        req.headers = vec![("bad header".to_owned(), "v".to_owned())];
        let err = FetchStream::open(&req, sink.clone()).err().unwrap();
        assert!(
            matches!(
                err,
                Error::InvalidOption {
                    option: "headers",
                    ..
                }
            ),
            "{err:?}"
        );
        let mut req = request(events_url("topic=x"));
        req.body = Some("x".to_owned());
        let err = FetchStream::open(&req, sink.clone()).err().unwrap();
        assert!(
            matches!(err, Error::InvalidOption { option: "body", .. }),
            "{err:?}"
        );
        let req = request("http://[bad/".to_owned());
        let err = FetchStream::open(&req, sink).err().unwrap();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{err:?}");
    }

    #[wasm_bindgen_test]
    async fn fetch_reports_the_retry_field() {
        let topic = fresh_topic("fetch-retry");
        let reports = run(&request(events_url(&format!(
            "topic={topic}&retry=1234&closeAfter=0"
        ))))
        .await;
        assert!(reports.contains(&TransportEvent::Retry(Duration::from_millis(1234))));
    }

    async fn status_failure(query: &str) -> Vec<TransportEvent> {
        let topic = fresh_topic("fetch-status");
        run(&request(events_url(&format!("topic={topic}&{query}")))).await
    }

    #[wasm_bindgen_test]
    async fn fetch_fails_on_status_204() {
        let status = |status| Failure::Status {
            status,
            retry_after: None,
        };
        assert_eq!(
            status_failure("status=204").await,
            [TransportEvent::Failed(status(204))]
        );
    }

    #[wasm_bindgen_test]
    async fn fetch_fails_on_status_401() {
        assert_eq!(
            status_failure("status=401").await,
            [TransportEvent::Failed(Failure::Status {
                status: 401,
                retry_after: None
            })]
        );
    }

    #[wasm_bindgen_test]
    async fn fetch_reports_503_with_retry_after() {
        assert_eq!(
            status_failure("status=503&retryAfter=7").await,
            [TransportEvent::Failed(Failure::Status {
                status: 503,
                retry_after: Some(Duration::from_secs(7))
            })]
        );
    }

    #[wasm_bindgen_test]
    async fn fetch_checks_the_content_type() {
        assert_eq!(
            status_failure("contentType=text/plain").await,
            [TransportEvent::Failed(Failure::ContentType(
                "text/plain".to_owned()
            ))]
        );
        let reports =
            status_failure("contentType=Text/Event-Stream;%20charset=utf-8&closeAfter=0").await;
        assert_eq!(reports.first(), Some(&TransportEvent::Open));
    }

    #[wasm_bindgen_test]
    async fn fetch_fails_with_network_when_nothing_listens() {
        // Port 9 (discard) is not listened on in the test environment: connection refused.
        let reports = run(&request("http://127.0.0.1:9/events".to_owned())).await;
        assert_eq!(reports, [TransportEvent::Failed(Failure::Network)]);
    }

    #[wasm_bindgen_test]
    async fn fetch_decodes_invalid_utf8_as_replacement_characters() {
        let reports = status_failure("invalidUtf8=1&closeAfter=0").await;
        assert_eq!(
            events(&reports),
            [Event::new(
                "invalid-utf8",
                "bad \u{FFFD}\u{FFFD} \u{FFFD} end",
                ""
            )]
        );
    }

    #[wasm_bindgen_test]
    async fn fetch_reassembles_trickled_bytes() {
        let topic = fresh_topic("fetch-trickle");
        let a = publish(&topic, r#"{"event":"slow","data":"trickled data"}"#).await;
        let url = events_url(&format!(
            "topic={topic}&lastEventId=0&closeAfter=1&trickle=4&trickleMs=5"
        ));
        let reports = run(&request(url)).await;
        assert_eq!(events(&reports), [Event::new("slow", "trickled data", a)]);
        let activity = reports
            .iter()
            .filter(|r| **r == TransportEvent::Activity)
            .count();
        // `: connected` and the partial-event chunks: well over one chunk each.
        assert!(activity >= 3, "{reports:?}");
    }

    #[wasm_bindgen_test]
    async fn fetch_drops_a_huge_event_and_goes_on() {
        let topic = fresh_topic("fetch-huge");
        let a = publish(&topic, r#"{"data":"after"}"#).await;
        let mut req = request(events_url(&format!(
            "topic={topic}&lastEventId=0&closeAfter=1&hugeBytes=5000"
        )));
        req.max_event_size = 1000;
        let reports = run(&req).await;
        // The huge event and the next one may arrive in one chunk, when the parser reports
        // the drop after the chunk's events: only check that both are reported.
        assert!(
            reports.contains(&TransportEvent::EventTooLarge { limit: 1000 }),
            "{reports:?}"
        );
        assert!(reports.contains(&TransportEvent::Event(Event::new("message", "after", a))));
        assert_eq!(events(&reports).len(), 1);
    }

    #[wasm_bindgen_test]
    async fn fetch_drop_aborts_the_request() {
        let topic = fresh_topic("fetch-drop");
        let (sink, mut rx) = channel();
        let stream =
            FetchStream::open(&request(events_url(&format!("topic={topic}"))), sink).unwrap();
        assert_eq!(within(1000, rx.next()).await, Some(TransportEvent::Open));
        let during = connections().await;
        assert!(during >= 1.0);
        drop(stream);
        // The task and its sink are gone: the channel ends without a `Failed`.
        let rest: Vec<_> = within(500, rx.collect()).await;
        assert!(
            rest.iter().all(|r| !matches!(r, TransportEvent::Failed(_))),
            "{rest:?}"
        );
        server_sees_disconnect(during).await;
    }

    #[wasm_bindgen_test]
    async fn fetch_stops_when_the_receiver_is_gone() {
        let topic = fresh_topic("fetch-closed");
        let (sink, mut rx) = channel();
        let _stream =
            FetchStream::open(&request(events_url(&format!("topic={topic}"))), sink).unwrap();
        assert_eq!(within(1000, rx.next()).await, Some(TransportEvent::Open));
        let during = connections().await;
        drop(rx);
        // The next chunk finds the sink closed: the task ends and aborts the request.
        publish(&topic, r#"{"data":"x"}"#).await;
        server_sees_disconnect(during).await;
    }
}
