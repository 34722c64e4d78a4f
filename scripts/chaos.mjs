// The chaos harness: clients must receive every event exactly once and in order
// from a dev server in chaos mode that drops connections mid-event, stalls, trickles bytes,
// answers 500/503, and is killed (SIGKILL) and restarted mid-run with its state directory.
//
//   node scripts/chaos.mjs [--events 10000] [--seed 1] [--rate 50] [--restarts 2]
//       [--transports browser:eventsource,browser:fetch,browser:long-poll,node:fetch,node:long-poll]
//       [--min-disconnects 50] [--timeout-s 600] [--release] [--server PATH]
//
// Starts the dev server (target/debug/sse-devserver, or target/release with --release, or
// --server / SSE_DEVSERVER_BIN) on 127.0.0.1 with a free port, `--chaos SEED` on topics
// `chaos-*` and `--state-dir` in a temporary directory. Every client gets its own topic, so
// its fault sequence and its server-side count of forced disconnects are its own. The
// harness publishes `{"seq": n}` with id n, n = 1..N, to every topic at --rate events/s,
// kills and restarts the server --restarts times at evenly spaced points (same port, same
// state dir), runs the Node clients in this process (the built package in dist/) and the
// browser clients in a page of headless Chromium (tests/chaos/, the package from /pkg/),
// which reports to a small HTTP collector of this process (it survives the restarts).
// Prints one table and exits 1 on any lost, duplicated or out-of-order event, on a client
// that did not finish, or on fewer than --min-disconnects forced disconnects per client.
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { openPage } from './chromium.mjs';
import { devserverBin, ensureDevserverBuilt, startDevServer } from './devserver.mjs';
import { watch } from '../tests/chaos/watch.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
function opt(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  if (typeof fallback === 'boolean') return true;
  const value = argv[i + 1];
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return typeof fallback === 'number' ? Number(value) : value;
}
const known = ['events', 'seed', 'rate', 'restarts', 'transports', 'min-disconnects', 'timeout-s',
  'release', 'server', 'chaos-max-bytes', 'help'];
for (const a of argv) {
  if (a.startsWith('--') && !known.includes(a.slice(2))) throw new Error(`unknown option ${a}`);
}
if (opt('help', false)) {
  console.log(fileURLToPath(import.meta.url));
  console.log('see the header of this file for the options');
  process.exit(0);
}
const N = opt('events', 10000);
const seed = opt('seed', 1);
const rate = opt('rate', 50);
const restarts = opt('restarts', 2);
const minDisconnects = opt('min-disconnects', 50);
const maxBytes = opt('chaos-max-bytes', 512);
const transports = String(opt('transports',
  'browser:eventsource,browser:fetch,browser:long-poll,node:fetch,node:long-poll')).split(',');
const timeoutMs = 1000 * opt('timeout-s', Math.ceil(N / rate) + 180);
const release = opt('release', false);
for (const t of transports) {
  if (!/^(browser:(eventsource|fetch|long-poll)|node:(fetch|long-poll))$/.test(t)) {
    throw new Error(`bad transport ${t}: browser:eventsource|fetch|long-poll or node:fetch|long-poll`);
  }
}
if (!(N > 0 && rate > 0 && restarts >= 0)) throw new Error('--events and --rate must be positive');

const t0 = Date.now();
const deadline = t0 + timeoutMs;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (msg) => console.error(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

// The dev server binary, built if missing.
const bin = opt('server', devserverBin({ release }));
if (!existsSync(bin)) log(`building ${bin}`);
ensureDevserverBuilt({ release, bin });
if (!existsSync(join(root, 'dist/node.js'))) throw new Error('dist/ is not built: bash scripts/build.sh');

const runId = `${seed}-${Date.now().toString(36)}`;
const clientsWanted = transports.map((t) => {
  const [env, transport] = t.split(':');
  return { env, transport, topic: `chaos-${runId}-${env}-${transport}` };
});
const stateDir = mkdtempSync(join(tmpdir(), 'wasm-sse-chaos-'));
const serverArgs = [
  '--www', join(root, 'tests/chaos'), '--pkg', join(root, 'dist'),
  '--demo-interval-ms', '0', '--retry-ms', '50', '--retain', String(N + 100),
  '--long-poll-timeout-ms', '5000', '--shutdown-grace-ms', '1000',
  // Small long-poll batches: a client that falls behind (after every forced disconnect) is
  // answered with Long-Poll-Ahead, so its pipelined polls meet the cut bodies too.
  '--long-poll-batch', '8',
  '--state-dir', stateDir, '--chaos', String(seed), '--chaos-topics', 'chaos-',
  '--chaos-max-bytes', String(maxBytes), '--chaos-max-ms', '1000',
];

let server = null;
let base = null;
let port = 0;
const children = new Set();

/** Starts the dev server (port 0 the first time, then the same port) and waits until it serves. */
async function startServer() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const started = await startDevServer({ bin, args: serverArgs, addr: `127.0.0.1:${port}` });
      const { child } = started;
      children.add(child);
      child.on('exit', () => children.delete(child));
      server = child;
      base = started.base;
      port = started.port;
      return;
    } catch (e) {
      // The port may be in use for a moment after a kill.
      if (attempt >= 20 || Date.now() > deadline) throw new Error(`the dev server did not start: ${e.message}`);
      await sleep(250);
    }
  }
}

/** The server's chaos counters, by topic (`null` when it cannot be read). */
async function chaosStats() {
  try {
    const response = await fetch(`${base}/chaos`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()).topics;
  } catch {
    return null;
  }
}

// Forced disconnects and other counters, summed over every server process.
const counters = new Map(clientsWanted.map((c) => [c.topic, { forcedDisconnects: 0 }]));
function addStats(topics) {
  for (const [topic, stats] of Object.entries(topics ?? {})) {
    const sum = counters.get(topic);
    if (!sum) continue;
    for (const [k, v] of Object.entries(stats)) sum[k] = (sum[k] ?? 0) + v;
  }
}

async function restartServer(i) {
  addStats(await chaosStats());
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
  log(`restart ${i}: server killed (SIGKILL), starting it again on port ${port}`);
  await sleep(200);
  await startServer();
}

/** Publishes seq n (id n) to `topic`; retries through restarts. 409: already stored. */
async function publish(topic, n) {
  const body = JSON.stringify({ id: n, data: { seq: n } });
  for (;;) {
    try {
      const response = await fetch(`${base}/publish?topic=${topic}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer();
      if (response.status === 200 || response.status === 409) return;
    } catch {
      // connection refused or reset: the server is restarting
    }
    if (Date.now() > deadline) throw new Error(`could not publish ${n} to ${topic}`);
    await sleep(20);
  }
}

// The collector: the page's progress and results (outlives the dev server's restarts).
let browserProgress = [];
let browserResult = null;
let stopBrowser = false;
const collector = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('content-type', 'application/json');
    try {
      if (req.method === 'POST' && req.url === '/progress') {
        browserProgress = JSON.parse(body).progress;
        res.end(JSON.stringify({ stop: stopBrowser }));
      } else if (req.method === 'POST' && req.url === '/result') {
        browserResult = JSON.parse(body);
        res.end('{}');
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    } catch (e) {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: String(e) }));
    }
  });
});
await new Promise((resolve) => collector.listen(0, '127.0.0.1', resolve));
const collectorUrl = `http://127.0.0.1:${collector.address().port}`;

let chromium = null;
const nodeClients = [];
let exitCode = 1;
try {
  await startServer();
  log(`dev server ${base} (${bin}), seed ${seed}, ${N} events at ${rate}/s per topic, ` +
    `${restarts} restart(s), state in ${stateDir}`);

  // Node clients: the built package, in this process.
  const { SseClient } = await import(pathToFileURL(join(root, 'dist/node.js')).href);
  for (const c of clientsWanted.filter((w) => w.env === 'node')) {
    nodeClients.push(watch(SseClient, {
      url: `${base}/events?topic=${c.topic}`,
      transport: c.transport,
      topic: c.topic,
      expected: N,
      initialDelayMs: 20,
      maxDelayMs: 100,
      now: Date.now,
    }));
  }

  // Browser clients: one page, no DevTools protocol.
  const browserRuns = clientsWanted.filter((w) => w.env === 'browser');
  if (browserRuns.length) {
    const query = new URLSearchParams({ collector: collectorUrl, events: String(N) });
    for (const r of browserRuns) query.append('run', `${r.transport}:${r.topic}`);
    chromium = openPage(`${base}/index.html?${query}`, [
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ]);
    // Wait until the page runs (it reports progress) before publishing.
    while (browserProgress.length === 0) {
      if (Date.now() > t0 + 60_000) throw new Error('the page did not start within 60 s');
      if (chromium.exitCode() !== null) throw new Error(`chromium exited (${chromium.exitCode()})`);
      await sleep(100);
    }
  }
  log(`clients started: ${clientsWanted.map((c) => `${c.env}:${c.transport}`).join(', ')}`);

  // Publish at a steady pace, restarting the server at evenly spaced points.
  const restartAt = Array.from({ length: restarts }, (_, i) => Math.round((N * (i + 1)) / (restarts + 1)));
  const publishStart = Date.now();
  let restartsDone = 0;
  for (let n = 1; n <= N; n += 1) {
    const due = publishStart + ((n - 1) * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    await Promise.all(clientsWanted.map((c) => publish(c.topic, n)));
    if (restartAt[restartsDone] === n) {
      restartsDone += 1;
      await restartServer(restartsDone);
    }
    if (n % Math.max(1, Math.round(N / 10)) === 0) log(`published ${n}/${N}`);
  }
  log(`published ${N} events per topic in ${((Date.now() - publishStart) / 1000).toFixed(1)} s`);

  // Wait until every client has every event (or the deadline), then a little more for late
  // duplicates, then stop everything.
  const done = () => nodeClients.every(({ record }) => record.unique >= N)
    && browserRuns.every((r) => browserProgress.find((p) => p.topic === r.topic)?.unique >= N);
  let lastLog = Date.now();
  while (!done() && Date.now() < deadline) {
    if (chromium && chromium.exitCode() !== null) throw new Error(`chromium exited (${chromium.exitCode()})`);
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      const all = [...nodeClients.map(({ record }) => [`node:${record.transport}`, record.unique]),
        ...browserProgress.map((p) => [`browser:${p.transport}`, p.unique])];
      log(`waiting: ${all.map(([k, v]) => `${k} ${v}/${N}`).join(', ')}`);
    }
    await sleep(100);
  }
  if (!done()) log('deadline reached before every client had every event');
  await sleep(1500);
  for (const { client } of nodeClients) client.close();
  stopBrowser = true;
  const resultDeadline = Date.now() + 20_000;
  while (chromium && !browserResult && Date.now() < resultDeadline) await sleep(100);
  addStats(await chaosStats());

  // The table.
  const rows = [];
  const records = [
    ...nodeClients.map(({ record }) => ({ env: 'node', ...record })),
    ...(browserResult?.clients ?? []).map((record) => ({ env: 'browser', ...record })),
  ];
  for (const c of clientsWanted) {
    const record = records.find((r) => r.topic === c.topic);
    const forced = counters.get(c.topic)?.forcedDisconnects ?? 0;
    if (!record) {
      rows.push({ c, missing: true, forced });
      continue;
    }
    const seen = new Set();
    let duplicated = 0;
    let outOfOrder = 0;
    let max = 0;
    for (const s of record.seqs) {
      if (seen.has(s)) {
        duplicated += 1;
      } else {
        if (s < max) outOfOrder += 1;
        seen.add(s);
      }
      max = Math.max(max, s);
    }
    let lost = 0;
    for (let n = 1; n <= N; n += 1) if (!seen.has(n)) lost += 1;
    const unknown = [...seen].filter((s) => !(Number.isInteger(s) && s >= 1 && s <= N)).length;
    rows.push({
      c, record, forced, received: record.seqs.length, lost, duplicated, outOfOrder, unknown,
      seconds: record.completeMs === null ? null : record.completeMs / 1000,
    });
  }
  const header = ['transport', 'env', 'expected', 'received', 'lost', 'duplicated', 'out of order',
    'reconnects', 'forced disconnects', 'seconds'];
  const table = rows.map((r) => (r.missing
    ? [r.c.transport, r.c.env, N, 'no result', '-', '-', '-', '-', r.forced, '-']
    : [r.c.transport, r.c.env, N, r.received, r.lost, r.duplicated, r.outOfOrder, r.record.reconnects,
      r.forced, r.seconds === null ? 'unfinished' : r.seconds.toFixed(1)]));
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((v, i) => (i < 2 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join(' | ')} |`;
  console.log(`\nchaos run: seed ${seed}, ${N} events per client at ${rate}/s, ${restarts} server restart(s) ` +
    `(SIGKILL), total ${((Date.now() - t0) / 1000).toFixed(1)} s` +
    (browserResult ? `, ${/Chrom\w*\/[\d.]+/.exec(browserResult.userAgent)?.[0] ?? 'Chromium'}` : '') +
    `, Node ${process.versions.node}`);
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < 2 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of table) console.log(line(row));

  // What the server did to each client, summed over its processes (GET /chaos).
  const kinds = ['requests', 'status500', 'status503', 'aborted', 'ended', 'timedOut', 'stalled', 'trickled'];
  console.log(`\nserver-side faults per client (aborted/ended: cut after a random byte, mid-event; ` +
    'timedOut: cut after a random time), plus the restarts:');
  console.log(`  ${'client'.padEnd(20)} ${kinds.map((k) => k.padStart(9)).join(' ')}`);
  for (const c of clientsWanted) {
    const sum = counters.get(c.topic);
    console.log(`  ${`${c.env}:${c.transport}`.padEnd(20)} ${kinds.map((k) => String(sum[k] ?? 0).padStart(9)).join(' ')}`);
  }

  const problems = [];
  for (const r of rows) {
    const name = `${r.c.env}:${r.c.transport}`;
    if (r.missing) {
      problems.push(`${name}: no result`);
      continue;
    }
    if (r.lost) problems.push(`${name}: ${r.lost} lost`);
    if (r.duplicated) problems.push(`${name}: ${r.duplicated} duplicated`);
    if (r.outOfOrder) problems.push(`${name}: ${r.outOfOrder} out of order`);
    if (r.unknown) problems.push(`${name}: ${r.unknown} unknown seqs`);
    if (r.record.fatal) problems.push(`${name}: closed: ${r.record.fatal}`);
    if (r.forced < minDisconnects) problems.push(`${name}: only ${r.forced} forced disconnects (< ${minDisconnects})`);
    const switched = r.record.transports.filter((t) => t !== r.c.transport);
    if (switched.length) problems.push(`${name}: switched transport to ${[...new Set(switched)].join(', ')}`);
  }
  if (problems.length) {
    console.log(`\nFAILED:\n  ${problems.join('\n  ')}`);
  } else {
    console.log(`\nOK: every client received all ${N} events exactly once, in order, through at least ` +
      `${minDisconnects} forced disconnects and ${restarts} server restart(s)`);
    exitCode = 0;
  }
} catch (error) {
  console.error(`chaos harness failed: ${error?.stack ?? error}`);
} finally {
  for (const { client } of nodeClients) client.close();
  if (chromium) await chromium.close();
  for (const child of children) child.kill('SIGKILL');
  collector.close();
  collector.closeAllConnections?.();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(exitCode);
