// The client benchmark: events/s delivered to a handler by the browser's EventSource, by
// wasm-sse over each of its three transports, by fetch + eventsource-parser and by a
// JSON-batch long-poll loop, in one headless Chromium run, all reading the same stream.
//
//   node bench/client/run.mjs [--count 200000] [--rounds 3] [--only REGEX] [--dispatch | --in-memory]
//
// `--only` runs just the contenders whose names match REGEX (the goal ratios then print
// only where both sides ran). `--dispatch` runs the EventSource listeners alone instead,
// without the network (dispatch.js). `--in-memory` runs only the contenders that read a
// fetch `Response` (eventsource-parser and the npm `SseClient` over fetch), each reading the
// recorded stream from memory: the client's own cost, without the dev server and Chromium's
// network process on the same cores.
//
// Builds the npm crate's wasm (crates/npm) with its `bench` feature, records a stream of small JSON events, serves it
// with the dev server (long polls answer batches of 1000 events), opens the page in Chromium
// *without* a DevTools connection, and reads the figures the page publishes back to the dev
// server. Honours CARGO_TARGET_DIR.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { openPage } from '../../scripts/chromium.mjs';
import { devserverBin, startDevServer, targetDir as cargoTargetDir } from '../../scripts/devserver.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 200000);
const dispatch = process.argv.includes('--dispatch');
const memory = process.argv.includes('--in-memory');
const rounds = arg('rounds', 3);
const root = new URL('../..', import.meta.url).pathname;
const tmp = join(root, '.tmp', 'bench-client');
const targetDir = cargoTargetDir();
const batch = 1000;
mkdirSync(tmp, { recursive: true });
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

// 1. The wasm with the benchmark entry point, twice: the npm package's size profile
// (`wasm-release`, opt-level "z") in pkg/, and the speed profile Rust apps usually ship
// (`wasm-speed`, opt-level 3) in pkg/speed/.
for (const [profile, dir] of [['wasm-release', 'pkg'], ['wasm-speed', 'pkg/speed']]) {
  run('cargo', ['build', '--lib', '--target', 'wasm32-unknown-unknown', '--profile', profile,
    '-p', 'wasm-sse-npm', '--features', 'bench']);
  run('wasm-bindgen', ['--target', 'web', '--out-dir', join(tmp, dir), '--out-name', 'wasm_sse',
    join(targetDir, `wasm32-unknown-unknown/${profile}/wasm_sse_npm.wasm`)]);
}
copyFileSync(join(root, 'node_modules/eventsource-parser/dist/index.js'),
  join(tmp, 'pkg', 'eventsource-parser.js'));
// The npm package itself (dist/), for the contenders that use `SseClient` from JS; and the
// same package built for speed (opt-level 3, wasm-opt -O3) in pkg/npm-speed/, which is not
// published: it shows how much of the gap to the JS stack a compiler setting could close.
if (!dispatch) {
  run('bash', ['scripts/build.sh']);
  mkdirSync(join(tmp, 'pkg', 'npm'), { recursive: true });
  for (const file of readdirSync(join(root, 'dist'))) {
    copyFileSync(join(root, 'dist', file), join(tmp, 'pkg', 'npm', file));
  }
  run('bash', ['scripts/build.sh'], {
    env: { ...process.env, WASM_SSE_PROFILE: 'wasm-speed', WASM_SSE_DIST: join(tmp, 'pkg', 'npm-speed') },
  });
}
// The release dev server, unless SSE_DEVSERVER_BIN names one.
if (!process.env.SSE_DEVSERVER_BIN) run('cargo', ['build', '--release', '-p', 'wasm-sse-devserver']);

// 2. The stream: `count` small JSON events with ids.
let stream = '';
for (let n = 1; n <= count; n += 1) {
  stream += `id: ${n}\nevent: tick\ndata: {"n":${n},"price":${(n * 7) % 1000}.25,"symbol":"ABC"}\n\n`;
}
writeFileSync(join(tmp, 'stream.sse'), stream);

// 3. The dev server, then Chromium on the page.
const server = await startDevServer({
  bin: devserverBin({ release: true }),
  args: ['--www', 'bench/client', '--pkg', join(tmp, 'pkg'), '--long-poll-batch', String(batch),
    '--replay', `/bench/stream=${join(tmp, 'stream.sse')}`],
});
const { base } = server;
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? `&only=${encodeURIComponent(process.argv[onlyAt + 1])}` : '';
// `--expose-gc`: the page collects the garbage of one contender before timing the next, so
// that none pays for another's (the JS contenders leave far more than the wasm ones).
const chromium = openPage(`${base}/${dispatch ? 'dispatch' : 'index'}.html?count=${count}&rounds=${rounds}${only}${memory ? '&memory=1' : ''}`,
  ['--js-flags=--expose-gc']);

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
  const rates = Object.fromEntries(
    Object.entries(result.times).map(([name, ms]) => [name, count / (median(ms) / 1000)]));
  const rows = result.names.map((name) => [name, rates[name]]);
  const baseline = rows[0][1];
  console.log(`\n${result.userAgent.match(/Chrom\w*\/[\d.]+/)?.[0] ?? 'Chromium'}, ${count} small JSON events, ` +
    `median of ${rounds} interleaved rounds, typed decode on every side, ` +
    (memory ? 'read from memory' : `long-poll batches of ${batch}`));
  console.log(`${'contender'.padEnd(52)} ${'events/s'.padStart(12)} ${`vs ${rows[0][0] === 'EventSource + JS handler (raw)' ? 'raw' : 'first'}`.padStart(8)}`);
  for (const [name, rate] of rows) {
    console.log(`${name.padEnd(52)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ${(rate / baseline).toFixed(2).padStart(7)}x`);
  }
  // A section's title prints with its first line, so that `--only` leaves no empty ones.
  let title = null;
  const section = (text) => { title = text; };
  // A goal's ratio, printed only when both of its contenders ran (see `--only`): the ratio
  // of the two medians and, in brackets, the median of the rounds' own ratios (each round
  // runs both contenders back to back, so a slow stretch of the machine that spans a few
  // rounds cancels out of it).
  const line = (label, a, b, goal = '') => {
    if (!rates[a] || !rates[b]) return;
    if (title !== null) console.log(title);
    title = null;
    const paired = median(result.times[a].map((ms, round) => result.times[b][round] / ms));
    console.log(`  ${label}: ${(rates[a] / rates[b]).toFixed(2)}x (rounds: ${paired.toFixed(2)}x)${goal}`);
  };
  if (dispatch) {
    section('\nthe EventSource listeners alone (MessageEvents dispatched in a loop, no network):');
    for (const build of ['', ', opt-level 3']) {
      const wasm = `wasm-sse EventSource listeners, Rust handler${build}`;
      line(`wasm-sse${build} / JS listener`, wasm, 'JS listener (raw EventSource handler)');
      line(`wasm-sse${build} / JS listener reading lastEventId`, wasm, 'JS listener reading lastEventId');
    }
  } else if (!memory) {
    const raw = 'EventSource + JS handler (raw)';
    const rawId = 'EventSource + JS handler reading lastEventId';
    for (const build of ['', ', opt-level 3']) {
      section(`\nwasm-sse built with ${build ? 'opt-level 3 (wasm-speed)' : 'opt-level "z" (wasm-release, the npm package)'}:`);
      if (!build) line('automatic transport (same origin: fetch) / raw EventSource',
        'wasm-sse, automatic transport, Rust handler', raw, ' (goal 0.9x)');
      line('over EventSource / raw EventSource', `wasm-sse over EventSource, Rust handler${build}`, raw, ' (goal 0.9x)');
      line('over EventSource / raw EventSource reading lastEventId', `wasm-sse over EventSource, Rust handler${build}`, rawId);
      line('over fetch / fetch + eventsource-parser', `wasm-sse over fetch, Rust handler${build}`,
        'fetch + eventsource-parser + JS handler', ' (goal 1.5x)');
      line('over long-poll / JSON-batch long-poll loop', `wasm-sse over long-poll, Rust handler${build}`,
        'JSON-batch long-poll loop + JS handler', ' (goal 2x)');
      line('over fetch / raw EventSource', `wasm-sse over fetch, Rust handler${build}`, raw);
    }
  }
  if (!dispatch) {
    section('\nthe npm package from JS (opt-level "z", as published):');
    const parser = 'fetch + eventsource-parser + JS handler';
    line('SseClient over fetch, on() / fetch + eventsource-parser', 'wasm-sse npm SseClient over fetch, on()', parser,
      ' (goal 1.3x)');
    line('SseClient over fetch, addEventListener / fetch + eventsource-parser',
      'wasm-sse npm SseClient over fetch, addEventListener', parser, ' (goal 1.0x)');
    line('SseClient over long-poll, on() / JSON-batch long-poll loop', 'wasm-sse npm SseClient over long-poll, on()',
      'JSON-batch long-poll loop + JS handler', ' (goal 1.5x)');
    section('the npm package built with opt-level 3 (not published):');
    line('SseClient over fetch, on() / fetch + eventsource-parser', 'wasm-sse npm SseClient over fetch, on(), opt-level 3',
      parser);
    line('SseClient over fetch, addEventListener / fetch + eventsource-parser',
      'wasm-sse npm SseClient over fetch, addEventListener, opt-level 3', parser);
  }
} finally {
  await chromium.close();
  await server.stop();
}
