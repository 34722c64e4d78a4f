// The live demo page (www/, issue 21) in headless Chromium, served by the dev server with the
// npm package (dist/) at /pkg/, the way `npm start` serves it: the visitor's minute, driven
// through the page's own controls. Three drops, the four transports, an outage, the share
// toggle, a valid and an invalid publish; after each, the page must have gone on receiving
// with its missed and duplicated counters at 0, and its labels must say what happened.
// Screenshots at desktop and phone sizes go to .tmp/. With www/leptos/ built (scripts/test.sh
// builds it), the Leptos version of the demo linked from the page must show live events too.
// About 30 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { launchChromium } from '../../scripts/chromium.mjs';
import { root, startDevServer } from '../../scripts/devserver.mjs';
import { browserSkip as skip } from './fixtures/test-page.mjs';

/** The demo ticker's period: fast enough that every step sees several events. */
const TICK_MS = 200;
/** The bound of every wait for the page. */
const WAIT_MS = 15_000;
/** The outage the page's button asks for lasts 5 s; the client waits its Retry-After. */
const OUTAGE_WAIT_MS = 20_000;

describe('the live demo page (headless Chromium)', { skip }, () => {
  let server;
  let browser;
  let page;
  const pageErrors = [];

  before(async () => {
    server = await startDevServer({
      args: ['--www', join(root, 'www'), '--pkg', join(root, 'dist'), '--demo-interval-ms', String(TICK_MS)],
    });
    browser = await launchChromium();
    // A context of its own, so that a second tab can join it (see secondTabFollows).
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${server.base}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const stats = () => page.evaluate(() => window.sseDemo.stats());
  const count = (selector) => page.locator(selector).count();
  /** How many timeline entries of `kind` the page logged so far. */
  const logged = (kind) => page.evaluate((k) => window.sseDemo.logged(k), kind);
  /** Waits until the page logged more than `n` entries of `kind`. */
  const loggedMore = (kind, n) => page.waitForFunction(([k, want]) => window.sseDemo.logged(k) > want, [kind, n],
    { timeout: WAIT_MS });

  /** Waits until `n` more events than now have arrived, then checks the counters. */
  async function receivesMore(n, what) {
    const { received } = await stats();
    await page.waitForFunction((want) => window.sseDemo.stats().received >= want, received + n,
      { timeout: WAIT_MS });
    await noGaps(what);
  }

  async function noGaps(what) {
    const s = await stats();
    assert.equal(s.missed, 0, `missed events after ${what}: ${JSON.stringify(s)}`);
    assert.equal(s.duplicated, 0, `duplicated events after ${what}: ${JSON.stringify(s)}`);
    assert.equal(await page.locator('#missed').textContent(), '0');
    assert.equal(await page.locator('#duplicated').textContent(), '0');
    assert.deepEqual(pageErrors, []);
  }

  /** Waits for the page's connection state label to read `state`. */
  const stateIs = (state) => page.waitForFunction((s) => document.getElementById('state').textContent === s,
    state, { timeout: WAIT_MS });

  test('live events arrive, checked in order', async () => {
    await page.waitForFunction(() => (window.sseDemo?.stats().received ?? 0) >= 3, null, { timeout: WAIT_MS });
    await stateIs('open');
    await noGaps('loading');
    assert.ok(await count('#events li.e-tick') >= 3);
    assert.match(await page.locator('#last-id').textContent(), /^\d+$/);
    // No sharing across tabs unless asked for: the hint stays hidden.
    assert.equal(await page.locator('#role').textContent(), 'not shared');
    assert.equal(await page.locator('#share-hint').isHidden(), true);
  });

  test('"drop connection" three times: the client resumes with no gap', async () => {
    for (let i = 1; i <= 3; i++) {
      const opens = await logged('open');
      const drops = await logged('drop');
      const reconnects = await logged('reconnecting');
      await page.getByRole('button', { name: 'Drop connection' }).click();
      await loggedMore('drop', drops);
      assert.match(await page.locator('#timeline li.t-drop').first().textContent(), /cuts 1 connection mid-event/,
        `drop ${i}`);
      // The cut is seen (a network error), the client reconnects and opens again.
      await loggedMore('open', opens);
      assert.ok(await logged('reconnecting') > reconnects, `drop ${i}: no reconnecting shown`);
      await receivesMore(3, `drop ${i}`);
    }
  });

  test('each transport: the label follows the choice, no gap across the switch or a drop', async () => {
    for (const [choice, label, expected] of [
      ['eventsource', 'EventSource', 'eventsource'],
      ['fetch', 'fetch', 'fetch'],
      ['long-poll', 'long-poll', 'long-poll'],
      // Same origin in a browser: auto picks fetch streaming.
      ['auto', 'auto', 'fetch'],
    ]) {
      await page.getByLabel(label, { exact: true }).check();
      await page.waitForFunction((t) => document.getElementById('transport').dataset.transport === t
        && document.getElementById('state').textContent === 'open', expected, { timeout: WAIT_MS });
      assert.equal(await page.evaluate(() => window.sseDemo.client().transport), expected, choice);
      const shown = await page.locator('#transport').textContent();
      assert.equal(shown, choice === 'auto' ? `${expected} (auto)` : expected);
      await receivesMore(3, `switching to ${choice}`);
      // A drop over this transport: the partial event is discarded, nothing lost or repeated.
      // Long polling has a moment between polls with nothing to cut: up to 3 tries.
      const cut = expected === 'long-poll' ? /aborts [1-9]\d* held polls?/ : /cuts 1 connection mid-event/;
      let said = '';
      for (let tries = 0; tries < 3 && !cut.test(said); tries++) {
        const drops = await logged('drop');
        await page.getByRole('button', { name: 'Drop connection' }).click();
        await loggedMore('drop', drops);
        said = await page.locator('#timeline li.t-drop').first().textContent();
      }
      assert.match(said, cut, choice);
      await receivesMore(3, `a drop over ${choice}`);
    }
  });

  test('an outage: 503 with Retry-After, the backoff shown, then the stream resumes', async () => {
    const errors = await logged('error');
    await page.getByRole('button', { name: 'Outage (5 s)' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('#timeline li.t-error')]
      .some((li) => /http-status 503, Retry-After \d+ ms/.test(li.textContent)), null, { timeout: WAIT_MS });
    assert.ok(await logged('error') > errors);
    await page.waitForFunction(() => /attempt \d+, after \d+ ms/.test(document.getElementById('attempt').textContent),
      null, { timeout: WAIT_MS });
    await page.waitForFunction(() => [...document.querySelectorAll('#timeline li.t-reconnecting')]
      .some((li) => /attempt \d+ in \d+ ms after http-status/.test(li.textContent)), null, { timeout: WAIT_MS });
    await page.waitForFunction(() => document.getElementById('state').textContent === 'open'
      && document.getElementById('attempt').textContent === '–', null, { timeout: OUTAGE_WAIT_MS });
    await receivesMore(3, 'the outage');
  });

  test('"share across tabs" reopens the client without a gap; the role shown is the client\'s', async () => {
    for (const on of [true, false]) {
      const opens = await logged('open');
      await page.getByLabel('Share across tabs').setChecked(on);
      await loggedMore('open', opens);
      // The only tab of its browser context: the leader when sharing.
      await page.waitForFunction((want) => document.getElementById('role').textContent === want,
        on ? 'leader (shared across tabs)' : 'not shared', { timeout: WAIT_MS });
      assert.equal(await page.locator('#share-hint').isHidden(), !on);
      assert.equal(await page.evaluate(() => window.sseDemo.conn().startsWith('tabs-')), on);
      await receivesMore(3, `sharing ${on ? 'on' : 'off'}`);
      if (on) await secondTabFollows();
    }
    // Alone again and not sharing: the server counts this tab's stream only.
    await streamsShown(page, 1);
  });

  /** The server's stream count on `tab`'s connection panel reaches `n`. */
  const streamsShown = (tab, n) => tab.waitForFunction((want) => document.getElementById('streams').textContent === want,
    String(n), { timeout: WAIT_MS });

  /**
   * A second tab of the same browser profile starts sharing (the choice is remembered), follows
   * this one, receives without gaps too, and the server still counts one stream for both.
   */
  async function secondTabFollows() {
    const second = await page.context().newPage();
    second.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      await second.goto(`${server.base}/`);
      assert.equal(await second.getByLabel('Share across tabs').isChecked(), true);
      await second.waitForFunction(() => document.getElementById('role').textContent === 'follower (shared across tabs)',
        null, { timeout: WAIT_MS });
      const received = await second.evaluate(() => window.sseDemo.stats().received);
      await second.waitForFunction((want) => window.sseDemo.stats().received >= want, received + 3, { timeout: WAIT_MS });
      const s = await second.evaluate(() => window.sseDemo.stats());
      assert.equal(s.missed + s.duplicated, 0, `the follower tab: ${JSON.stringify(s)}`);
      await streamsShown(page, 1);
      await streamsShown(second, 1);
    } finally {
      await second.close();
    }
  }

  test('publishing: a valid event shown by type, invalid JSON as the typed decode error', async () => {
    await page.getByLabel('Event type').selectOption('alert');
    await page.getByLabel(/^Data/).fill('{"text": "disk almost full", "level": 2}');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('#events li.e-alert')]
      .some((li) => li.textContent.includes('{"text":"disk almost full","level":2}')), null, { timeout: WAIT_MS });
    assert.match(await page.locator('#publish-result').textContent(), /^Published alert as #\d+\.$/);

    await page.getByLabel('Event type').selectOption('note');
    await page.getByLabel(/^Data/).fill('{"text": oops}');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('#events li.e-invalid')]
      .some((li) => li.dataset.error === 'decode' && li.textContent.includes('decode error: {"text": oops}')),
    null, { timeout: WAIT_MS });
    await page.waitForFunction(() => [...document.querySelectorAll('#timeline li.t-error')]
      .some((li) => li.textContent.includes('decode')), null, { timeout: WAIT_MS });
    // Both published events count in the sequence: nothing missed around them.
    await receivesMore(3, 'publishing');
  });

  test('screenshots at desktop and phone widths', async () => {
    mkdirSync(join(root, '.tmp'), { recursive: true });
    await page.screenshot({ path: join(root, '.tmp/demo.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    // Nothing wider than the phone's screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 390, `the page is ${overflow} px wide at 390 px`);
    await page.screenshot({ path: join(root, '.tmp/demo-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    await noGaps('the whole run');
  });

  test('the Leptos version is linked, and live when built', async () => {
    assert.equal(await page.getByRole('link', { name: /Leptos/ }).getAttribute('href'), '/leptos/');
    if (!existsSync(join(root, 'www/leptos/index.html'))) {
      assert.equal((await fetch(`${server.base}/leptos/`)).status, 404);
      return;
    }
    const leptos = await browser.newPage();
    leptos.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      await leptos.goto(`${server.base}/leptos/`);
      await leptos.waitForFunction(() => document.querySelectorAll('#events li').length >= 2, null,
        { timeout: WAIT_MS });
    } finally {
      await leptos.close();
    }
    assert.deepEqual(pageErrors, []);
  });
});
