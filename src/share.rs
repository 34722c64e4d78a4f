//! Cross-tab sharing: the clients of one origin that open the same stream with the same
//! share key hold one network connection between them (see docs/sharing.md).
//!
//! * **Election**: a Web Lock (`navigator.locks`) named from the key. The client holding
//!   it is the leader and connects; the others are followers, queued on the lock, and take
//!   over in turn when it is released (a close, a closed or crashed tab, a step-down).
//! * **Fan-out**: a `BroadcastChannel` of the same name. The leader posts the events it
//!   delivers, one message per browser task (see `Batch`), and a heartbeat every
//!   [`HEARTBEAT`]; a follower's "transport" is that channel ([`Following`]), whose events
//!   go through the client's own fast path, so dedupe, dispatch and lifecycle are the same
//!   code as for a connection.
//! * **A silent leader** (frozen, throttled): a follower that hears nothing for
//!   [`STEAL_AFTER`] (plus up to [`STEAL_JITTER_MS`], so that the followers do not all steal at
//!   once) takes the lock (`steal: true`); the old leader's lock request then fails and it
//!   follows.
//! * **Pages that must not hold the lock**: a page being hidden away (`pagehide`, `freeze`)
//!   steps down and closes its channel, synchronously in the event (a page holding a lock,
//!   or whose channel receives a message, cannot stay in the back/forward cache), and takes
//!   part again on `pageshow`/`resume`; a page hidden with `pause_when_hidden` steps down
//!   until it is visible.
//!
//! Without `navigator.locks` or `BroadcastChannel` (Node, old browsers) [`Share::new`]
//! returns `None` and the client connects on its own.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::task::{Context, Poll};
use core::time::Duration;

use futures::FutureExt;
use js_sys::{global, Array, Function, Object, Promise, Reflect, Uint32Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, BroadcastChannel, EventTarget, MessageEvent};

use crate::channel::UnboundedSender;
use crate::dispatch::Filter;
use crate::engine::ShareRole;
use crate::env;
use crate::handlers::{self, Handler, SharedHandlers};
use crate::page::{self, Listener, Listeners};
use crate::transport::{Sink, TransportEvent};

/// How often the leader tells the followers it is alive when no event does.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(500);

/// The silence after which a follower takes the lock from its leader.
pub(crate) const STEAL_AFTER: Duration = Duration::from_millis(3000);

/// The most a follower adds to [`STEAL_AFTER`], in milliseconds, drawn at random once per
/// client.
pub(crate) const STEAL_JITTER_MS: u64 = 1000;

/// The prefix of the lock's and the channel's names.
const PREFIX: &str = "wasm-sse:";

/// What the lock callbacks and the page listeners tell the [`Share`], through the client's
/// command channel (see [`Share::handle`]).
#[derive(Debug)]
pub(crate) enum Signal {
    /// The lock was granted: lead.
    Granted,
    /// The lock is held by another client: follow.
    Unavailable,
    /// The page is running (`true`: `pageshow`, `resume`) or going away (`false`:
    /// `pagehide`, `freeze`).
    Page(bool),
}

/// What the channel's listener and the follower's adapter share.
#[derive(Default)]
struct Inner {
    /// Where a following client's events go (set while [`Following`] lives).
    sink: Option<Sink>,
    /// When the leader was last heard.
    last_heard: Duration,
    /// Resolves the promise that holds the lock (set while leading).
    release: Option<Function>,
    /// Aborts the queued lock request (set while following).
    abort: Option<AbortController>,
}

impl Inner {
    /// Gives the lock up and leaves the queue, at once: a page being frozen runs no task
    /// after its `freeze` listeners.
    fn let_go(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.call0(&JsValue::NULL);
        }
        if let Some(abort) = self.abort.take() {
            abort.abort();
        }
    }
}

/// The events a leader delivered in this browser task, not posted yet: their type, ID and
/// data, one after the other in `text`, with the byte length of each in `lengths`.
#[derive(Default)]
struct Batch {
    text: String,
    lengths: Vec<u32>,
    scheduled: bool,
}

/// The fan-out channel, shared with the leader's posting handler and the page listeners.
type Channel = Rc<RefCell<BroadcastChannel>>;

/// One client's part in the sharing of its stream: election, heartbeat, fan-out.
pub(crate) struct Share {
    name: String,
    locks: JsValue,
    request_fn: Function,
    /// The fan-out channel; closed while the page is away (a page in the back/forward
    /// cache that receives a message is evicted from it) and opened again on its return.
    channel: Channel,
    inner: Rc<RefCell<Inner>>,
    granted: Closure<dyn FnMut(JsValue) -> JsValue>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    /// The current lock request (held or queued).
    request: Option<JsFuture>,
    role: Option<ShareRole>,
    /// The page is away (`pagehide`, `freeze`).
    away: bool,
    /// The page is hidden and the client pauses while hidden.
    paused: bool,
    timer: Option<env::Sleep>,
    /// Posts each delivered event on the channel (while leading).
    posting: Option<Handler>,
    handlers: SharedHandlers,
    steal_after: Duration,
    /// Its page listeners (`pagehide`, `pageshow`, `freeze`, `resume`).
    page: Listeners,
}

impl Share {
    /// Takes part in the sharing of the stream `key` (the key as given: the name adds a
    /// prefix); `None` where `navigator.locks` or `BroadcastChannel` is missing.
    pub(crate) fn new<T: From<Signal> + 'static>(
        key: &str,
        handlers: SharedHandlers,
        paused: bool,
        tx: UnboundedSender<T>,
    ) -> Option<Self> {
        let global = global();
        let locks = Reflect::get(&global, &"navigator".into())
            .and_then(|navigator| Reflect::get(&navigator, &"locks".into()))
            .ok()
            .filter(|locks| locks.is_object())?;
        let request_fn = Reflect::get(&locks, &"request".into())
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        let mut full = String::from(PREFIX);
        full.push_str(key);
        let channel = Rc::new(RefCell::new(BroadcastChannel::new(&full).ok()?));
        let inner = Rc::new(RefCell::new(Inner::default()));

        let granted = {
            let (tx, inner) = (tx.clone(), Rc::clone(&inner));
            Closure::new(move |lock: JsValue| -> JsValue {
                if lock.is_null() {
                    let _ = tx.unbounded_send(Signal::Unavailable.into());
                    return JsValue::UNDEFINED;
                }
                if inner.borrow().release.is_some() {
                    // A lock held already (a request that raced with a step-down and a
                    // rejoin): give this one back at once.
                    return JsValue::UNDEFINED;
                }
                // The lock is held until this promise resolves.
                let held = Promise::new(&mut |resolve, _| {
                    inner.borrow_mut().release = Some(resolve);
                });
                let _ = tx.unbounded_send(Signal::Granted.into());
                held.into()
            })
        };
        let on_message = {
            let inner = Rc::clone(&inner);
            Closure::new(move |message: MessageEvent| {
                let data = message.data();
                let sink = {
                    let mut inner = inner.borrow_mut();
                    inner.last_heard = env::now();
                    inner.sink.clone()
                };
                let Some(sink) = sink else { return };
                let Some(parts) = data.dyn_ref::<Array>() else {
                    let _ = sink.unbounded_send(TransportEvent::Activity);
                    return;
                };
                // A batch: `[text, lengths]` (see `Batch`).
                let text = parts.get(0).as_string().unwrap_or_default();
                let lengths = parts
                    .get(1)
                    .dyn_into::<Uint32Array>()
                    .map(|l| l.to_vec())
                    .unwrap_or_default();
                let mut at = 0;
                let mut field = |length: u32| {
                    let from = at;
                    at += length as usize;
                    text.get(from..at).unwrap_or_default()
                };
                for triple in lengths.chunks_exact(3) {
                    let &[event_type, id, data] = triple else {
                        continue;
                    };
                    let event = sink.event(field(event_type), field(id), field(data));
                    if sink.unbounded_send(TransportEvent::Event(event)).is_err() {
                        return;
                    }
                }
            })
        };
        channel
            .borrow()
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));

        // A float-to-integer `as` saturates: no panic path.
        let jitter = (js_sys::Math::random() * STEAL_JITTER_MS as f64) as u64;
        let mut share = Self {
            name: full,
            locks,
            request_fn,
            channel,
            inner,
            granted,
            on_message,
            request: None,
            role: None,
            away: false,
            paused,
            timer: None,
            posting: None,
            handlers,
            steal_after: STEAL_AFTER.saturating_add(Duration::from_millis(jitter)),
            page: Listeners::default(),
        };
        share.listen_to_page(&tx);
        share.update();
        Some(share)
    }

    /// This client's role; `None` while it takes no part (undecided, or stepped down).
    pub(crate) fn role(&self) -> Option<ShareRole> {
        self.role
    }

    /// The page became hidden (`true`) or visible, for a client that pauses while hidden.
    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.update();
    }

    /// Delivers the leader's events to `sink` until the returned adapter is dropped; the
    /// channel counts as open at once.
    pub(crate) fn follow(&self, sink: Sink) -> Following {
        let _ = sink.unbounded_send(TransportEvent::Open);
        self.inner.borrow_mut().sink = Some(sink);
        Following {
            inner: Rc::clone(&self.inner),
        }
    }

    /// Takes a signal of the lock or the page in; the new role if it changed.
    pub(crate) fn handle(&mut self, signal: Signal) -> Option<Option<ShareRole>> {
        let before = self.role;
        match signal {
            Signal::Granted if self.taking_part() => self.lead(),
            Signal::Granted => self.release(),
            Signal::Unavailable => {
                if self.taking_part() && self.role.is_none() {
                    self.role = Some(ShareRole::Follower);
                    self.inner.borrow_mut().last_heard = env::now();
                    self.queue(false);
                }
            }
            Signal::Page(here) => {
                if here && self.away {
                    if let Ok(channel) = BroadcastChannel::new(&self.name) {
                        channel.set_onmessage(Some(self.on_message.as_ref().unchecked_ref()));
                        *self.channel.borrow_mut() = channel;
                    }
                }
                self.away = !here;
                self.update();
            }
        }
        (self.role != before).then_some(self.role)
    }

    /// The next change of role the lock request or the leader's silence decided.
    pub(crate) fn poll_change(&mut self, cx: &mut Context<'_>) -> Poll<Option<ShareRole>> {
        let before = self.role;
        loop {
            if let Some(request) = &mut self.request {
                if request.poll_unpin(cx).is_ready() {
                    // The request ended without our release: the lock was stolen, or a
                    // queued request failed. Take part again from the start.
                    self.request = None;
                    self.posting = None;
                    self.inner.borrow_mut().release = None;
                    self.role = None;
                    self.update();
                    continue;
                }
            }
            if let Some(sleep) = &mut self.timer {
                if sleep.poll_unpin(cx).is_ready() {
                    self.timer = None;
                    self.tick();
                    continue;
                }
            }
            if self.timer.is_none() {
                if let Some(at) = self.next_tick() {
                    let wait = at.saturating_sub(env::now());
                    self.timer = Some(env::sleep(wait.saturating_add(Duration::from_millis(1))));
                    continue;
                }
            }
            break;
        }
        if self.role == before {
            Poll::Pending
        } else {
            Poll::Ready(self.role)
        }
    }

    fn taking_part(&self) -> bool {
        !self.away && !self.paused
    }

    /// Joins the election, or steps down, as the page allows.
    fn update(&mut self) {
        if !self.taking_part() {
            self.step_down();
        } else if self.request.is_none() && self.role.is_none() {
            // Lead at once if the lock is free; follow otherwise (`Unavailable`).
            let options = Object::new();
            let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
            self.request(&options);
        }
    }

    fn request(&mut self, options: &Object) {
        let called = self.request_fn.call3(
            &self.locks,
            &self.name.as_str().into(),
            options,
            self.granted.as_ref(),
        );
        self.request = called
            .ok()
            .and_then(|promise| promise.dyn_into::<Promise>().ok())
            .map(JsFuture::from);
    }

    /// Waits in the lock's queue, or (`steal`) takes the lock from a silent leader.
    fn queue(&mut self, steal: bool) {
        if let Some(abort) = self.inner.borrow_mut().abort.take() {
            abort.abort();
        }
        let options = Object::new();
        if steal {
            let _ = Reflect::set(&options, &"steal".into(), &JsValue::TRUE);
        } else if let Ok(abort) = AbortController::new() {
            let _ = Reflect::set(&options, &"signal".into(), &abort.signal());
            self.inner.borrow_mut().abort = Some(abort);
        }
        self.request(&options);
    }

    fn lead(&mut self) {
        self.inner.borrow_mut().abort = None;
        self.role = Some(ShareRole::Leader);
        self.timer = None;
        // Heard at once: the followers about to steal stand down.
        self.heartbeat();
        let channel = Rc::clone(&self.channel);
        let batch = Rc::new(RefCell::new(Batch::default()));
        self.posting = Some(handlers::add(&self.handlers, Filter::All, move |event| {
            let mut b = batch.borrow_mut();
            for field in [&event.event_type, &event.last_event_id, &event.data] {
                b.text.push_str(field);
                b.lengths.push(field.len() as u32);
            }
            if !b.scheduled {
                // One message per browser task: after the rest of the chunk is delivered.
                b.scheduled = true;
                let (batch, channel) = (Rc::clone(&batch), Rc::clone(&channel));
                wasm_bindgen_futures::spawn_local(async move {
                    let mut b = batch.borrow_mut();
                    let message = Array::of2(
                        &JsValue::from_str(&b.text),
                        &Uint32Array::from(b.lengths.as_slice()),
                    );
                    b.text.clear();
                    b.lengths.clear();
                    b.scheduled = false;
                    drop(b);
                    let _ = channel.borrow().post_message(&message);
                });
            }
        }));
    }

    /// Gives the lock up (leading) or leaves the queue (following).
    fn step_down(&mut self) {
        self.posting = None;
        self.inner.borrow_mut().let_go();
        self.request = None;
        self.role = None;
        self.timer = None;
    }

    fn release(&mut self) {
        self.posting = None;
        let release = self.inner.borrow_mut().release.take();
        if let Some(release) = release {
            let _ = release.call0(&JsValue::NULL);
            self.request = None;
        }
    }

    fn next_tick(&self) -> Option<Duration> {
        match self.role {
            Some(ShareRole::Leader) => Some(env::now().saturating_add(HEARTBEAT)),
            Some(ShareRole::Follower) => Some(
                self.inner
                    .borrow()
                    .last_heard
                    .saturating_add(self.steal_after),
            ),
            None => None,
        }
    }

    fn tick(&mut self) {
        match self.role {
            Some(ShareRole::Leader) => {
                self.heartbeat();
            }
            Some(ShareRole::Follower) => {
                let silent = env::now().saturating_sub(self.inner.borrow().last_heard);
                if silent >= self.steal_after {
                    self.inner.borrow_mut().last_heard = env::now();
                    self.queue(true);
                }
            }
            None => {}
        }
    }

    fn heartbeat(&self) {
        let _ = self.channel.borrow().post_message(&JsValue::from_f64(0.0));
    }

    fn listen_to_page<T: From<Signal> + 'static>(&mut self, tx: &UnboundedSender<T>) {
        let inner = &self.inner;
        let channel = &self.channel;
        let document = page::document();
        let window = global().dyn_into::<EventTarget>().ok();
        for (target, name, here) in [
            (&window, "pagehide", false),
            (&window, "pageshow", true),
            (&document, "freeze", false),
            (&document, "resume", true),
        ] {
            let Some(target) = target else { continue };
            let (tx, inner, channel) = (tx.clone(), Rc::clone(inner), Rc::clone(channel));
            let listener: Listener = Closure::new(move |_: web_sys::Event| {
                if !here {
                    inner.borrow_mut().let_go();
                    close(&channel.borrow());
                }
                let _ = tx.unbounded_send(Signal::Page(here).into());
            });
            self.page.add(target, name, listener);
        }
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.step_down();
        close(&self.channel.borrow());
        // The page listeners are removed as `page` drops.
    }
}

/// Closes `channel` for good (a closed channel neither sends nor receives).
fn close(channel: &BroadcastChannel) {
    channel.set_onmessage(None);
    channel.close();
}

/// A follower's transport: the leader's events, from the channel, until dropped.
pub(crate) struct Following {
    inner: Rc<RefCell<Inner>>,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.inner.borrow_mut().sink = None;
    }
}

/// The share key of a stream when the page gives none: what makes two requests the same
/// stream for the same user (URL, credentials mode, method, body, static headers). A request
/// with headers from a provider or a body that is not text needs an explicit key
/// ([`ClientBuilder::share`](crate::ClientBuilder::share) checks it).
pub(crate) fn default_key(
    url: &str,
    with_credentials: bool,
    method: &str,
    body: Option<&str>,
    headers: &[(String, String)],
) -> String {
    let mut key = String::from(url);
    key.push('\n');
    key.push_str(if with_credentials { "credentials" } else { "" });
    key.push('\n');
    key.push_str(method);
    key.push('\n');
    key.push_str(body.unwrap_or(""));
    for (name, value) in headers {
        key.push('\n');
        key.push_str(name);
        key.push(':');
        key.push_str(value);
    }
    key
}
