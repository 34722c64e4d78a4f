//! Synchronous handlers: event handlers run inside the transport's own callback, in the
//! same browser task as the event (like `EventSource` listeners), and lifecycle handlers in
//! the driver as it makes each change, with no stream and no task switch in between.
//!
//! Handlers may add or remove handlers and close the client while they run: the list is
//! walked by index and never borrowed while a handler runs.

use alloc::vec::Vec;

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use crate::dispatch::Filter;
use crate::{Event, Lifecycle};

type EventCallback = Rc<RefCell<dyn FnMut(&Event)>>;
type LifecycleCallback = Rc<RefCell<dyn FnMut(&Lifecycle)>>;

/// A handler: of the events its filter matches, or of lifecycle changes.
enum Callback {
    Event(Filter, EventCallback),
    Lifecycle(LifecycleCallback),
}

/// The handlers of one client, of events and of lifecycle changes, in the order they were
/// added (one list: one walk, one removal).
#[derive(Default)]
pub(crate) struct Handlers {
    next_id: u64,
    list: Vec<(u64, Callback)>,
}

/// Shared ownership of a client's handlers.
pub(crate) type SharedHandlers = Rc<RefCell<Handlers>>;

fn push(handlers: &SharedHandlers, callback: Callback) -> Handler {
    let mut list = handlers.borrow_mut();
    list.next_id += 1;
    let id = list.next_id;
    list.list.push((id, callback));
    Handler {
        handlers: Rc::downgrade(handlers),
        id,
    }
}

/// Adds `callback` for `filter`; the returned guard removes it when dropped.
pub(crate) fn add(
    handlers: &SharedHandlers,
    filter: Filter,
    callback: impl FnMut(&Event) + 'static,
) -> Handler {
    push(
        handlers,
        Callback::Event(filter, Rc::new(RefCell::new(callback))),
    )
}

/// Adds `callback` for lifecycle changes; the returned guard removes it when dropped.
pub(crate) fn add_lifecycle(
    handlers: &SharedHandlers,
    callback: impl FnMut(&Lifecycle) + 'static,
) -> Handler {
    push(
        handlers,
        Callback::Lifecycle(Rc::new(RefCell::new(callback))),
    )
}

/// Calls, in the order they were added, the handlers `pick` selects (returning their
/// callback) with `run`. The list is walked by index and never borrowed while a handler
/// runs, so a handler may add or remove handlers and close the client.
fn walk<C: ?Sized>(
    handlers: &SharedHandlers,
    pick: impl Fn(&Callback) -> Option<Rc<RefCell<C>>>,
    mut run: impl FnMut(&mut C),
) {
    let mut index = 0;
    loop {
        let callback = match handlers.borrow().list.get(index) {
            Some((_, callback)) => pick(callback),
            None => return,
        };
        // A handler cannot be running already: events and changes arrive one at a time.
        if let Some(Ok(mut callback)) = callback.as_ref().map(|c| c.try_borrow_mut()) {
            run(&mut *callback);
        }
        index += 1;
    }
}

/// Calls every lifecycle handler with `change`, in the order they were added.
pub(crate) fn call_lifecycle(handlers: &SharedHandlers, change: &Lifecycle) {
    walk(
        handlers,
        |callback| match callback {
            Callback::Lifecycle(callback) => Some(Rc::clone(callback)),
            Callback::Event(..) => None,
        },
        |callback| callback(change),
    );
}

/// Calls every handler whose filter matches `event`, in the order they were added.
pub(crate) fn call(handlers: &SharedHandlers, event: &Event) {
    walk(
        handlers,
        |callback| match callback {
            Callback::Event(filter, callback) if filter.matches(event) => Some(Rc::clone(callback)),
            _ => None,
        },
        |callback| callback(event),
    );
}

/// Removes every handler (the client closed).
pub(crate) fn clear(handlers: &SharedHandlers) {
    let removed = core::mem::take(&mut handlers.borrow_mut().list);
    drop(removed);
}

/// A registered event handler; dropping it (or calling [`Handler::remove`]) removes it.
#[must_use = "the handler is removed as soon as this guard is dropped; keep it, or call .forget_on_close()"]
#[derive(Debug)]
pub struct Handler {
    handlers: Weak<RefCell<Handlers>>,
    id: u64,
}

impl Handler {
    /// Removes the handler now.
    pub fn remove(self) {}

    /// Keeps the handler until the client closes, without holding this guard.
    pub fn forget_on_close(mut self) {
        self.handlers = Weak::new();
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        if let Some(handlers) = self.handlers.upgrade() {
            let removed = {
                let mut list = handlers.borrow_mut();
                let at = list.list.iter().position(|(id, _)| *id == self.id);
                at.map(|at| list.list.remove(at))
            };
            // Dropped outside the borrow: the callback's captures may own other handlers.
            drop(removed);
        }
    }
}

impl core::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Handlers")
            .field("len", &self.list.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use alloc::rc::Rc;
    use core::cell::RefCell;

    use super::*;

    fn ev(t: &str) -> Event {
        Event::new(t, "d", "")
    }

    #[test]
    fn handlers_run_in_order_for_matching_events_until_removed() {
        let handlers = SharedHandlers::default();
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = Rc::clone(&log);
        let all = add(&handlers, Filter::All, move |e| {
            l.borrow_mut().push(format!("all {}", e.event_type))
        });
        let l = Rc::clone(&log);
        let ticks = add(&handlers, Filter::Type("tick".into()), move |e| {
            l.borrow_mut().push(format!("tick {}", e.event_type));
        });
        call(&handlers, &ev("tick"));
        call(&handlers, &ev("message"));
        drop(all);
        call(&handlers, &ev("tick"));
        ticks.remove();
        call(&handlers, &ev("tick"));
        assert_eq!(
            *log.borrow(),
            ["all tick", "tick tick", "all message", "tick tick"]
        );
    }

    #[test]
    fn a_handler_may_add_and_remove_handlers_while_running() {
        let handlers = SharedHandlers::default();
        let count = Rc::new(RefCell::new(0));
        let h = Rc::clone(&handlers);
        let c = Rc::clone(&count);
        let kept = Rc::new(RefCell::new(Vec::new()));
        let k = Rc::clone(&kept);
        add(&handlers, Filter::All, move |_| {
            let c = Rc::clone(&c);
            k.borrow_mut()
                .push(add(&h, Filter::All, move |_| *c.borrow_mut() += 1));
        })
        .forget_on_close();
        call(&handlers, &ev("a")); // adds one handler, which also runs for this event
        call(&handlers, &ev("b")); // adds another; two run
        assert_eq!(*count.borrow(), 3);
        kept.borrow_mut().clear();
        clear(&handlers);
        call(&handlers, &ev("c"));
        assert_eq!(*count.borrow(), 3);
    }

    #[test]
    fn lifecycle_handlers_run_in_order_apart_from_event_handlers() {
        let handlers = SharedHandlers::default();
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = Rc::clone(&log);
        let events = add(&handlers, Filter::All, move |e| {
            l.borrow_mut().push(format!("event {}", e.event_type))
        });
        let l = Rc::clone(&log);
        let first = add_lifecycle(&handlers, move |c| {
            l.borrow_mut().push(format!("first {}", c.name()))
        });
        let l = Rc::clone(&log);
        let second = add_lifecycle(&handlers, move |c| {
            l.borrow_mut().push(format!("second {}", c.name()))
        });
        let closed = Lifecycle::Closed {
            reason: crate::CloseReason::Requested,
        };
        call_lifecycle(&handlers, &closed);
        call(&handlers, &ev("tick"));
        // Each guard removes its own entry, whichever list it is in.
        drop(first);
        call_lifecycle(&handlers, &closed);
        drop(events);
        call(&handlers, &ev("tick"));
        clear(&handlers);
        call_lifecycle(&handlers, &closed);
        drop(second);
        assert_eq!(
            *log.borrow(),
            [
                "first closed",
                "second closed",
                "event tick",
                "second closed"
            ]
        );
    }
}
