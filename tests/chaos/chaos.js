// The browser side of the chaos harness (scripts/chaos.mjs). Runs in headless Chromium with
// no DevTools protocol attached: one SseClient per transport, each on its own chaos topic,
// records the `seq` of every event it receives and its reconnects. Progress and the final
// results go to the harness's own HTTP collector (not to the dev server, which the harness
// kills and restarts mid-run), and the collector's answer tells the page when to stop.
import { SseClient } from '/pkg/index.js';

const params = new URLSearchParams(location.search);
const collector = params.get('collector');
const expected = Number(params.get('events'));
const initialDelayMs = Number(params.get('initialDelayMs') ?? 20);
const maxDelayMs = Number(params.get('maxDelayMs') ?? 100);
// `transport:topic` pairs.
const runs = params.getAll('run').map((pair) => {
  const [transport, topic] = pair.split(':');
  return { transport, topic };
});
const out = document.getElementById('out');
const t0 = performance.now();

async function send(path, body) {
  // A text/plain body: a simple cross-origin request, no preflight.
  const response = await fetch(`${collector}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return response.json();
}

const clients = runs.map(({ transport, topic }) => {
  const record = {
    transport, topic, seqs: [], unique: 0, reconnects: 0, errors: 0, fatal: null,
    transports: [], completeMs: null,
  };
  const seen = new Set();
  const client = new SseClient(`/events?topic=${encodeURIComponent(topic)}`, {
    transport,
    // From the first event on: a first attempt that fails must not skip events.
    lastEventId: '0',
    reconnect: { initialDelayMs, maxDelayMs },
    stallDowngradeMs: null,
    connectTimeoutMs: 5000,
  });
  client.onmessage = (event) => {
    const { seq } = JSON.parse(event.data);
    record.seqs.push(seq);
    if (!seen.has(seq)) {
      seen.add(seq);
      record.unique += 1;
      if (record.unique === expected) record.completeMs = performance.now() - t0;
    }
  };
  client.addEventListener('reconnecting', () => { record.reconnects += 1; });
  client.addEventListener('transportchange', (e) => { record.transports.push(e.transport); });
  client.addEventListener('error', (e) => {
    record.errors += 1;
    if (e.error?.fatal) record.fatal = e.error.message;
  });
  return { client, record };
});

function progress() {
  return clients.map(({ record }) => ({
    transport: record.transport, topic: record.topic, received: record.seqs.length,
    unique: record.unique, reconnects: record.reconnects, fatal: record.fatal,
  }));
}

// Progress every 500 ms; the collector answers `{stop: true}` when the harness is done.
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  out.textContent = JSON.stringify(progress(), null, 1);
  let answer;
  try {
    answer = await send('/progress', { progress: progress() });
  } catch {
    continue; // the collector is the harness itself: it outlives the page
  }
  if (answer.stop) break;
}
for (const { client } of clients) client.close();
await send('/result', {
  userAgent: navigator.userAgent,
  clients: clients.map(({ record }) => record),
});
out.textContent = 'done';
