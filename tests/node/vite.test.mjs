// The package through Vite, as an app author meets it: `npm pack` (or the clean clone's tarball
// in WASM_SSE_TARBALL), install the tarball into a temporary project holding the small app in
// tests/node/vite-app (index.html + main.js with
// `import { SseClient } from 'wasm-sse'`, no Vite config), `vite build`, serve the built dist/
// with `vite preview` on another loopback port and open it in headless Chromium. The page
// connects to the dev server (a cross-origin URL the dev server's default loopback allowlist
// accepts); the test publishes and checks what arrives. Then the same app under `vite` (dev).
// Vite is the repository's own exact-pinned devDependency (installed by `npm ci`), run with the
// temporary project as its root: the project itself installs only the tarball.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { publish } from '../../scripts/devserver.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const base = process.env.SSE_DEVSERVER_URL;
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const viteBin = join(root, 'node_modules/vite/bin/vite.js');
const skip = !base ? 'SSE_DEVSERVER_URL is not set'
  : !existsSync(join(root, 'dist/index.js')) ? 'dist/ is not built (scripts/build.sh)'
    : !existsSync(viteBin) ? 'vite is not installed (npm ci)'
      : !existsSync(chromium) ? `no Chromium at ${chromium}` : false;

let tmp;
let project;
let browser;
const children = new Set();

// Runs the Vite CLI to completion (bounded), in the project, with no stdin.
function vite(args) {
  return execFileSync(process.execPath, [viteBin, ...args], {
    cwd: project, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', NO_COLOR: '1' },
  });
}

// Starts a long-running Vite server (`preview` or dev) on a free loopback port and resolves
// with its URL once it prints one; the process is killed in `after` if a test does not.
function viteServer(args) {
  const child = spawn(process.execPath, [viteBin, ...args, '--host', '127.0.0.1', '--port', '0', '--strictPort'], {
    cwd: project, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true', NO_COLOR: '1' },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`vite ${args[0] ?? 'dev'} printed no URL in 30 s:\n${out}`)), 30_000);
    const onData = (chunk) => {
      out += chunk;
      const url = out.match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (url && url[1] !== '0') { clearTimeout(timer); resolve({ url: url[0], child, output: () => out }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`vite ${args[0] ?? 'dev'} exited (${code}):\n${out}`)); });
  });
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 5_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill();
  });
}

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'wasm-sse-vite-'));
  // WASM_SSE_TARBALL: the tarball packed from a clean clone by tests/package (the full tier);
  // otherwise this tree's dist/ as built, packed without running `prepack` (the build) again.
  const tarball = process.env.WASM_SSE_TARBALL || join(tmp, JSON.parse(execFileSync('npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: root, encoding: 'utf8', timeout: 60_000 }))[0].filename);
  project = join(tmp, 'app');
  mkdirSync(project);
  cpSync(join(root, 'tests/node/vite-app'), project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'vite-consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball],
    { cwd: project, stdio: 'pipe', timeout: 60_000 });
  const { launchChromium } = await import('../../scripts/chromium.mjs');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([...children].map(stop));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Opens the app, waits for its connection, publishes two events to the dev server and returns
// what the page received, with every page error, console warning/error and failed request.
async function runApp(appUrl, topic) {
  const page = await browser.newPage();
  const problems = [];
  const requests = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  page.on('console', (m) => {
    // A missing favicon is the only 404 allowed (the browser logs it as a console error).
    if ((m.type() === 'error' || m.type() === 'warning') && !/\/favicon\.ico$/.test(m.location().url ?? '')) {
      problems.push(`console.${m.type()}: ${m.text()} (${m.location().url})`);
    }
  });
  page.on('requestfailed', (r) => { if (!new URL(r.url()).pathname.startsWith('/events')) problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on('response', (r) => {
    requests.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
    if (r.status() >= 400 && !/\/favicon\.ico$/.test(new URL(r.url()).pathname)) problems.push(`${r.status()} ${r.url()}`);
  });
  try {
    await page.goto(`${appUrl}/?server=${encodeURIComponent(base)}&topic=${topic}`, { timeout: 20_000 });
    await page.waitForFunction(() => window.sseOpen || window.sseErrors, null, { timeout: 20_000 });
    for (const value of [1, 2]) {
      await publish(base, topic, { value }, 'price');
    }
    await page.waitForFunction(() => window.sseResult || window.sseErrors, null, { timeout: 20_000 });
    const result = await page.evaluate(() => ({ ...window.sseResult, errors: window.sseErrors }));
    return { result, problems, requests };
  } catch (e) {
    e.message += `\npage problems: ${JSON.stringify(problems)}`;
    throw e;
  } finally {
    await page.close();
  }
}

function assertReceived(result, problems) {
  assert.deepEqual(problems, []);
  assert.equal(result.errors, undefined);
  assert.equal(result.version, '0.1.0');
  assert.equal(result.sseError, 'function');
  assert.equal(result.readyState, 2);
  // Cross-origin (the app's server is not the dev server): EventSource is the automatic choice.
  assert.equal(result.transport, 'eventsource');
  assert.deepEqual(result.got, [[{ value: 1 }, '1', base], [{ value: 2 }, '2', base]]);
}

test('vite build: the wasm is emitted as an asset and the built app receives events', { skip, timeout: 120_000 }, async () => {
  const started = Date.now();
  vite(['build']);
  const assets = readdirSync(join(project, 'dist/assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm asset: ${assets}`);
  assert.match(wasm[0], /^wasm_sse_bg-[\w-]+\.wasm$/);
  // The bundle loads the hashed asset through `new URL(..., import.meta.url)`.
  const js = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(project, 'dist/assets', f), 'utf8')).join('\n');
  assert.ok(js.includes(wasm[0]), 'the JavaScript names the emitted wasm asset');
  assert.match(js, /import\.meta\.url/);

  const preview = await viteServer(['preview']);
  try {
    const { result, problems, requests } = await runApp(preview.url, `vite-build-${Date.now()}`);
    assertReceived(result, problems);
    const wasmRequests = requests.filter((r) => new URL(r.url).pathname.endsWith('.wasm'));
    assert.deepEqual(wasmRequests.map((r) => [new URL(r.url).pathname, r.status, r.type]),
      [[`/assets/${wasm[0]}`, 200, 'application/wasm']]);
    assert.ok(!requests.some((r) => r.url.includes('node_modules')), 'nothing fetched from node_modules');
  } finally {
    await stop(preview.child);
  }
  console.log(`vite build + preview + events: ${Date.now() - started} ms`);
});

test('vite (dev server): the app receives events', { skip, timeout: 120_000 }, async () => {
  const started = Date.now();
  const dev = await viteServer([]);
  try {
    const { result, problems, requests } = await runApp(dev.url, `vite-dev-${Date.now()}`);
    assertReceived(result, problems);
    // Vite pre-bundles the package (node_modules/.vite/deps) and points the wasm URL back at
    // the installed file.
    const wasm = requests.filter((r) => new URL(r.url).pathname.endsWith('.wasm'));
    assert.deepEqual(wasm.map((r) => [new URL(r.url).pathname, r.status, r.type]),
      [['/node_modules/wasm-sse/dist/wasm_sse_bg.wasm', 200, 'application/wasm']]);
  } catch (e) {
    e.message += `\nvite output:\n${dev.output()}`;
    throw e;
  } finally {
    await stop(dev.child);
  }
  console.log(`vite dev + events: ${Date.now() - started} ms`);
});
