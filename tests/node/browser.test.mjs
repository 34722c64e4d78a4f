// The package as users install it: `npm pack` (or WASM_SSE_TARBALL, as in vite.test.mjs),
// install the tarball into a temporary project, then run against that install: a Node ESM
// script, and pages in headless Chromium served by a second dev server (`--www
// tests/node/pages --pkg <installed dist>`): plain ESM, a module worker, and the
// EventSource-compatibility suite (same body against EventSource and SseClient).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { devserverBin, startDevServer } from '../../scripts/devserver.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const base = process.env.SSE_DEVSERVER_URL;
const server = devserverBin();
const skip = !base ? 'SSE_DEVSERVER_URL is not set'
  : !existsSync(join(root, 'dist/index.js')) ? 'dist/ is not built (scripts/build.sh)'
    : !existsSync(server) ? `no dev server binary at ${server}` : false;

let tmp;
let project;
let devserver;
let pageBase;
let browser;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'wasm-sse-pack-'));
  // WASM_SSE_TARBALL: the tarball packed from a clean clone by tests/package (the full tier);
  // otherwise this tree's dist/ as built, packed without running `prepack` (the build) again.
  const tarball = process.env.WASM_SSE_TARBALL || join(tmp, JSON.parse(execFileSync('npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: root, encoding: 'utf8' }))[0].filename);
  project = join(tmp, 'consumer');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project, stdio: 'pipe' });

  devserver = await startDevServer({
    bin: server,
    args: ['--www', join(root, 'tests/node/pages'), '--pkg', join(project, 'node_modules/wasm-sse/dist'),
      '--demo-interval-ms', '0'],
  });
  pageBase = devserver.base;
  const { launchChromium } = await import('../../scripts/chromium.mjs');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await devserver?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function openPage(path, ready) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400 && !/\/(favicon\.ico|events)\b/.test(new URL(r.url()).pathname)) errors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${pageBase}${path}`);
  await page.waitForFunction(ready, null, { timeout: 20_000 });
  return { page, errors };
}

test('the installed tarball works from a Node ESM project', { skip }, () => {
  const script = `
    import { SseClient, version } from 'wasm-sse';
    const base = process.argv[2];
    const topic = 'packed-' + Date.now();
    const client = new SseClient(base + '/events?topic=' + topic);
    client.onopen = () => fetch(base + '/publish?topic=' + topic, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: 'n', data: { x: 1 } }) });
    client.on('n', (value, event) => {
      console.log(JSON.stringify({ resolved: import.meta.resolve('wasm-sse'), version: version(), value, id: event.lastEventId, transport: client.transport }));
      client.close();
    });
    client.onerror = (e) => { console.error(e.error.message); process.exit(1); };
  `;
  writeFileSync(join(project, 'check.mjs'), script);
  const out = JSON.parse(execFileSync(process.execPath, ['check.mjs', base], { cwd: project, encoding: 'utf8', timeout: 20_000 }));
  assert.match(out.resolved, /consumer\/node_modules\/wasm-sse\/dist\/node\.js$/);
  assert.equal(out.version, '0.1.0');
  assert.deepEqual(out.value, { x: 1 });
  assert.equal(out.id, '1');
  assert.equal(out.transport, 'fetch');
});

test('the installed package in a browser page (plain ESM from a static server)', { skip }, async () => {
  const { page, errors } = await openPage('/package.html', () => window.packageReady);
  const result = await page.evaluate(() => window.runPackage());
  assert.deepEqual(errors, []);
  assert.equal(result.version, '0.1.0');
  // Same origin: automatic selection prefers fetch streaming (see the README's table).
  assert.equal(result.transport, 'fetch');
  assert.equal(result.readyState, 2);
  assert.deepEqual(result.got, [[{ value: 1 }, '1', result.origin], [{ value: 2 }, '2', result.origin]]);
  await page.close();
});

test('the installed package in a module Web Worker', { skip }, async () => {
  const { page, errors } = await openPage('/package.html', () => window.packageReady);
  const result = await page.evaluate(() => window.runWorker());
  assert.deepEqual(errors, []);
  assert.equal(result.data, 'from worker');
  // Same origin in a worker too: fetch streaming, EventSource or not.
  assert.equal(result.transport, 'fetch');
  console.log(`# worker transport chosen automatically: ${result.transport}`);
  // And a forced transport inside a worker: the worker's own EventSource where it has one.
  const forced = result.hasEventSource ? 'eventsource' : 'long-poll';
  const viaForced = await page.evaluate((t) => window.runWorker(t), forced);
  assert.deepEqual(viaForced, { data: 'from worker', transport: forced, hasEventSource: result.hasEventSource });
  await page.close();
});

test('EventSource compatibility: same observable behaviour as the browser EventSource', { skip }, async () => {
  const { page, errors } = await openPage('/compat.html', () => window.compatReady);
  const logs = await page.evaluate(() => window.runCompat());
  assert.deepEqual(errors, []);
  assert.ok(logs.EventSource.length > 10, logs.EventSource.join('\n'));
  if (process.env.COMPAT_LOG) console.log(logs.EventSource.map((l) => `# ${l}`).join('\n'));
  assert.deepEqual(logs.SseClient, logs.EventSource);
  await page.close();
});
