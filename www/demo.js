// The demo page: the wasm client, imported like any ES module, following the `demo` topic
// while the visitor drops the connection, causes outages, switches transports and publishes.
// Every event's ID is checked against the one before it: the missed and duplicated counters
// show the client's guarantee (each event once, in order) holding through all of it.
import { SseClient, version } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const STATES = ['connecting', 'open', 'closed'];
/** The event types this page receives: the ticker's and the ones the publish box sends. */
const TYPES = ['tick', 'note', 'alert', 'chat'];
const MAX_EVENTS = 30;
const MAX_TIMELINE = 40;
const OUTAGE_SECONDS = 5;

const label = () => Math.random().toString(36).slice(2, 10);
/** This page's label for its event responses: `POST /control/drop` cuts them. */
const pageConn = `page-${label()}`;
/**
 * The label while sharing across tabs: one for every tab of this origin, so that the tabs
 * open the same URL (one connection for all of them) and "drop" cuts that connection.
 */
function sharedConn() {
  try {
    let shared = localStorage.getItem('wasm-sse-demo-conn');
    if (!shared) localStorage.setItem('wasm-sse-demo-conn', shared = `tabs-${label()}`);
    return shared;
  } catch {
    return 'tabs-shared';
  }
}
let conn = pageConn;
/** Where the "share across tabs" choice is remembered for the next tabs. */
const SHARE_KEY = 'wasm-sse-demo-share';
/** How often the server's stream count is read. */
const STREAMS_POLL_MS = 2000;
try {
  $('share').checked = localStorage.getItem(SHARE_KEY) === '1';
} catch {}

const stats = { received: 0, missed: 0, duplicated: 0, last: null };
let client = null;
let choice = 'auto';
let attempt = 0;
let delayMs = null;

$('version').textContent = `v${version()}`;

/** Adds a line to a list, newest first, keeping at most `max`. */
function prepend(list, max, className, ...content) {
  const item = document.createElement('li');
  if (className) item.className = className;
  item.append(...content);
  list.prepend(item);
  while (list.children.length > max) list.lastElementChild.remove();
  return item;
}

function span(className, text) {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

/** How many timeline entries of each kind were logged (the list keeps the newest only). */
const logged = {};

function log(kind, text) {
  logged[kind] = (logged[kind] ?? 0) + 1;
  const time = new Date().toLocaleTimeString([], { hour12: false });
  prepend($('timeline'), MAX_TIMELINE, `t-${kind}`, span('meta', time), span('kind', kind), ` ${text}`);
}

/** Counts one event by its ID: a jump forward is missed events, a repeat a duplicate. */
function check(event) {
  if (!/^\d{1,15}$/.test(event.lastEventId)) return;
  const id = Number(event.lastEventId);
  if (stats.last !== null) {
    if (id <= stats.last) stats.duplicated += 1;
    else if (id > stats.last + 1) stats.missed += id - stats.last - 1;
  }
  if (stats.last === null || id > stats.last) stats.last = id;
  stats.received += 1;
  showCounts();
}

function showCounts() {
  $('received').textContent = String(stats.received);
  $('missed').textContent = String(stats.missed);
  $('duplicated').textContent = String(stats.duplicated);
  $('missed-box').className = stats.missed ? 'bad' : 'zero';
  $('duplicated-box').className = stats.duplicated ? 'bad' : 'zero';
}

function showConnection() {
  if (!client) return;
  $('state').textContent = STATES[client.readyState];
  $('state').dataset.state = STATES[client.readyState];
  const transport = client.transport ?? '–';
  $('transport').textContent = choice === 'auto' && client.transport ? `${transport} (auto)` : transport;
  $('transport').dataset.transport = client.transport ?? '';
  $('attempt').textContent = attempt ? `attempt ${attempt}${delayMs === null ? '' : `, after ${delayMs} ms`}` : '–';
  $('last-id').textContent = client.lastEventId || '–';
  // Cross-tab sharing: `client.shared` is 'leader', 'follower' or null; undefined where the
  // package has no sharing.
  const role = client.shared;
  $('role').textContent = role ? `${role} (shared across tabs)` : 'not shared';
  $('share-hint').hidden = role !== 'leader';
}

function showEvent(type, text, event) {
  const item = prepend($('events'), MAX_EVENTS, `e-${type}`, span('meta', `#${event.lastEventId}`), span('kind', type), ` ${text}`);
  item.dataset.id = event.lastEventId;
}

/** Opens the client with the chosen transport, resuming after the last event received. */
function connect() {
  const previous = client;
  const lastEventId = previous?.lastEventId || undefined;
  previous?.close();
  const options = { transport: choice, lastEventId, eventTypes: TYPES };
  if ($('share').checked) options.share = true;
  conn = $('share').checked ? sharedConn() : pageConn;
  try {
    client = new SseClient(`/events?topic=demo&conn=${conn}`, options);
  } catch (e) {
    log('error', `${e.type ?? e.name}: ${e.message}`);
    return;
  }
  attempt = 0;
  delayMs = null;
  for (const type of TYPES) client.addEventListener(type, check);
  // `on` hands the handler the JSON-decoded payload; `event` is the MessageEvent itself.
  client.on('tick', (tick, event) => {
    showEvent('tick', `count ${tick.count} · square ${tick.payload.square} · ${tick.payload.parity}`, event);
    showConnection();
  });
  for (const type of ['note', 'alert', 'chat']) {
    client.on(type, (data, event) => showEvent(type, JSON.stringify(data), event));
  }
  client.addEventListener('statechange', (e) => {
    if (e.readyState === 1) {
      attempt = 0;
      delayMs = null;
    }
    log('state', STATES[e.readyState] + (e.reason ? ` (${e.reason})` : ''));
    showConnection();
  });
  client.addEventListener('open', (e) => log('open', `over ${e.transport}${e.status ? `, status ${e.status}` : ''}`));
  client.addEventListener('transportchange', (e) => {
    log('transport', `${e.previous ?? 'none'} → ${e.transport}${e.reason ? ` (${e.reason})` : ''}`);
    showConnection();
  });
  client.addEventListener('reconnecting', (e) => {
    attempt = e.attempt;
    delayMs = e.delayMs;
    log('reconnecting', `attempt ${e.attempt} in ${e.delayMs} ms after ${e.reason}`);
    showConnection();
  });
  client.addEventListener('error', (e) => {
    const error = e.error;
    if (!error) return;
    if (error.type === 'decode') {
      const event = error.event;
      const item = showEventError(event, error);
      item.dataset.error = error.type;
    }
    const detail = error.status ? ` ${error.status}` : '';
    const after = error.retryAfterMs ? `, Retry-After ${error.retryAfterMs} ms` : '';
    log('error', `${error.type}${detail}${after}: ${error.message}`);
  });
  client.addEventListener('sharechange', (e) => {
    log('tabs', `${e.previous ?? 'none'} → ${e.shared ?? 'none'}`);
    showConnection();
  });
  client.addEventListener('reset', (e) => log('reset', e.data));
  showConnection();
}

function showEventError(event, error) {
  const text = `${error.type} error: ${event?.data ?? ''}`;
  const type = event?.type ?? 'message';
  const item = prepend($('events'), MAX_EVENTS, `e-${type} e-invalid`, span('meta', `#${event?.lastEventId ?? '?'}`), span('kind', type), ` ${text}`);
  item.dataset.id = event?.lastEventId ?? '';
  return item;
}

/** A state-changing request to the dev server (JSON, same origin). */
async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error ?? `status ${response.status}`);
  return answer;
}

for (const radio of document.querySelectorAll('input[name="transport"]')) {
  radio.addEventListener('change', () => {
    if (!radio.checked || radio.value === choice) return;
    log('switch', `${choice} → ${radio.value}, resuming after #${client?.lastEventId || '–'}`);
    choice = radio.value;
    connect();
  });
}

$('share').addEventListener('change', () => {
  log('switch', $('share').checked ? 'sharing across tabs' : 'not sharing');
  // Remembered for the tabs opened next, so that a second tab joins at once.
  try {
    localStorage.setItem(SHARE_KEY, $('share').checked ? '1' : '0');
  } catch {}
  connect();
});

/**
 * The dev server's count of event streams open on the demo topic (`GET /healthz`): one per
 * tab, or one for all the tabs that share. Polled while the page is visible.
 */
async function showStreams() {
  try {
    const health = await (await fetch('/healthz')).json();
    $('streams').textContent = String(health.streams?.demo ?? 0);
  } catch {
    $('streams').textContent = '–';
  }
}
setInterval(() => document.hidden || showStreams(), STREAMS_POLL_MS);
showStreams();

$('drop').addEventListener('click', async () => {
  try {
    const { dropped } = await post('/control/drop', { conn });
    const s = dropped === 1 ? '' : 's';
    log('drop', client?.transport === 'long-poll'
      ? `the server aborts ${dropped} held poll${s}`
      : `the server cuts ${dropped} connection${s} mid-event`);
  } catch (e) {
    log('error', `drop: ${e.message}`);
  }
});

$('outage').addEventListener('click', async () => {
  try {
    await post('/control/outage', { topic: 'demo', seconds: OUTAGE_SECONDS });
    log('outage', `503 with Retry-After for ${OUTAGE_SECONDS} s`);
  } catch (e) {
    log('error', `outage: ${e.message}`);
  }
});

$('publish').addEventListener('submit', async (e) => {
  e.preventDefault();
  const event = $('publish-type').value;
  // Sent as text: valid JSON decodes in `on()`, anything else reaches it as a decode error.
  const data = $('publish-data').value;
  const result = $('publish-result');
  try {
    const { id } = await post('/publish?topic=demo', { event, data });
    result.textContent = `Published ${event} as #${id}.`;
    result.className = 'ok';
  } catch (err) {
    result.textContent = `Not published: ${err.message}`;
    result.className = 'bad';
  }
});

// The Leptos build is there when `npm start` made it.
fetch('/leptos/', { method: 'HEAD' }).then((r) => {
  if (!r.ok) $('leptos-note').textContent = ' (not built here: `npm start` builds it)';
}, () => {});

connect();
window.sseDemo = {
  client: () => client,
  stats: () => ({ ...stats }),
  conn: () => conn,
  logged: (kind) => logged[kind] ?? 0,
};
