// A module worker: import maps do not reach workers, so the package's browser entry is
// imported by its path. Top-level await in the entry is allowed here.
import { SseClient, version } from '/node_modules/wasm-sse/dist/index.js';
import { consume } from './consume.js';

const params = new URL(import.meta.url).searchParams;
try {
  self.postMessage({ version: version(), ...(await consume(SseClient, params.get('url'), Number(params.get('count')))) });
} catch (e) {
  self.postMessage({ error: String(e) });
}
