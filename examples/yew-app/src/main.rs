//! A live dashboard of the dev server's `demo` topic with Yew and `wasm-sse-yew`:
//! connection state, transport, the tick count, the last payload and the last ten events.
//!
//! Build and serve: `bash scripts/example.sh yew` (prints the URL).

#[cfg(target_arch = "wasm32")]
#[allow(unreachable_pub)] // what `#[component]` expands to
mod app {
    use serde::Deserialize;
    use wasm_sse_yew::{use_sse_json, UseSseOptions};
    use yew::prelude::*;

    /// The `data` of the demo topic's `tick` events.
    #[derive(Debug, Clone, PartialEq, Deserialize)]
    pub(crate) struct Tick {
        count: u64,
        time: u64,
        payload: serde_json::Value,
    }

    #[component]
    pub(crate) fn App() -> Html {
        let sse = use_sse_json::<Tick>(
            "/events?topic=demo",
            "tick",
            UseSseOptions::new().queue_limit(10),
        );
        let latest = sse.latest.as_ref().map(|m| &m.data);
        html! {
            <>
                <h1>{ "wasm-sse + Yew" }</h1>
                <section class="status">
                    <span>{ "state " }<strong id="state">{ format!("{:?}", sse.ready_state) }</strong></span>
                    <span>{ "transport " }<strong id="transport">{ sse.transport.map_or("–".to_owned(), |t| format!("{t:?}")) }</strong></span>
                    <span>{ "count " }<strong id="count">{ latest.map_or(0, |t| t.count) }</strong></span>
                    <span>{ "received " }<strong id="received">{ sse.received }</strong></span>
                </section>
                <p>{ "last payload " }<code id="payload">{ latest.map_or_else(|| "–".to_owned(), |t| t.payload.to_string()) }</code></p>
                <p class="error">{ sse.error.as_ref().map(ToString::to_string) }</p>
                <ol id="events" reversed=true>
                    { for sse.messages.iter().rev().map(|m| html! {
                        <li>{ format!("#{} tick {} at {}", m.last_event_id, m.data.count, m.data.time) }</li>
                    }) }
                </ol>
            </>
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("a browser app: build and serve it with `bash scripts/example.sh yew`");
}
