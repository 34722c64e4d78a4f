//! The shell: one loop that does what the [`Engine`] asks and tells it what happened.
//!
//! Each turn feeds the engine one input (a command from the handle or the page, a report
//! from the transport, resolved headers, or a deadline), carries out every action it then
//! asks for (open or drop a transport, tell the user, ask the retry hook), and waits for
//! the next input or the engine's next deadline. No rule lives here.

use alloc::string::String;
use alloc::vec::Vec;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::task::Poll;
use core::time::Duration;

use crate::channel::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::future::{self, LocalBoxFuture};
use futures::{FutureExt, StreamExt};

use super::builder::Options;
use super::{fast_path, Command, Shared};
use crate::engine::reconnect::Failure;
use crate::engine::{Action, Engine, Input, TransportKind};
use crate::engine::{Lifecycle, PageSignal, ShareRole};
use crate::handlers;
use crate::page::{self, PageEvents};
use crate::share::Share;
use crate::transport::{self, Live, Request, Sink, TransportEvent};
use crate::{env, Error};

/// Headers a [`HeaderProvider`](super::HeaderProvider) is still producing, with the
/// connection they are for.
type PendingOpen = (
    TransportKind,
    Request,
    LocalBoxFuture<'static, Result<Vec<(String, String)>, String>>,
);

/// The task behind a [`Client`](super::Client).
pub(super) struct Driver {
    options: Options,
    engine: Rc<RefCell<Engine>>,
    shared: Rc<RefCell<Shared>>,
    /// Event types to listen for (only `EventSource` needs them).
    event_types: Vec<String>,
    /// The open connection; dropping it closes the connection.
    live: Option<Live>,
    /// The open connection's reports (a fresh channel per connection, so a report that
    /// races with a drop is never read).
    reports: Option<UnboundedReceiver<TransportEvent>>,
    pending: Option<PendingOpen>,
    /// The sharing of the stream across tabs, when it is shared and can be.
    share: Option<Share>,
    /// A connection the engine asked for while the client's share role is undecided.
    undecided: Option<(TransportKind, Request)>,
}

/// One turn's input, polled in this order by a `poll_fn` (smaller in the wasm than
/// `futures::select_biased!`).
enum Step {
    Command(Option<Command>),
    Report(Option<TransportEvent>),
    Headers(Result<Vec<(String, String)>, String>),
    Share(Option<ShareRole>),
    Timer,
}

impl Driver {
    pub(super) fn new(
        options: Options,
        engine: Rc<RefCell<Engine>>,
        shared: Rc<RefCell<Shared>>,
    ) -> Self {
        Self {
            share: None,
            undecided: None,
            event_types: options.event_types.clone(),
            options,
            engine,
            shared,
            live: None,
            reports: None,
            pending: None,
        }
    }

    pub(super) async fn run(
        mut self,
        mut commands: UnboundedReceiver<Command>,
        self_tx: UnboundedSender<Command>,
        share_key: Option<String>,
    ) {
        if let Some(key) = share_key {
            let handlers = Rc::clone(&self.shared.borrow().handlers);
            let paused = self.options.pause_when_hidden && page::page_hidden();
            self.share = Share::new(&key, handlers, paused, self_tx.clone());
        }
        // Page signals join the command channel, so one poll serves both.
        let _page = PageEvents::listen(self_tx, self.options.pause_when_hidden);
        self.engine
            .borrow_mut()
            .set_page(page::is_online(), page::page_hidden());
        let mut input = Some(Input::Timer);
        let mut timer: Option<(Duration, env::Sleep)> = None;
        loop {
            if let Some(input) = input.take() {
                self.engine.borrow_mut().handle(input, env::now());
            }
            if let Some(next) = self.act() {
                input = Some(next);
                continue;
            }
            if self.engine.borrow().close_reason().is_some() {
                break;
            }
            let now = env::now();
            let deadline = self.engine.borrow().next_deadline();
            match deadline {
                Some(at) if at <= now => {
                    input = Some(Input::Timer);
                    continue;
                }
                Some(at) if timer.as_ref().is_none_or(|(armed, _)| *armed != at) => {
                    // One millisecond more than the whole milliseconds to wait: a timer never
                    // fires before the deadline, which would only wake the loop to arm it again.
                    let millis = u32::try_from(crate::engine::text::whole_millis(at - now))
                        .unwrap_or(u32::MAX)
                        .saturating_add(1);
                    timer = Some((at, env::Sleep::new(millis)));
                }
                Some(_) => {}
                None => timer = None,
            }
            let step = future::poll_fn(|cx| {
                if let Poll::Ready(command) = commands.poll_next_unpin(cx) {
                    return Poll::Ready(Step::Command(command));
                }
                if let Some(reports) = &mut self.reports {
                    if let Poll::Ready(report) = reports.poll_next_unpin(cx) {
                        return Poll::Ready(Step::Report(report));
                    }
                }
                if let Some(share) = &mut self.share {
                    if let Poll::Ready(role) = share.poll_change(cx) {
                        return Poll::Ready(Step::Share(role));
                    }
                }
                if let Some((_, _, headers)) = &mut self.pending {
                    if let Poll::Ready(headers) = headers.poll_unpin(cx) {
                        return Poll::Ready(Step::Headers(headers));
                    }
                }
                match &mut timer {
                    Some((_, sleep)) => sleep.poll_unpin(cx).map(|()| Step::Timer),
                    None => Poll::Pending,
                }
            })
            .await;
            input = match step {
                Step::Command(None | Some(Command::Close)) => Some(Input::Close),
                Step::Command(Some(Command::Listen(name))) => {
                    if let Some(live) = &mut self.live {
                        live.add_event_type(&name);
                    }
                    if !self.event_types.contains(&name) {
                        self.event_types.push(name);
                    }
                    None
                }
                Step::Command(Some(Command::Page(signal))) => {
                    if let (PageSignal::Hidden(hidden), Some(share)) = (signal, &mut self.share) {
                        share.set_paused(hidden && self.options.pause_when_hidden);
                    }
                    Some(Input::Page(signal))
                }
                Step::Command(Some(Command::Share(signal))) => {
                    match self.share.as_mut().and_then(|share| share.handle(signal)) {
                        Some(role) => self.share_changed(role),
                        None => None,
                    }
                }
                Step::Share(role) => self.share_changed(role),
                Step::Command(Some(Command::Reconnect)) => Some(Input::Reconnect),
                Step::Command(Some(Command::SetUrl(url))) => {
                    let same_origin = env::is_same_origin(&url);
                    self.engine.borrow_mut().set_url(url, same_origin);
                    None
                }
                Step::Command(Some(Command::SetBody(body))) => {
                    self.options.body = Some(body);
                    None
                }
                Step::Report(None) => {
                    self.reports = None;
                    Some(Input::Failed(Failure::StreamEnded))
                }
                Step::Report(Some(report)) => self.report(report),
                Step::Headers(headers) => match (self.pending.take(), headers) {
                    (Some((kind, mut request, _)), Ok(headers)) => {
                        request.headers.extend(headers);
                        self.open(kind, &request)
                    }
                    (_, Err(reason)) => Some(Input::Error(Error::HeaderProvider(reason))),
                    (None, Ok(_)) => None,
                },
                Step::Timer => {
                    timer = None;
                    Some(Input::Timer)
                }
            };
        }
        self.finish();
    }

    /// Carries out the engine's actions; returns an input that one of them produced (a
    /// transport that could not be created, the retry hook's verdict).
    fn act(&mut self) -> Option<Input> {
        loop {
            let action = self.engine.borrow_mut().poll_action()?;
            match action {
                Action::Connect {
                    transport,
                    url,
                    last_event_id,
                } => {
                    let request = self.request(url, last_event_id);
                    match self.share.as_ref().map(Share::role) {
                        Some(None) => {
                            self.undecided = Some((transport, request));
                            continue;
                        }
                        Some(Some(ShareRole::Follower)) => {
                            self.follow();
                            continue;
                        }
                        _ => {}
                    }
                    match &self.options.header_provider {
                        Some(provider) => self.pending = Some((transport, request, provider())),
                        None => {
                            if let Some(input) = self.open(transport, &request) {
                                return Some(input);
                            }
                        }
                    }
                }
                Action::Cancel => {
                    self.undecided = None;
                    self.live = None;
                    self.reports = None;
                    self.pending = None;
                }
                Action::Emit(change) => self.emit(&change),
                Action::AskRetry(failure) => {
                    // Asked with nothing borrowed: the hook may use the client.
                    let hook = self.options.retry_hook.clone();
                    let retry = hook.is_some_and(|hook| hook(&failure));
                    return Some(Input::RetryVerdict(retry));
                }
            }
        }
    }

    /// The share role changed: tell the user, and move the connection to the new role (a
    /// follower's channel, the leader's own connection, none).
    fn share_changed(&mut self, role: Option<ShareRole>) -> Option<Input> {
        let previous = core::mem::replace(&mut self.shared.borrow_mut().role, role);
        self.emit(&Lifecycle::Shared { role, previous });
        if let Some((kind, request)) = self.undecided.take() {
            return match role {
                None => {
                    self.undecided = Some((kind, request));
                    None
                }
                Some(ShareRole::Follower) => {
                    self.follow();
                    None
                }
                Some(ShareRole::Leader) => match &self.options.header_provider {
                    Some(provider) => {
                        self.pending = Some((kind, request, provider()));
                        None
                    }
                    None => self.open(kind, &request),
                },
            };
        }
        // A connection under way belongs to the old role: the engine drops it and asks for
        // a new one, resuming after the last event delivered.
        (self.live.is_some() || self.pending.is_some()).then_some(Input::Reconnect)
    }

    /// Tells the lifecycle streams and handlers about `change`; the handlers run with
    /// nothing borrowed.
    fn emit(&self, change: &Lifecycle) {
        let handlers = {
            #[cfg_attr(not(feature = "streams"), allow(unused_mut))]
            let mut shared = self.shared.borrow_mut();
            #[cfg(feature = "streams")]
            shared.emit(change);
            Rc::clone(&shared.handlers)
        };
        handlers::call_lifecycle(&handlers, change);
    }

    /// Receives the leader's events from the channel, as a connection.
    fn follow(&mut self) {
        let Some(share) = &self.share else { return };
        let (reports, receiver) = unbounded();
        let sink = Sink::new(
            reports,
            fast_path(Rc::clone(&self.engine), Rc::clone(&self.shared)),
        );
        self.live = Some(Live::Follower(share.follow(sink)));
        self.reports = Some(receiver);
    }

    /// Opens `request` over `kind`; an input when that fails at once.
    fn open(&mut self, kind: TransportKind, request: &Request) -> Option<Input> {
        let (reports, receiver) = unbounded();
        let sink = Sink::new(
            reports,
            fast_path(Rc::clone(&self.engine), Rc::clone(&self.shared)),
        );
        match transport::open(kind, request, sink) {
            Ok(live) => {
                self.live = Some(live);
                self.reports = Some(receiver);
                None
            }
            Err(error) => Some(Input::Error(error)),
        }
    }

    fn request(&self, url: String, last_event_id: Option<String>) -> Request {
        let o = &self.options;
        Request {
            url,
            last_event_id,
            with_credentials: o.with_credentials,
            headers: o.headers.clone(),
            method: o.method,
            body: o.body.clone(),
            fetch: o.fetch.clone(),
            event_types: self.event_types.clone(),
            max_event_size: o.max_event_size,
            last_event_id_param: o.last_event_id_param.clone(),
        }
    }

    /// A transport's report as the engine's input.
    fn report(&mut self, report: TransportEvent) -> Option<Input> {
        Some(match report {
            TransportEvent::Open => Input::Open,
            // Every sink the driver makes has the fast path, so events never come this way
            // (only the transports' own tests use sinks without one).
            TransportEvent::Event(_) => Input::Data,
            TransportEvent::Retry(retry) => Input::Retry(retry),
            TransportEvent::Activity => Input::Data,
            TransportEvent::Polling(waiting) => Input::Polling(waiting),
            TransportEvent::EventTooLarge { limit } => Input::TooLarge(limit),
            TransportEvent::Interrupted => Input::Interrupted,
            TransportEvent::Rejected => Input::Rejected,
            TransportEvent::Failed(Failure::StreamEnded) => Input::End,
            TransportEvent::Failed(failure) => Input::Failed(failure),
            TransportEvent::Head(head) => {
                self.shared.borrow_mut().response = Some(head);
                return None;
            }
            TransportEvent::ErrorBody(text) => {
                self.shared.borrow_mut().error_body = (!text.is_empty()).then_some(text);
                return None;
            }
        })
    }

    /// The client closed for good: every stream ends and every handler is released.
    fn finish(mut self) {
        self.live = None;
        self.share = None;
        let mut shared = self.shared.borrow_mut();
        shared.closed = true;
        shared.role = None;
        #[cfg(feature = "streams")]
        {
            shared.lifecycle.clear();
            shared.dispatcher.close();
        }
        let handlers = Rc::clone(&shared.handlers);
        drop(shared);
        handlers::clear(&handlers);
    }
}
