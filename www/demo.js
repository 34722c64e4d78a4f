// The demo page: the wasm client, imported like any ES module, showing the demo topic live.
import { SseClient, version } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const states = ['connecting', 'open', 'closed'];
const list = $('events');
let count = 0;

$('version').textContent = `v${version()}`;

const client = new SseClient('/events?topic=demo');
const showState = () => { $('state').textContent = states[client.readyState]; };

client.addEventListener('tick', (event) => {
  count += 1;
  $('count').textContent = String(count);
  $('last-id').textContent = event.lastEventId || '–';
  const item = document.createElement('li');
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `#${event.lastEventId} ${event.type}`;
  item.append(meta, event.data);
  list.prepend(item);
  while (list.children.length > 20) list.lastElementChild.remove();
  showState();
});

showState();
setInterval(showState, 500);
window.sseDemo = { client, received: () => count };
