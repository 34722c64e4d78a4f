// What JS users ask of the connection (issue 18): bodies of every kind and any method, a
// custom fetch, retryOn, reconnect(), one-shot streams (closeOnEnd). Each scenario of
// tests/node/pages/requests.js runs in Node and in headless Chromium against the real dev
// server and a local server (tests/node/fixtures/request-server.mjs); both must see the
// same.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SseClient } from 'wasm-sse';

import { startRequestServer } from './fixtures/request-server.mjs';
import { scenarios } from './pages/requests.js';
import { base, skip } from './helpers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const devserverBin = process.env.SSE_DEVSERVER_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug/sse-devserver');
const browserSkip = skip || (!existsSync(chromiumPath) ? `no Chromium at ${chromiumPath}`
  : !existsSync(join(root, 'dist/index.js')) ? 'dist/ is not built (scripts/build.sh)'
    : !existsSync(devserverBin) ? `no dev server binary at ${devserverBin}` : false);

/** What each scenario must return. */
const expected = {
  'body: object as JSON': {
    method: 'POST', contentType: 'application/json', body: '{"q":1,"s":"é"}', transport: 'fetch',
    closed: 'ended', iterator: 'done', seen: ['request'],
  },
  'body: URLSearchParams': {
    method: 'POST', contentType: 'application/x-www-form-urlencoded;charset=UTF-8', body: 'a=1&b=x+y',
    transport: 'fetch', closed: 'ended', iterator: 'done', seen: ['request'],
  },
  'body: FormData': (r) => {
    assert.match(r.contentType, /^multipart\/form-data; ?boundary=/);
    assert.deepEqual({ ...r, contentType: 'multipart' }, {
      method: 'POST', contentType: 'multipart', body: true, transport: 'fetch', closed: 'ended',
      iterator: 'done', seen: ['request'],
    });
  },
  'body: Blob': {
    method: 'POST', contentType: 'text/plain', body: 'raw bytes', transport: 'fetch', closed: 'ended',
    iterator: 'done', seen: ['request'],
  },
  'body: a string with PUT': { data: 'PUT put body' },
  'fetch option': (r) => {
    assert.deepEqual(r.fetch, ['stream']);
    assert.ok(r['long-poll'].length >= 1 && r['long-poll'].every((t) => t === 'long-poll'), JSON.stringify(r));
  },
  'retryOn refreshes a token': { data: 'ok', calls: 2, asked: ['http-status 401'] },
  'retryOn declines': { type: 'http-status', status: 401, fatal: true, readyState: 2 },
  'reconnect()': { data: ['1', '2'], opens: 2, states: [1, 0, 1, 2] },
  'reconnect() with a new URL and body': { first: 'POST first', second: 'POST {"second":true}', url: '?v=2' },
  'closeOnEnd after a cut': { data: ['1', '2', '3'], errors: ['network'], reason: 'ended' },
  'response details': {
    fetch: { status: 200, requestId: 'r-7' },
    'long-poll': { status: 200, requestId: 'r-7' },
    error: { type: 'http-status', status: 403, length: 4096, start: 'forbidden: ' },
  },
  'closeOnEnd refuses eventsource and long-poll': ['invalid-option closeOnEnd', 'invalid-option closeOnEnd'],
};

function check(name, result) {
  const want = expected[name];
  if (typeof want === 'function') want(result);
  else assert.deepEqual(result, want);
}

let local;
before(async () => { local = await startRequestServer(); });
after(async () => { await local?.close(); });

describe('Node', { skip }, () => {
  for (const name of Object.keys(scenarios)) {
    test(name, async () => check(name, await scenarios[name](SseClient, { dev: base, local: local.url })));
  }
});

describe('headless Chromium', { skip: browserSkip }, () => {
  let devserver;
  let browser;
  let page;
  let pageBase;
  const pageErrors = [];
  before(async () => {
    devserver = spawn(devserverBin, ['--addr', '127.0.0.1:0', '--www', join(root, 'tests/node/pages'),
      '--pkg', join(root, 'dist'), '--demo-interval-ms', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    pageBase = await new Promise((resolve, reject) => {
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
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${pageBase}/compat.html`);
  });
  after(async () => {
    await browser?.close();
    devserver?.kill();
    assert.deepEqual(pageErrors, []);
  });
  for (const name of Object.keys(scenarios)) {
    test(name, async () => {
      // The page's own dev server: same origin for the `dev` scenarios (fetch streaming).
      const result = await page.evaluate(async ({ name, local }) => {
        const [{ SseClient }, { scenarios }] = await Promise.all([import('/pkg/index.js'), import('/requests.js')]);
        return scenarios[name](SseClient, { dev: location.origin, local });
      }, { name, local: local.url });
      check(name, result);
    });
  }
});
