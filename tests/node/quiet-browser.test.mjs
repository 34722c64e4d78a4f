// Quiet servers are healthy servers (issue 24), in headless Chromium through the npm package
// (dist/): the cases of quiet.test.mjs for each transport, the browser's EventSource among
// them. A page served by a dev server of its own (`--www tests/node/pages --pkg dist`) runs
// one client per case, all at the same time; the quiet servers run here, on other origins
// (so `auto` picks EventSource for them, and fetch streaming for the page's own dev server).
// Each case expects exactly one `open`, no `error`, no `reconnecting`, no transport change,
// and the event within DELIVERY_MS of being sent. The file takes about 45 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { assertQuiet, startQuietServer } from './fixtures/quiet-servers.mjs';
import { browserSkip as skip, openTestPage } from './fixtures/test-page.mjs';

/** Longer than the dev server's default long-poll hold (25 s): its first poll times out empty. */
const PUBLISH_AFTER_MS = 30_000;
/** How long a case waits for its event beyond the moment it is sent. */
const GRACE_MS = 10_000;

/** `[name, options, transport expected on another origin, on the page's own origin]`. */
const TRANSPORTS = [
  ['eventsource', { transport: 'eventsource' }, 'eventsource', 'eventsource'],
  ['fetch', { transport: 'fetch' }, 'fetch', 'fetch'],
  ['long-poll', { transport: 'long-poll' }, 'long-poll', 'long-poll'],
  // No transport option: EventSource cross-origin, fetch streaming same-origin.
  ['auto', {}, 'eventsource', 'fetch'],
];

/** Quiet-server routes, as in quiet.test.mjs. */
const ROUTES = [
  ['a response head sent only with the first event, 40 s in', '/late-head', 40_000],
  ['a stream silent for 40 s after its head', '/quiet-stream', 40_000],
  ['a server holding each long poll 30 s (streaming like the quiet stream otherwise)', '/held-poll', 30_000],
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('quiet servers, default options (headless Chromium)', { concurrency: true, skip }, () => {
  let opened;
  let page;
  let pageBase;
  let pageErrors = [];
  // One quiet server per case: a browser opens at most 6 connections per origin, fewer than
  // the cases that hold one open at the same time.
  const quietServers = [];

  before(async () => {
    if (skip) return;
    opened = await openTestPage('/quiet.html');
    ({ page, base: pageBase, pageErrors } = opened);
    await page.waitForFunction(() => window.quietReady, null, { timeout: 20_000 });
  });

  after(async () => {
    await opened?.close();
    await Promise.all(quietServers.map((q) => q.close()));
  });

  const run = (url, options, deadlineMs) => page.evaluate((c) => window.runQuiet(c), { url, options, deadlineMs });

  for (const [name, options, crossOrigin, sameOrigin] of TRANSPORTS) {
    for (const [what, route, ms] of ROUTES) {
      test(`${name}: ${what}`, async () => {
        const quiet = await startQuietServer();
        quietServers.push(quiet);
        const watched = await run(`${quiet.url}${route}?ms=${ms}`, options, ms + GRACE_MS);
        const requests = quiet.requestsTo(route);
        assertQuiet(watched, { transport: crossOrigin, sentAt: requests[0]?.sent[0]?.at, requests });
        assert.deepEqual(pageErrors, []);
      });
    }

    test(`${name}: a quiet topic of the dev server (which holds a long poll 25 s), one event ${PUBLISH_AFTER_MS / 1000} s in`, async () => {
      const topic = `quiet-${name}-${process.pid}-${Date.now()}`;
      const watching = run(`${pageBase}/events?topic=${topic}`, options, PUBLISH_AFTER_MS + GRACE_MS);
      // Published from here, unless the watch already ended (a failure) by then.
      let sentAt;
      const publishing = Promise.race([watching, sleep(PUBLISH_AFTER_MS)]).then(async (ended) => {
        if (ended) return;
        sentAt = Date.now();
        const response = await fetch(`${pageBase}/publish?topic=${topic}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ data: 'hello' }),
        });
        assert.equal(response.status, 200, await response.text());
      });
      const watched = await watching;
      await publishing;
      assertQuiet(watched, { transport: sameOrigin, sentAt });
      assert.deepEqual(pageErrors, []);
    });
  }
});
