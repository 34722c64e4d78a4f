// Long polling's pipelined polls in Node: with a backlog, the client sends the polls that
// `Long-Poll-Ahead` announces at once (several in flight) and still delivers every event
// exactly once and in order; against a server whose announcements are wrong or whose bodies
// are cut short, it drops the polls that no longer fit and polls again from where the body
// really ended (docs/protocol.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { SseClient } from 'wasm-sse';

import { startServer } from './fixtures/quiet-servers.mjs';
import { base, publish, skip, topicNamer } from './helpers.mjs';

const topic = topicNamer('lp');

/**
 * Wraps the global `fetch` for the duration of `body`: records each request's
 * `lastEventId` query parameter and the most requests waiting for their headers at once.
 */
async function watchingFetch(body) {
  const original = globalThis.fetch;
  const seen = { cursors: [], waiting: 0, maxWaiting: 0 };
  globalThis.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    if (url.searchParams.get('transport') === 'long-poll') {
      seen.cursors.push(url.searchParams.get('lastEventId'));
      seen.waiting += 1;
      seen.maxWaiting = Math.max(seen.maxWaiting, seen.waiting);
    }
    const done = () => { if (url.searchParams.get('transport') === 'long-poll') seen.waiting -= 1; };
    return original(input, init).then((r) => { done(); return r; }, (e) => { done(); throw e; });
  };
  try {
    return await body(seen);
  } finally {
    globalThis.fetch = original;
  }
}

/** Collects `count` message ids from `client`, failing on a duplicate or a gap. */
function collect(client, count, ms = 20_000) {
  return new Promise((resolve, reject) => {
    const ids = [];
    const timer = setTimeout(() => reject(new Error(`timed out after ${ids.length} events`)), ms);
    client.addEventListener('message', (e) => {
      ids.push(Number(e.lastEventId));
      if (ids.length === count) {
        clearTimeout(timer);
        resolve(ids);
      }
    });
    client.addEventListener('error', (e) => {
      if (client.readyState === SseClient.CLOSED) reject(e.error ?? new Error('closed'));
    });
  });
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('a long-poll backlog is read with several polls in flight, every event once', { skip }, async () => {
  const t = topic();
  // Five batches of the dev server's default 100 events.
  const total = 500;
  for (const n of range(1, total)) {
    await publish(t, `e${n}`);
  }
  await watchingFetch(async (seen) => {
    const client = new SseClient(`${base}/events?topic=${t}`, { transport: 'long-poll', lastEventId: '0' });
    try {
      assert.deepEqual(await collect(client, total), range(1, total));
    } finally {
      client.close();
    }
    // The first answer announced the batches ending at 200, 300 and 400: their polls went
    // out together with the one after 100, not one round trip after another.
    assert.ok(seen.maxWaiting >= 3, `at most ${seen.maxWaiting} polls were in flight at once`);
    // No poll was sent twice: the announced chain held.
    const sent = seen.cursors.filter((c) => Number(c) < total);
    assert.deepEqual(sent, [...new Set(sent)]);
    assert.deepEqual(sent.slice(0, 4), ['0', '100', '200', '300']);
  });
});

/**
 * A long-poll server over events 1..`last` in batches of `batch`, which names its bodies'
 * true last ID in `Long-Poll-Cursor` but announces `Long-Poll-Ahead` from `ahead(after)`
 * and may cut a body short with `cut(after)` (the number of events it really sends).
 */
async function lyingServer({ last, batch, ahead, cut = () => batch }) {
  const polls = [];
  const server = await startServer((req, res) => {
    const after = Number(new URL(req.url, 'http://x').searchParams.get('lastEventId') || 0);
    polls.push(after);
    const first = after + 1;
    const full = Math.min(batch, last - after);
    if (full <= 0) {
      // Past the end: an empty answer, as a held poll that timed out.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(': no events\n\n');
      }, 50);
      return;
    }
    const sent = Math.min(full, cut(after));
    const headers = { 'content-type': 'text/event-stream', 'long-poll-cursor': String(after + full) };
    const announced = ahead(after);
    if (announced) headers['long-poll-ahead'] = announced;
    res.writeHead(200, headers);
    res.end(range(first, first + sent - 1).map((n) => `id: ${n}\ndata: ${n}\n\n`).join(''));
  });
  return { url: `${server.url}/poll`, polls, close: server.close };
}

test('wrong announcements and cut bodies: polls that no longer fit are dropped, nothing lost', async () => {
  // Announces batches that end 2 events off from the real ones.
  const wrong = await lyingServer({ last: 40, batch: 5, ahead: (after) => `${after + 12}, ${after + 17}` });
  // Correct announcements, but the body after 10 is cut after 2 of its 5 events.
  const cutting = await lyingServer({
    last: 40,
    batch: 5,
    ahead: (after) => `${after + 10}, ${after + 15}`,
    cut: (after) => (after === 10 ? 2 : 5),
  });
  try {
    for (const server of [wrong, cutting]) {
      const client = new SseClient(server.url, { transport: 'long-poll', lastEventId: '0' });
      try {
        assert.deepEqual(await collect(client, 40), range(1, 40));
      } finally {
        client.close();
      }
    }
    // The cut body ended at 12, not 15: the client polled again after 12.
    assert.ok(cutting.polls.includes(12), `polls: ${cutting.polls}`);
    // Lookahead polls were sent (after 15 and 20 with the first answer's announcement).
    assert.ok(cutting.polls.slice(0, 4).includes(10), `polls: ${cutting.polls}`);
  } finally {
    await wrong.close();
    await cutting.close();
  }
});
