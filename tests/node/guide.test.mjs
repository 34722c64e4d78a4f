// The Playwright example of the testing guide (docs/testing.md): an app's own end-to-end tests
// against the dev server's fault scenarios in headless Chromium. The app is tests/guide/app
// (it imports the built package from /pkg/), its events the replay file tests/guide/orders.sse.
// The code between the `guide:` markers is the guide's code block, verbatim
// (scripts/check-docs.mjs compares them).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { devserverBin, root } from '../../scripts/devserver.mjs';

const needs = !existsSync(join(root, 'dist/index.js')) ? 'dist/ is not built (scripts/build.sh)'
  : !existsSync(devserverBin()) ? `no dev server binary at ${devserverBin()}` : false;
const SSE_DEVSERVER = devserverBin();

// guide:start playwright
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

let server;
let base;
let browser;

before(async () => {
  if (needs) return;
  // The dev server on a free loopback port: the app's pages, the package under /pkg/, and the
  // recorded orders on /orders. It prints `... listening on http://127.0.0.1:PORT` once bound.
  server = spawn(SSE_DEVSERVER, ['--addr', '127.0.0.1:0', '--www', 'tests/guide/app', '--pkg', 'dist',
    '--replay', '/orders=tests/guide/orders.sse'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    server.stdout.on('data', (line) => {
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0];
      if (url) resolve(url);
    });
    server.on('exit', (code) => reject(new Error(`sse-devserver exited (${code})`)));
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

// Opens the app with the dev server's fault scenario in the query string.
async function openApp(scenario) {
  const page = await browser.newPage();
  await page.goto(`${base}/?${scenario}`);
  return page;
}

test('every order is listed once although the server drops the stream every 2 events', { skip: needs }, async () => {
  const page = await openApp('closeAfter=2');
  await page.waitForFunction(() => document.querySelectorAll('#orders li').length === 5);
  assert.deepEqual(await page.locator('#orders li').allTextContents(),
    ['#1 new', '#2 new', '#1 paid', '#3 new', '#2 paid']);
  await page.close();
});

test('an expired session (401) is shown as stopped instead of retried', { skip: needs }, async () => {
  const page = await openApp('status=401');
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  assert.equal(await page.textContent('#status'), 'stopped: http-status 401');
  await page.close();
});
// guide:end playwright
