//! Benchmark entry points (feature `bench`, used by `bench/client`): a Rust handler that
//! receives typed events through the client, timed inside the page.
// `#[wasm_bindgen]` expands to `unsafe` blocks; this module holds no hand-written unsafe code.
#![allow(unsafe_code)]
// Its `pub` items are exported to JavaScript by wasm-bindgen, not to Rust crates.
#![allow(unreachable_pub)]

use alloc::format;
use alloc::string::{String, ToString};
use core::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use wasm_sse::reconnect::ReconnectPolicy;
use wasm_sse::{Client, TransportKind};

/// The payload of the benchmark stream's `tick` events.
#[derive(Deserialize)]
struct Tick {
    n: u64,
    price: f64,
    symbol: String,
}

fn client(url: String, transport: &str) -> Result<Client, JsValue> {
    let kind = match transport {
        "auto" => None,
        other => Some(
            TransportKind::from_name(other)
                .ok_or_else(|| JsValue::from_str(&format!("unknown transport {other:?}")))?,
        ),
    };
    let builder = Client::builder(url);
    let builder = match kind {
        Some(kind) => builder.transport(kind),
        None => builder,
    };
    builder
        .max_event_size(usize::MAX)
        .reconnect(ReconnectPolicy::never())
        .connect_timeout(Duration::from_secs(30))
        .connect()
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Connects to `url` over `transport` (`"auto"`, `"eventsource"`, `"fetch"`, `"long-poll"`), decodes
/// `count` `tick` events into a Rust struct in a synchronous handler ([`Client::on_json`])
/// and returns the milliseconds it took, from creating the client to handling the last
/// event. Rejects when a payload fails to decode or the client closes early.
#[wasm_bindgen(js_name = benchRustHandler)]
pub async fn bench_rust_handler(
    url: String,
    transport: String,
    count: u32,
) -> Result<f64, JsValue> {
    let start = js_sys::Date::now();
    let client = client(url, &transport)?;
    let (done_tx, done_rx) = futures::channel::oneshot::channel::<Result<f64, String>>();
    let mut done_tx = Some(done_tx);
    let mut checksum = 0.0;
    let mut seen = 0;
    let _handler = client.on_json::<Tick>("tick", move |tick, event| {
        let outcome = match tick {
            Ok(tick) => {
                // A client that resumes tracks each event's ID: read it, like the JS contenders.
                checksum += tick.n as f64 + tick.price + event.last_event_id.len() as f64;
                seen += u32::from(!tick.symbol.is_empty());
                if seen < count {
                    return;
                }
                Ok(checksum)
            }
            Err(error) => Err(error.to_string()),
        };
        if let Some(tx) = done_tx.take() {
            let _ = tx.send(outcome);
        }
    });
    let outcome = done_rx
        .await
        .map_err(|_| JsValue::from_str("the client closed before the last event"))?;
    let elapsed = js_sys::Date::now() - start;
    client.close();
    outcome.map_err(|e| JsValue::from_str(&e))?;
    Ok(elapsed)
}

/// As [`bench_rust_handler`], but consuming a stream ([`Client::subscribe_json`]).
#[wasm_bindgen(js_name = benchRustStream)]
pub async fn bench_rust_stream(url: String, transport: String, count: u32) -> Result<f64, JsValue> {
    let start = js_sys::Date::now();
    let client = client(url, &transport)?;
    let mut ticks = client.subscribe_json::<Tick>("tick");
    let mut checksum = 0.0;
    let mut seen = 0;
    while seen < count {
        match ticks.next().await {
            Some(Ok(message)) => {
                checksum += message.data.n as f64 + message.data.price;
                seen += u32::from(!message.data.symbol.is_empty());
            }
            Some(Err(error)) => return Err(JsValue::from_str(&error.to_string())),
            None => {
                return Err(JsValue::from_str(&format!(
                    "stream ended after {seen} events"
                )))
            }
        }
    }
    let elapsed = js_sys::Date::now() - start;
    client.close();
    // Keep the checksum observable so the decode cannot be optimised away.
    if checksum < 0.0 {
        return Err(JsValue::from_str("negative checksum"));
    }
    Ok(elapsed)
}
