//! The unbounded channels between the transports, the page, the handle and the driver.
//!
//! With the `std` feature (the default) these are `futures`' `mpsc` channels, which are
//! `Send`, so the streams a [`Client`](crate::Client) hands out are too. Without it
//! (the npm package's `no_std` build, where `futures-channel`'s `mpsc` does not exist) they
//! are [`local`]: one `Rc<RefCell<Vec>>` and a waker, which is all a single-threaded wasm
//! instance needs, in much less code.

#[cfg(feature = "std")]
pub(crate) use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
#[cfg(not(feature = "std"))]
pub(crate) use local::{unbounded, UnboundedReceiver, UnboundedSender};

/// Single-threaded unbounded channels with the subset of `futures::channel::mpsc`'s API this
/// crate uses.
#[cfg_attr(feature = "std", allow(dead_code))]
pub(crate) mod local {
    use alloc::rc::Rc;
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::fmt;
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};

    use futures::stream::{FusedStream, Stream};

    struct Inner<T> {
        /// Sent and not yet taken by the receiver, oldest first.
        queue: Vec<T>,
        /// The receiver's waker, while it waits.
        waker: Option<Waker>,
        senders: usize,
        /// The receiver was dropped: sends fail.
        closed: bool,
    }

    /// Creates an unbounded channel.
    pub(crate) fn unbounded<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
        let inner = Rc::new(RefCell::new(Inner {
            queue: Vec::new(),
            waker: None,
            senders: 1,
            closed: false,
        }));
        (
            UnboundedSender(Rc::clone(&inner)),
            UnboundedReceiver {
                inner,
                taken: Vec::new(),
                done: false,
            },
        )
    }

    /// The sending half; the channel ends when every sender is dropped.
    pub(crate) struct UnboundedSender<T>(Rc<RefCell<Inner<T>>>);

    impl<T> UnboundedSender<T> {
        /// Queues `item`; gives it back when the receiver is gone.
        pub(crate) fn unbounded_send(&self, item: T) -> Result<(), T> {
            let mut inner = self.0.borrow_mut();
            if inner.closed {
                return Err(item);
            }
            inner.queue.push(item);
            let waker = inner.waker.take();
            drop(inner);
            if let Some(waker) = waker {
                waker.wake();
            }
            Ok(())
        }

        /// Whether the receiver is gone.
        pub(crate) fn is_closed(&self) -> bool {
            self.0.borrow().closed
        }
    }

    impl<T> Clone for UnboundedSender<T> {
        fn clone(&self) -> Self {
            self.0.borrow_mut().senders += 1;
            Self(Rc::clone(&self.0))
        }
    }

    impl<T> Drop for UnboundedSender<T> {
        fn drop(&mut self) {
            let mut inner = self.0.borrow_mut();
            inner.senders -= 1;
            let waker = if inner.senders == 0 {
                inner.waker.take()
            } else {
                None
            };
            drop(inner);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl<T> fmt::Debug for UnboundedSender<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("UnboundedSender")
        }
    }

    /// The receiving half: a stream that ends once every sender is dropped and the queue
    /// is empty.
    pub(crate) struct UnboundedReceiver<T> {
        inner: Rc<RefCell<Inner<T>>>,
        /// Items taken from the queue in one go, newest first, so the next is popped off the
        /// end: a queue of two `Vec`s (less code than a `VecDeque`), each item moved twice.
        taken: Vec<T>,
        /// The stream returned `None`.
        done: bool,
    }

    /// Nothing is waiting ([`UnboundedReceiver::try_recv`]).
    #[derive(Debug)]
    pub(crate) struct Empty;

    impl<T> UnboundedReceiver<T> {
        /// The next item queued, without waiting.
        pub(crate) fn try_recv(&mut self) -> Result<T, Empty> {
            next(&mut self.taken, &mut self.inner.borrow_mut()).ok_or(Empty)
        }
    }

    /// The oldest item not yet received: the next of `taken`, or of the queue taken whole.
    fn next<T>(taken: &mut Vec<T>, inner: &mut Inner<T>) -> Option<T> {
        if taken.is_empty() {
            core::mem::swap(taken, &mut inner.queue);
            taken.reverse();
        }
        taken.pop()
    }

    // The items are never pinned: they move in and out of the `Vec`s.
    impl<T> Unpin for UnboundedReceiver<T> {}

    impl<T> Stream for UnboundedReceiver<T> {
        type Item = T;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            let this = self.get_mut();
            let mut inner = this.inner.borrow_mut();
            if let Some(item) = next(&mut this.taken, &mut inner) {
                return Poll::Ready(Some(item));
            }
            if inner.senders == 0 {
                this.done = true;
                return Poll::Ready(None);
            }
            inner.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    impl<T> FusedStream for UnboundedReceiver<T> {
        fn is_terminated(&self) -> bool {
            self.done
        }
    }

    impl<T> Drop for UnboundedReceiver<T> {
        fn drop(&mut self) {
            let mut inner = self.inner.borrow_mut();
            inner.closed = true;
            // Queued items go now, not with the last sender.
            let queue = core::mem::take(&mut inner.queue);
            inner.waker = None;
            drop(inner);
            drop(queue);
        }
    }

    impl<T> fmt::Debug for UnboundedReceiver<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("UnboundedReceiver")
        }
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]

        use futures::executor::block_on;
        use futures::StreamExt;

        use super::*;

        #[test]
        fn items_sent_while_earlier_ones_wait_to_be_received_come_after_them() {
            let (tx, mut rx) = unbounded();
            for n in 1..=3 {
                tx.unbounded_send(n).unwrap();
            }
            assert_eq!(rx.try_recv().unwrap(), 1);
            // 2 and 3 were taken from the queue together; 4 and 5 queue behind them.
            tx.unbounded_send(4).unwrap();
            assert_eq!(rx.try_recv().unwrap(), 2);
            tx.unbounded_send(5).unwrap();
            let received: Vec<i32> = core::iter::from_fn(|| rx.try_recv().ok()).collect();
            assert_eq!(received, [3, 4, 5]);
        }

        #[test]
        fn items_arrive_in_order_and_the_stream_ends_with_the_last_sender() {
            let (tx, mut rx) = unbounded();
            let tx2 = tx.clone();
            tx.unbounded_send(1).unwrap();
            tx2.unbounded_send(2).unwrap();
            drop(tx);
            assert_eq!(rx.try_recv().unwrap(), 1);
            assert!(!rx.is_terminated());
            assert_eq!(block_on(rx.next()), Some(2));
            assert!(rx.try_recv().is_err());
            drop(tx2);
            assert_eq!(block_on(rx.next()), None);
            assert!(rx.is_terminated());
        }

        /// Counts its wakes.
        struct Wakes(std::sync::atomic::AtomicUsize);

        impl futures::task::ArcWake for Wakes {
            fn wake_by_ref(this: &std::sync::Arc<Self>) {
                this.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }

        #[test]
        fn a_waiting_receiver_is_woken_by_a_send_and_by_the_last_drop() {
            let (tx, mut rx) = unbounded::<u8>();
            let wakes = std::sync::Arc::new(Wakes(0.into()));
            let waker = futures::task::waker(std::sync::Arc::clone(&wakes));
            let count = || wakes.0.load(std::sync::atomic::Ordering::SeqCst);
            let mut cx = Context::from_waker(&waker);
            assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
            let tx2 = tx.clone();
            tx.unbounded_send(7).unwrap();
            assert_eq!(count(), 1);
            assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(7)));
            assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
            drop(tx);
            assert_eq!(count(), 1, "another sender is left");
            drop(tx2);
            assert_eq!(count(), 2);
            assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));
        }

        #[test]
        fn sends_fail_once_the_receiver_is_dropped_and_queued_items_are_dropped_with_it() {
            let (tx, rx) = unbounded();
            let item = Rc::new(());
            tx.unbounded_send(Rc::clone(&item)).unwrap();
            assert!(!tx.is_closed());
            drop(rx);
            assert!(tx.is_closed());
            assert_eq!(Rc::strong_count(&item), 1);
            assert!(tx.unbounded_send(item).is_err());
        }
    }
}
