//! Typed dispatch: event data decoded as JSON into the user's types. Pure logic, tested
//! natively; [`Client::subscribe_json`](crate::Client::subscribe_json) and
//! [`Client::typed`](crate::Client::typed) put it on the client's streams.
//!
//! Decoding uses `serde_json` inside wasm rather than `serde-wasm-bindgen` over
//! `JSON.parse`: the event data already lives in wasm memory as UTF-8, so `serde_json`
//! decodes it in one pass with no boundary crossing, while the `JSON.parse` route copies the
//! string out to JS, builds a JS object graph and then walks it back with one JS call per
//! field. `serde_json` is only linked into builds that use typed decoding (the npm package
//! decodes in JS with `JSON.parse`, so it does not pay for it).

use core::cell::RefCell;
use core::fmt;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use futures::Stream;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::{Event, EventStream};

/// An event whose data was decoded into `T`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<T> {
    /// The event type.
    pub event_type: String,
    /// The decoded data.
    pub data: T,
    /// The last event ID at dispatch (`""` when none).
    pub last_event_id: String,
}

impl<T> Message<T> {
    /// The message of `event` whose data decoded into `data` (copies the type and ID): for
    /// keeping what an [`on_json`](crate::Client::on_json) handler receives.
    pub fn from_event(event: &Event, data: T) -> Self {
        Self {
            event_type: event.event_type.clone(),
            data,
            last_event_id: event.last_event_id.clone(),
        }
    }
}

/// Why an event could not be decoded. The event is carried whole, so nothing is lost, and
/// the stream goes on after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode {kind} event {event_type:?}: {message}")]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// The event type.
    pub event_type: String,
    /// The raw data, as received.
    pub data: String,
    /// The last event ID at dispatch.
    pub last_event_id: String,
    /// The decoder's message.
    pub message: String,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The data is not valid JSON.
    InvalidJson,
    /// The data is JSON, but not of the expected shape.
    WrongShape,
    /// An event type the user's event enum has no variant for.
    UnknownEvent,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeErrorKind::InvalidJson => "invalid-json",
            DecodeErrorKind::WrongShape => "wrong-shape",
            DecodeErrorKind::UnknownEvent => "unknown-event",
        })
    }
}

impl DecodeError {
    fn new(kind: DecodeErrorKind, event: Event, message: String) -> Self {
        Self {
            kind,
            event_type: event.event_type,
            data: event.data,
            last_event_id: event.last_event_id,
            message,
        }
    }
}

/// Decodes one event's data as JSON into `T`, copying nothing from the event unless it
/// fails (then the error carries the whole event).
pub(crate) fn decode_data<T: DeserializeOwned>(event: &Event) -> Result<T, DecodeError> {
    serde_json::from_str(&event.data).map_err(|error| {
        let kind = if error.is_data() {
            DecodeErrorKind::WrongShape
        } else {
            DecodeErrorKind::InvalidJson
        };
        DecodeError::new(kind, event.clone(), error.to_string())
    })
}

/// Decodes one event's data as JSON into a [`Message`], which owns copies of the event's
/// type and ID (what streams hand out).
pub(crate) fn decode_json<T: DeserializeOwned>(event: &Event) -> Result<Message<T>, DecodeError> {
    decode_data(event).map(|data| Message::from_event(event, data))
}

/// Decodes one event into the user's event enum `E`, declared with
/// `#[serde(tag = "event", content = "data")]`: the event type picks the variant and the
/// data, parsed as JSON (or taken as a plain string where it is not JSON), its payload.
pub(crate) fn decode_enum<E: DeserializeOwned>(
    event: Event,
    variants: &[&str],
) -> Result<E, DecodeError> {
    if !variants.is_empty() && !variants.contains(&event.event_type.as_str()) {
        let message = format!("no variant for it (known: {})", variants.join(", "));
        return Err(DecodeError::new(
            DecodeErrorKind::UnknownEvent,
            event,
            message,
        ));
    }
    let (payload, json_error) = match serde_json::from_str::<Value>(&event.data) {
        Ok(value) => (value, None),
        // Plain-text data still fits a `String` payload.
        Err(error) => (Value::String(event.data.clone()), Some(error)),
    };
    let mut object = serde_json::Map::with_capacity(2);
    object.insert("event".into(), Value::String(event.event_type.clone()));
    object.insert("data".into(), payload);
    E::deserialize(Value::Object(object)).map_err(|error| {
        let (kind, message) = match json_error {
            Some(json) => (DecodeErrorKind::InvalidJson, json.to_string()),
            None => (DecodeErrorKind::WrongShape, error.to_string()),
        };
        DecodeError::new(kind, event, message)
    })
}

/// The variant names of the user's event enum, read from its `Deserialize` impl: those are
/// the event types to listen for (the browser's `EventSource` delivers named events only to
/// listeners of that name). Empty when `E` is not an enum serde describes.
pub(crate) fn variant_names<E: DeserializeOwned>() -> &'static [&'static str] {
    let probe = VariantProbe::default();
    let _ = E::deserialize(&probe);
    probe.found.take().unwrap_or_default()
}

/// A deserializer that answers every request with an error, except that it records the
/// variant list serde passes to `deserialize_enum` — for an adjacently tagged enum it
/// first presents a map whose `event` key leads there.
#[derive(Default)]
struct VariantProbe {
    found: RefCell<Option<&'static [&'static str]>>,
}

#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant probe")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for &VariantProbe {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Stop> {
        *self.found.borrow_mut() = Some(variants);
        Err(Stop)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        // Adjacently tagged enums are read as a struct `{ tag, content }`.
        match fields.first() {
            Some(tag) => visitor.visit_map(TagMap {
                probe: self,
                tag: Some(tag),
            }),
            None => Err(Stop),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct identifier ignored_any
    }
}

struct TagMap<'a> {
    probe: &'a VariantProbe,
    tag: Option<&'static str>,
}

impl<'de> MapAccess<'de> for TagMap<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.tag.take() {
            Some(tag) => seed.deserialize(tag.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        seed.deserialize(self.probe)
    }
}

/// A stream of JSON-decoded events of one type, from
/// [`Client::subscribe_json`](crate::Client::subscribe_json).
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct JsonStream<T> {
    events: EventStream,
    _type: PhantomData<fn() -> T>,
}

impl<T> JsonStream<T> {
    pub(crate) fn new(events: EventStream) -> Self {
        Self {
            events,
            _type: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> Stream for JsonStream<T> {
    type Item = Result<Message<T>, DecodeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.events)
            .poll_next(cx)
            .map(|event| event.map(|event| decode_json(&event)))
    }
}

/// A stream of the user's event enum, from [`Client::typed`](crate::Client::typed).
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct TypedStream<E> {
    events: EventStream,
    variants: &'static [&'static str],
    _type: PhantomData<fn() -> E>,
}

impl<E> TypedStream<E> {
    pub(crate) fn new(events: EventStream, variants: &'static [&'static str]) -> Self {
        Self {
            events,
            variants,
            _type: PhantomData,
        }
    }
}

impl<E: DeserializeOwned> Stream for TypedStream<E> {
    type Item = Result<E, DecodeError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let variants = self.variants;
        Pin::new(&mut self.events)
            .poll_next(cx)
            .map(|event| event.map(|event| decode_enum(event, variants)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Tick {
        n: u32,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(tag = "event", content = "data", rename_all = "lowercase")]
    enum Feed {
        Tick(Tick),
        Note(String),
        Price { symbol: String, cents: i64 },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum External {
        Tick(Tick),
    }

    fn ev(t: &str, d: &str) -> Event {
        Event::new(t, d, "7")
    }

    #[test]
    fn json_decodes_and_keeps_the_event_fields() {
        let m = decode_json::<Tick>(&ev("tick", r#"{"n":3}"#)).unwrap();
        assert_eq!(
            m,
            Message {
                event_type: "tick".into(),
                data: Tick { n: 3 },
                last_event_id: "7".into()
            }
        );
    }

    #[test]
    fn json_errors_carry_the_raw_event() {
        let cases = [
            // not JSON at all
            (r#"{"n":"#, DecodeErrorKind::InvalidJson),
            // JSON of the wrong shape
            (r#"{"n":"three"}"#, DecodeErrorKind::WrongShape),
        ];
        for (data, kind) in cases {
            let e = decode_json::<Tick>(&ev("tick", data)).unwrap_err();
            assert_eq!(
                (e.kind, e.event_type.as_str(), e.data.as_str()),
                (kind, "tick", data)
            );
            assert_eq!(e.last_event_id, "7");
        }
    }

    #[test]
    fn variant_names_are_read_from_the_enum() {
        assert_eq!(variant_names::<Feed>(), ["tick", "note", "price"]);
        assert_eq!(variant_names::<External>(), ["tick"]);
        // not an enum: nothing to register
        assert!(variant_names::<Tick>().is_empty());
    }

    #[test]
    fn enum_dispatch_by_event_type() {
        let v = variant_names::<Feed>();
        let cases = [
            (ev("tick", r#"{"n":1}"#), Feed::Tick(Tick { n: 1 })),
            // plain-text data fits a String payload
            (ev("note", "hello there"), Feed::Note("hello there".into())),
            // a JSON string too
            (ev("note", r#""quoted""#), Feed::Note("quoted".into())),
            (
                ev("price", r#"{"symbol":"X","cents":-5}"#),
                Feed::Price {
                    symbol: "X".into(),
                    cents: -5,
                },
            ),
        ];
        for (event, want) in cases {
            assert_eq!(decode_enum::<Feed>(event, v).unwrap(), want);
        }
    }

    #[test]
    fn enum_dispatch_reports_unknown_and_invalid() {
        let v = variant_names::<Feed>();
        let unknown = decode_enum::<Feed>(ev("volume", "1"), v).unwrap_err();
        assert_eq!(unknown.kind, DecodeErrorKind::UnknownEvent);
        assert_eq!(unknown.data, "1");
        let invalid = decode_enum::<Feed>(ev("tick", "{"), v).unwrap_err();
        assert_eq!(invalid.kind, DecodeErrorKind::InvalidJson);
        let shape = decode_enum::<Feed>(ev("tick", r#"{"n":-1}"#), v).unwrap_err();
        assert_eq!(shape.kind, DecodeErrorKind::WrongShape);
        // without a variant list, serde itself reports the unknown variant
        let e = decode_enum::<Feed>(ev("volume", "1"), &[]).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::WrongShape);
    }
}
