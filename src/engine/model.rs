//! A model-based run of the engine: thousands of random scenarios against a simulated
//! server, each checked for exactly-once, in-order delivery and for the policy's bounds.
//!
//! The world: a server with a numbered event log that answers every connection the engine
//! asks for, resuming after the ID it is sent, sometimes replaying a few events too many
//! (duplicates) or an old one out of order, sometimes answering 503 (with or without
//! `Retry-After`), 204 or a wrong content type, sometimes behind a buffering proxy; bodies
//! cut at random bytes and fed in random chunks through the real fetch path
//! ([`feed_chunk`]: the codec's parser, the engine's filter); a page that goes offline,
//! hidden and back; a clock that sometimes steps back; and a user who may close at any
//! point.
#![allow(clippy::unwrap_used)]

use alloc::rc::Rc;
use core::cell::RefCell;
use core::time::Duration;

use crate::channel::{unbounded, UnboundedReceiver};

use super::reconnect::{Failure, ReconnectPolicy, StopReason};
use super::*;
use crate::transport::fetch::feed_chunk;
use crate::transport::{Sink, TransportEvent};

/// SplitMix64, for reproducible scenarios.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// How the server answers one connection.
enum Answer {
    /// 200 `text/event-stream` with these bytes, then the end of the body (or a cut).
    Stream {
        body: Vec<u8>,
        cut: bool,
        proxy: bool,
    },
    Status(u16, Option<Duration>),
    WrongType,
}

struct World {
    rng: Rng,
    engine: Engine,
    now: Duration,
    /// IDs delivered, in order.
    delivered: Rc<RefCell<Vec<u64>>>,
    /// The event log's length.
    log: u64,
    /// Whether a connection is open (the last `Connect` not yet cancelled).
    connected: bool,
    /// Counts connects and cancels: a body stops feeding once its connection is gone.
    generation: u64,
    reports: Option<UnboundedReceiver<TransportEvent>>,
    closed: Option<CloseReason>,
    /// The last `Retry-After` the server sent, which the next delay must honour.
    retry_after: Option<Duration>,
    max_delay: Duration,
    hidden: bool,
    offline: bool,
    pause: bool,
    downgrades: u32,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let pause = rng.percent(30);
        let forced = match rng.below(5) {
            0 => Some(TransportKind::Fetch),
            1 => Some(TransportKind::LongPoll),
            _ => None,
        };
        let max_delay = Duration::from_millis(100 + rng.below(5_000));
        let config = Config {
            transport: forced,
            same_origin: rng.percent(50),
            has_event_source: rng.percent(70),
            policy: ReconnectPolicy::new()
                .max_delay(max_delay)
                .initial_delay(Duration::from_millis(rng.below(2_000))),
            seed,
            idle_timeout: rng
                .percent(30)
                .then(|| Duration::from_millis(500 + rng.below(5_000))),
            connect_timeout: rng
                .percent(30)
                .then(|| Duration::from_millis(500 + rng.below(5_000))),
            pause_when_hidden: pause,
            has_retry_hook: rng.percent(20),
            ..Config::testing("/events")
        };
        let engine = Engine::new(config, Duration::ZERO);
        let log = 5 + rng.below(60);
        Self {
            rng,
            engine,
            now: Duration::ZERO,
            delivered: Rc::default(),
            log,
            connected: false,
            generation: 0,
            reports: None,
            closed: None,
            retry_after: None,
            max_delay,
            hidden: false,
            offline: false,
            pause,
            downgrades: 0,
        }
    }

    fn feed(&mut self, input: Input) {
        self.engine.handle(input, self.now);
        self.act();
    }

    /// Carries out the engine's actions, checking each.
    fn act(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            assert!(self.closed.is_none(), "an action after Closed: {action:?}");
            match action {
                Action::Connect { last_event_id, .. } => {
                    assert!(!self.connected, "a second connection without a cancel");
                    assert!(!self.offline, "connected while offline");
                    assert!(!(self.pause && self.hidden), "connected while hidden");
                    let resume = last_event_id.map_or(0, |id| id.parse::<u64>().unwrap());
                    assert_eq!(
                        resume,
                        self.delivered.borrow().last().copied().unwrap_or(0),
                        "resumes after the last event delivered"
                    );
                    self.connected = true;
                    self.generation += 1;
                    self.serve(resume);
                    if self.closed.is_some() {
                        return;
                    }
                }
                Action::Cancel => {
                    self.connected = false;
                    self.generation += 1;
                    self.reports = None;
                }
                Action::Emit(Lifecycle::Connecting { delay, attempt, .. }) => {
                    if attempt > 0 {
                        let floor = self.retry_after.take().unwrap_or_default();
                        assert!(delay >= floor, "{delay:?} < Retry-After {floor:?}");
                        assert!(
                            delay <= self.max_delay.max(floor),
                            "{delay:?} above the cap"
                        );
                    }
                }
                Action::Emit(Lifecycle::Downgraded { .. }) => self.downgrades += 1,
                Action::Emit(Lifecycle::Closed { reason }) => self.closed = Some(reason),
                Action::Emit(_) => {}
                Action::AskRetry(failure) => {
                    assert!(failure.is_fatal());
                    let verdict = self.rng.percent(50);
                    self.engine.handle(Input::RetryVerdict(verdict), self.now);
                }
            }
        }
    }

    /// Answers the connection just opened, resuming after `resume`.
    fn serve(&mut self, resume: u64) {
        let answer = self.answer(resume);
        let (body, cut, proxy) = match answer {
            Answer::Status(status, retry_after) => {
                if status != 204 {
                    self.retry_after = retry_after;
                }
                self.engine.handle(
                    Input::Failed(Failure::Status {
                        status,
                        retry_after,
                    }),
                    self.now,
                );
                return;
            }
            Answer::WrongType => {
                let failure = Failure::ContentType("text/html".into());
                self.engine.handle(Input::Failed(failure), self.now);
                return;
            }
            Answer::Stream { body, cut, proxy } => (body, cut, proxy),
        };
        let long_poll = self.engine.transport() == Some(TransportKind::LongPoll);
        if long_poll {
            self.engine.handle(Input::Polling(true), self.now);
            self.engine.handle(Input::Polling(false), self.now);
        } else {
            self.engine.handle(Input::Open, self.now);
        }
        self.act();
        let (tx, rx) = unbounded();
        // The world owns the engine, so the sink stages each chunk's events and the world
        // admits them after the chunk, in order, as the fast path would one by one.
        let staged: Rc<RefCell<Vec<Event>>> = Rc::default();
        let staging = Rc::clone(&staged);
        let sink = Sink::new(
            tx,
            Rc::new(move |event: Event| {
                staging.borrow_mut().push(event.clone());
                event
            }),
        );
        self.reports = Some(rx);
        let generation = self.generation;
        let live = |world: &Self| world.generation == generation && world.closed.is_none();
        let mut parser = wasm_sse_codec::Parser::new();
        if proxy {
            // Silence, then the whole body in one burst and the end.
            self.now += Duration::from_secs(11);
            self.engine.handle(Input::Timer, self.now);
            self.act();
            if !live(self) {
                return;
            }
        }
        let mut rest: &[u8] = &body;
        while !rest.is_empty() && live(self) {
            let take = if proxy {
                rest.len()
            } else {
                1 + self.rng.below(40) as usize
            };
            let (chunk, tail) = rest.split_at(take.min(rest.len()));
            rest = tail;
            feed_chunk(&mut parser, chunk, &sink);
            for mut event in staged.borrow_mut().drain(..) {
                if self.engine.admit(&mut event) {
                    self.delivered
                        .borrow_mut()
                        .push(event.last_event_id.parse().unwrap());
                }
            }
            self.drain_reports();
            if !proxy {
                self.step_time();
            }
        }
        if live(self) {
            self.feed(if cut {
                Input::Failed(Failure::Network)
            } else {
                Input::End
            });
        }
    }

    fn answer(&mut self, resume: u64) -> Answer {
        match self.rng.below(100) {
            0..=5 => Answer::Status(503, None),
            6..=9 => Answer::Status(503, Some(Duration::from_millis(self.rng.below(8_000)))),
            10 => Answer::Status(204, None),
            11 => Answer::WrongType,
            _ => {
                let mut body = b": hello\n\n".to_vec();
                // A few events too many, or an old one out of order.
                let replay = if self.rng.percent(30) {
                    self.rng.below(4)
                } else {
                    0
                };
                let from = resume.saturating_sub(replay) + 1;
                let to = (from + self.rng.below(15)).min(self.log);
                for id in from..=to {
                    body.extend_from_slice(format!("id: {id}\ndata: e{id}\n\n").as_bytes());
                    if id > 2 && self.rng.percent(5) {
                        let old = 1 + self.rng.below(id - 1);
                        body.extend_from_slice(format!("id: {old}\ndata: e{old}\n\n").as_bytes());
                        body.extend_from_slice(format!("id: {id}\ndata: e{id}\n\n").as_bytes());
                    }
                }
                let cut = self.rng.percent(30);
                if cut && !body.is_empty() {
                    let at = self.rng.below(body.len() as u64) as usize;
                    body.truncate(at);
                }
                Answer::Stream {
                    body,
                    cut,
                    proxy: self.rng.percent(5),
                }
            }
        }
    }

    fn drain_reports(&mut self) {
        let reports: Vec<TransportEvent> = match &mut self.reports {
            Some(rx) => core::iter::from_fn(|| rx.try_recv().ok()).collect(),
            None => return,
        };
        for report in reports {
            let input = match report {
                TransportEvent::Activity => Input::Data,
                TransportEvent::Retry(retry) => Input::Retry(retry),
                TransportEvent::EventTooLarge { limit } => Input::TooLarge(limit),
                _ => continue,
            };
            self.feed(input);
        }
    }

    /// Time passes, the page changes, the clock steps, the user closes.
    fn step_time(&mut self) {
        match self.rng.below(100) {
            0 => {
                self.now = self
                    .now
                    .saturating_sub(Duration::from_millis(self.rng.below(3_000)))
            }
            1 => self.now += Duration::from_secs(self.rng.below(20)),
            _ => self.now += Duration::from_millis(self.rng.below(200)),
        }
        let signal = match self.rng.below(200) {
            0 => {
                self.offline = true;
                Some(PageSignal::Offline)
            }
            1 | 2 => {
                self.offline = false;
                Some(PageSignal::Online)
            }
            3 => {
                self.hidden = true;
                Some(PageSignal::Hidden(true))
            }
            4 | 5 => {
                self.hidden = false;
                Some(PageSignal::Hidden(false))
            }
            6 => Some(PageSignal::Restored),
            _ => None,
        };
        if let Some(signal) = signal {
            self.feed(Input::Page(signal));
        }
        if self.rng.percent(1) {
            self.feed(Input::Close);
        }
        self.feed(Input::Timer);
    }

    /// Runs until closed, everything delivered, or a step limit.
    fn run(mut self) -> Self {
        self.feed(Input::Timer);
        for _ in 0..400 {
            if self.closed.is_some() {
                break;
            }
            if self.delivered.borrow().last() == Some(&self.log) {
                self.feed(Input::Close);
                break;
            }
            if self.offline && self.rng.percent(20) {
                self.offline = false;
                self.feed(Input::Page(PageSignal::Online));
            }
            if self.hidden && self.rng.percent(20) {
                self.hidden = false;
                self.feed(Input::Page(PageSignal::Hidden(false)));
            }
            match self.engine.next_deadline() {
                Some(at) => self.now = self.now.max(at),
                None => self.step_time(),
            }
            self.feed(Input::Timer);
        }
        self
    }
}

#[test]
fn ten_thousand_random_scenarios_deliver_exactly_once_in_order_within_the_policy() {
    let mut complete = 0;
    let mut downgraded = 0;
    let mut stopped = 0;
    for seed in 0..10_000 {
        let world = World::new(seed).run();
        let delivered = world.delivered.borrow();
        let want: Vec<u64> = (1..=delivered.len() as u64).collect();
        assert_eq!(
            *delivered, want,
            "seed {seed}: not exactly once and in order"
        );
        if delivered.len() as u64 == world.log {
            complete += 1;
        }
        downgraded += u32::from(world.downgrades > 0);
        assert!(world.downgrades <= 1, "seed {seed}: downgraded twice");
        match &world.closed {
            Some(CloseReason::Stopped(StopReason::NoContent | StopReason::Fatal(_))) => {
                stopped += 1;
            }
            Some(CloseReason::Requested) => {}
            Some(other) => panic!("seed {seed}: unexpected close {other:?}"),
            None => {}
        }
        if world.closed.is_some() {
            assert_eq!(
                world.engine.ready_state(),
                ReadyState::Closed,
                "seed {seed}"
            );
        }
    }
    // The scenarios reach every ending.
    assert!(complete > 1_000, "{complete} complete runs");
    assert!(downgraded > 10, "{downgraded} downgrades");
    assert!(stopped > 100, "{stopped} stops");
}
