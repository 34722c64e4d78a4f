// Resuming with servers that read only the `Last-Event-ID` header (issue 18), in headless
// Chromium through the npm package (dist/): the page is served by a dev server of its own,
// the event servers (tests/node/fixtures/header-only-server.mjs) run here on other ports, so
// every case is cross-origin. Each server cuts its stream every 150 events (6 cuts); each
// reconnect must resume after the last event delivered, and 1,000 events arrive exactly
// once, in order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startHeaderOnlyServer } from './fixtures/header-only-server.mjs';
import { browserSkip, openTestPage } from './fixtures/test-page.mjs';

/** Runs in the page: a client until `total` events or its close; what it saw. */
async function consume({ url, options, total }) {
  const { SseClient } = await import('/pkg/index.js');
  const client = new SseClient(url, options);
  const ids = [];
  const lifecycle = [];
  client.addEventListener('reconnecting', (e) => lifecycle.push(`reconnecting ${e.attempt}`));
  client.addEventListener('transportchange', (e) => lifecycle.push(`transport ${e.transport}`));
  await new Promise((resolve) => {
    client.onmessage = (e) => {
      ids.push(Number(e.data));
      if (ids.length === total) resolve();
    };
    client.addEventListener('error', (e) => {
      if (client.readyState === client.CLOSED) {
        lifecycle.push(`closed ${e.error?.type}`);
        resolve();
      }
    });
  });
  client.close();
  return { ids, lifecycle };
}

describe('servers that resume from the Last-Event-ID header only (headless Chromium)', { skip: browserSkip }, () => {
  let opened;
  before(async () => { opened = await openTestPage('/compat.html'); });
  after(async () => {
    await opened?.close();
    assert.deepEqual(opened?.pageErrors ?? [], []);
  });

  // [transport option, whether the preflight allows the header, the transports expected]
  for (const [transport, allowHeader] of [
    ['eventsource', true], ['eventsource', false], ['auto', true], ['auto', false], ['fetch', true],
  ]) {
    test(`${transport}, preflight ${allowHeader ? 'allows' : 'refuses'} Last-Event-ID: 6 cuts, each resumed from the header`, async () => {
      const server = await startHeaderOnlyServer({ allowHeader });
      try {
        const total = 1000;
        const options = { transport, reconnect: { initialDelayMs: 50, maxDelayMs: 200, jitter: false } };
        const { ids, lifecycle } = await opened.page.evaluate(consume, { url: `${server.url}/stream?total=${total}&cutEvery=150`, options, total });
        assert.deepEqual(ids, Array.from({ length: total }, (_, i) => i + 1), lifecycle.join(', '));
        // The first request has no header; each of the 6 reconnections names the last event
        // delivered before its cut.
        assert.deepEqual(server.resumes, [null, '150', '300', '450', '600', '750', '900'], `queries ${server.queries}`);
        assert.equal(lifecycle.filter((l) => l.startsWith('reconnecting')).length, 6, lifecycle.join(', '));
      } finally {
        await server.close();
      }
    });
  }

  test('the policy bounds an outage while the browser is the one reconnecting', async () => {
    const server = await startHeaderOnlyServer();
    const url = `${server.url}/stream?total=1000&cutEvery=200`;
    // The server goes away after the first cut: every reconnection of the browser fails.
    const closing = (async () => {
      while (server.resumes.length === 0) await new Promise((r) => setTimeout(r, 10));
      await server.close();
    })();
    const { ids, lifecycle } = await opened.page.evaluate(consume, {
      url, options: { transport: 'eventsource', reconnect: { maxRetries: 3 } }, total: 1000,
    });
    await closing;
    assert.ok(ids.length <= 200, `${ids.length} events`);
    assert.deepEqual(lifecycle, ['transport eventsource', 'reconnecting 1', 'reconnecting 2', 'reconnecting 3', 'closed attempts-exhausted']);
  });
});
