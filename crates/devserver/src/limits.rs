//! Connection limit for event streams and held long-polls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts open event responses against a maximum.
#[derive(Debug)]
pub(crate) struct Limits {
    active: AtomicUsize,
    max: usize,
}

/// Releases its slot when dropped (when the response body ends or is dropped).
#[derive(Debug)]
pub(crate) struct ConnGuard(Arc<Limits>);

impl Limits {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Limits {
            active: AtomicUsize::new(0),
            max,
        })
    }

    /// Takes a slot, or `None` when `max` are in use.
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<ConnGuard> {
        self.active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ConnGuard(self.clone()))
    }

    /// Slots in use.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}
