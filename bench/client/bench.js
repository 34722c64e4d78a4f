// Runs in headless Chromium with no DevTools protocol attached (DevTools network monitoring
// slows EventSource several times): every contender reads the same recorded stream, the
// page times each one and publishes its figures to the dev server, where run.mjs reads them.
import init, { benchRustHandler, benchRustStream } from '/pkg/wasm_sse.js';

const params = new URLSearchParams(location.search);
const count = Number(params.get('count') ?? 200000);
const rounds = Number(params.get('rounds') ?? 3);
const stream = params.get('stream') ?? '/bench/stream';
const out = document.getElementById('out');

// The baseline: the browser's EventSource with a JS handler decoding each payload.
function rawEventSource(url) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const source = new EventSource(url);
    let seen = 0;
    let checksum = 0;
    source.addEventListener('tick', (event) => {
      const tick = JSON.parse(event.data);
      checksum += tick.n + tick.price;
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

const contenders = {
  'EventSource + JS handler (raw)': (url) => rawEventSource(url),
  'wasm-sse over EventSource, Rust handler': (url) => benchRustHandler(url, 'eventsource', count),
  'wasm-sse over EventSource, Rust stream': (url) => benchRustStream(url, 'eventsource', count),
  'wasm-sse over fetch, Rust handler': (url) => benchRustHandler(url, 'fetch', count),
};

async function report(body) {
  await fetch('/publish?topic=bench-results', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ event: 'result', data: body }),
  });
}

try {
  await init({ module_or_path: '/pkg/wasm_sse_bg.wasm' });
  const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  // Interleaved rounds, so that a slow moment of the machine hits every contender alike.
  for (let round = 0; round < rounds; round += 1) {
    for (const [name, run] of Object.entries(contenders)) {
      times[name].push(await run(`${stream}?round=${round}`));
      out.textContent = JSON.stringify(times, null, 1);
    }
  }
  await report({ count, rounds, userAgent: navigator.userAgent, times });
} catch (error) {
  await report({ error: String(error?.stack ?? error) });
}
