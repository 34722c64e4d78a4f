// The client benchmark (issue: client core): events/s delivered to a Rust handler through
// wasm-sse versus the browser's EventSource with a JS handler, in one headless Chromium run.
//
//   node bench/client/run.mjs [--count 200000] [--rounds 3]
//
// Builds the wasm with the `bench` feature, records a stream of small JSON events, serves it
// with the dev server, opens the page in Chromium *without* a DevTools connection, and reads
// the figures the page publishes back to the dev server.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 200000);
const rounds = arg('rounds', 3);
const root = new URL('../..', import.meta.url).pathname;
const tmp = join(root, '.tmp', 'bench-client');
mkdirSync(tmp, { recursive: true });
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

// 1. The wasm with the benchmark entry point (same size profile as the npm package).
run('cargo', ['build', '--lib', '--target', 'wasm32-unknown-unknown', '--profile', 'wasm-release',
  '-p', 'wasm-sse', '--features', 'bench']);
run('wasm-bindgen', ['--target', 'web', '--out-dir', join(tmp, 'pkg'), '--out-name', 'wasm_sse',
  'target/wasm32-unknown-unknown/wasm-release/wasm_sse.wasm']);
if (!process.env.SSE_DEVSERVER) run('cargo', ['build', '--release', '-p', 'wasm-sse-devserver']);

// 2. The stream: `count` small JSON events with ids.
let stream = '';
for (let n = 1; n <= count; n += 1) {
  stream += `id: ${n}\nevent: tick\ndata: {"n":${n},"price":${(n * 7) % 1000}.25,"symbol":"ABC"}\n\n`;
}
writeFileSync(join(tmp, 'stream.sse'), stream);

// 3. The dev server, then Chromium on the page.
const server = spawn(process.env.SSE_DEVSERVER ?? join(root, 'target/release/sse-devserver'), [
  '--addr', '127.0.0.1:0', '--www', 'bench/client', '--pkg', join(tmp, 'pkg'),
  '--replay', `/bench/stream=${join(tmp, 'stream.sse')}`,
], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  server.stdout.on('data', (chunk) => {
    const match = /http:\/\/127\.0\.0\.1:\d+/.exec(String(chunk));
    if (match) resolve(match[0]);
  });
  server.on('exit', (code) => reject(new Error(`dev server exited (${code})`)));
});
const profile = mkdtempSync(join(tmpdir(), 'wasm-sse-bench-'));
const chromium = spawn(process.env.CHROMIUM ?? '/usr/bin/chromium', [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
  `${base}/index.html?count=${count}&rounds=${rounds}`,
], { stdio: 'ignore' });

try {
  // 4. The page's figures, through the dev server's long-poll twin.
  const deadline = Date.now() + 600_000;
  let result;
  while (!result && Date.now() < deadline) {
    const response = await fetch(`${base}/events?topic=bench-results&transport=long-poll&lastEventId=0`);
    const body = await response.text();
    const line = body.split('\n').find((l) => l.startsWith('data: '));
    if (line) result = JSON.parse(line.slice(6));
  }
  if (!result) throw new Error('no result from the page');
  if (result.error) throw new Error(`the page failed: ${result.error}`);

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = Object.entries(result.times).map(([name, ms]) => [name, count / (median(ms) / 1000)]);
  const baseline = rows[0][1];
  console.log(`\n${result.userAgent.match(/Chrom\w*\/[\d.]+/)?.[0] ?? 'Chromium'}, ${count} small JSON events, ` +
    `median of ${rounds} interleaved rounds, typed decode on every side`);
  console.log(`${'contender'.padEnd(44)} ${'events/s'.padStart(12)} ${'vs raw'.padStart(8)}`);
  for (const [name, rate] of rows) {
    console.log(`${name.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ${(rate / baseline).toFixed(2).padStart(7)}x`);
  }
} finally {
  chromium.kill('SIGKILL');
  server.kill();
  rmSync(profile, { recursive: true, force: true });
}
