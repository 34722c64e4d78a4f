//! The events a [`Client`](crate::Client) delivers.

use alloc::string::String;

/// One dispatched server-sent event, as `EventSource` would hand it to a listener
/// (see [MDN: `MessageEvent`](https://developer.mozilla.org/en-US/docs/Web/API/MessageEvent)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type: the stream's `event:` field, or `"message"` when it had none.
    pub event_type: String,
    /// The event's data: its `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID at dispatch: the latest `id:` field seen on the stream so far,
    /// or `""` when there was none.
    pub last_event_id: String,
}

impl Event {
    /// Builds an event from its parts.
    pub fn new(
        event_type: impl Into<String>,
        data: impl Into<String>,
        last_event_id: impl Into<String>,
    ) -> Self {
        Self {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: last_event_id.into(),
        }
    }
}
