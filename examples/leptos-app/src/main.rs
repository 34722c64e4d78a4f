//! A live dashboard of the dev server's `demo` topic with Leptos and `wasm-sse-leptos`:
//! connection state, transport, the tick count, the last payload and the last ten events.
//!
//! Build and serve: `bash scripts/example.sh leptos` (prints the URL).

#[cfg(target_arch = "wasm32")]
#[allow(unreachable_pub)] // what `#[component]` expands to
mod app {
    use leptos::prelude::*;
    use serde::Deserialize;
    use wasm_sse_leptos::{use_sse_json, UseSseOptions};

    /// The `data` of the demo topic's `tick` events.
    #[derive(Debug, Clone, PartialEq, Deserialize)]
    pub(crate) struct Tick {
        count: u64,
        time: u64,
        payload: serde_json::Value,
    }

    #[component]
    pub(crate) fn App() -> impl IntoView {
        let sse = use_sse_json::<Tick>(
            "/events?topic=demo",
            "tick",
            UseSseOptions::new().queue_limit(10),
        );
        let count = move || sse.latest.get().map_or(0, |m| m.data.count);
        let payload = move || {
            sse.latest
                .get()
                .map_or_else(|| "–".to_owned(), |m| m.data.payload.to_string())
        };
        view! {
            <h1>"wasm-sse + Leptos"</h1>
            <section class="status">
                <span>"state " <strong id="state">{move || format!("{:?}", sse.ready_state.get())}</strong></span>
                <span>"transport " <strong id="transport">{move || sse.transport.get().map_or("–".to_owned(), |t| format!("{t:?}"))}</strong></span>
                <span>"count " <strong id="count">{count}</strong></span>
                <span>"received " <strong id="received">{move || sse.received.get()}</strong></span>
            </section>
            <p>"last payload " <code id="payload">{payload}</code></p>
            <p class="error">{move || sse.error.get().map(|e| e.to_string())}</p>
            <ol id="events" reversed>
                {move || {
                    sse.messages
                        .get()
                        .iter()
                        .rev()
                        .map(|m| view! { <li>{format!("#{} tick {} at {}", m.last_event_id, m.data.count, m.data.time)}</li> })
                        .collect_view()
                }}
            </ol>
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("a browser app: build and serve it with `bash scripts/example.sh leptos`");
}
