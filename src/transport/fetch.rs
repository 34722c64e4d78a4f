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

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::task::{Poll, Waker};
use core::time::Duration;

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_sse_codec::protocol::header;
use wasm_sse_codec::{Item, ParseError, Parser};
use web_sys::{
    AbortController, AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader,
    ReadableStreamReadResult, RequestCache, RequestCredentials, RequestInit, Response,
};

use super::eventsource::js_message;
use super::quoted;
use super::{Body, Method, Request, ResponseHead, Sink, TransportEvent, ERROR_BODY_LIMIT};
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
            let started = prepared.start(&fetch_request);
            let failure = stream(started, max_event_size, &sink).await;
            report_end(failure, &signal, &sink);
        });
        Ok(Self { _task: task })
    }
}

/// Fetches and streams; returns why the stream ended, or `None` when it should end quietly
/// (the sink is closed).
async fn stream(
    started: Result<JsFuture, JsValue>,
    max_event_size: usize,
    sink: &Sink,
) -> Option<Failure> {
    let response = match into_response(started).await {
        Ok(response) => response,
        Err(_) => return Some(Failure::Network),
    };
    if let Err(failure) = accept(&response, sink).await {
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
    /// Set on drop, with the waker to wake then: the task drops its future instead of
    /// polling it again.
    aborted: Rc<Cell<(bool, Option<Waker>)>>,
}

impl Task {
    /// Spawns `future` on the current thread's executor. When it ends on its own, the
    /// controller is aborted too, so no request outlives its task.
    pub(crate) fn spawn<F>(controller: AbortController, future: F) -> Self
    where
        F: Future<Output = ()> + 'static,
    {
        let aborted: Rc<Cell<(bool, Option<Waker>)>> = Rc::new(Cell::new((false, None)));
        let flag = Rc::clone(&aborted);
        let on_end = controller.clone();
        let mut future = Box::pin(future);
        wasm_bindgen_futures::spawn_local(async move {
            let ended = core::future::poll_fn(|cx| {
                if flag.take().0 {
                    return Poll::Ready(false);
                }
                flag.set((false, Some(cx.waker().clone())));
                future.as_mut().poll(cx).map(|()| true)
            })
            .await;
            if ended {
                on_end.abort();
            }
        });
        Self {
            controller,
            aborted,
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // The flag is checked before the task is polled again, so the task never sees the
        // rejection that the controller's abort causes.
        if let (_, Some(waker)) = self.aborted.replace((true, None)) {
            waker.wake();
        }
        self.controller.abort();
    }
}

/// The parts of a request that stay the same across the requests of one transport.
pub(crate) struct Prepared {
    init: RequestInit,
    headers: Headers,
    /// The user's `fetch`, called instead of the global one.
    fetch: Option<js_sys::Function>,
}

impl Prepared {
    /// Validates and builds the request options: method, headers (plus
    /// `Accept: text/event-stream`), body, credentials, `cache: "no-store"` and `signal`.
    pub(crate) fn new(request: &Request, signal: &AbortSignal) -> Result<Self, Error> {
        if request.fetch.is_none()
            && !js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("fetch"))
                .unwrap_or(false)
        {
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
        init.set_method(request.method.as_str());
        if let Some(body) = &request.body {
            if request.method == Method::Get {
                return Err(Error::InvalidOption {
                    option: "body",
                    reason: "a GET request cannot have a body; use POST".to_owned(),
                });
            }
            match body {
                Body::Text(text) => init.set_body(&JsValue::from_str(text)),
                Body::Js(value) => init.set_body(value),
            }
        }
        init.set_headers(&headers);
        init.set_credentials(if request.with_credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        });
        init.set_cache(RequestCache::NoStore);
        init.set_signal(Some(signal));
        Ok(Self {
            init,
            headers,
            fetch: request.fetch.clone(),
        })
    }

    /// Calls `fetch(request)` now, the user's or the global one: the request goes out
    /// before the returned future is polled. Finish with [`into_response`].
    pub(crate) fn start(&self, request: &web_sys::Request) -> Result<JsFuture, JsValue> {
        let promise = match &self.fetch {
            Some(fetch) => fetch
                .call1(&JsValue::UNDEFINED, request)?
                .dyn_into::<Promise>()?,
            None => global_fetch(request)?,
        };
        Ok(JsFuture::from(promise))
    }

    /// Sets (or, for `None` and `""`, removes) the `Last-Event-ID` header of the requests
    /// built from now on. An id that is not a valid header value (say, one holding U+FFFD)
    /// is not sent as a header; the query parameter still carries it where one is used.
    pub(crate) fn set_last_event_id(&self, id: Option<&str>) {
        match id.filter(|id| !id.is_empty()) {
            Some(id) => {
                if self.headers.set(header::LAST_EVENT_ID, id).is_err() {
                    let _ = self.headers.delete(header::LAST_EVENT_ID);
                }
            }
            None => {
                let _ = self.headers.delete(header::LAST_EVENT_ID);
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

/// `fetch(request)` with the global `fetch`, resolved to its `Response` (the tests' own
/// requests).
#[cfg(all(test, target_arch = "wasm32"))]
pub(crate) async fn fetch(request: &web_sys::Request) -> Result<Response, JsValue> {
    into_response(global_fetch(request).map(JsFuture::from)).await
}

/// The response of a fetch started with [`Prepared::start`].
pub(crate) async fn into_response(started: Result<JsFuture, JsValue>) -> Result<Response, JsValue> {
    started?.await?.dyn_into::<Response>()
}

/// The whole body as bytes (`arrayBuffer()`, which works where bodies cannot be streamed).
pub(crate) async fn read_body(response: &Response) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Checks `response`'s head (see [`check_response`]) and reports it: its status and headers
/// when it is accepted, the start of its body when its status is refused.
pub(crate) async fn accept(response: &Response, sink: &Sink) -> Result<(), Failure> {
    match check_response(response) {
        Ok(()) => {
            let head = ResponseHead {
                status: response.status(),
                headers: response.headers(),
            };
            let _ = sink.unbounded_send(TransportEvent::Head(head));
            Ok(())
        }
        Err(failure) => {
            if let Failure::Status { .. } = failure {
                let text = body_start(response).await;
                let _ = sink.unbounded_send(TransportEvent::ErrorBody(text));
            }
            Err(failure)
        }
    }
}

/// How long the client reads an error response's body before it reports the failure with
/// what came: a server may send a short message and keep the body open.
const ERROR_BODY_WAIT: Duration = Duration::from_secs(1);

/// The first [`ERROR_BODY_LIMIT`] bytes of `response`'s body as text (invalid UTF-8 and a
/// character cut at the limit become U+FFFD), or what came within [`ERROR_BODY_WAIT`]; the
/// rest is never read.
async fn body_start(response: &Response) -> String {
    let mut bytes = Vec::new();
    if let Some(body) = response.body() {
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        {
            let mut reading = core::pin::pin!(read_up_to(&reader, &mut bytes));
            let mut timer = crate::env::sleep(ERROR_BODY_WAIT);
            core::future::poll_fn(|cx| {
                if reading.as_mut().poll(cx).is_ready()
                    || core::pin::Pin::new(&mut timer).poll(cx).is_ready()
                {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
        }
        let _ = reader.cancel();
    }
    bytes.truncate(ERROR_BODY_LIMIT);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads `reader` into `bytes` until the body ends, fails, or [`ERROR_BODY_LIMIT`] is reached.
async fn read_up_to(reader: &ReadableStreamDefaultReader, bytes: &mut Vec<u8>) {
    while bytes.len() < ERROR_BODY_LIMIT {
        let Ok(read) = JsFuture::from(reader.read()).await else {
            return;
        };
        let read: ReadableStreamReadResult = read.unchecked_into();
        if read.get_done().unwrap_or(false) {
            return;
        }
        match read.get_value().dyn_ref::<Uint8Array>() {
            Some(chunk) => bytes.extend(chunk.to_vec()),
            None => return,
        }
    }
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
    use core::time::Duration;

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
