//! The codec compiled to wasm32 for the Node benchmark (`node-bench.mjs`): a counter that
//! parses chunks into owned events and counts them. Empty on other targets.

#[cfg(target_arch = "wasm32")]
mod wasm {
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_sse_codec::{Item, Parser};

    /// Parses a stream chunk by chunk, counting dispatched events.
    #[wasm_bindgen]
    pub struct Counter {
        parser: Parser,
        events: u32,
        data_bytes: f64,
    }

    #[wasm_bindgen]
    impl Counter {
        /// A counter with no event size limit.
        #[wasm_bindgen(constructor)]
        pub fn new() -> Counter {
            Counter {
                parser: Parser::with_max_event_size(usize::MAX),
                events: 0,
                data_bytes: 0.0,
            }
        }

        /// Parses one chunk (copied into wasm memory by the bindings); returns the number of
        /// events dispatched so far.
        pub fn feed(&mut self, chunk: &[u8]) -> u32 {
            let (events, data_bytes) = (&mut self.events, &mut self.data_bytes);
            let _ = self.parser.feed(chunk, |item| {
                if let Item::Event(event) = item {
                    *events += 1;
                    *data_bytes += event.data().len() as f64;
                }
            });
            *events
        }

        /// Total data bytes of the dispatched events.
        pub fn data_bytes(&self) -> f64 {
            self.data_bytes
        }
    }

    impl Default for Counter {
        fn default() -> Self {
            Self::new()
        }
    }
}
