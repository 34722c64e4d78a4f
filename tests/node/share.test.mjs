// Cross-tab sharing (the `share` option, docs/sharing.md) in real Chromium: pages of one
// browser context on the real dev server (HTTP/1.1, which allows a browser six connections
// per origin), serving tests/node/pages/share.html and this tree's dist/. The dev server's
// `/healthz` counts the event streams open on each topic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { devserverBin, startDevServer, publish, topicNamer } from '../../scripts/devserver.mjs';
import { until as untilWithin } from '../../scripts/until.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const server = devserverBin();
const skip = !existsSync(join(root, 'dist/index.js')) ? 'dist/ is not built (scripts/build.sh)'
  : !existsSync(server) ? `no dev server binary at ${server}` : false;

/** Every wait in this file gives up after this long. */
const WAIT_MS = 20_000;
const topic = topicNamer('share');

let devserver;
let browser;
let context;

before(async () => {
  if (skip) return;
  devserver = await startDevServer({
    bin: server,
    args: ['--www', join(root, 'tests/node/pages'), '--pkg', join(root, 'dist'), '--demo-interval-ms', '0'],
  });
  const { launchChromium } = await import('../../scripts/chromium.mjs');
  browser = await launchChromium();
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  await devserver?.stop();
});

/** Resolves when `check()` is truthy (polled), or fails with `what` after `ms`. */
const until = (what, check, ms = WAIT_MS) => untilWithin(what, check, ms);

/** The event streams open on `t`, per the dev server. */
async function streams(t) {
  const health = await (await fetch(`${devserver.base}/healthz`)).json();
  return health.streams[t] ?? 0;
}

/** `n` pages of `ctx` with the test page loaded (before any stream holds a connection). */
async function openPages(n, ctx = context) {
  const pages = [];
  for (let i = 0; i < n; i++) {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', String(e)));
    await page.goto(`${devserver.base}/share.html`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: WAIT_MS });
    pages.push(page);
  }
  return pages;
}

async function start(pages, url, options) {
  await Promise.all(pages.map((page) => page.evaluate(([u, o]) => window.startClient(u, o), [url, options])));
}

async function closeAll(pages) {
  await Promise.all(pages.map((page) => page.close().catch(() => {})));
}

const roles = (pages) => Promise.all(pages.map((page) => page.evaluate(() => window.role())));

/** Waits until one page leads and the others follow; resolves the leader's index. */
async function settled(pages) {
  const oneBased = await until('one leader and the rest followers', async () => {
    const r = await roles(pages);
    const leaders = r.filter((x) => x === 'leader').length;
    const followers = r.filter((x) => x === 'follower').length;
    return leaders === 1 && followers === pages.length - 1 ? r.indexOf('leader') + 1 : 0;
  });
  return oneBased - 1;
}

async function publishRange(t, from, to) {
  for (let n = from; n <= to; n++) await publish(devserver.base, t, `event ${n}`);
}

/** Asserts that every page received the ids 1..count, each once, in order. */
async function allReceived(pages, count) {
  const want = Array.from({ length: count }, (_, i) => i + 1);
  await until(`${count} events on every page`, async () => {
    const got = await Promise.all(pages.map((page) => page.evaluate(() => window.received().length)));
    return got.every((n) => n >= count);
  });
  for (const [i, page] of pages.entries()) {
    const got = await page.evaluate(() => window.received());
    assert.deepEqual(got, want, `page ${i}: ${got.join(' ')}`);
  }
}

test('8 pages share one connection: 500 events reach every page once, in order', { skip }, async () => {
  const t = topic();
  const pages = await openPages(8);
  try {
    await start(pages, `/events?topic=${t}`, { share: true });
    await settled(pages);
    assert.equal(await streams(t), 1);
    await publishRange(t, 1, 500);
    await allReceived(pages, 500);
    assert.equal(await streams(t), 1);
  } finally {
    await closeAll(pages);
  }
});

/**
 * The leader's page goes away (`how`) after 250 of 500 events; another page takes over and
 * every remaining page still has all 500 once, in order. Resolves the failover gap: from the
 * leader's end to the moment every remaining page has the first event published after it
 * (so the new leader's connection is open and its events flow).
 */
async function failover(how) {
  const t = topic();
  const pages = await openPages(8);
  try {
    await start(pages, `/events?topic=${t}`, { share: true });
    const leader = await settled(pages);
    await publishRange(t, 1, 250);
    await until('250 events on every page', async () => {
      const got = await Promise.all(pages.map((page) => page.evaluate(() => window.received().length)));
      return got.every((n) => n >= 250);
    });
    const gone = pages[leader];
    const rest = pages.filter((page) => page !== gone);
    const t0 = Date.now();
    await how(gone);
    await publish(devserver.base, t, 'event 251');
    const at = await until('event 251 on every remaining page', async () => {
      const times = await Promise.all(rest.map((page) => page.evaluate(() => window.share.at[250])));
      return times.every((x) => x !== undefined) && times;
    });
    const gap = Math.max(...at) - t0;
    await publishRange(t, 252, 500);
    await allReceived(rest, 500);
    await settled(rest);
    await until('one stream on the topic', async () => (await streams(t)) === 1);
    return gap;
  } finally {
    await closeAll(pages);
  }
}

test('the leader page closes mid-stream: another takes over, nothing lost or repeated', { skip }, async () => {
  const gap = await failover((page) => page.close());
  console.log(`failover gap (leader page closed): ${gap} ms`);
  assert.ok(gap < 5000, `failover took ${gap} ms`);
});

test('the leader page crashes mid-stream: another takes over, nothing lost or repeated', { skip }, async () => {
  const gap = await failover(async (page) => {
    const cdp = await page.context().newCDPSession(page);
    const crashed = new Promise((resolve) => page.once('crash', resolve));
    // The renderer dies without running anything (no pagehide, no unload); the command
    // itself never answers.
    cdp.send('Page.crash').catch(() => {});
    await until('the crash', () => Promise.race([crashed.then(() => true),
      new Promise((resolve) => setTimeout(resolve, 100, false))]));
  });
  console.log(`failover gap (leader renderer crashed): ${gap} ms`);
  assert.ok(gap < 5000, `failover took ${gap} ms`);
});

test('the six-connection limit: unshared streams leave a 7th page stuck, shared ones do not', { skip }, async () => {
  const pages = await openPages(7);
  const seventh = pages[6];
  try {
    // Unshared: six pages hold the browser's six connections to the origin; the 7th page's
    // own stream and a plain fetch from it wait for one.
    const t = topic();
    await start(pages.slice(0, 6), `/events?topic=${t}`, {});
    await until('six streams', async () => (await streams(t)) === 6);
    seventh.evaluate((u) => { window.startClient(u, {}); }, `/events?topic=${t}`);
    assert.equal(await seventh.evaluate(() => window.fetchWithin('/healthz', 1500)), false);
    assert.equal(await streams(t), 6);
    await Promise.all(pages.map((page) => page.evaluate(() => window.stopClient())));
    await until('no stream', async () => (await streams(t)) === 0);

    // Shared: one connection for the seven; the fetch answers at once.
    const s = topic();
    await start(pages, `/events?topic=${s}`, { share: true });
    await settled(pages);
    assert.equal(await streams(s), 1);
    assert.equal(await seventh.evaluate(() => window.fetchWithin('/healthz', 1500)), true);
  } finally {
    await closeAll(pages);
  }
});

test('one connection per share key and per browser profile; none shared when off', { skip }, async () => {
  const pages = await openPages(8);
  const other = await browser.newContext();
  try {
    // Two streams among the same pages: one connection each.
    const [a, b] = [topic(), topic()];
    await start(pages.slice(0, 4), `/events?topic=${a}`, { share: true });
    await start(pages.slice(4), `/events?topic=${b}`, { share: true });
    await settled(pages.slice(0, 4));
    await settled(pages.slice(4));
    assert.deepEqual([await streams(a), await streams(b)], [1, 1]);

    // Another profile shares nothing with the first.
    const [elsewhere] = await openPages(1, other);
    await start([elsewhere], `/events?topic=${a}`, { share: true });
    assert.equal(await elsewhere.evaluate(() => window.role()), 'leader');
    assert.equal(await streams(a), 2);
    await publish(devserver.base, a, 'to both profiles');
    await allReceived([...pages.slice(0, 4), elsewhere], 1);
    await Promise.all(pages.map((page) => page.evaluate(() => window.stopClient())));
    await elsewhere.evaluate(() => window.stopClient());

    // Not shared: every page holds its own (six, the browser's limit per origin).
    const c = topic();
    await start(pages.slice(0, 6), `/events?topic=${c}`, {});
    assert.deepEqual(await roles(pages.slice(0, 6)), Array(6).fill(null));
    await until('six streams', async () => (await streams(c)) === 6);
  } finally {
    await closeAll(pages);
    await other.close();
  }
});

/**
 * Three pages share a stream; `away(leader)` takes the leader's page out (and `back` brings
 * it in again, if given): another page leads on one connection, and every page present
 * still receives every event once, in order. A page that comes back follows from the live
 * stream: it has the events before it left and after it came back, each once, in order
 * (those published while it was out are not replayed to a follower; docs/sharing.md).
 */
async function stepsDown(options, away, back) {
  const t = topic();
  const pages = await openPages(3);
  try {
    await start(pages, `/events?topic=${t}`, { share: true, ...options });
    const leader = await settled(pages);
    await publishRange(t, 1, 5);
    await allReceived(pages, 5);
    const gone = pages[leader];
    const rest = pages.filter((page) => page !== gone);
    await away(gone);
    await settled(rest);
    await publishRange(t, 6, 10);
    await allReceived(rest, 10);
    await until('one stream on the topic', async () => (await streams(t)) === 1);
    if (back) {
      await back(gone);
      await settled(pages);
      await publishRange(t, 11, 15);
      await allReceived(rest, 15);
      await until('the returning page has event 15', async () => (await gone.evaluate(() => window.received())).includes(15));
      const got = await gone.evaluate(() => window.received());
      assert.deepEqual(got.slice(0, 5), [1, 2, 3, 4, 5], got.join(' '));
      assert.deepEqual(got.slice(-5), [11, 12, 13, 14, 15], got.join(' '));
      assert.ok(got.every((id, i) => i === 0 || id > got[i - 1]), `not once, in order: ${got}`);
      await until('one stream on the topic', async () => (await streams(t)) === 1);
    }
  } finally {
    await closeAll(pages);
  }
}

test('a leader leaving its page (pagehide) hands over', { skip }, async () => {
  await stepsDown({}, (page) => page.goto('about:blank'));
});

test("the leader's close() hands over; a follower's close() affects no one", { skip }, async () => {
  await stepsDown({}, async (page) => {
    await page.evaluate(() => window.stopClient());
    assert.equal(await page.evaluate(() => window.role()), null);
  });
  const t = topic();
  const pages = await openPages(3);
  try {
    await start(pages, `/events?topic=${t}`, { share: true });
    const leader = await settled(pages);
    const follower = pages[(leader + 1) % 3];
    await follower.evaluate(() => window.stopClient());
    const rest = pages.filter((page) => page !== follower);
    await publishRange(t, 1, 5);
    await allReceived(rest, 5);
    assert.equal(await pages[leader].evaluate(() => window.role()), 'leader');
    assert.deepEqual(await follower.evaluate(() => window.received()), []);
    assert.equal(await streams(t), 1);
  } finally {
    await closeAll(pages);
  }
});

test('a leader page in the back/forward cache holds nothing, and follows when restored', { skip }, async () => {
  const { launchChromium } = await import('../../scripts/chromium.mjs');
  const cached = await launchChromium({ backForwardCache: true });
  const t = topic();
  try {
    const pages = await openPages(3, await cached.newContext());
    await start(pages, `/events?topic=${t}`, { share: true });
    const leader = await settled(pages);
    await publishRange(t, 1, 5);
    await allReceived(pages, 5);
    const gone = pages[leader];
    const rest = pages.filter((page) => page !== gone);
    await gone.evaluate(() => { window.restored = new Promise((resolve) => addEventListener('pageshow', (e) => resolve(e.persisted))); });
    await gone.goto(`${devserver.base}/share.html?elsewhere`);
    await settled(rest);
    await publishRange(t, 6, 10);
    await allReceived(rest, 10);
    await until('one stream on the topic', async () => (await streams(t)) === 1);
    await gone.goBack({ waitUntil: 'commit' });
    // Restored from the cache (the same window, not a new load), then following again.
    assert.equal(await gone.evaluate(() => window.restored), true);
    await settled(pages);
    await publishRange(t, 11, 15);
    await allReceived(rest, 15);
    await until('the restored page has event 15', async () => (await gone.evaluate(() => window.received())).includes(15));
    const got = await gone.evaluate(() => window.received());
    assert.deepEqual([got.slice(0, 5), got.slice(-5)], [[1, 2, 3, 4, 5], [11, 12, 13, 14, 15]], got.join(' '));
    assert.ok(got.every((id, i) => i === 0 || id > got[i - 1]), `not once, in order: ${got}`);
    await until('one stream on the topic', async () => (await streams(t)) === 1);
  } finally {
    await cached.close();
  }
});

test('a leader told it is frozen steps down and follows again when resumed', { skip }, async () => {
  // The events Chromium fires when it freezes a page (Memory Saver, background tabs) and
  // wakes it; headless Chromium does not freeze visible pages itself (a leader that really
  // stops running is the silent-leader test below).
  const fire = (page, type) => page.evaluate((t) => document.dispatchEvent(new Event(t)), type);
  await stepsDown({}, (page) => fire(page, 'freeze'), async (page) => {
    await fire(page, 'resume');
    await until('the resumed page follows', async () => (await page.evaluate(() => window.role())) === 'follower');
  });
});

test('a leader hidden with pauseWhenHidden hands over, and follows when visible', { skip }, async () => {
  await stepsDown({ pauseWhenHidden: true }, (page) => page.evaluate(() => window.setHidden(true)),
    (page) => page.evaluate(() => window.setHidden(false)));
});

test('a silent leader (its JS paused) is replaced after the documented silence; no event twice', { skip }, async () => {
  const t = topic();
  const pages = await openPages(3);
  try {
    await start(pages, `/events?topic=${t}`, { share: true });
    const leader = await settled(pages);
    await publishRange(t, 1, 5);
    await allReceived(pages, 5);
    const silent = pages[leader];
    const rest = pages.filter((page) => page !== silent);
    const cdp = await silent.context().newCDPSession(silent);
    await cdp.send('Debugger.enable');
    const t0 = Date.now();
    await cdp.send('Debugger.pause');
    // A follower steals the lock after 3 s of silence (plus up to 1 s).
    await until('a follower leads', async () => (await roles(rest)).includes('leader'), 10_000);
    const took = Date.now() - t0;
    assert.ok(took >= 2500, `took over after ${took} ms`);
    await publishRange(t, 6, 10);
    await allReceived(rest, 10);
    // The old leader runs again: it finds its lock gone and follows; it has every event once.
    await cdp.send('Debugger.resume');
    await settled(pages);
    await publishRange(t, 11, 15);
    await allReceived(pages, 15);
    await until('one stream on the topic', async () => (await streams(t)) === 1);
  } finally {
    await closeAll(pages);
  }
});

test('Node: share is accepted and the client connects on its own', { skip }, async () => {
  const { SseClient, SseError } = await import('wasm-sse');
  const t = topic();
  const client = new SseClient(`${devserver.base}/events?topic=${t}`, { share: true });
  const roles = [];
  client.addEventListener('sharechange', (e) => roles.push(e.shared));
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no open')), WAIT_MS);
      client.onopen = () => { clearTimeout(timer); resolve(); };
    });
    assert.equal(client.shared, null);
    assert.equal(await streams(t), 1);
    const got = new Promise((resolve) => { client.onmessage = (e) => resolve(e.data); });
    await publish(devserver.base, t, 'alone');
    assert.equal(await got, 'alone');
    assert.deepEqual(roles, []);
  } finally {
    client.close();
  }
  // Headers from a function need a key of the page's own.
  assert.throws(() => new SseClient(`${devserver.base}/events?topic=${t}`, { share: true, headers: () => ({}) }),
    (e) => e instanceof SseError && e.type === 'invalid-option' && e.option === 'share');
  new SseClient(`${devserver.base}/events?topic=${t}`, { share: 'user-1', headers: () => ({}) }).close();
});
