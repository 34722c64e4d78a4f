// A Vite app as users write it: the package imported by name, no init call, no Vite config.
// The page connects to the dev server named in its query (?server=<origin>&topic=<topic>) and
// reports on window: `sseOpen` once connected, `sseResult` after two `price` events.
import { SseClient, SseError, version } from 'wasm-sse';

const params = new URLSearchParams(location.search);
const client = new SseClient(`${params.get('server')}/events?topic=${encodeURIComponent(params.get('topic'))}`);
const got = [];
client.onopen = () => { window.sseOpen = true; };
client.onerror = (event) => { window.sseErrors = [...(window.sseErrors ?? []), event.error?.message ?? 'error']; };
client.on('price', (value, event) => {
  got.push([value, event.lastEventId, event.origin]);
  if (got.length < 2) return;
  const transport = client.transport;
  client.close();
  window.sseResult = { version: version(), got, transport, readyState: client.readyState, sseError: typeof SseError };
});
