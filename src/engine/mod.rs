//! The connection engine: every decision the client makes, and no I/O.
//!
//! [`Engine`] is a state machine in the shape of the sans-IO protocol engines (quinn-proto,
//! rustls, str0m): the shell feeds it [`Input`]s with the time they happened
//! ([`Engine::handle`]), takes the [`Action`]s it asks for ([`Engine::poll_action`]) and
//! wakes it at [`Engine::next_deadline`]. It never reads a clock, opens a connection or
//! sets a timer, so every rule below is tested natively, in microseconds (the table tests
//! in `tests/`, the model run in `model.rs`).
//!
//! What it decides:
//!
//! * **Transport choice** and the downgrade to long polling ([`Engine::choose`]).
//! * **The reconnect policy** ([`reconnect::Backoff`]) with the user's retry hook, asked
//!   through [`Action::AskRetry`] so that no user code runs inside the engine.
//! * **Exactly-once delivery**: [`Engine::admit`] filters replays ([`dedupe`]) and keeps the
//!   last event ID the next connection resumes after.
//! * **Timers**: the connect timeout (streaming transports), the long-poll timeout (a poll
//!   the server holds is healthy until then), the idle watchdog, the backoff wait.
//! * **Page signals**: offline and hidden pages wait; `online` skips the backoff wait;
//!   a page restored from the back/forward cache reconnects.
//! * **Buffering proxies**, detected on evidence (see [`Engine::burst_evidence`]).
//!
//! Response checks ([`response`]) and long-poll planning ([`longpoll`]) are pure functions
//! the transports call where the bytes are, before anything reaches the engine.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use core::time::Duration;

pub(crate) mod dedupe;
mod io;
mod kinds;
mod lifecycle;
pub(crate) mod longpoll;
pub mod reconnect;
pub(crate) mod response;
pub(crate) mod text;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub(crate) use io::{Action, Config, Input, PageSignal};
pub use kinds::{Method, TransportKind};
pub use lifecycle::{CloseReason, Lifecycle, ReadyState, ShareRole};

use crate::Event;
use dedupe::{Dedupe, DEFAULT_WINDOW};
use reconnect::{Backoff, Decision, Failure};

/// The default [`Config::long_poll_timeout`]: well above the holds long-polling servers use
/// (the dev server holds 25 s; common servers hold 30 to 60 s).
pub(crate) const DEFAULT_LONG_POLL_TIMEOUT: Duration = Duration::from_secs(90);

/// The default [`Config::stall_downgrade`].
pub(crate) const DEFAULT_STALL_DOWNGRADE: Duration = Duration::from_secs(10);

/// How close to its end a streamed body's first bytes must arrive for the body to count as
/// one burst released by a buffering proxy.
pub(crate) const BURST_WINDOW: Duration = Duration::from_millis(500);

/// Where the engine is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// An attempt is announced (`Connecting` emitted) and starts at `until`, once the page
    /// is online (and visible, when pausing).
    Waiting { until: Duration },
    /// [`Action::Connect`] was issued at `since`; the connection has not opened.
    Connecting { since: Duration },
    /// The connection is open since `since`; `first_data` is when its first bytes came.
    Open {
        since: Duration,
        first_data: Option<Duration>,
    },
    /// The retry hook is being asked about `Engine::pending_failure`.
    Asking,
    /// Closed for good.
    Closed,
}

/// The connection engine; see the [module documentation](self).
#[derive(Debug)]
pub(crate) struct Engine {
    config: Config,
    state: State,
    backoff: Backoff,
    dedupe: Dedupe,
    /// Actions not yet taken, oldest first (a few at a time).
    actions: Vec<Action>,
    /// The transport of the current (or last) attempt.
    transport: Option<TransportKind>,
    /// The client re-created a native `EventSource` (or it failed): resume over fetch, which
    /// sends `Last-Event-ID` and sees status codes.
    use_fetch: bool,
    /// The current attempt sends `Last-Event-ID` as a header to another origin, which
    /// costs a CORS preflight that the server must allow.
    cross_origin_header: bool,
    /// A cross-origin server refused the header's preflight (a fetch carrying it failed
    /// before any answer, and none ever opened): resume with the query parameter from then
    /// on.
    header_refused: bool,
    /// A cross-origin fetch carrying the header opened: its failures are not the preflight's.
    header_allowed: bool,
    /// A buffering proxy was detected: long polling from now on.
    downgraded: bool,
    online: bool,
    hidden: bool,
    /// The ID to resume after: the last non-empty last-event-ID delivered (or given).
    last_event_id: String,
    /// Events delivered so far (the idle watchdog watches it move).
    delivered: u64,
    /// The idle watchdog: when it looks next, the counter it saw then, the last sign of life.
    idle_check: Option<Duration>,
    idle_seen: u64,
    last_activity: Duration,
    /// A long poll is awaited until this deadline.
    poll_deadline: Option<Duration>,
    /// The failure put to the retry hook.
    pending_failure: Option<Failure>,
    /// Why the client closed, once it has.
    close_reason: Option<CloseReason>,
}

impl Engine {
    /// An engine for `config`; the first attempt is announced at once and starts at `now`.
    pub(crate) fn new(config: Config, now: Duration) -> Self {
        let mut engine = Self {
            backoff: Backoff::new(config.policy.clone(), config.seed),
            state: State::Closed,
            dedupe: Dedupe::new(DEFAULT_WINDOW),
            actions: Vec::new(),
            transport: None,
            use_fetch: false,
            cross_origin_header: false,
            header_refused: false,
            header_allowed: false,
            downgraded: false,
            online: true,
            hidden: false,
            last_event_id: config.last_event_id.clone(),
            delivered: 0,
            idle_check: None,
            idle_seen: 0,
            last_activity: now,
            poll_deadline: None,
            pending_failure: None,
            close_reason: None,
            config,
        };
        engine.announce(0, Duration::ZERO, now);
        engine
    }

    /// Uses `url` (of the page's origin or not) from the next attempt on.
    pub(crate) fn set_url(&mut self, url: String, same_origin: bool) {
        self.config.url = url;
        self.config.same_origin = same_origin;
    }

    /// Sets the page's state before the first attempt (online, hidden).
    pub(crate) fn set_page(&mut self, online: bool, hidden: bool) {
        self.online = online;
        self.hidden = hidden && self.config.pause_when_hidden;
    }

    /// Feeds one input that happened at `now`, then runs whatever became due.
    pub(crate) fn handle(&mut self, input: Input, now: Duration) {
        if self.state == State::Closed {
            return;
        }
        match input {
            Input::Open => self.on_open(now),
            Input::Data => self.on_data(now),
            Input::Retry(retry) => self.backoff.set_server_retry(retry),
            Input::TooLarge(limit) => self.emit(Lifecycle::EventTooLarge { limit }),
            Input::Polling(waiting) => {
                self.poll_deadline = if waiting && self.is_connected() {
                    self.config.long_poll_timeout.map(|t| now.saturating_add(t))
                } else {
                    None
                };
                if !waiting {
                    self.on_data(now);
                }
            }
            Input::End if self.config.close_on_end && self.is_connected() => {
                self.push(Action::Cancel);
                self.close(CloseReason::Ended);
            }
            Input::End => self.on_end(Failure::StreamEnded, now),
            Input::Interrupted if self.is_connected() => {
                if self.burst_evidence(now).is_some() {
                    self.on_end(Failure::Network, now);
                } else {
                    self.browser_retries(now);
                }
            }
            Input::Interrupted => {}
            Input::Rejected => self.fail(Failure::Network, now),
            Input::Failed(failure) => self.fail(failure, now),
            Input::Error(error) => self.close(CloseReason::Error(error)),
            Input::Page(signal) => self.on_page(signal, now),
            Input::RetryVerdict(retry) => {
                if let (State::Asking, Some(failure)) = (self.state, self.pending_failure.take()) {
                    self.decide(&failure, retry, now);
                }
            }
            Input::Timer => {}
            Input::Close => {
                if self.is_connected() {
                    self.push(Action::Cancel);
                }
                self.close(CloseReason::Requested);
            }
            Input::Reconnect => {
                // A retry hook being asked is answered by this instead.
                self.pending_failure = None;
                self.restart(now);
            }
        }
        self.run_due(now);
    }

    /// The next thing the shell must do, oldest first.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        (!self.actions.is_empty()).then(|| self.actions.remove(0))
    }

    /// When the engine must be woken (with [`Input::Timer`]) if nothing else happens first.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        match self.state {
            State::Waiting { until } if !self.blocked() => Some(until),
            State::Connecting { since } => earliest(
                self.connect_deadline(since),
                earliest(self.poll_deadline, self.idle_check),
            ),
            State::Open { .. } => earliest(self.poll_deadline, self.idle_check),
            _ => None,
        }
    }

    /// Whether an event with this last-event-ID is new (a replay of one already delivered
    /// is not); if so, records it and fills in the resumed ID of an event without one.
    /// Runs once per event, on the transports' fast path.
    #[inline]
    pub(crate) fn admit(&mut self, event: &mut Event) -> bool {
        self.delivered += 1;
        if !self.dedupe.admit(&event.last_event_id) {
            return false;
        }
        if event.last_event_id.is_empty() {
            // The last event ID persists across reconnections (as in `EventSource`), but a
            // new connection's parser starts empty: carry the resumed ID over.
            event.last_event_id.clone_from(&self.last_event_id);
        } else {
            self.last_event_id.clone_from(&event.last_event_id);
        }
        true
    }

    /// The connection's state, as `EventSource.readyState` names it: open only while a
    /// connection is open, closed for good once closed, connecting otherwise.
    pub(crate) fn ready_state(&self) -> ReadyState {
        match self.state {
            State::Open { .. } => ReadyState::Open,
            State::Closed => ReadyState::Closed,
            State::Waiting { .. } | State::Connecting { .. } | State::Asking => {
                ReadyState::Connecting
            }
        }
    }

    /// The transport of the current (or last) attempt; `None` before the first.
    pub(crate) fn transport(&self) -> Option<TransportKind> {
        self.transport
    }

    /// The ID the next connection resumes after (`""`: none).
    pub(crate) fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Why the client closed, once it has.
    pub(crate) fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// The transport the next attempt uses.
    ///
    /// A forced transport always. Otherwise long polling after a downgrade; fetch streaming
    /// where only fetch can send the request (headers, method, body), where the URL is
    /// same-origin (fetch is the faster transport, and needs no CORS preflight there), or
    /// where the client must re-create an `EventSource` (fetch sends `Last-Event-ID` as a
    /// header and sees why a connection fails) unless the server refused that header's
    /// CORS preflight; the browser's `EventSource` where it exists; fetch streaming where
    /// bodies stream; long polling everywhere else.
    pub(crate) fn choose(&self) -> TransportKind {
        let c = &self.config;
        if let Some(kind) = c.transport {
            return kind;
        }
        if self.downgraded {
            return TransportKind::LongPoll;
        }
        let prefer_fetch =
            c.needs_fetch || c.same_origin || (self.use_fetch && !self.header_refused);
        if c.has_event_source && !(prefer_fetch && c.has_fetch_streams) && !c.needs_fetch {
            TransportKind::EventSource
        } else if c.has_fetch_streams {
            TransportKind::Fetch
        } else {
            TransportKind::LongPoll
        }
    }

    /// Whether a buffering proxy shows in the connection ending at `now`, and why.
    ///
    /// A proxy that buffers whole responses passes the response head on at once and then
    /// holds every byte until the upstream closes (or its buffer fills): the body arrives
    /// as one burst at its end, after a silence. That is the evidence: a streaming
    /// transport chosen automatically opened, nothing came for at least
    /// [`Config::stall_downgrade`], and then the first bytes and the end of the body came
    /// together (within [`BURST_WINDOW`]). A server that is merely quiet keeps its stream
    /// open after it speaks, and a stream that ends without ever sending a byte shows
    /// nothing either way, so neither is taken for a proxy.
    fn burst_evidence(&self, now: Duration) -> Option<Duration> {
        let threshold = self.config.stall_downgrade?;
        let kind = self.transport?;
        if self.config.transport.is_some() || kind == TransportKind::LongPoll {
            return None;
        }
        let State::Open {
            since,
            first_data: Some(first),
        } = self.state
        else {
            return None;
        };
        let silent = first.saturating_sub(since);
        (silent >= threshold && now.saturating_sub(first) <= BURST_WINDOW).then_some(silent)
    }

    /// The client closes the browser's `EventSource` (it gave up, hangs, went idle, or the
    /// page asks for a new connection): later attempts go over fetch streaming where it
    /// exists (see [`Engine::choose`]), which sends `Last-Event-ID` as a header and sees the
    /// status and content type, so a refusal gets its typed failure.
    fn resume_over_fetch(&mut self) {
        if self.transport == Some(TransportKind::EventSource) {
            self.use_fetch = self.config.has_fetch_streams;
        }
    }

    /// The browser's `EventSource` lost its connection and reconnects by itself: it sends
    /// `Last-Event-ID` as a header (which an `EventSource` the client creates cannot) and
    /// honours `retry:` (which only it sees). The client lets it, and keeps the policy's
    /// role around it: each of the browser's attempts is announced (`Reconnecting`, then
    /// `Connecting` with the attempt number and a zero delay: the browser does not tell its
    /// wait) and counts against the policy's limits for the outage, which close the client
    /// when reached. The idle watchdog and page signals still apply, and re-create the
    /// connection when they fire.
    fn browser_retries(&mut self, now: Duration) {
        self.emit(Lifecycle::Reconnecting {
            reason: Failure::Network,
        });
        match self.backoff.on_failure(&Failure::Network, now, false) {
            Decision::Retry { attempt, .. } => {
                self.emit(Lifecycle::Connecting {
                    attempt,
                    delay: Duration::ZERO,
                    transport: TransportKind::EventSource,
                });
                self.state = State::Connecting { since: now };
            }
            Decision::Stop(stop) => {
                self.push(Action::Cancel);
                self.close(CloseReason::Stopped(stop));
            }
        }
    }

    fn is_connected(&self) -> bool {
        matches!(self.state, State::Connecting { .. } | State::Open { .. })
    }

    fn blocked(&self) -> bool {
        !self.online || self.hidden
    }

    fn connect_deadline(&self, since: Duration) -> Option<Duration> {
        // A long poll the server holds is not a connection that fails to open: polls have
        // their own timeout.
        if self.transport == Some(TransportKind::LongPoll) {
            return None;
        }
        self.config.connect_timeout.map(|t| since.saturating_add(t))
    }

    fn emit(&mut self, change: Lifecycle) {
        self.push(Action::Emit(change));
    }

    /// Queues `action`. Out of line: inlined at every call site, the queue's growth path
    /// would be copied a dozen times into the wasm.
    #[inline(never)]
    fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// Announces attempt `attempt` after `delay` and waits for it.
    fn announce(&mut self, attempt: u32, delay: Duration, now: Duration) {
        let transport = self.choose();
        self.emit(Lifecycle::Connecting {
            attempt,
            delay,
            transport,
        });
        self.state = State::Waiting {
            until: now.saturating_add(delay),
        };
    }

    /// Starts the announced attempt.
    fn connect(&mut self, now: Duration) {
        let transport = self.choose();
        self.transport = Some(transport);
        self.dedupe.on_connect();
        self.state = State::Connecting { since: now };
        self.poll_deadline = None;
        self.idle_seen = self.delivered;
        self.last_activity = now;
        self.idle_check = self.config.idle_timeout.map(|t| now.saturating_add(t / 4));
        let resume = (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone());
        self.cross_origin_header =
            resume.is_some() && transport != TransportKind::EventSource && !self.config.same_origin;
        // An `EventSource` we open cannot send `Last-Event-ID`: the query parameter does.
        let url = match (&resume, transport) {
            (Some(id), TransportKind::EventSource) => {
                text::with_query(&self.config.url, &self.config.last_event_id_param, id)
            }
            _ => self.config.url.clone(),
        };
        self.push(Action::Connect {
            transport,
            url,
            last_event_id: resume,
        });
    }

    fn on_open(&mut self, now: Duration) {
        if let State::Connecting { .. } = self.state {
            self.state = State::Open {
                since: now,
                first_data: None,
            };
            self.last_activity = now;
            self.backoff.on_open();
            self.header_allowed |= self.cross_origin_header;
            if let Some(transport) = self.transport {
                self.emit(Lifecycle::Open { transport });
            }
        }
    }

    fn on_data(&mut self, now: Duration) {
        if let State::Connecting { .. } = self.state {
            // Bytes without an explicit open (an `EventSource` event racing its `open`).
            self.on_open(now);
        }
        if let State::Open { first_data, .. } = &mut self.state {
            first_data.get_or_insert(now);
            self.last_activity = now;
            self.backoff.on_activity(now);
        }
    }

    /// The body ended (or the `EventSource` lost it): a downgrade on evidence of a
    /// buffering proxy, otherwise `failure`.
    fn on_end(&mut self, failure: Failure, now: Duration) {
        if let (Some(silent), Some(from)) = (self.burst_evidence(now), self.transport) {
            self.push(Action::Cancel);
            self.downgraded = true;
            let ms = text::whole_millis(silent);
            let threshold = self.config.stall_downgrade.unwrap_or_default();
            let threshold_ms = text::whole_millis(threshold);
            // Concatenated, not `format!`ed: no formatting machinery in the wasm.
            let reason = "the body came in one burst at its end after ".to_owned()
                + &text::decimal(ms)
                + " ms of silence (at least "
                + &text::decimal(threshold_ms)
                + " ms): a proxy buffering the response";
            self.emit(Lifecycle::Downgraded {
                from,
                to: TransportKind::LongPoll,
                reason,
            });
            self.announce(0, Duration::ZERO, now);
            return;
        }
        self.fail(failure, now);
    }

    /// The attempt failed: tell, then ask the hook (fatal failures) or the policy.
    fn fail(&mut self, failure: Failure, now: Duration) {
        if !self.is_connected() {
            return;
        }
        if failure == Failure::Network
            && self.cross_origin_header
            && !self.header_allowed
            && matches!(self.state, State::Connecting { .. })
        {
            // A cross-origin fetch with `Last-Event-ID` failed before any answer: the
            // browser does not say whether the preflight was refused, so take it that way
            // and resume as an `EventSource` with the query parameter from now on.
            self.header_refused = true;
        }
        self.resume_over_fetch();
        self.push(Action::Cancel);
        self.poll_deadline = None;
        self.idle_check = None;
        self.emit(Lifecycle::Reconnecting {
            reason: failure.clone(),
        });
        if failure.is_fatal() && self.config.has_retry_hook {
            self.state = State::Asking;
            self.push(Action::AskRetry(failure.clone()));
            self.pending_failure = Some(failure);
            return;
        }
        self.decide(&failure, false, now);
    }

    fn decide(&mut self, failure: &Failure, retry_fatal: bool, now: Duration) {
        match self.backoff.on_failure(failure, now, retry_fatal) {
            Decision::Retry { attempt, delay } => self.announce(attempt, delay, now),
            Decision::Stop(stop) => self.close(CloseReason::Stopped(stop)),
        }
    }

    /// Reconnects at once without counting a failure (page restored, paused and back).
    fn restart(&mut self, now: Duration) {
        self.resume_over_fetch();
        self.push(Action::Cancel);
        self.poll_deadline = None;
        self.idle_check = None;
        self.announce(0, Duration::ZERO, now);
    }

    fn on_page(&mut self, signal: PageSignal, now: Duration) {
        match signal {
            PageSignal::Online => {
                self.online = true;
                if let State::Waiting { until } = self.state {
                    if now < until {
                        // Back online: skip the rest of the backoff wait (a `Retry-After`
                        // still counts).
                        let delay = match self.backoff.retry_now(now) {
                            Decision::Retry { delay, .. } => delay,
                            Decision::Stop(_) => Duration::ZERO,
                        };
                        self.state = State::Waiting {
                            until: now.saturating_add(delay),
                        };
                    }
                }
            }
            PageSignal::Offline => self.online = false,
            PageSignal::Hidden(hidden) => {
                self.hidden = hidden && self.config.pause_when_hidden;
                if self.hidden && self.is_connected() {
                    self.restart(now);
                }
            }
            PageSignal::Restored => {
                if self.is_connected() {
                    self.restart(now);
                }
            }
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if self.close_reason.is_some() {
            return;
        }
        self.state = State::Closed;
        self.poll_deadline = None;
        self.idle_check = None;
        self.close_reason = Some(reason.clone());
        self.emit(Lifecycle::Closed { reason });
    }

    /// Runs every deadline that has passed by `now`.
    fn run_due(&mut self, now: Duration) {
        match self.state {
            State::Waiting { until } if !self.blocked() && now >= until => self.connect(now),
            State::Connecting { since }
                if self.connect_deadline(since).is_some_and(|d| now >= d) =>
            {
                // The browser's `EventSource` does not say why it hangs; fetch will (`fail`).
                self.fail(Failure::ConnectTimeout, now);
            }
            _ => {}
        }
        if self.is_connected() && self.poll_deadline.is_some_and(|d| now >= d) {
            // The server held a poll longer than any server should: treat it as gone.
            self.fail(Failure::IdleTimeout, now);
        }
        self.watch_idle(now);
    }

    /// The idle watchdog looks at the delivery counter a few times per idle period instead
    /// of being re-armed per event: it fires between 1 and 1.25 idle timeouts after the
    /// last sign of life.
    fn watch_idle(&mut self, now: Duration) {
        let (Some(limit), Some(check)) = (self.config.idle_timeout, self.idle_check) else {
            return;
        };
        if !self.is_connected() || now < check {
            return;
        }
        if self.delivered != self.idle_seen {
            self.idle_seen = self.delivered;
            self.last_activity = now;
            self.backoff.on_activity(now);
        }
        if now.saturating_sub(self.last_activity) >= limit {
            self.fail(Failure::IdleTimeout, now);
        } else {
            self.idle_check = Some(now.saturating_add((limit / 4).max(Duration::from_millis(1))));
        }
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
