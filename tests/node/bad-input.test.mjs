// Bad input to the JS client (the README's bad-input table): for each, the typed error the
// user gets, and that nothing else is lost. The option checks need no server; the rest run
// against the real dev server (SSE_DEVSERVER_URL) and its fault parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SseClient, SseError } from 'wasm-sse';

import { startQuietServer, startServer } from './fixtures/quiet-servers.mjs';
import { base, next, publish, skip, topicNamer } from './helpers.mjs';

const topic = topicNamer('bad');
// Nothing listens on port 9 (discard): a client here never opens.
const nowhere = 'http://127.0.0.1:9/events';

/** Records every event of `types` as [type, readyState, data or error type]. */
function record(client, types) {
  const log = [];
  for (const type of types) {
    client.addEventListener(type, (e) => log.push([type, client.readyState, e.data ?? e.error?.type]));
  }
  return log;
}

function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return assert.fail('did not throw');
}

test('each bad option throws an invalid-option SseError naming the option', () => {
  const cases = [
    // Checked by the JS layer (npm/client.js).
    ['options', 'nope'],
    ['method', { method: 'CONNECT' }],
    ['body', { body: 42 }],
    ['fetch', { fetch: 'globalThis.fetch' }],
    ['retryOn', { retryOn: true }],
    ['closeOnEnd', { transport: 'long-poll', closeOnEnd: true }],
    ['headers', { headers: 42 }],
    ['reconnect', { reconnect: 'often' }],
    ['reconnect.initialDelayMs', { reconnect: { initialDelayMs: -1 } }],
    ['reconnect.maxDelayMs', { reconnect: { maxDelayMs: Number.NaN } }],
    ['reconnect.multiplier', { reconnect: { multiplier: -2 } }],
    ['reconnect.maxRetries', { reconnect: { maxRetries: '3' } }],
    ['reconnect.maxElapsedMs', { reconnect: { maxElapsedMs: -0.5 } }],
    ['reconnect.resetAfterMs', { reconnect: { resetAfterMs: null } }],
    ['idleTimeoutMs', { idleTimeoutMs: -5 }],
    ['connectTimeoutMs', { connectTimeoutMs: 'soon' }],
    ['longPollTimeoutMs', { longPollTimeoutMs: -30 }],
    ['stallDowngradeMs', { stallDowngradeMs: Number.NaN }],
    ['maxEventSize', { maxEventSize: -1 }],
    // Checked by the wasm side (ClientBuilder::connect), with Rust's option names.
    ['body', { method: 'GET', body: 'x' }],
    ['last_event_id_param', { lastEventIdParam: '' }],
    ['transport', { transport: 'eventsource', method: 'POST' }],
  ];
  for (const [option, options] of cases) {
    const e = thrown(() => new SseClient(nowhere, options));
    const what = JSON.stringify(options) ?? String(options);
    assert.ok(e instanceof SseError, `${what}: ${e}`);
    assert.equal(e.type, 'invalid-option', what);
    assert.equal(e.option, option, what);
    assert.equal(e.fatal, true, what);
  }
});

test('edge values that are not errors: zero delays, a multiplier below 1, timeouts off', () => {
  for (const options of [
    { reconnect: { initialDelayMs: 0, maxDelayMs: 0, resetAfterMs: 0 } },
    { reconnect: { multiplier: 0.5 } }, // clamped to 1: a constant delay
    { reconnect: { multiplier: 0 } },
    { idleTimeoutMs: 0, connectTimeoutMs: 0, longPollTimeoutMs: 0, stallDowngradeMs: 0 }, // 0 turns them off
    { idleTimeoutMs: null, connectTimeoutMs: null, longPollTimeoutMs: null, stallDowngradeMs: null },
    { maxEventSize: 0 },
    { lastEventId: '' },
    { eventTypes: [] },
  ]) {
    const client = new SseClient(nowhere, options);
    assert.equal(client.readyState, SseClient.CONNECTING, JSON.stringify(options));
    client.close();
  }
});

test('a headers function that throws closes the client with one header-provider error', async () => {
  const client = new SseClient(nowhere, {
    headers: () => {
      throw new Error('no token');
    },
  });
  const log = record(client, ['open', 'error']);
  const error = await next(client, 'error');
  assert.ok(error.error instanceof SseError);
  assert.equal(error.error.type, 'header-provider');
  assert.equal(error.error.fatal, true);
  assert.match(error.error.message, /no token/);
  assert.equal(client.readyState, SseClient.CLOSED);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(log, [['error', 2, 'header-provider']]);
});

test('a headers function returning a bad header name closes the client with invalid-option', async () => {
  const client = new SseClient(nowhere, { headers: async () => ({ 'bad name': 'x' }) });
  const error = await next(client, 'error');
  assert.equal(error.error.type, 'invalid-option');
  assert.equal(error.error.option, 'headers');
  assert.equal(error.error.fatal, true);
  assert.equal(client.readyState, SseClient.CLOSED);
});

test('a redirect loop is a network failure: retried, then attempts-exhausted; nothing delivered', { skip }, async () => {
  const client = new SseClient(`${base}/events?topic=${topic()}&status=307&redirectLoop=1`, {
    reconnect: { initialDelayMs: 10, maxRetries: 1, jitter: false },
  });
  const log = record(client, ['open', 'message', 'error', 'reconnecting']);
  const final = await next(client, 'error', (e) => e.error.fatal);
  assert.equal(final.error.type, 'attempts-exhausted');
  assert.equal(final.error.attempts, 1);
  assert.equal(final.error.last, 'network');
  assert.equal(client.readyState, SseClient.CLOSED);
  assert.deepEqual(log, [
    ['error', 0, 'network'],
    ['reconnecting', 0, 'network'],
    ['error', 2, 'attempts-exhausted'],
  ]);
});

test('HTTP 500: an error and a reconnection per attempt, then attempts-exhausted with the status', { skip }, async () => {
  const client = new SseClient(`${base}/events?topic=${topic()}&status=500`, {
    reconnect: { initialDelayMs: 10, maxRetries: 2, jitter: false },
  });
  const log = record(client, ['open', 'error', 'reconnecting']);
  const final = await next(client, 'error', (e) => e.error.fatal);
  assert.equal(final.error.type, 'attempts-exhausted');
  assert.equal(final.error.last, 'http-status');
  assert.equal(final.error.cause.status, 500);
  assert.deepEqual(log, [
    ['error', 0, 'http-status'],
    ['reconnecting', 0, 'http-status'],
    ['error', 0, 'http-status'],
    ['reconnecting', 0, 'http-status'],
    ['error', 2, 'attempts-exhausted'],
  ]);
});

test('an empty Content-Type is a wrong one: one fatal content-type error, contentType ""', { skip }, async () => {
  const client = new SseClient(`${base}/events?topic=${topic()}&contentType=`);
  const log = record(client, ['open', 'message', 'error']);
  const error = await next(client, 'error');
  assert.equal(error.error.type, 'content-type');
  assert.equal(error.error.fatal, true);
  assert.equal(error.error.contentType, '');
  assert.equal(client.readyState, SseClient.CLOSED);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(log, [['error', 2, 'content-type']]);
});

test('an event over maxEventSize fires event-too-large; the events after it arrive', { skip }, async () => {
  const t = topic();
  await publish(t, 'after');
  const client = new SseClient(`${base}/events?topic=${t}&hugeBytes=100000`, {
    lastEventId: '0',
    maxEventSize: 64 * 1024,
  });
  const log = record(client, ['huge', 'message', 'error']);
  const tooLarge = next(client, 'error');
  await next(client, 'message', (e) => e.data === 'after');
  const { error } = await tooLarge;
  assert.equal(error.fatal, false);
  assert.equal(error.limit, 64 * 1024);
  assert.equal(client.lastEventId, '1');
  client.close();
  // The parser reports the oversized event once it has parsed the whole chunk, and the
  // lifecycle reaches JS asynchronously: the error may come after later events.
  assert.deepEqual(log.sort(), [['error', 1, 'event-too-large'], ['message', 1, 'after']]);
});

test('invalid UTF-8 becomes U+FFFD in that event only; the events after it are intact', { skip }, async () => {
  const t = topic();
  await publish(t, 'after é');
  const client = new SseClient(`${base}/events?topic=${t}&invalidUtf8=1`, { lastEventId: '0' });
  const log = record(client, ['invalid-utf8', 'message', 'error']);
  await next(client, 'message', (e) => e.data === 'after é');
  client.close();
  assert.deepEqual(log, [['invalid-utf8', 1, 'bad \uFFFD\uFFFD \uFFFD end'], ['message', 1, 'after é']]);
});

test('a server that ignores long polling (answers with an endless stream) still delivers over long-poll', async () => {
  // Not the dev server: a plain SSE endpoint that never ends its response, whatever the
  // query says. A long-poll client must deliver its events as they arrive, not wait for an
  // end of body that never comes.
  const server = await plainServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    let n = 0;
    const timer = setInterval(() => {
      n += 1;
      response.write(`id: ${n}\ndata: tick ${n}\n\n`);
    }, 20);
    request.on('close', () => clearInterval(timer));
  });
  const client = new SseClient(server.url, { transport: 'long-poll' });
  try {
    const got = [];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} events`)), 10_000);
      client.onmessage = (event) => {
        got.push([event.data, event.lastEventId]);
        if (got.length === 3) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    assert.deepEqual(got, [['tick 1', '1'], ['tick 2', '2'], ['tick 3', '3']]);
    assert.equal(client.transport, 'long-poll');
  } finally {
    client.close();
    await server.close();
  }
});

/** A plain Node HTTP server on loopback (not the dev server); `handler` answers requests. */
async function plainServer(handler) {
  const server = await startServer(handler);
  return { url: `${server.url}/plain`, close: server.close };
}

test('no fetch in the environment: unsupported, fatal, nothing opened', async () => {
  const saved = globalThis.fetch;
  delete globalThis.fetch;
  try {
    const client = new SseClient(nowhere);
    const error = await next(client, 'error');
    assert.equal(error.error.type, 'unsupported');
    assert.equal(error.error.fatal, true);
    assert.equal(client.readyState, SseClient.CLOSED);
  } finally {
    globalThis.fetch = saved;
  }
});

test('a response with no Content-Type header at all is a wrong content type', async () => {
  const server = await plainServer((request, response) => {
    response.writeHead(200); // no content-type
    response.write('data: never delivered\n\n');
  });
  const client = new SseClient(server.url);
  try {
    const log = record(client, ['open', 'message', 'error']);
    const error = await next(client, 'error');
    assert.equal(error.error.type, 'content-type');
    assert.equal(error.error.contentType, '');
    assert.equal(error.error.fatal, true);
    assert.deepEqual(log, [['error', SseClient.CLOSED, 'content-type']]);
  } finally {
    client.close();
    await server.close();
  }
});

test('a server that accepts but never answers: connect-timeout, retried, then attempts-exhausted', async () => {
  const server = await startQuietServer(); // its /never holds every request
  const client = new SseClient(`${server.url}/never`, {
    connectTimeoutMs: 200,
    reconnect: { initialDelayMs: 10, maxRetries: 1, jitter: false },
  });
  try {
    const log = record(client, ['open', 'message', 'error', 'reconnecting']);
    const final = await next(client, 'error', (e) => e.error.fatal);
    assert.equal(final.error.type, 'attempts-exhausted');
    assert.equal(final.error.last, 'connect-timeout');
    assert.equal(final.error.attempts, 1);
    assert.deepEqual(log, [
      ['error', SseClient.CONNECTING, 'connect-timeout'],
      ['reconnecting', SseClient.CONNECTING, 'connect-timeout'],
      ['error', SseClient.CLOSED, 'attempts-exhausted'],
    ]);
  } finally {
    client.close();
    await server.close();
  }
});

test('an outage longer than maxElapsedMs: elapsed-exhausted, with the last failure', async () => {
  const client = new SseClient(nowhere, {
    reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxElapsedMs: 100, jitter: false },
  });
  try {
    const final = await next(client, 'error', (e) => e.error.fatal);
    assert.equal(final.error.type, 'elapsed-exhausted');
    assert.equal(final.error.last, 'network');
    assert.equal(final.error.cause.type, 'network');
    assert.ok(final.error.elapsedMs >= 0 && final.error.elapsedMs <= 1000, String(final.error.elapsedMs));
    assert.equal(client.readyState, SseClient.CLOSED);
  } finally {
    client.close();
  }
});
