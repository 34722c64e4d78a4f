// The JS API in Node, against the real dev server (SSE_DEVSERVER_URL): EventSource-like
// surface, JSON handlers, async iterators, errors, reconnection, options, AbortSignal.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SseClient, SseError } from 'wasm-sse';

import { base, next, publish, skip, topicNamer } from './helpers.mjs';

const topic = topicNamer('js');
/** Records every event of `types`, with the readyState at dispatch. */
function record(client, types) {
  const log = [];
  for (const type of types) {
    client.addEventListener(type, (e) => log.push([type, client.readyState, e.data ?? e.error?.type ?? e.readyState ?? e.transport]));
  }
  return log;
}

test('EventSource surface over fetch streaming in Node', { skip }, async () => {
  const t = topic();
  const client = new SseClient(`${base}/events?topic=${t}`);
  assert.equal(client.url, `${base}/events?topic=${t}`);
  assert.equal(client.readyState, SseClient.CONNECTING);
  assert.deepEqual([SseClient.CONNECTING, SseClient.OPEN, SseClient.CLOSED], [0, 1, 2]);
  assert.deepEqual([client.CONNECTING, client.OPEN, client.CLOSED], [0, 1, 2]);
  assert.equal(client.withCredentials, false);
  assert.equal(client.transport, null);
  const log = record(client, ['open', 'message', 'note', 'statechange', 'transportchange']);
  let viaProperty = 0;
  client.onmessage = () => { viaProperty += 1; };
  const open = await next(client, 'open');
  assert.equal(open.transport, 'fetch');
  assert.equal(client.transport, 'fetch');
  assert.equal(client.readyState, SseClient.OPEN);
  const noted = next(client, 'note');
  await publish(t, 'hello');
  await publish(t, 'named', 'note');
  const note = await noted;
  assert.ok(note instanceof MessageEvent);
  assert.equal(note.type, 'note');
  assert.equal(note.data, 'named');
  assert.equal(note.lastEventId, '2');
  assert.equal(note.origin, new URL(base).origin);
  assert.equal(note.target, client);
  assert.equal(client.lastEventId, '2');
  assert.equal(viaProperty, 1);
  client.close();
  assert.equal(client.readyState, SseClient.CLOSED);
  await publish(t, 'after close');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(log, [
    ['transportchange', 0, 'fetch'],
    ['statechange', 1, 1],
    ['open', 1, 'fetch'],
    ['message', 1, 'hello'],
    ['note', 1, 'named'],
    ['statechange', 2, 2],
  ]);
  assert.equal(client.lastEventId, '2');
  client.onmessage = null;
  assert.equal(client.onmessage, null);
});

test('on(type) decodes JSON; a decode failure is an error event and the stream goes on', { skip }, async () => {
  const t = topic();
  const client = new SseClient(`${base}/events?topic=${t}`);
  const got = [];
  client.on('price', (value, event) => got.push([value, event.lastEventId]));
  await next(client, 'open');
  const failed = next(client, 'error');
  await publish(t, { v: 1 }, 'price');
  await publish(t, 'not json', 'price');
  const decode = await failed;
  assert.ok(decode.error instanceof SseError);
  assert.ok(decode.error instanceof Error);
  assert.equal(decode.error.type, 'decode');
  assert.equal(decode.error.fatal, false);
  assert.equal(decode.error.event.data, 'not json');
  assert.equal(client.readyState, SseClient.OPEN);
  const third = next(client, 'price', (e) => e.lastEventId === '3');
  await publish(t, [2], 'price');
  await third;
  assert.deepEqual(got, [[{ v: 1 }, '1'], [[2], '3']]);
  client.close();
});

// Published before connecting, the replay arrives in one chunk, whose `tick` data cross as
// one JSON array (crates/npm/src/pending.rs). Each row: the data, whether it decodes.
for (const [name, rows] of [
  // Data that is not one JSON value but would make a valid array with its neighbours.
  ['data that joins its neighbours', [['{"a":1}', true], ['1,2', false], ['[3', false], ['4]', false],
    ['"x,y"', true], ['5', true], ['{"b":"],["}', true], ['"\\\\"', true], ['{"a":\n1}', true],
    ['[1,2]', true], ['"é 😀"', true]]],
  // Data that makes the whole array fail to decode.
  ['data that breaks the array', [['{"a":1}', true], ['{]', false], ['1 2', false], ['', false],
    ['"ok"', true], ['done', false]]],
]) {
  test(`on() decodes a chunk's data with one JSON.parse: ${name} fails alone, in order`, { skip }, async () => {
    const t = topic();
    for (const [data] of rows) await publish(t, data, 'tick');
    await publish(t, '[not a tick]', 'note');
    const client = new SseClient(`${base}/events?topic=${t}`, { lastEventId: '0' });
    const log = [];
    const raw = [];
    client.on('tick', (value, event) => {
      log.push([event.lastEventId, structuredClone(value)]);
      if (value && typeof value === 'object') value.seen = true; // each handler has its own copy
    });
    client.addEventListener('tick', (e) => raw.push(e.data));
    const second = [];
    client.on('tick', (value) => second.push(value));
    client.addEventListener('error', (e) => log.push([e.error.event.lastEventId, e.error.type]));
    await next(client, 'note');
    client.close();
    // Each failure is reported once per on() handler.
    assert.deepEqual(log, rows.flatMap(([data, ok], i) => (ok ? [[String(i + 1), JSON.parse(data)]]
      : [[String(i + 1), 'decode'], [String(i + 1), 'decode']])));
    assert.deepEqual(second, rows.filter(([, ok]) => ok).map(([data]) => JSON.parse(data)));
    assert.deepEqual(raw, rows.map(([data]) => data));
  });
}

test('a chunk of events crosses from wasm at once: order, types, IDs and non-ASCII data intact; close() in a listener stops the rest', { skip }, async () => {
  // Published before connecting: the replay arrives in one chunk, so the wasm hands these
  // events to JS together (one string, sliced at UTF-16 lengths; see RawClient).
  const t = topic();
  const sent = [['a', 'message'], ['é ü', 'note'], ['😀 x 😀', 'note'], ['plain', 'message'],
    ['末尾 \u2028', 'other'], ['stop', 'message'], ['after', 'message']];
  for (const [data, type] of sent) await publish(t, data, type === 'message' ? undefined : type);
  const client = new SseClient(`${base}/events?topic=${t}`, { lastEventId: '0' });
  const log = [];
  for (const type of ['message', 'note', 'other']) {
    client.addEventListener(type, (e) => {
      log.push([e.type, e.data, e.lastEventId, client.lastEventId]);
      if (e.data === 'stop') client.close();
    });
  }
  await next(client, 'message', (e) => e.data === 'stop');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(log, sent.slice(0, 6).map(([data, type], i) => [type, data, String(i + 1), String(i + 1)]));
  assert.equal(client.lastEventId, '6');
  assert.equal(client.readyState, SseClient.CLOSED);
});

test('async iterators deliver in order and finish when the client closes', { skip }, async () => {
  const t = topic();
  const client = new SseClient(`${base}/events?topic=${t}`);
  const all = [];
  const ticks = [];
  const everything = (async () => { for await (const e of client) all.push(`${e.type}:${e.data}`); })();
  const typed = (async () => {
    for await (const e of client.events('tick')) {
      ticks.push(e.data);
      if (ticks.length === 2) client.close();
    }
  })();
  await next(client, 'open');
  await publish(t, 'a');
  await publish(t, '1', 'tick');
  await publish(t, '2', 'tick');
  await Promise.all([everything, typed]);
  assert.deepEqual(ticks, ['1', '2']);
  assert.deepEqual(all, ['message:a', 'tick:1', 'tick:2']);
  // An iterator made after the close is done at once.
  assert.deepEqual(await client.events().next(), { value: undefined, done: true });
});

for (const [query, type, extra] of [
  ['status=404', 'http-status', { status: 404 }],
  ['status=204', 'no-content', {}],
  ['contentType=text%2Fplain', 'content-type', { contentType: 'text/plain' }],
]) {
  test(`a fatal answer (${query}) closes with one error of type ${type}`, { skip }, async () => {
    const client = new SseClient(`${base}/events?topic=${topic()}&${query}`);
    const log = record(client, ['open', 'error', 'statechange']);
    const iterated = (async () => { for await (const _ of client); return 'done'; })();
    const error = await next(client, 'error');
    assert.equal(error.error.type, type);
    assert.equal(error.error.fatal, true);
    for (const [k, v] of Object.entries(extra)) assert.equal(error.error[k], v);
    assert.equal(client.readyState, SseClient.CLOSED);
    assert.equal(await iterated, 'done');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(log, [['statechange', 2, 2], ['error', 2, type]]);
  });
}

test('a lost connection fires error, reconnecting, then open again and resumes', { skip }, async () => {
  const t = topic();
  await publish(t, 'one');
  const client = new SseClient(`${base}/events?topic=${t}&closeAfter=1&retry=50`, {
    lastEventId: '0',
    reconnect: { initialDelayMs: 10, jitter: false },
  });
  const log = record(client, ['open', 'message', 'error', 'reconnecting']);
  let reconnecting;
  client.addEventListener('reconnecting', (e) => { reconnecting ??= e; });
  await next(client, 'message', (e) => e.data === 'one');
  await next(client, 'open');
  const two = next(client, 'message', (e) => e.data === 'two');
  await publish(t, 'two');
  await two;
  client.close();
  assert.equal(reconnecting.attempt, 1);
  assert.equal(reconnecting.reason, 'stream-ended');
  assert.equal(typeof reconnecting.delayMs, 'number');
  assert.deepEqual(log.slice(0, 6), [
    ['open', 1, 'fetch'],
    ['message', 1, 'one'],
    ['error', 0, 'stream-ended'],
    ['reconnecting', 0, 'stream-ended'],
    ['open', 1, 'fetch'],
    ['message', 1, 'two'],
  ]);
});

test('reconnect limits close with attempts-exhausted', { skip }, async () => {
  const client = new SseClient(`${base}/events?topic=${topic()}&closeAfter=0`, { reconnect: false });
  const error = await next(client, 'error', (e) => e.error.fatal);
  assert.equal(error.error.type, 'attempts-exhausted');
  assert.equal(error.error.last, 'stream-ended');
  assert.equal(error.error.attempts, 0);
  assert.equal(client.readyState, SseClient.CLOSED);
});

test('the headers function runs before every connection attempt', { skip }, async () => {
  const t = topic();
  let calls = 0;
  const client = new SseClient(`${base}/events?topic=${t}&closeAfter=0&retry=20`, {
    headers: async () => ({ authorization: `Bearer t${++calls}` }),
    reconnect: { initialDelayMs: 10, maxRetries: 2, jitter: false },
  });
  await next(client, 'error', (e) => e.error.fatal);
  assert.equal(calls, 3);
  const failing = new SseClient(`${base}/events?topic=${t}`, {
    headers: () => Promise.reject(new Error('no token')),
  });
  const error = await next(failing, 'error');
  assert.equal(error.error.type, 'header-provider');
  assert.match(error.error.message, /no token/);
  assert.equal(failing.readyState, SseClient.CLOSED);
});

test('long polling on request', { skip }, async () => {
  const t = topic();
  await publish(t, 'polled');
  const client = new SseClient(`${base}/events?topic=${t}`, { transport: 'long-poll', lastEventId: '0' });
  const event = await next(client, 'message');
  assert.equal(event.data, 'polled');
  assert.equal(client.transport, 'long-poll');
  client.free();
  assert.equal(client.readyState, SseClient.CLOSED);
});

test('AbortSignal and Symbol.dispose close the client', { skip }, async () => {
  const controller = new AbortController();
  const client = new SseClient(`${base}/events?topic=${topic()}`, { signal: controller.signal });
  await next(client, 'open');
  const done = client.events().next();
  controller.abort();
  assert.equal(client.readyState, SseClient.CLOSED);
  assert.deepEqual(await done, { value: undefined, done: true });
  const aborted = new SseClient(`${base}/events`, { signal: AbortSignal.abort() });
  assert.equal(aborted.readyState, SseClient.CLOSED);
  const disposed = new SseClient(`${base}/events?topic=${topic()}`);
  disposed[Symbol.dispose]();
  assert.equal(disposed.readyState, SseClient.CLOSED);
});

test('bad arguments throw typed errors', () => {
  assert.throws(() => new SseClient('/relative'), (e) => e instanceof SseError && e.type === 'invalid-url');
  assert.throws(() => new SseClient('http://127.0.0.1:9/', { transport: 'carrier-pigeon' }),
    (e) => e.type === 'invalid-option' && e.option === 'transport');
  assert.throws(() => new SseClient('http://127.0.0.1:9/', { transport: 'eventsource', headers: { a: 'b' } }),
    (e) => e.type === 'invalid-option');
  assert.throws(() => new SseClient('http://127.0.0.1:9/', { headers: { 'bad name': 'x' } }),
    (e) => e.type === 'invalid-option' && e.option === 'headers');
  assert.throws(() => new SseClient('http://127.0.0.1:9/', { reconnect: { maxRetries: -1 } }),
    (e) => e.type === 'invalid-option');
});
