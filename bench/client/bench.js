// Runs in headless Chromium with no DevTools protocol attached (DevTools network monitoring
// slows EventSource several times): every contender reads the same recorded stream, the
// page times each one and publishes its figures to the dev server, where run.mjs reads them.
// The client twice: built for size (the npm package's profile) and for speed (opt-level 3).
const small = await import('/pkg/wasm_sse.js');
const fast = await import('/pkg/speed/wasm_sse.js');
// The npm package as JS users get it (dist/ of scripts/build.sh, copied by run.mjs).
const npm = await import('/pkg/npm/index.js');
// The same package built with opt-level 3 (run.mjs; never published).
const npmSpeed = await import('/pkg/npm-speed/index.js');
// eventsource-parser's ESM build, copied next to the wasm by run.mjs.
import { createParser } from '/pkg/eventsource-parser.js';

import { count, runRounds } from './rounds.js';

const stream = new URLSearchParams(location.search).get('stream') ?? '/bench/stream';
// `memory=1` (run.mjs --in-memory): the fetch-based JS contenders read the stream from memory
// instead of the dev server, in 64 KiB chunks, so that neither the server nor Chromium's
// network process shares the machine's cores with the page: what is timed is the client.
const memory = new URLSearchParams(location.search).get('memory') === '1';
let recorded;
const inMemory = () => new Response(new ReadableStream({
  start(controller) {
    for (let at = 0; at < recorded.length; at += 65536) controller.enqueue(recorded.subarray(at, at + 65536));
    controller.close();
  },
}), { headers: { 'content-type': 'text/event-stream' } });

// The baseline: the browser's EventSource with a JS handler decoding each payload.
function rawEventSource(url, readId = false) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const source = new EventSource(url);
    let seen = 0;
    let checksum = 0;
    source.addEventListener('tick', (event) => {
      const tick = JSON.parse(event.data);
      // A client that resumes must track each event's ID: reading it has a cost of its own.
      checksum += tick.n + tick.price + (readId ? event.lastEventId.length : 0);
      seen += tick.symbol ? 1 : 0;
      if (seen === count) {
        source.close();
        resolve(performance.now() - start);
      }
    });
    source.onerror = () => {
      source.close();
      reject(new Error(`EventSource failed after ${seen} events (checksum ${checksum})`));
    };
  });
}

// The common JS alternative to EventSource: fetch, the body decoded to text by a
// TextDecoderStream, parsed by eventsource-parser, a JS handler decoding each payload.
async function fetchEventsourceParser(url) {
  const start = performance.now();
  const controller = new AbortController();
  const response = memory ? inMemory() : await fetch(url, {
    signal: controller.signal,
    headers: { accept: 'text/event-stream' },
  });
  let seen = 0;
  let checksum = 0;
  const parser = createParser({
    onEvent(event) {
      if (event.event !== 'tick') return;
      const tick = JSON.parse(event.data);
      checksum += tick.n + tick.price;
      seen += tick.symbol ? 1 : 0;
    },
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  while (seen < count) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended after ${seen} events (checksum ${checksum})`);
    parser.feed(value);
  }
  controller.abort();
  return performance.now() - start;
}

// A hand-written long-poll loop over JSON batches (the dev server's `format=json` answers:
// an array of {id, event, data} per poll, as many events as `--long-poll-batch`), each
// payload decoded by JSON.parse as everywhere else.
async function jsonBatchLongPoll(url) {
  const start = performance.now();
  let cursor = '';
  let seen = 0;
  let checksum = 0;
  while (seen < count) {
    const resume = cursor === '' ? '' : `&lastEventId=${encodeURIComponent(cursor)}`;
    const response = await fetch(`${url}&transport=long-poll&format=json${resume}`);
    if (!response.ok) throw new Error(`poll failed with ${response.status} after ${seen} events`);
    const batch = await response.json();
    for (const event of batch) {
      if (event.event !== 'tick') continue;
      const tick = JSON.parse(event.data);
      checksum += tick.n + tick.price;
      seen += tick.symbol ? 1 : 0;
    }
    if (batch.length > 0) cursor = batch[batch.length - 1].id;
  }
  if (checksum < 0) throw new Error('negative checksum');
  return performance.now() - start;
}

// The npm package's `SseClient` as a JS user writes it: `on('tick', handler)`, which hands
// the handler the decoded data, or (`standard`) an EventSource-style listener decoding each
// payload itself.
function npmSseClient(url, transport, standard = false, build = npm) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const fetch = memory ? async () => inMemory() : undefined;
    const client = new build.SseClient(url, { transport, reconnect: { maxRetries: 0 }, fetch });
    let seen = 0;
    let checksum = 0;
    const handle = (tick) => {
      checksum += tick.n + tick.price;
      seen += tick.symbol ? 1 : 0;
      if (seen === count) {
        client.close();
        resolve(performance.now() - start);
      }
    };
    if (standard) client.addEventListener('tick', (event) => handle(JSON.parse(event.data)));
    else client.on('tick', handle);
    client.addEventListener('error', () => {
      if (client.readyState !== build.SseClient.CLOSED) return;
      reject(new Error(`SseClient (${transport}) closed after ${seen} events (checksum ${checksum})`));
    });
  });
}

// Orientation only: the time to read the stream's bytes over fetch, no parsing at all.
async function fetchBytesOnly(url) {
  const start = performance.now();
  const response = await fetch(`${url}&hold=0`);
  const reader = response.body.getReader();
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.length;
  }
  if (bytes === 0) throw new Error('empty stream');
  return performance.now() - start;
}

const contenders = {
  'EventSource + JS handler (raw)': (url) => rawEventSource(url),
  'EventSource + JS handler reading lastEventId': (url) => rawEventSource(url, true),
  'wasm-sse, automatic transport, Rust handler': (url) => small.benchRustHandler(url, 'auto', count),
  'wasm-sse over EventSource, Rust handler': (url) => small.benchRustHandler(url, 'eventsource', count),
  'wasm-sse over EventSource, Rust handler, opt-level 3': (url) => fast.benchRustHandler(url, 'eventsource', count),
  'wasm-sse over EventSource, Rust stream': (url) => small.benchRustStream(url, 'eventsource', count),
  'wasm-sse over fetch, Rust handler': (url) => small.benchRustHandler(url, 'fetch', count),
  'wasm-sse over fetch, Rust handler, opt-level 3': (url) => fast.benchRustHandler(url, 'fetch', count),
  'wasm-sse over long-poll, Rust handler': (url) => small.benchRustHandler(url, 'long-poll', count),
  'wasm-sse over long-poll, Rust handler, opt-level 3': (url) => fast.benchRustHandler(url, 'long-poll', count),
  'wasm-sse npm SseClient over fetch, on()': (url) => npmSseClient(url, 'fetch'),
  'wasm-sse npm SseClient over fetch, addEventListener': (url) => npmSseClient(url, 'fetch', true),
  'wasm-sse npm SseClient over fetch, on(), opt-level 3': (url) => npmSseClient(url, 'fetch', false, npmSpeed),
  'wasm-sse npm SseClient over fetch, addEventListener, opt-level 3': (url) => npmSseClient(url, 'fetch', true, npmSpeed),
  'wasm-sse npm SseClient over long-poll, on()': (url) => npmSseClient(url, 'long-poll'),
  'fetch + eventsource-parser + JS handler': (url) => fetchEventsourceParser(url),
  'JSON-batch long-poll loop + JS handler': (url) => jsonBatchLongPoll(url),
  'fetch, read bytes only (no parsing)': (url) => fetchBytesOnly(url),
};

if (memory) {
  // Only the contenders that read a fetch `Response` can read one from memory.
  for (const name of Object.keys(contenders)) {
    if (!/^(fetch \+ eventsource-parser|wasm-sse npm SseClient over fetch)/.test(name)) delete contenders[name];
  }
}

await runRounds(
  Object.fromEntries(Object.entries(contenders).map(([name, run]) => [name, (round) => run(`${stream}?round=${round}`)])),
  async () => {
    await small.default({ module_or_path: '/pkg/wasm_sse_bg.wasm' });
    await fast.default({ module_or_path: '/pkg/speed/wasm_sse_bg.wasm' });
    if (memory) recorded = new Uint8Array(await (await fetch(`${stream}?hold=0`)).arrayBuffer());
  },
);
