//! What the engine tells the world about the connection: its ready state, its lifecycle
//! changes and why it closed.

use alloc::string::String;

use core::time::Duration;

use super::reconnect::{Failure, StopReason};
use super::TransportKind;
use crate::Error;

/// The connection's state, as
/// [`EventSource.readyState`](https://developer.mozilla.org/en-US/docs/Web/API/EventSource/readyState)
/// names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// Connecting, or waiting to reconnect.
    Connecting,
    /// Open: events flow.
    Open,
    /// Closed for good.
    Closed,
}

/// A change in the connection's life, for [`Client::on_lifecycle`](crate::Client::on_lifecycle)
/// handlers and the `Client::lifecycle` stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Lifecycle {
    /// A connection attempt starts after `delay` (attempt `0` is the first connection;
    /// reconnections count from 1 within each outage).
    Connecting {
        /// The attempt number.
        attempt: u32,
        /// How long the client waits before opening the connection.
        delay: Duration,
        /// The transport the attempt will use.
        transport: TransportKind,
    },
    /// The connection is open.
    Open {
        /// The transport in use.
        transport: TransportKind,
    },
    /// The connection was lost; a `Connecting` (or `Closed`) follows.
    Reconnecting {
        /// Why the connection ended.
        reason: Failure,
    },
    /// A streaming transport chosen automatically showed the mark of a proxy that buffers
    /// whole responses (see [`ClientBuilder::stall_downgrade`](crate::ClientBuilder::stall_downgrade)):
    /// the client switched transports for good. A `Connecting` over the new transport follows.
    Downgraded {
        /// The transport given up.
        from: TransportKind,
        /// The transport used from now on.
        to: TransportKind,
        /// Why, for logs.
        reason: String,
    },
    /// An event larger than the configured maximum was dropped; the stream goes on.
    EventTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
    /// This client's part in the sharing of its stream across tabs changed (see
    /// [`ClientBuilder::share`](crate::ClientBuilder::share)): `None` when it takes no part
    /// (stepped down while its page is hidden away, or closed).
    Shared {
        /// The new role.
        role: Option<ShareRole>,
        /// The role before.
        previous: Option<ShareRole>,
    },
    /// The client closed for good; every stream ends after this.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Why a client closed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`Client::close`](crate::Client::close) was called or the client was dropped.
    Requested,
    /// The reconnection policy stopped: HTTP 204, a fatal error, or its limits.
    Stopped(StopReason),
    /// The connection could not be created at all (for example the browser refused the URL).
    Error(Error),
    /// The server ended the stream and the client was built to end with it
    /// ([`ClientBuilder::close_on_end`](crate::ClientBuilder::close_on_end)).
    Ended,
}

/// A client's part in the sharing of one stream between the tabs of an origin
/// ([`ClientBuilder::share`](crate::ClientBuilder::share)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareRole {
    /// This client holds the network connection and passes its events on to the others.
    Leader,
    /// This client receives the leader's events; it connects itself when it leads.
    Follower,
}
