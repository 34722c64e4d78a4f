// What JS users ask of the connection (issue 18): bodies of every kind and any method, a
// custom fetch, retryOn, reconnect(), one-shot streams (closeOnEnd). Each scenario of
// tests/node/pages/requests.js runs in Node and in headless Chromium against the real dev
// server and a local server (tests/node/fixtures/request-server.mjs); both must see the
// same.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SseClient } from 'wasm-sse';

import { startRequestServer } from './fixtures/request-server.mjs';
import { browserSkip, openTestPage } from './fixtures/test-page.mjs';
import { scenarios } from './pages/requests.js';
import { base, skip } from './helpers.mjs';

/** What each scenario must return. */
const expected = {
  'body: object as JSON': {
    method: 'POST', contentType: 'application/json', body: '{"q":1,"s":"é"}', transport: 'fetch',
    closed: 'ended', iterator: 'done', seen: ['request'],
  },
  'body: URLSearchParams': {
    method: 'POST', contentType: 'application/x-www-form-urlencoded;charset=UTF-8', body: 'a=1&b=x+y',
    transport: 'fetch', closed: 'ended', iterator: 'done', seen: ['request'],
  },
  'body: FormData': (r) => {
    assert.match(r.contentType, /^multipart\/form-data; ?boundary=/);
    assert.deepEqual({ ...r, contentType: 'multipart' }, {
      method: 'POST', contentType: 'multipart', body: true, transport: 'fetch', closed: 'ended',
      iterator: 'done', seen: ['request'],
    });
  },
  'body: Blob': {
    method: 'POST', contentType: 'text/plain', body: 'raw bytes', transport: 'fetch', closed: 'ended',
    iterator: 'done', seen: ['request'],
  },
  'body: a string with PUT': { data: 'PUT put body' },
  'fetch option': (r) => {
    assert.deepEqual(r.fetch, ['stream']);
    assert.ok(r['long-poll'].length >= 1 && r['long-poll'].every((t) => t === 'long-poll'), JSON.stringify(r));
  },
  'retryOn refreshes a token': { data: 'ok', calls: 2, asked: ['http-status 401'] },
  'retryOn declines': { type: 'http-status', status: 401, fatal: true, readyState: 2 },
  'reconnect()': { data: ['1', '2'], opens: 2, states: [1, 0, 1, 2] },
  'reconnect() with a new URL and body': { first: 'POST first', second: 'POST {"second":true}', url: '?v=2' },
  'closeOnEnd after a cut': { data: ['1', '2', '3'], errors: ['network'], reason: 'ended' },
  'response details': {
    fetch: { status: 200, requestId: 'r-7' },
    'long-poll': { status: 200, requestId: 'r-7' },
    error: { type: 'http-status', status: 403, length: 4096, start: 'forbidden: ' },
    held: { type: 'http-status', status: 503, body: 'busy', withinSeconds: true },
  },
  'closeOnEnd refuses eventsource and long-poll': ['invalid-option closeOnEnd', 'invalid-option closeOnEnd'],
};

function check(name, result) {
  const want = expected[name];
  if (typeof want === 'function') want(result);
  else assert.deepEqual(result, want);
}

let local;
before(async () => { local = await startRequestServer(); });
after(async () => { await local?.close(); });

describe('Node', { skip }, () => {
  for (const name of Object.keys(scenarios)) {
    test(name, async () => check(name, await scenarios[name](SseClient, { dev: base, local: local.url })));
  }
});

describe('headless Chromium', { skip: browserSkip }, () => {
  let opened;
  before(async () => { opened = await openTestPage('/compat.html'); });
  after(async () => {
    await opened?.close();
    assert.deepEqual(opened?.pageErrors ?? [], []);
  });
  for (const name of Object.keys(scenarios)) {
    test(name, async () => {
      // The page's own dev server: same origin for the `dev` scenarios (fetch streaming).
      const result = await opened.page.evaluate(async ({ name, local }) => {
        const [{ SseClient }, { scenarios }] = await Promise.all([import('/pkg/index.js'), import('/requests.js')]);
        return scenarios[name](SseClient, { dev: location.origin, local });
      }, { name, local: local.url });
      check(name, result);
    });
  }
});
