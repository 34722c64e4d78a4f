//! The long-polling transport: repeated `fetch` requests, each answered with a complete
//! `text/event-stream` body (the dev server's long-poll twin of `/events`, see
//! `docs/protocol.md`). It works wherever `fetch` does, even where response bodies cannot be
//! streamed.
//!
//! # Protocol
//!
//! Each poll requests the URL with `transport=long-poll` and the cursor — the last event ID
//! received so far, initially [`Request::last_event_id`] — in the
//! [`Request::last_event_id_param`] query parameter and in the `Last-Event-ID` header. The
//! server holds the poll until it has events after the cursor (or a timeout passes, when it
//! answers with a comment only). Each response must be 200 and `text/event-stream`, with the
//! same failure mapping as the fetch-streaming transport.
//!
//! One parser persists across polls, so the last event ID carries over; each body is read
//! to its end and then [`Parser::finish`]ed, so an incomplete trailing event is dropped, as
//! at the end of any stream. Where response bodies can be streamed, a body's events are
//! delivered as they arrive (so a server that answers a poll with an ordinary, endless SSE
//! stream still gets its events through); elsewhere the body is read whole.
//!
//! # Reports
//!
//! `Open` after the first accepted response; then each body's events and `retry` values, and
//! `Activity` for a body without events (such as the server's timeout comment). Any failure
//! ends the transport with one `Failed`: the client's reconnection policy decides when to
//! open a new one.
//!
//! # Pacing
//!
//! Which polls are in flight, when early polls stand, and how fast empty answers are
//! followed are the engine's decisions ([`crate::engine::longpoll`]); this module sends the
//! polls, reads their answers and reports `Polling(true)` while an answer is awaited and
//! `Polling(false)` when its head is accepted, so the engine can tell a poll the server
//! holds (healthy) from one it never answers.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use wasm_sse_codec::Parser;

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use super::fetch::{
    accept, feed_chunk, into_response, new_abort_controller, pump, read_body, report_end, Prepared,
    Pumped, Task,
};
use super::{with_query, Request, Sink, TransportEvent};
use crate::engine::longpoll::{chain, early_poll_fits, fitting, pause_before_next};
use crate::engine::reconnect::Failure;
use crate::Error;

use wasm_sse_codec::protocol::{header, query};

/// The response header in which a server may name the last event ID of the body that follows
/// (see `docs/protocol.md`), so the next poll can be sent before the body is read.
const CURSOR_HEADER: &str = header::LONG_POLL_CURSOR;

/// The response header in which a server may list the last event IDs of the full batches
/// that follow the body (see `docs/protocol.md`), so polls for them can be sent at once.
const AHEAD_HEADER: &str = header::LONG_POLL_AHEAD;

/// A live long-polling loop. Dropping it aborts the poll in flight and the loop.
pub(crate) struct LongPoll {
    _task: Task,
}

impl LongPoll {
    /// Starts polling `request.url`, reporting into `sink`.
    ///
    /// Fails synchronously only when the request cannot be built (see
    /// [`FetchStream::open`](super::fetch::FetchStream::open)); everything else is reported
    /// through `sink`.
    pub(crate) fn open(request: &Request, sink: Sink) -> Result<Self, Error> {
        let controller = new_abort_controller()?;
        let prepared = Prepared::new(request, &controller.signal())?;
        let polls = Polls {
            base_url: with_query(&request.url, query::TRANSPORT, query::TRANSPORT_LONG_POLL),
            param: request.last_event_id_param.clone(),
            cursor: request.last_event_id.clone(),
            parser: Parser::with_max_event_size(request.max_event_size),
            prepared,
        };
        // Sent now so that a URL the `Request` constructor refuses fails here.
        let first = polls.send(polls.cursor.as_deref())?;
        let signal = controller.signal();
        let task = Task::spawn(controller, async move {
            let failure = polls.run(first, &sink).await;
            report_end(failure, &signal, &sink);
        });
        Ok(Self { _task: task })
    }
}

/// The state of the polling loop.
struct Polls {
    /// `request.url` with `transport=long-poll`.
    base_url: String,
    /// The cursor's query parameter (none when empty).
    param: String,
    /// The last event ID to resume after.
    cursor: Option<String>,
    parser: Parser,
    prepared: Prepared,
}

/// One poll in flight. Dropping it aborts its request, answered or not: a poll dropped
/// because it no longer fits the chain must not hold one of the browser's few connections
/// per host until its unread answer is garbage-collected.
struct Poll {
    /// The cursor it was sent after.
    after: Option<String>,
    /// The pending `fetch`; taken when its response is awaited.
    response: Option<Result<JsFuture, JsValue>>,
    controller: AbortController,
}

impl Drop for Poll {
    fn drop(&mut self) {
        // After its body was read to the end this does nothing.
        self.controller.abort();
    }
}

impl Polls {
    /// Sends a poll for what comes after `after`: the URL's query parameter and the
    /// `Last-Event-ID` header carry it (neither when `None`; the header not when empty).
    fn send(&self, after: Option<&str>) -> Result<Poll, Error> {
        let controller = new_abort_controller()?;
        self.prepared.set_last_event_id(after);
        let url = match after {
            Some(cursor) if !self.param.is_empty() => {
                with_query(&self.base_url, &self.param, cursor)
            }
            _ => self.base_url.clone(),
        };
        let request = self
            .prepared
            .build_with_signal(&url, &controller.signal())?;
        Ok(Poll {
            after: after.map(str::to_owned),
            response: Some(self.prepared.start(&request)),
            controller,
        })
    }

    /// Polls until something fails (`Some`) or the sink is closed (`None`).
    async fn run(mut self, first: Poll, sink: &Sink) -> Option<Failure> {
        // The polls sent before the body they follow was read, oldest first: each one after
        // the cursor the body before it is expected to end at. A few at most, so a `Vec`
        // (less code than a `VecDeque`), taken from the front.
        let mut in_flight = vec![first];
        let mut opened = false;
        loop {
            let started = crate::env::now();
            let mut poll = if in_flight.is_empty() {
                match self.send(self.cursor.as_deref()) {
                    Ok(poll) => poll,
                    Err(_) => return Some(Failure::Network),
                }
            } else {
                in_flight.remove(0)
            };
            let Some(pending) = poll.response.take() else {
                return Some(Failure::Network);
            };
            if sink.unbounded_send(TransportEvent::Polling(true)).is_err() {
                return None;
            }
            let Ok(response) = into_response(pending).await else {
                return Some(Failure::Network);
            };
            if let Err(failure) = accept(&response, sink).await {
                return Some(failure);
            }
            if sink.unbounded_send(TransportEvent::Polling(false)).is_err() {
                return None;
            }
            // A server that names the body's last event ID in a header (`Long-Poll-Cursor`),
            // and the last IDs of the batches after it (`Long-Poll-Ahead`), lets the next
            // polls go out now, while this body downloads and is parsed and delivered.
            let headers = response.headers();
            let announced = headers
                .get(CURSOR_HEADER)
                .ok()
                .flatten()
                .filter(|cursor| !cursor.is_empty());
            if let Some(cursor) = &announced {
                let ahead = headers.get(AHEAD_HEADER).ok().flatten().unwrap_or_default();
                let chain = chain(cursor, &ahead);
                if let Err(()) = self.extend(&mut in_flight, &chain) {
                    return Some(Failure::Network);
                }
            }
            if !opened {
                opened = true;
                if sink.unbounded_send(TransportEvent::Open).is_err() {
                    return None;
                }
            }
            let (events, staged, cut) = match response.body() {
                // A streamed body is delivered as it arrives: a long-poll answer is usually
                // small and complete at once, but a server that does not speak this
                // protocol answers with a never-ending stream, whose events still get
                // through this way.
                Some(body) => {
                    let before = self.parser.last_event_id().to_owned();
                    match pump(&body, &mut self.parser, sink).await {
                        (Pumped::Ended, events) => {
                            let cut = end_body(&mut self.parser, &mut self.cursor, &before);
                            (events, None, cut)
                        }
                        (Pumped::Closed, _) => return None,
                        (Pumped::Failed, _) => return Some(Failure::Network),
                    }
                }
                // Where bodies cannot be streamed: read the whole body and parse it into a
                // staging channel first, which moves the cursor, so the next poll can go
                // out before the events are delivered.
                None => {
                    let body = read_body(&response).await;
                    if sink.is_closed() {
                        return None;
                    }
                    let Ok(body) = body else {
                        return Some(Failure::Network);
                    };
                    let (staging_tx, staged) = crate::channel::unbounded();
                    let staging = Sink::from(staging_tx);
                    let (_, events, cut) =
                        take_body(&mut self.parser, &mut self.cursor, &body, &staging);
                    (events, Some(staged), cut)
                }
            };
            drop(poll);
            if cut {
                // A body that stops inside an event was cut (a browser may end such a body
                // as if it were complete): a lost connection, so once the body's whole
                // events are delivered, the client reconnects from the last of them, with
                // fresh headers, and no poll goes out with the old ones.
                return deliver(staged, sink).then_some(Failure::Network);
            }
            // The early polls stand only if this body ended exactly where the first of them
            // starts: after a body cut short they would skip events, so they are dropped
            // and the poll sent again from the real cursor.
            if in_flight
                .first()
                .is_some_and(|next| !early_poll_fits(next.after.as_deref(), self.cursor.as_deref()))
            {
                in_flight.clear();
            }
            if events > 0 && in_flight.is_empty() {
                match self.send(self.cursor.as_deref()) {
                    Ok(poll) => in_flight.push(poll),
                    Err(_) => return Some(Failure::Network),
                }
            }
            if !deliver(staged, sink) {
                return None;
            }
            let pause = pause_before_next(events, crate::env::now().saturating_sub(started));
            if !pause.is_zero() {
                crate::env::sleep(pause).await;
            }
        }
    }

    /// Makes the polls in flight the start of `chain`: keeps those that already are, drops
    /// the rest (aborting them) and sends the missing ones.
    fn extend(&self, in_flight: &mut Vec<Poll>, chain: &[&str]) -> Result<(), ()> {
        let fits = fitting(in_flight.iter().map(|poll| poll.after.as_deref()), chain);
        in_flight.truncate(fits);
        for cursor in chain.iter().skip(fits) {
            in_flight.push(self.send(Some(cursor)).map_err(|_| ())?);
        }
        Ok(())
    }
}

/// Passes on the reports of a body read whole (`None`: it was streamed, nothing waits);
/// returns whether the sink is still open.
fn deliver(staged: Option<crate::channel::UnboundedReceiver<TransportEvent>>, sink: &Sink) -> bool {
    let Some(mut staged) = staged else {
        return true;
    };
    while let Ok(report) = staged.try_recv() {
        if sink.unbounded_send(report).is_err() {
            return false;
        }
    }
    true
}

/// Parses one whole response body, reports what it held and moves the cursor to the
/// parser's last event ID when the body changed it (a body without `id:` fields keeps the
/// cursor, including one that came from [`Request::last_event_id`]). Returns whether the
/// sink is still open, how many events the body held and whether it was cut (see
/// [`end_body`]).
fn take_body(
    parser: &mut Parser,
    cursor: &mut Option<String>,
    body: &[u8],
    sink: &Sink,
) -> (bool, usize, bool) {
    let before = parser.last_event_id().to_owned();
    let fed = feed_chunk(parser, body, sink);
    let cut = end_body(parser, cursor, &before);
    (fed.open, fed.events, cut)
}

/// A body was read to its end: it is a whole stream, so an unfinished event at its end is
/// dropped, and the cursor moves to the parser's last event ID if the body changed it from
/// `before`. Returns whether an event was unfinished: the body was cut.
fn end_body(parser: &mut Parser, cursor: &mut Option<String>, before: &str) -> bool {
    let cut = parser.buffered_len() > 0;
    parser.finish();
    if parser.last_event_id() != before {
        *cursor = Some(parser.last_event_id().to_owned());
    }
    cut
}

#[cfg(test)]
mod tests {
    use futures::channel::mpsc;
    use wasm_sse_codec::Parser;

    use super::take_body;
    use crate::transport::TransportEvent;
    use crate::Event;

    #[test]
    fn bodies_move_the_cursor_and_an_unfinished_event_marks_a_cut() {
        let (sink, mut rx) = mpsc::unbounded();
        let sink = crate::transport::Sink::from(sink);
        let mut parser = Parser::new();
        let mut cursor = Some("4".to_owned());
        // A timeout answer: activity only, the cursor stays.
        assert_eq!(
            take_body(&mut parser, &mut cursor, b": no events\n\n", &sink),
            (true, 0, false)
        );
        assert_eq!(cursor.as_deref(), Some("4"));
        // Events move the cursor; the unfinished trailing event is dropped: a cut body.
        let body = b"id: 5\ndata: a\n\nid: 6\ndata: b\n\nid: 7\ndata: partial";
        assert_eq!(
            take_body(&mut parser, &mut cursor, body, &sink),
            (true, 2, true)
        );
        assert_eq!(cursor.as_deref(), Some("6"));
        // The id carries over into the next body.
        assert_eq!(
            take_body(&mut parser, &mut cursor, b"data: c\n\n", &sink),
            (true, 1, false)
        );
        let mut reports = Vec::new();
        while let Ok(report) = rx.try_recv() {
            reports.push(report);
        }
        assert_eq!(
            reports,
            [
                TransportEvent::Activity,
                TransportEvent::Event(Event::new("message", "a", "5")),
                TransportEvent::Event(Event::new("message", "b", "6")),
                TransportEvent::Event(Event::new("message", "c", "6")),
            ]
        );
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
#[allow(clippy::unwrap_used)]
mod browser_tests {
    use core::time::Duration;

    use futures::StreamExt;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::LongPoll;
    use crate::engine::reconnect::Failure;
    use crate::transport::testing::{
        channel, connections, events, events_url, fresh_topic, next_report, publish, request,
        server_sees_disconnect, sleep, until_events, until_failed, within,
    };
    use crate::transport::{Request, TransportEvent};
    use crate::Event;

    async fn run(request: &Request) -> Vec<TransportEvent> {
        let (sink, mut rx) = channel();
        let _poll = LongPoll::open(request, sink).unwrap();
        until_failed(&mut rx).await
    }

    #[wasm_bindgen_test]
    async fn longpoll_delivers_named_events_with_ids_in_order_and_polls_on() {
        let topic = fresh_topic("lp-order");
        let a = publish(&topic, r#"{"data":"hello"}"#).await;
        let b = publish(&topic, r#"{"event":"greeting","data":{"to":"world"}}"#).await;
        let c = publish(&topic, r#"{"data":"line one\nline two"}"#).await;
        let url = events_url(&format!("topic={topic}&lastEventId=0&timeoutMs=1000"));
        let (sink, mut rx) = channel();
        let _poll = LongPoll::open(&request(url), sink).unwrap();
        let reports = until_events(&mut rx, 3).await;
        assert_eq!(reports.first(), Some(&TransportEvent::Open));
        assert_eq!(
            events(&reports),
            [
                Event::new("message", "hello", a),
                Event::new("greeting", r#"{"to":"world"}"#, &b),
                Event::new("message", "line one\nline two", &c),
            ]
        );
        // The next poll resumes after `c`: only the new event, none replayed twice.
        sleep(50).await;
        let d = publish(&topic, r#"{"event":"greeting","data":"again"}"#).await;
        let reports = until_events(&mut rx, 1).await;
        assert_eq!(events(&reports), [Event::new("greeting", "again", d)]);
        assert!(!reports.contains(&TransportEvent::Open));
    }

    #[wasm_bindgen_test]
    async fn longpoll_resumes_after_the_last_event_id_header() {
        let topic = fresh_topic("lp-resume");
        let a = publish(&topic, r#"{"data":"1"}"#).await;
        let b = publish(&topic, r#"{"data":"2"}"#).await;
        let c = publish(&topic, r#"{"data":"3"}"#).await;
        // A parameter name the server ignores: only the header carries the cursor.
        let mut req = request(events_url(&format!("topic={topic}&timeoutMs=1000")));
        req.last_event_id = Some(a);
        req.last_event_id_param = "cursor".to_owned();
        let (sink, mut rx) = channel();
        let _poll = LongPoll::open(&req, sink).unwrap();
        let reports = until_events(&mut rx, 2).await;
        assert_eq!(
            events(&reports),
            [Event::new("message", "2", b), Event::new("message", "3", c)]
        );
    }

    #[wasm_bindgen_test]
    async fn longpoll_reports_retry_and_paces_empty_answers() {
        let topic = fresh_topic("lp-retry");
        let url = events_url(&format!("topic={topic}&retry=1500&timeoutMs=0"));
        let (sink, mut rx) = channel();
        let _poll = LongPoll::open(&request(url), sink).unwrap();
        // The poll's lifetime comes first: awaited, answered, then the connection opens.
        let mut first = Vec::new();
        while first.len() < 3 {
            let report = within(1000, rx.next()).await.unwrap();
            if !matches!(report, TransportEvent::Head(_)) {
                first.push(report);
            }
        }
        assert_eq!(
            first,
            [
                TransportEvent::Polling(true),
                TransportEvent::Polling(false),
                TransportEvent::Open
            ]
        );
        let mut reports = Vec::new();
        within(1500, async {
            sleep(1000).await;
            while let Ok(report) = rx.try_recv() {
                reports.push(report);
            }
        })
        .await;
        let retries = reports
            .iter()
            .filter(|r| **r == TransportEvent::Retry(Duration::from_millis(1500)))
            .count();
        // One retry per answer, at most one answer per 250 ms: 4 or 5 in a second.
        assert!((3..=6).contains(&retries), "{reports:?}");
        assert!(reports.contains(&TransportEvent::Activity));
        assert!(reports
            .iter()
            .all(|r| !matches!(r, TransportEvent::Failed(_))));
    }

    async fn failure(query: &str) -> Vec<TransportEvent> {
        let topic = fresh_topic("lp-status");
        run(&request(events_url(&format!(
            "topic={topic}&timeoutMs=0&{query}"
        ))))
        .await
    }

    fn status(status: u16, retry_after: Option<Duration>) -> Vec<TransportEvent> {
        vec![TransportEvent::Failed(Failure::Status {
            status,
            retry_after,
        })]
    }

    #[wasm_bindgen_test]
    async fn longpoll_fails_on_status_204() {
        assert_eq!(failure("status=204").await, status(204, None));
    }

    #[wasm_bindgen_test]
    async fn longpoll_fails_on_status_401() {
        assert_eq!(failure("status=401").await, status(401, None));
    }

    #[wasm_bindgen_test]
    async fn longpoll_reports_503_with_retry_after() {
        assert_eq!(
            failure("status=503&retryAfter=3").await,
            status(503, Some(Duration::from_secs(3)))
        );
    }

    #[wasm_bindgen_test]
    async fn longpoll_checks_the_content_type() {
        assert_eq!(
            failure("contentType=application/json").await,
            [TransportEvent::Failed(Failure::ContentType(
                "application/json".to_owned()
            ))]
        );
    }

    #[wasm_bindgen_test]
    async fn longpoll_fails_with_network_when_nothing_listens() {
        let reports = run(&request("http://127.0.0.1:9/events".to_owned())).await;
        assert_eq!(reports, [TransportEvent::Failed(Failure::Network)]);
    }

    #[wasm_bindgen_test]
    async fn longpoll_decodes_invalid_utf8_as_replacement_characters() {
        let topic = fresh_topic("lp-utf8");
        let url = events_url(&format!("topic={topic}&timeoutMs=0&invalidUtf8=1"));
        let (sink, mut rx) = channel();
        let _poll = LongPoll::open(&request(url), sink).unwrap();
        let reports = until_events(&mut rx, 1).await;
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
    async fn longpoll_drops_a_huge_event_and_goes_on() {
        let topic = fresh_topic("lp-huge");
        let a = publish(&topic, r#"{"data":"after"}"#).await;
        let mut req = request(events_url(&format!(
            "topic={topic}&lastEventId=0&timeoutMs=0&hugeBytes=5000"
        )));
        req.max_event_size = 1000;
        let (sink, mut rx) = channel();
        let _poll = LongPoll::open(&req, sink).unwrap();
        let mut reports = until_events(&mut rx, 1).await;
        // The whole body is one chunk: the drop is reported after the chunk's events.
        reports.extend(within(500, next_report(&mut rx)).await);
        assert!(
            reports.contains(&TransportEvent::EventTooLarge { limit: 1000 }),
            "{reports:?}"
        );
        assert_eq!(events(&reports), [Event::new("message", "after", a)]);
    }

    #[wasm_bindgen_test]
    async fn longpoll_drop_aborts_the_poll() {
        let topic = fresh_topic("lp-drop");
        let url = events_url(&format!("topic={topic}&timeoutMs=5000"));
        let (sink, rx) = channel();
        let poll = LongPoll::open(&request(url), sink).unwrap();
        // The poll is held by the server; drop it mid-flight.
        sleep(100).await;
        let during = connections().await;
        assert!(during >= 1.0);
        drop(poll);
        let rest: Vec<_> = within(500, rx.collect()).await;
        assert_eq!(
            rest,
            [TransportEvent::Polling(true)],
            "nothing after the drop"
        );
        server_sees_disconnect(during).await;
    }
}
