// A module worker that imports the installed package and receives events.
import { SseClient } from '/pkg/index.js';

const transport = new URL(import.meta.url).searchParams.get('transport') ?? 'auto';
const topic = `worker-${transport}-${Date.now()}`;
const client = new SseClient(`/events?topic=${topic}`, { transport });
client.onopen = () => {
  fetch(`/publish?topic=${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'from worker' }) });
};
client.onmessage = (event) => {
  const result = { data: event.data, transport: client.transport, hasEventSource: typeof EventSource === 'function' };
  client.close();
  postMessage(result);
};
client.onerror = (event) => postMessage({ error: event.error?.message ?? 'error' });
