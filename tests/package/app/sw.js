// A module service worker. Browsers refuse top-level await in service workers, so this one
// imports `wasm-sse/init` (here by its path) and awaits `initialize()` before the first client.
import { initialize, SseClient, version } from '/node_modules/wasm-sse/dist/init.js';
import { consume } from './consume.js';

const ready = initialize();

self.addEventListener('message', (event) => {
  const [port] = event.ports;
  event.waitUntil((async () => {
    try {
      await ready;
      port.postMessage({ version: version(), ...(await consume(SseClient, event.data.url, event.data.count)) });
    } catch (e) {
      port.postMessage({ error: String(e) });
    }
  })());
});
