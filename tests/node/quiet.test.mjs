// Quiet servers are healthy servers (issue 24), in Node. With default options, a client must
// wait as long as the server takes, as the browser's EventSource does: for a response head
// that comes only with the first event, for a stream that says nothing for a while after its
// head, and for a long poll the server holds. Each case expects exactly one `open`, no
// `error`, no `reconnecting`, no transport change, and the event within DELIVERY_MS of being
// sent. The timeouts that catch a really stuck server are opt-in, and tested here with
// explicit values; the downgrade to long polling still takes a buffering proxy for one. Every
// case runs at the same time: the file takes as long as its slowest case (about 40 s).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SseClient } from 'wasm-sse';

import { until } from '../../scripts/until.mjs';
import { assertQuiet, startQuietServer } from './fixtures/quiet-servers.mjs';
import { base, publish, skip as needsDevserver, topicNamer } from './helpers.mjs';
import { describeWatch, watchQuiet } from './pages/quiet-watch.js';

const topic = topicNamer('quiet');
/** Longer than the dev server's default long-poll hold (25 s): its first poll times out empty. */
const PUBLISH_AFTER_MS = 30_000;
/** How long a case waits for its event beyond the moment it is sent. */
const GRACE_MS = 10_000;

/** The transports under test in Node: `auto` gives no transport option at all. */
const TRANSPORTS = [
  ['fetch', { transport: 'fetch' }, 'fetch'],
  ['long-poll', { transport: 'long-poll' }, 'long-poll'],
  // Node has no EventSource: automatic selection takes fetch streaming.
  ['auto', {}, 'fetch'],
];

/** Quiet-server routes: the head after `ms`, the head then `ms` of silence, a poll held `ms`. */
const ROUTES = [
  ['a response head sent only with the first event, 40 s in', '/late-head', 40_000],
  ['a stream silent for 40 s after its head', '/quiet-stream', 40_000],
  ['a server holding each long poll 30 s (streaming like the quiet stream otherwise)', '/held-poll', 30_000],
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Records every event of `types` as `[ms since started, type, detail, fatal]`: the detail is
 * an error's type, a reconnection's reason, an open's transport or a message's data; `fatal`
 * is set for errors only.
 */
function record(client, types, started) {
  const log = [];
  for (const type of types) {
    client.addEventListener(type, (e) => {
      const at = Date.now() - started;
      if (type === 'error') log.push([at, type, e.error?.type, e.error?.fatal]);
      else log.push([at, type, e.reason ?? e.transport ?? e.data, undefined]);
    });
  }
  return log;
}

describe('quiet servers, default options (Node)', { concurrency: true }, () => {
  let quiet;
  before(async () => {
    quiet = await startQuietServer();
  });
  after(() => quiet?.close());

  for (const [name, options, transport] of TRANSPORTS) {
    for (const [what, route, ms] of ROUTES) {
      test(`${name}: ${what}`, async () => {
        const tag = `${name}-${route.slice(1)}`;
        const client = new SseClient(`${quiet.url}${route}?ms=${ms}&tag=${tag}`, options);
        try {
          const watched = await watchQuiet(client, ms + GRACE_MS);
          const requests = quiet.requestsTo(route, tag);
          const sentAt = requests[0]?.sent[0]?.at;
          assertQuiet(watched, { transport, sentAt, requests });
        } finally {
          client.close();
        }
      });
    }

    test(`${name}: a quiet topic of the dev server (which holds a long poll 25 s), one event ${PUBLISH_AFTER_MS / 1000} s in`, { skip: needsDevserver }, async () => {
      const t = topic();
      const client = new SseClient(`${base}/events?topic=${t}`, options);
      try {
        const watching = watchQuiet(client, PUBLISH_AFTER_MS + GRACE_MS);
        // Published from here, unless the watch already ended (a failure) by then.
        let sentAt;
        const publishing = Promise.race([watching, sleep(PUBLISH_AFTER_MS)]).then(async (ended) => {
          if (ended) return;
          sentAt = Date.now();
          await publish(t, 'hello');
        });
        const watched = await watching;
        await publishing;
        assertQuiet(watched, { transport, sentAt });
      } finally {
        client.close();
      }
    });
  }

  // The timeouts for servers that really are stuck, set explicitly.

  for (const [name, options] of [['fetch', { transport: 'fetch' }], ['auto', {}]]) {
    test(`${name}: an explicit connectTimeoutMs (1000) fires on a server that never answers, and the client retries`, async () => {
      const tag = `connect-${name}`;
      const started = Date.now();
      const client = new SseClient(`${quiet.url}/never?tag=${tag}`, { ...options, connectTimeoutMs: 1000 });
      const log = record(client, ['open', 'error', 'reconnecting'], started);
      try {
        // The default reconnect policy waits up to 1 s before the retry.
        await until(`the retry\n${JSON.stringify(log)}`, () => quiet.requestsTo('/never', tag).length >= 2, 6000);
        const [error, reconnecting] = log;
        assert.deepEqual(log.slice(0, 2).map(([, type, detail, fatal]) => [type, detail, fatal]), [
          ['error', 'connect-timeout', false],
          ['reconnecting', 'connect-timeout', undefined],
        ], JSON.stringify(log));
        assert.ok(error[0] >= 900 && error[0] <= 3000, `connect-timeout after ${error[0]} ms`);
        assert.ok(reconnecting[0] >= error[0]);
        assert.ok(!log.some(([, type]) => type === 'open'), JSON.stringify(log));
      } finally {
        client.close();
      }
    });

    test(`${name}: an explicit idleTimeoutMs (1500) fires on a stream that goes silent after an event, and the client resumes`, async () => {
      const tag = `idle-${name}`;
      const started = Date.now();
      const client = new SseClient(`${quiet.url}/silent-after-open?tag=${tag}`, { ...options, idleTimeoutMs: 1500 });
      const log = record(client, ['open', 'message', 'error', 'reconnecting'], started);
      try {
        // The resumed connection's event: the server answers the one after the cursor.
        await until(`the resumed connection's event\n${JSON.stringify(log)}`,
          () => client.lastEventId === '2', 8000);
        assert.deepEqual(log.map(([, type, detail, fatal]) => [type, detail, fatal]), [
          ['open', 'fetch', undefined],
          ['message', 'hello', undefined],
          ['error', 'idle-timeout', false],
          ['reconnecting', 'idle-timeout', undefined],
          ['open', 'fetch', undefined],
          ['message', 'hello', undefined],
        ], JSON.stringify(log));
        // The watchdog fires between 1 and 1.25 idle timeouts after the last sign of life.
        const silence = log[2][0] - log[1][0];
        assert.ok(silence >= 1400 && silence <= 4000, `idle-timeout after ${silence} ms of silence`);
        const requests = quiet.requestsTo('/silent-after-open', tag);
        assert.deepEqual(requests.map((r) => r.lastEventId), ['', '1']);
      } finally {
        client.close();
      }
    });
  }

  test('auto: a buffering proxy is still taken for one (its whole body in one burst at the end): downgraded to long polling, every event once', { skip: needsDevserver }, async () => {
    // The dev server's buffer=1 holds the stream's body and sends it whole when the response
    // ends, bufferMs after the head: the evidence stallDowngradeMs waits for, here 3 s of
    // silence against a threshold of 1 s.
    const t = topic();
    for (const n of [1, 2, 3]) await publish(t, `e${n}`);
    const started = Date.now();
    const client = new SseClient(`${base}/events?topic=${t}&buffer=1&bufferMs=3000`, {
      lastEventId: '0',
      stallDowngradeMs: 1000,
    });
    const changes = [];
    client.addEventListener('transportchange', (e) => changes.push([e.previous, e.transport, typeof e.reason]));
    const log = record(client, ['message', 'error'], started);
    try {
      await until(`three events\n${JSON.stringify(log)}\n${JSON.stringify(changes)}`,
        () => log.filter(([, type]) => type === 'message').length >= 3, 15_000);
      // Time for a duplicate to show up, if one were coming.
      await sleep(500);
      const messages = log.filter(([, type]) => type === 'message').map(([, , data]) => data);
      assert.deepEqual(messages, ['e1', 'e2', 'e3'], JSON.stringify(log));
      assert.deepEqual(changes, [[null, 'fetch', 'undefined'], ['fetch', 'long-poll', 'string']]);
      assert.equal(client.transport, 'long-poll');
      assert.equal(client.lastEventId, '3');
    } finally {
      client.close();
    }
  });

  test('long-poll: an explicit longPollTimeoutMs (1500) gives up on a poll the server never answers, and polls again', async () => {
    // A poll the server never answers is a silent connection: `idle-timeout`, not fatal,
    // followed by a new poll.
    const tag = 'long-poll-timeout';
    const started = Date.now();
    const client = new SseClient(`${quiet.url}/never?tag=${tag}`, { transport: 'long-poll', longPollTimeoutMs: 1500 });
    const log = record(client, ['open', 'error', 'reconnecting'], started);
    try {
      await until(`a second poll\n${JSON.stringify(log)}`, () => quiet.requestsTo('/never', tag).length >= 2, 6000);
      const first = log.find(([, type]) => type === 'error');
      assert.ok(first, `no error before the second poll: ${JSON.stringify(log)}`);
      assert.equal(first[2], 'idle-timeout', JSON.stringify(log));
      assert.equal(first[3], false, JSON.stringify(log));
      assert.ok(first[0] >= 1400 && first[0] <= 4000, `the poll was given up after ${first[0]} ms`);
      assert.ok(log.some(([, type]) => type === 'reconnecting'), JSON.stringify(log));
    } finally {
      client.close();
    }
  });
});

// The watch helper itself, on a case that needs no waiting: a server that answers at once is
// seen as healthy, so a failure of the cases above is the client's, not the helper's.
test('watchQuiet sees an immediate event as healthy', async () => {
  const quiet = await startQuietServer();
  const client = new SseClient(`${quiet.url}/quiet-stream?ms=0&tag=now`, { transport: 'fetch' });
  try {
    const watched = await watchQuiet(client, 5000);
    const requests = quiet.requestsTo('/quiet-stream', 'now');
    assertQuiet(watched, { transport: 'fetch', sentAt: requests[0]?.sent[0]?.at, requests });
    assert.match(describeWatch(watched), /outcome: message/);
  } finally {
    client.close();
    await quiet.close();
  }
});
