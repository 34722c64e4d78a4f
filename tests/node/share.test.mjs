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

/** Resolves when `check()` is truthy (polled), or fails with `what` after WAIT_MS. */
async function until(what, check, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

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
  for (const page of pages) {
    assert.deepEqual(await page.evaluate(() => window.received()), want);
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
