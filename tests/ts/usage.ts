// Type-checked (never run) by `tsc -p tests/ts` in tests/node/types.test.mjs: the public
// API as users write it, and the mistakes the types must catch (@ts-expect-error).
import { SseClient, SseError, version, type SseErrorType, type SseClientOptions } from 'wasm-sse';

type Feed = {
  price: { symbol: string; value: number };
  note: string;
};

const v: string = version();
const client = new SseClient<Feed>('/events?topic=prices', {
  transport: 'auto',
  headers: async () => ({ authorization: `Bearer ${v}` }),
  reconnect: { initialDelayMs: 500, maxDelayMs: 10_000, multiplier: 2, jitter: true, maxRetries: 5 },
  idleTimeoutMs: 30_000,
  signal: new AbortController().signal,
});

// Typed JSON handlers.
const off = client.on('price', (p, event) => {
  const symbol: string = p.symbol;
  const value: number = p.value;
  const id: string = event.lastEventId;
  // @ts-expect-error p has no such field
  p.volume;
  void [symbol, value, id];
});
off();
client.on('note', (text) => text.toUpperCase());
// @ts-expect-error not an event type of Feed
client.on('volume', () => {});
// @ts-expect-error a note is a string
client.on('note', (n: number) => n);

// EventSource-compatible surface.
const states: readonly number[] = [SseClient.CONNECTING, SseClient.OPEN, SseClient.CLOSED, client.OPEN];
const es: { readonly readyState: number; readonly url: string; close(): void } = client;
client.onmessage = (event) => console.log(event.data, event.lastEventId, event.origin);
client.onopen = (event) => console.log(event.transport);
client.onerror = (event) => {
  const type: SseErrorType = event.error.type;
  if (event.error.type === 'http-status') console.log(event.error.status);
  void type;
};
client.addEventListener('message', (event: MessageEvent) => console.log(event.data));
client.addEventListener('tick', (event) => {
  const t: 'tick' = event.type;
  const data: string = event.data;
  void [t, data];
});
client.addEventListener('reconnecting', (e) => console.log(e.attempt, e.delayMs, e.reason));
client.addEventListener('statechange', (e) => console.log(e.readyState, e.previous));
client.addEventListener('transportchange', (e) => console.log(e.transport, e.previous));
// @ts-expect-error readyState is read-only
client.readyState = 1;
// @ts-expect-error not a transport
const badOptions: SseClientOptions = { transport: 'websocket' };
// @ts-expect-error not an error type
const badType: SseErrorType = 'timeout';

// Code written for EventSource, given an SseClient instead.
function useEventSourceLike(source: { onmessage: ((e: MessageEvent) => unknown) | null; close(): void }) {
  source.onmessage = (e) => console.log(e.data);
  source.close();
}
useEventSourceLike(client);

async function iterate() {
  for await (const event of client) {
    const data: string = event.data;
    void data;
  }
  for await (const event of client.events('price')) {
    const t: 'price' = event.type;
    void t;
  }
  using disposable = new SseClient('/events');
  void disposable;
}

const error: unknown = null;
if (error instanceof SseError) {
  const e: Error = error;
  const fatal: boolean = error.fatal;
  void [e, fatal];
}
client.close();
client.free();
void [states, es, badOptions, badType, iterate];
