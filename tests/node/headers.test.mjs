// The `headers` function runs before every connection attempt, on every transport that can
// send headers, in Node and in headless Chromium (issue 18): a server cuts its answers inside
// an event (tests/node/fixtures/token-server.mjs), and the request after each cut must carry
// a token the function has not returned before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SseClient } from 'wasm-sse';

import { startTokenServer } from './fixtures/token-server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const devserverBin = process.env.SSE_DEVSERVER_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug/sse-devserver');
const browserSkip = !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath}`
  : !existsSync(join(root, 'dist/index.js')) ? 'dist/ is not built (scripts/build.sh)'
    : !existsSync(devserverBin) ? `no dev server binary at ${devserverBin}` : false;
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
  let devserver;
  let browser;
  let page;
  before(async () => {
    devserver = spawn(devserverBin, ['--addr', '127.0.0.1:0', '--www', join(root, 'tests/node/pages'),
      '--pkg', join(root, 'dist'), '--demo-interval-ms', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pageBase = await new Promise((resolve, reject) => {
      let out = '';
      devserver.stdout.on('data', (chunk) => {
        out += chunk;
        const url = out.match(/http:\/\/127\.0\.0\.1:\d+/);
        if (url) resolve(url[0]);
      });
      devserver.on('exit', (code) => reject(new Error(`dev server exited (${code})`)));
    });
    const { launchChromium } = await import('../../scripts/chromium.mjs');
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${pageBase}/compat.html`);
  });
  after(async () => {
    await browser?.close();
    devserver?.kill();
  });
  for (const transport of ['fetch', 'long-poll']) {
    test(`Chromium, ${transport}: a fresh token for each connection after a cut`, async () => {
      const server = await startTokenServer();
      try {
        const ids = await page.evaluate(consume, { url: `${server.url}/tokens`, transport, total: TOTAL });
        check(ids, server.requests);
      } finally {
        await server.close();
      }
    });
  }
});
