// A module service worker that imports the package's main browser entry, whose top-level
// await browsers refuse in service workers: its registration must fail.
import { SseClient } from '/node_modules/wasm-sse/dist/index.js';

self.addEventListener('message', () => new SseClient('/events'));
