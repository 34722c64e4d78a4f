// The npm package as a first user meets it, from a clean clone: clone the committed HEAD,
// `npm ci`, `npm pack` (its `prepack` builds dist/ from nothing), then check the tarball
// (its files, its manifest, publint and arethetypeswrong) and install it into a temporary
// project that imports it in every runtime the README names: Node, Deno and Bun (by package
// name), headless Chromium as plain ESM (an import map), in a module worker and in a module
// service worker (`wasm-sse/init`; the main entry's top-level await is refused there, which
// is checked too). Vite is tested with this same tarball by tests/node/vite.test.mjs, which
// reads WASM_SSE_TARBALL (scripts/test.sh passes it on).
//
// The tarball is left in .tmp/package/ for that. The project's pages, workers and consumers
// are tests/package/app/; a dev server of its own serves them (same origin as /events, as a
// service worker requires) and the events.
//
//   node --test tests/package/     (after `npm ci`; builds the wasm: minutes on a cold cache)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { root, ensureDevserverBuilt, startDevServer, publish, topicNamer } from '../../scripts/devserver.mjs';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bin = (name) => join(root, 'node_modules/.bin', name);
const out = join(root, '.tmp/package');
const tarball = join(out, `${pkg.name}-${pkg.version}.tgz`);
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const COUNT = 3;
const topic = topicNamer('package');

let tmp;
let project;
let server;
let browser;
let packed;
let dryRun;

// Runs a command to completion (bounded), returning its stdout; on failure the error carries
// its stderr.
function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, maxBuffer: 64 << 20, ...options,
    });
  } catch (e) {
    e.message += `\n${e.stdout ?? ''}\n${e.stderr ?? ''}`;
    throw e;
  }
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wasm-sse-package-'));
  const clone = join(tmp, 'clone');
  // A clone of the repository at the committed HEAD: nothing untracked, nothing built.
  const head = run('git', ['rev-parse', 'HEAD'], { cwd: root }).trim();
  const gitDir = run('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: root }).trim();
  run('git', ['clone', '--quiet', '--no-checkout', gitDir, clone]);
  run('git', ['checkout', '--quiet', '--detach', head], { cwd: clone });
  assert.equal(existsSync(join(clone, 'dist')), false);
  run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: clone, timeout: 300_000 });
  // `npm pack` runs `prepack` (scripts/build.sh); CARGO_TARGET_DIR is passed on, so the
  // registry crates compiled for this tree are reused.
  mkdirSync(out, { recursive: true });
  rmSync(tarball, { force: true });
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', out], { cwd: clone, timeout: 900_000 }));
  // `npm publish --dry-run` packs the same files (its `prepack` builds again; cargo has
  // nothing left to do). It contacts no registry beyond reading the package's metadata.
  dryRun = JSON.parse(run('npm', ['publish', '--dry-run', '--json'], { cwd: clone, timeout: 900_000 }));

  project = join(tmp, 'app');
  cpSync(join(root, 'tests/package/app'), project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'package-consumer', private: true, type: 'module' }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project });

  server = await startDevServer({ bin: ensureDevserverBuilt(), args: ['--www', project], stderr: 'ignore' });
  if (existsSync(chromium)) {
    const { launchChromium } = await import('../../scripts/chromium.mjs');
    browser = await launchChromium();
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// A fresh topic with COUNT `tick` events published; resolves its events URL.
async function topicWithEvents() {
  const name = topic();
  for (let n = 1; n <= COUNT; n++) await publish(server.base, name, { n }, 'tick');
  return `${server.base}/events?topic=${name}`;
}

const expected = Array.from({ length: COUNT }, (_, i) => [i + 1, String(i + 1)]);

// Checks one consumer's report: every event once, in order, the client closed.
function assertConsumed(result, transport) {
  assert.equal(result.error, undefined, result.error);
  assert.equal(result.version, pkg.version);
  assert.equal(result.transport, transport);
  assert.equal(result.readyState, 2);
  assert.deepEqual(result.got, expected);
}

test('the tarball holds dist/, the README, the licences, the changelog and package.json only', () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'CHANGELOG.md', 'LICENSE-APACHE', 'LICENSE-MIT', 'README.md',
    'dist/client.js', 'dist/index.d.ts', 'dist/index.js', 'dist/init.d.ts', 'dist/init.js', 'dist/node.js',
    'dist/wasm_sse.js', 'dist/wasm_sse_bg.wasm', 'package.json',
  ]);
  assert.deepEqual(dryRun.files?.map((f) => f.path).sort() ?? dryRun[pkg.name]?.files.map((f) => f.path).sort(), files);
});

test('the manifest names the version, the repository, the licence and an entry per runtime', () => {
  const manifest = JSON.parse(run('tar', ['-xOzf', tarball, 'package/package.json']));
  assert.equal(manifest.version, pkg.version);
  assert.equal(manifest.license, 'MIT OR Apache-2.0');
  assert.equal(manifest.repository.url, 'git+https://github.com/wasm-sse/wasm-sse.git');
  assert.equal(manifest.homepage, 'https://github.com/wasm-sse/wasm-sse');
  assert.equal(manifest.bugs.url, 'https://github.com/wasm-sse/wasm-sse/issues');
  assert.ok(manifest.author && manifest.keywords.includes('server-sent-events'));
  assert.deepEqual(Object.keys(manifest.exports['.']), ['types', 'node', 'worker', 'browser', 'default']);
  assert.deepEqual(Object.keys(manifest.exports['./init']), ['types', 'default']);
});

test('publint: no error, warning or suggestion', () => {
  const output = run(bin('publint'), ['run', tarball, '--strict']);
  assert.match(output, /All good!/);
});

test('arethetypeswrong: every entry has its types (ESM-only profile)', () => {
  // An ES module package (the entries use top-level await and import.meta.url): the
  // `esm-only` profile leaves out CommonJS `require` and the pre-exports node10 resolution.
  run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped']);
});

test('Node imports it by name and receives events (fetch streaming)', async () => {
  const result = JSON.parse(run(process.execPath, ['consumer.mjs', await topicWithEvents(), String(COUNT)], { cwd: project, timeout: 30_000 }));
  assert.equal(result.runtime, 'node');
  assertConsumed(result, 'fetch');
});

test('Deno imports it from node_modules and receives events', async () => {
  const env = { ...process.env, DENO_DIR: join(tmp, 'deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
  const result = JSON.parse(run(bin('deno'), ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', 'consumer.mjs',
    await topicWithEvents(), String(COUNT)], { cwd: project, env, timeout: 60_000 }));
  assert.equal(result.runtime, 'deno');
  // Deno has an EventSource of its own, and no page origin: the automatic choice is EventSource.
  assertConsumed(result, 'eventsource');
});

test('Bun imports it by name and receives events', async () => {
  const env = { ...process.env, BUN_INSTALL_CACHE_DIR: join(tmp, 'bun'), NO_COLOR: '1' };
  const result = JSON.parse(run(bin('bun'), ['consumer.mjs', await topicWithEvents(), String(COUNT)], { cwd: project, env, timeout: 60_000 }));
  assert.equal(result.runtime, 'bun');
  assertConsumed(result, 'fetch');
});

// Opens `page` of the project (same origin as the dev server) in a fresh browser context and
// resolves what it reports in `window.result`, with every page error.
async function inChromium(page, params) {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const problems = [];
  tab.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  try {
    const query = new URLSearchParams(params);
    await tab.goto(`${server.base}/${page}?${query}`, { timeout: 20_000 });
    await tab.waitForFunction(() => window.result, null, { timeout: 30_000 });
    return { result: await tab.evaluate(() => window.result), problems };
  } finally {
    await context.close();
  }
}

const noChromium = existsSync(chromium) ? false : `no Chromium at ${chromium}`;

test('Chromium: plain ESM through an import map, no bundler', { skip: noChromium }, async () => {
  const { result, problems } = await inChromium('plain.html', { url: await topicWithEvents(), count: COUNT });
  assert.deepEqual(problems, []);
  // Same origin, fetch streams: the automatic choice is fetch streaming.
  assertConsumed(result, 'fetch');
});

test('Chromium: a module worker imports the browser entry', { skip: noChromium }, async () => {
  const { result, problems } = await inChromium('worker.html', { url: await topicWithEvents(), count: COUNT });
  assert.deepEqual(problems, []);
  assertConsumed(result, 'fetch');
});

test('Chromium: a module service worker imports wasm-sse/init and receives events', { skip: noChromium }, async () => {
  const { result, problems } = await inChromium('sw.html', { sw: './sw.js', url: await topicWithEvents(), count: COUNT });
  assert.deepEqual(problems, []);
  assertConsumed(result, 'fetch');
});

test('Chromium: a module service worker cannot import the main entry (top-level await)', { skip: noChromium }, async () => {
  const { result } = await inChromium('sw.html', { sw: './sw-main.js', url: await topicWithEvents(), count: COUNT });
  assert.match(result.registrationError ?? '', /TypeError/);
});
