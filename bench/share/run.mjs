// The cross-tab sharing benchmark (docs/sharing.md): with 4 tabs sharing one stream, the
// events/s each follower receives against the leader's, and the failover gap (the leader's
// tab closes: how long until every other tab has the next event) over 10 failovers.
//
//   node bench/share/run.mjs [--count 20000] [--failovers 10]
//
// Headless Chromium through playwright-core (one browser context, as tabs of one profile),
// the release dev server on 127.0.0.1 serving tests/node/pages/share.html and this tree's
// dist/ (built by scripts/build.sh). The rate run reads a recorded stream of `count` small
// JSON events (`--replay`), held back 1.5 s (`delayMs`) so that the four tabs have chosen
// their leader before the first event. Honours CARGO_TARGET_DIR.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { launchChromium } from '../../scripts/chromium.mjs';
import { devserverBin, publish, startDevServer } from '../../scripts/devserver.mjs';
import { until as untilWithin } from '../../scripts/until.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 20000);
const failovers = arg('failovers', 10);
const tabs = 4;
const root = new URL('../..', import.meta.url).pathname;
const tmp = join(root, '.tmp', 'bench-share');
mkdirSync(tmp, { recursive: true });
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run('bash', ['scripts/build.sh']);
if (!process.env.SSE_DEVSERVER_BIN) run('cargo', ['build', '--release', '-p', 'wasm-sse-devserver']);
let stream = '';
for (let n = 1; n <= count; n += 1) {
  stream += `id: ${n}\ndata: {"n":${n},"price":${(n * 7) % 1000}.25,"symbol":"ABC"}\n\n`;
}
writeFileSync(join(tmp, 'stream.sse'), stream);

const server = await startDevServer({
  bin: devserverBin({ release: true }),
  args: ['--www', join(root, 'tests/node/pages'), '--pkg', join(root, 'dist'), '--demo-interval-ms', '0',
    '--replay', `/bench/stream=${join(tmp, 'stream.sse')}`],
});
const browser = await launchChromium();
const context = await browser.newContext();

/** Resolves when `check()` is truthy (polled), or fails with `what` after `ms`. */
const until = (what, check, ms = 60_000) => untilWithin(what, check, ms);

async function openTab() {
  const page = await context.newPage();
  await page.goto(`${server.base}/share.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20_000 });
  return page;
}

const role = (page) => page.evaluate(() => window.role());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  // 1. Events/s: leader against followers, `count` events replayed as fast as they go.
  const pages = [];
  for (let i = 0; i < tabs; i++) pages.push(await openTab());
  await Promise.all(pages.map((page) => page.evaluate(() => {
    window.startClient('/bench/stream?delayMs=1500', { share: true });
  })));
  await until('every tab has every event', async () => {
    const lengths = await Promise.all(pages.map((page) => page.evaluate(() => window.received().length)));
    return lengths.every((n) => n >= count);
  }, 300_000);
  // Each tab's rate over the same span: from the leader's first event to the tab's last
  // (a follower's own first-to-last span would leave out the time its first batch took).
  const seen = [];
  for (const page of pages) {
    seen.push(await page.evaluate(() => {
      const { at, ids } = window.share;
      return [window.role(), at[0], at[at.length - 1], ids.length];
    }));
  }
  const start = seen.find(([r]) => r === 'leader')[1];
  const rows = seen.map(([r, , last, ids]) => {
    if (ids !== count) throw new Error(`a tab received ${ids} events, not ${count}`);
    return [r, count / (Math.max(1, last - start) / 1000)];
  });
  const leaderRate = rows.find(([r]) => r === 'leader')[1];
  const followerRates = rows.filter(([r]) => r === 'follower').map(([, rate]) => rate);
  for (const page of pages) await page.close();

  // 2. Failover gaps: the leader's tab closes, a new tab joins, `failovers` times.
  const live = [];
  for (let i = 0; i < tabs; i++) live.push(await openTab());
  const topic = `bench-share-${Date.now()}`;
  for (const page of live) await page.evaluate((t) => window.startClient(`/events?topic=${t}`, { share: true }), topic);
  const gaps = [];
  let published = 0;
  for (let k = 0; k < failovers; k++) {
    const roles = await until('a leader', async () => {
      const r = await Promise.all(live.map(role));
      return r.filter((x) => x === 'leader').length === 1 && r.filter((x) => x === 'follower').length === live.length - 1 && r;
    });
    const leader = live.splice(roles.indexOf('leader'), 1)[0];
    published += 1;
    await publish(server.base, topic, `before ${k}`);
    const before = published;
    await until('the event before the failover', async () =>
      (await Promise.all([leader, ...live].map((p) => p.evaluate(() => window.share.at.length)))).every((n) => n >= before));
    const t0 = Date.now();
    await leader.close();
    published += 1;
    await publish(server.base, topic, `after ${k}`);
    const at = await until('the event after the failover on every tab', async () => {
      const times = await Promise.all(live.map((p) => p.evaluate((n) => window.share.at[n - 1], published)));
      return times.every((x) => x !== undefined) && times;
    });
    gaps.push(Math.max(...at) - t0);
    const fresh = await openTab();
    await fresh.evaluate((t) => window.startClient(`/events?topic=${t}`, { share: true }), topic);
    // A tab that joins late starts from the live stream: its times count from here.
    await fresh.evaluate((n) => { window.share.at = new Array(n).fill(0); }, published);
    live.push(fresh);
  }
  for (const page of live) await page.close();

  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`\nChromium ${browser.version()}, ${tabs} tabs of one profile sharing one stream, ${count} small JSON events ` +
    '(events/s from the leader\'s first event to each tab\'s last)');
  console.log(`leader                 ${fmt(leaderRate).padStart(10)} events/s`);
  for (const rate of followerRates) {
    console.log(`follower               ${fmt(rate).padStart(10)} events/s  (${(rate / leaderRate).toFixed(2)}x the leader; goal >= 0.5x)`);
  }
  console.log(`failover gap over ${failovers} failovers (leader tab closed -> next event on every tab): ` +
    `median ${median(gaps)} ms, max ${Math.max(...gaps)} ms (goal <= 1000 ms)`);
} finally {
  await browser.close();
  await server.stop();
}
