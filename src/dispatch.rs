//! Fan-out of events to subscribers (the `streams` feature): pure logic, tested natively.
//! The [`Filter`] that picks a subscriber's events also picks a handler's.
//!
//! Every subscriber owns the receiving half of an unbounded channel; the dispatcher keeps
//! the sending halves. A subscriber that went away (its stream was dropped) is pruned on
//! the next dispatch, and closing the dispatcher drops every sender so that all streams end.

use alloc::string::String;
#[cfg(feature = "streams")]
use alloc::vec::Vec;

#[cfg(feature = "streams")]
use crate::channel::{unbounded, UnboundedReceiver, UnboundedSender};

use crate::Event;

/// Which events a subscriber wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// Every event, whatever its type.
    All,
    /// Only events of this type.
    Type(String),
}

impl Filter {
    pub(crate) fn matches(&self, event: &Event) -> bool {
        match self {
            Filter::All => true,
            Filter::Type(name) => *name == event.event_type,
        }
    }
}

/// The set of live subscribers of one client.
#[cfg(feature = "streams")]
#[derive(Debug, Default)]
pub(crate) struct Dispatcher {
    subscribers: Vec<(Filter, UnboundedSender<Event>)>,
    closed: bool,
}

#[cfg(feature = "streams")]
impl Dispatcher {
    /// Adds a subscriber. After [`close`](Self::close) the stream ends at once.
    pub(crate) fn subscribe(&mut self, filter: Filter) -> UnboundedReceiver<Event> {
        let (tx, rx) = unbounded();
        if !self.closed {
            self.subscribers.push((filter, tx));
        }
        rx
    }

    /// Hands `event` to every matching subscriber, in subscription order.
    pub(crate) fn dispatch(&mut self, event: &Event) {
        if self.subscribers.is_empty() {
            // The common case with handlers only: `retain` would still set up its walk.
            return;
        }
        self.subscribers.retain(|(filter, tx)| {
            if tx.is_closed() {
                return false;
            }
            if filter.matches(event) {
                // Only fails when the receiver is gone, and then it is pruned next time.
                let _ = tx.unbounded_send(event.clone());
            }
            true
        });
    }

    /// Number of live subscribers (dropped streams are counted until the next dispatch).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.subscribers.len()
    }

    /// Ends every stream; later subscriptions end at once.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.subscribers.clear();
    }
}

#[cfg(all(test, feature = "streams"))]
mod tests {
    use futures::executor::block_on;
    use futures::StreamExt;

    use super::*;

    fn ev(t: &str, d: &str) -> Event {
        Event::new(t, d, "")
    }

    #[test]
    fn all_sees_everything_and_type_filters() {
        let mut d = Dispatcher::default();
        let mut all = d.subscribe(Filter::All);
        let mut ticks = d.subscribe(Filter::Type("tick".into()));
        d.dispatch(&ev("message", "a"));
        d.dispatch(&ev("tick", "b"));
        d.close();
        let all: Vec<_> = block_on(all.by_ref().collect::<Vec<_>>());
        let ticks: Vec<_> = block_on(ticks.by_ref().collect::<Vec<_>>());
        assert_eq!(all, vec![ev("message", "a"), ev("tick", "b")]);
        assert_eq!(ticks, vec![ev("tick", "b")]);
    }

    #[test]
    fn dropped_subscribers_are_pruned() {
        let mut d = Dispatcher::default();
        let keep = d.subscribe(Filter::All);
        drop(d.subscribe(Filter::All));
        d.dispatch(&ev("message", "x"));
        assert_eq!(d.len(), 1);
        drop(keep);
    }

    #[test]
    fn subscribing_after_close_ends_at_once() {
        let mut d = Dispatcher::default();
        d.close();
        let rx = d.subscribe(Filter::All);
        assert_eq!(block_on(rx.collect::<Vec<_>>()), vec![]);
    }
}
