// The per-event cost of the EventSource path alone, without the network: the same
// `MessageEvent`s dispatched in a loop, by `dispatchEvent`, to a JS listener and to the
// listeners wasm-sse's EventSource transport registers. The network-bound benchmark (bench.js)
// cannot separate what the client costs from what the browser's EventSource costs; this one
// times the listeners only, so it shows where a gap between the two comes from.
//
// Every contender decodes each payload as bench.js does; the second reads `lastEventId` too,
// as any client that resumes must (wasm-sse reads it for every event: it is the resume point,
// the dedupe key and the handler's `event.last_event_id`).
const small = await import('/pkg/wasm_sse.js');
const fast = await import('/pkg/speed/wasm_sse.js');

import { count, runRounds } from './rounds.js';

// The EventSource objects wasm-sse creates, so the loop can dispatch to their listeners. The
// client looks the constructor up when it connects, so the subclass is the one it gets.
const created = [];
const NativeEventSource = globalThis.EventSource;
globalThis.EventSource = class extends NativeEventSource {
  constructor(...args) {
    super(...args);
    created.push(this);
  }
};

// One MessageEvent per event, built once: every contender dispatches the same objects.
const events = [];
for (let n = 1; n <= count; n += 1) {
  const data = `{"n":${n},"price":${(n * 7) % 1000}.25,"symbol":"ABC"}`;
  events.push(new MessageEvent('tick', { data, lastEventId: String(n) }));
}

function jsListener(readId) {
  const target = new EventTarget();
  let seen = 0;
  let checksum = 0;
  target.addEventListener('tick', (event) => {
    const tick = JSON.parse(event.data);
    checksum += tick.n + tick.price + (readId ? event.lastEventId.length : 0);
    seen += tick.symbol ? 1 : 0;
  });
  const start = performance.now();
  for (const event of events) target.dispatchEvent(event);
  const elapsed = performance.now() - start;
  if (seen !== count) throw new Error(`the JS listener saw ${seen} of ${count} events (checksum ${checksum})`);
  return elapsed;
}

// wasm-sse's benchmark entry point with a Rust handler, connected over `EventSource` to a
// topic nothing is published to; the loop then dispatches the events to that EventSource.
async function wasmListener(build) {
  created.length = 0;
  const done = build.benchRustHandler(`/events?topic=dispatch-bench-${Math.random()}`, 'eventsource', count);
  const deadline = performance.now() + 10_000;
  while (created[0]?.readyState !== NativeEventSource.OPEN) {
    if (performance.now() > deadline) throw new Error('the EventSource did not open within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const start = performance.now();
  for (const event of events) created[0].dispatchEvent(event);
  const elapsed = performance.now() - start;
  // Resolves once the handler has seen every event (it rejects otherwise).
  await done;
  return elapsed;
}

const contenders = {
  'JS listener (raw EventSource handler)': () => jsListener(false),
  'JS listener reading lastEventId': () => jsListener(true),
  'wasm-sse EventSource listeners, Rust handler': () => wasmListener(small),
  'wasm-sse EventSource listeners, Rust handler, opt-level 3': () => wasmListener(fast),
};

await runRounds(contenders, async () => {
  await small.default({ module_or_path: '/pkg/wasm_sse_bg.wasm' });
  await fast.default({ module_or_path: '/pkg/speed/wasm_sse_bg.wasm' });
});
