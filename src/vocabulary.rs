//! The names the JavaScript API gives failures, stop reasons, errors, transports and lifecycle
//! changes, defined once: the npm package's bindings send these strings to `npm/client.js`,
//! and a test of the npm crate (`crates/npm/tests/vocabulary.rs`) checks that
//! `npm/client.js` and `npm/index.d.ts` use exactly these lists.

use crate::reconnect::{Failure, StopReason};
use crate::{CloseReason, Error, Lifecycle, ShareRole, TransportKind};

impl CloseReason {
    /// The name of [`CloseReason::Ended`] in the JS API (the `reason` of the `statechange` to
    /// `CLOSED`).
    pub const ENDED: &'static str = "ended";
}

impl Failure {
    /// Every [`Failure::kind`], in declaration order.
    pub const KINDS: &'static [&'static str] = &[
        "network",
        "stream-ended",
        "idle-timeout",
        "connect-timeout",
        "http-status",
        "content-type",
    ];

    /// A short, stable name for the failure, used as the `type` of the JS `SseError`.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Network => "network",
            Failure::StreamEnded => "stream-ended",
            Failure::IdleTimeout => "idle-timeout",
            Failure::ConnectTimeout => "connect-timeout",
            Failure::Status { .. } => "http-status",
            Failure::ContentType(_) => "content-type",
        }
    }
}

impl StopReason {
    /// Every [`StopReason::kind`] of its own; a [`StopReason::Fatal`] takes its failure's
    /// (one of [`Failure::KINDS`]).
    pub const KINDS: &'static [&'static str] =
        &["no-content", "attempts-exhausted", "elapsed-exhausted"];

    /// A short, stable name for why reconnection stopped, used as the `type` of the JS
    /// `SseError`: the fatal failure's kind for [`StopReason::Fatal`].
    pub fn kind(&self) -> &'static str {
        match self {
            StopReason::NoContent => "no-content",
            StopReason::Fatal(failure) => failure.kind(),
            StopReason::AttemptsExhausted { .. } => "attempts-exhausted",
            StopReason::ElapsedExhausted { .. } => "elapsed-exhausted",
        }
    }
}

impl Error {
    /// Every [`Error::kind`], in declaration order.
    pub const KINDS: &'static [&'static str] = &[
        "invalid-url",
        "unsupported",
        "invalid-option",
        "header-provider",
        "js",
    ];
}

impl TransportKind {
    /// Every transport, in the order the client falls back through them.
    pub const ALL: &'static [TransportKind] = &[
        TransportKind::EventSource,
        TransportKind::Fetch,
        TransportKind::LongPoll,
    ];

    /// The transport named `name` (as [`TransportKind::as_str`] writes it), if any.
    pub fn from_name(name: &str) -> Option<TransportKind> {
        // A match rather than a search of `ALL`: less code in wasm. A test checks that the
        // two agree.
        match name {
            "eventsource" => Some(TransportKind::EventSource),
            "fetch" => Some(TransportKind::Fetch),
            "long-poll" => Some(TransportKind::LongPoll),
            _ => None,
        }
    }
}

impl ShareRole {
    /// Every [`ShareRole::as_str`], in declaration order.
    pub const NAMES: &'static [&'static str] = &["leader", "follower"];

    /// The role's name in the JS API (`client.shared`): `"leader"` or `"follower"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareRole::Leader => "leader",
            ShareRole::Follower => "follower",
        }
    }
}

impl Lifecycle {
    /// Every [`Lifecycle::name`], in declaration order.
    pub const NAMES: &'static [&'static str] = &[
        "connecting",
        "open",
        "failure",
        "downgraded",
        "too-large",
        "shared",
        "closed",
    ];

    /// The name the npm package's bindings give the change: `"connecting"`, `"open"`,
    /// `"failure"` (a lost connection: [`Lifecycle::Reconnecting`]), `"downgraded"`,
    /// `"too-large"` ([`Lifecycle::EventTooLarge`]), `"shared"` ([`Lifecycle::Shared`]) or
    /// `"closed"`.
    pub fn name(&self) -> &'static str {
        match self {
            Lifecycle::Connecting { .. } => "connecting",
            Lifecycle::Open { .. } => "open",
            Lifecycle::Reconnecting { .. } => "failure",
            Lifecycle::Downgraded { .. } => "downgraded",
            Lifecycle::EventTooLarge { .. } => "too-large",
            Lifecycle::Shared { .. } => "shared",
            Lifecycle::Closed { .. } => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;
    use crate::CloseReason;

    /// One value of every variant, so each list is compared with what the methods return.
    fn failures() -> Vec<Failure> {
        vec![
            Failure::Network,
            Failure::StreamEnded,
            Failure::IdleTimeout,
            Failure::ConnectTimeout,
            Failure::Status {
                status: 500,
                retry_after: None,
            },
            Failure::ContentType(String::new()),
        ]
    }

    #[test]
    fn failure_kinds_are_the_kinds_of_every_variant() {
        let kinds: Vec<_> = failures().iter().map(Failure::kind).collect();
        assert_eq!(kinds, Failure::KINDS);
    }

    #[test]
    fn stop_reason_kinds_are_its_own_and_a_fatal_failures() {
        let last = Failure::Network;
        let own = [
            StopReason::NoContent,
            StopReason::AttemptsExhausted {
                attempts: 3,
                last: last.clone(),
            },
            StopReason::ElapsedExhausted {
                elapsed: Duration::from_secs(1),
                last,
            },
        ];
        let kinds: Vec<_> = own.iter().map(StopReason::kind).collect();
        assert_eq!(kinds, StopReason::KINDS);
        for failure in failures() {
            let kind = failure.kind();
            assert_eq!(StopReason::Fatal(failure).kind(), kind);
        }
    }

    #[test]
    fn error_kinds_are_the_kinds_of_every_variant() {
        let errors = [
            Error::InvalidUrl {
                url: String::new(),
                reason: String::new(),
            },
            Error::Unsupported(String::new()),
            Error::InvalidOption {
                option: "transport",
                reason: String::new(),
            },
            Error::HeaderProvider(String::new()),
            Error::Js(String::new()),
        ];
        let kinds: Vec<_> = errors.iter().map(Error::kind).collect();
        assert_eq!(kinds, Error::KINDS);
    }

    #[test]
    fn transports_round_trip_through_their_names() {
        for &kind in TransportKind::ALL {
            assert_eq!(TransportKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(TransportKind::from_name("auto"), None);
        assert_eq!(TransportKind::from_name("Fetch"), None);
    }

    #[test]
    fn share_role_names_are_the_names_of_every_variant() {
        let names: Vec<_> = [ShareRole::Leader, ShareRole::Follower]
            .into_iter()
            .map(ShareRole::as_str)
            .collect();
        assert_eq!(names, ShareRole::NAMES);
    }

    #[test]
    fn lifecycle_names_are_the_names_of_every_variant() {
        let transport = TransportKind::Fetch;
        let changes = [
            Lifecycle::Connecting {
                attempt: 0,
                delay: Duration::ZERO,
                transport,
            },
            Lifecycle::Open { transport },
            Lifecycle::Reconnecting {
                reason: Failure::Network,
            },
            Lifecycle::Downgraded {
                from: transport,
                to: TransportKind::LongPoll,
                reason: String::new(),
            },
            Lifecycle::EventTooLarge { limit: 1 },
            Lifecycle::Shared {
                role: Some(ShareRole::Leader),
                previous: None,
            },
            Lifecycle::Closed {
                reason: CloseReason::Requested,
            },
        ];
        let names: Vec<_> = changes.iter().map(Lifecycle::name).collect();
        assert_eq!(names, Lifecycle::NAMES);
    }
}
