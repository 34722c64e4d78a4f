// The `headers` function runs before every connection attempt, on every transport that can
// send headers, in Node and in headless Chromium (issue 18): a server cuts its answers inside
// an event (tests/node/fixtures/token-server.mjs), and the request after each cut must carry
// a token the function has not returned before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SseClient } from 'wasm-sse';

import { browserSkip, openTestPage } from './fixtures/test-page.mjs';
import { startTokenServer } from './fixtures/token-server.mjs';
const TOTAL = 9;

/** Runs a client (in Node, or in the page) until `total` events; the IDs it received. */
async function consume({ url, transport, total, SseClient: Client }) {
  const Sse = Client ?? (await import('/pkg/index.js')).SseClient;
  let calls = 0;
  const client = new Sse(url, {
    transport,
    headers: async () => ({ authorization: `Bearer t${++calls}` }),
    reconnect: { initialDelayMs: 20, maxDelayMs: 50, jitter: false },
  });
  const ids = [];
  await new Promise((resolve, reject) => {
    client.onmessage = (e) => {
      // The rest of a chunk is dispatched before the close below.
      if (ids.length < total) ids.push(Number(e.lastEventId));
      if (ids.length === total) resolve();
    };
    client.onerror = (e) => { if (e.error?.fatal) reject(e.error); };
  });
  client.close();
  return ids;
}

/** The request after each cut carries a token never sent before; events once, in order. */
function check(ids, requests) {
  assert.deepEqual(ids, Array.from({ length: TOTAL }, (_, i) => i + 1));
  const seen = new Set();
  for (const [i, { token, cursor }] of requests.entries()) {
    assert.ok(token, `request ${i} has a token`);
    if (i > 0 && requests[i - 1].cut) {
      assert.ok(!seen.has(token), `request ${i} (cursor ${cursor}) after a cut reuses ${token}: ${JSON.stringify(requests)}`);
    }
    seen.add(token);
  }
  assert.ok(requests.filter((r) => r.cut).length >= 2, JSON.stringify(requests));
}

for (const transport of ['fetch', 'long-poll']) {
  test(`Node, ${transport}: a fresh token for each connection after a cut`, async () => {
    const server = await startTokenServer();
    try {
      const ids = await consume({ url: `${server.url}/tokens`, transport, total: TOTAL, SseClient });
      check(ids, server.requests);
    } finally {
      await server.close();
    }
  });
}

describe('headless Chromium', { skip: browserSkip }, () => {
  let opened;
  before(async () => { opened = await openTestPage('/compat.html'); });
  after(async () => { await opened?.close(); });
  for (const transport of ['fetch', 'long-poll']) {
    test(`Chromium, ${transport}: a fresh token for each connection after a cut`, async () => {
      const server = await startTokenServer();
      try {
        const ids = await opened.page.evaluate(consume, { url: `${server.url}/tokens`, transport, total: TOTAL });
        check(ids, server.requests);
      } finally {
        await server.close();
      }
    });
  }
});
