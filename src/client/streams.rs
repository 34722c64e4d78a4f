//! The client's streams (the `streams` feature): every event, the events of one type, and
//! the lifecycle changes, each an unbounded channel that the fast path and the driver fill.

use alloc::string::String;

use core::pin::Pin;
use core::task::{Context, Poll};

use futures::stream::FusedStream;
use futures::{Stream, StreamExt};

use super::{Client, Shared};
use crate::channel::{unbounded, UnboundedReceiver};
use crate::dispatch::Filter;
use crate::{Event, Lifecycle};

impl Shared {
    /// Sends `change` to every lifecycle stream still listening.
    pub(super) fn emit(&mut self, change: &Lifecycle) {
        self.lifecycle
            .retain(|tx| tx.unbounded_send(change.clone()).is_ok());
    }
}

impl Client {
    /// Every event, whatever its type, in arrival order. Ends when the client closes.
    pub fn events(&self) -> EventStream {
        EventStream(self.shared.borrow_mut().dispatcher.subscribe(Filter::All))
    }

    /// The events of one type, in arrival order. Ends when the client closes.
    pub fn subscribe(&self, event_type: impl Into<String>) -> EventStream {
        let name = event_type.into();
        self.listen_for(name.clone());
        EventStream(
            self.shared
                .borrow_mut()
                .dispatcher
                .subscribe(Filter::Type(name)),
        )
    }

    /// Changes of the connection's state, from now on. Ends after [`Lifecycle::Closed`].
    pub fn lifecycle(&self) -> LifecycleStream {
        let (tx, rx) = unbounded();
        let mut shared = self.shared.borrow_mut();
        if !shared.closed {
            shared.lifecycle.push(tx);
        }
        LifecycleStream(rx)
    }
}

/// A stream of [`Event`]s from a [`Client`]; ends (`None`) when the client closes.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct EventStream(UnboundedReceiver<Event>);

impl Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.0.poll_next_unpin(cx)
    }
}

impl FusedStream for EventStream {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

/// A stream of [`Lifecycle`] changes; ends after [`Lifecycle::Closed`].
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct LifecycleStream(UnboundedReceiver<Lifecycle>);

impl Stream for LifecycleStream {
    type Item = Lifecycle;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Lifecycle>> {
        self.0.poll_next_unpin(cx)
    }
}

impl FusedStream for LifecycleStream {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}
