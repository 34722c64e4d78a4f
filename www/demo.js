// The demo page: the wasm client, imported like any ES module, showing the demo topic live.
import { SseClient, version } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const states = ['connecting', 'open', 'closed'];
const list = $('events');
let count = 0;

$('version').textContent = `v${version()}`;

const client = new SseClient('/events?topic=demo');
const showState = () => {
  $('state').textContent = client.transport ? `${states[client.readyState]} (${client.transport})` : states[client.readyState];
};

// `on` hands the handler the JSON-decoded payload; `event` is the MessageEvent itself.
client.on('tick', (tick, event) => {
  count += 1;
  $('count').textContent = String(count);
  $('last-id').textContent = event.lastEventId || '–';
  const item = document.createElement('li');
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `#${event.lastEventId} ${event.type}`;
  item.append(meta, `count ${tick.count} · square ${tick.payload.square} · ${tick.payload.parity}`);
  list.prepend(item);
  while (list.children.length > 20) list.lastElementChild.remove();
});
client.addEventListener('statechange', showState);
client.addEventListener('transportchange', showState);
client.addEventListener('error', (event) => console.warn('wasm-sse:', event.error?.type, event.error?.message));

showState();
window.sseDemo = { client, received: () => count };
