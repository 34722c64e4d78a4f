// The browser side of the chaos harness (scripts/chaos.mjs). Runs in headless Chromium with
// no DevTools protocol attached: one SseClient per transport, each on its own chaos topic,
// records the `seq` of every event it receives and its reconnects. Progress and the final
// results go to the harness's own HTTP collector (not to the dev server, which the harness
// kills and restarts mid-run), and the collector's answer tells the page when to stop.
import { SseClient } from '/pkg/index.js';

import { watch } from './watch.js';

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

async function send(path, body) {
  // A text/plain body: a simple cross-origin request, no preflight.
  const response = await fetch(`${collector}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return response.json();
}

const clients = runs.map(({ transport, topic }) => watch(SseClient, {
  url: `/events?topic=${encodeURIComponent(topic)}`,
  transport,
  topic,
  expected,
  initialDelayMs,
  maxDelayMs,
  now: () => performance.now(),
}));

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
