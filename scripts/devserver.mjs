// The dev server for the scripts, benchmarks and Node tests, defined once: where the built
// `sse-devserver` binary is, how it starts on a free loopback port, how to wait until it
// serves, and how to publish to it. The Rust tests and tools have the same in
// crates/test-support; the shell scripts source scripts/devserver.sh.
//
//   import { publish, startDevServer } from '../scripts/devserver.mjs';
//   const server = await startDevServer({ args: ['--www', 'www'] });
//   await publish(server.base, 'chat', 'hello');
//   await server.stop();
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** How long the server may take to print its address and then answer `GET /healthz`. */
export const START_TIMEOUT_MS = 15_000;

/** Cargo's target directory (CARGO_TARGET_DIR, else `target/` of the repository). */
export function targetDir() {
  return process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, 'target');
}

/**
 * The `sse-devserver` binary: SSE_DEVSERVER_BIN when set, else the debug (or `release`)
 * build in the target directory.
 */
export function devserverBin({ release = false } = {}) {
  return process.env.SSE_DEVSERVER_BIN || join(targetDir(), release ? 'release' : 'debug', 'sse-devserver');
}

/** Builds the dev server with cargo when `bin` does not exist yet; returns `bin`. */
export function ensureDevserverBuilt({ release = false, bin = devserverBin({ release }) } = {}) {
  if (!existsSync(bin)) {
    execFileSync('cargo', ['build', '-p', 'wasm-sse-devserver', ...(release ? ['--release'] : [])],
      { cwd: root, stdio: 'inherit', timeout: 900_000 });
  }
  return bin;
}

/** The address in a `... listening on http://HOST:PORT` line, as a base URL (or null). */
export function parseListening(text) {
  return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1] ?? null;
}

/**
 * Starts the dev server and resolves once it answers `GET /healthz`.
 *
 * `args` go to sse-devserver after `--addr 127.0.0.1:0` (or `addr`, e.g. to restart on the
 * same port). Resolves `{ child, base, port, stop }`: `base` is `http://127.0.0.1:PORT`,
 * `stop()` ends the process (SIGTERM, SIGKILL after 5 s) and resolves when it exited.
 * Rejects when the process exits first or takes longer than START_TIMEOUT_MS.
 */
export async function startDevServer({
  bin = devserverBin(), args = [], addr = '127.0.0.1:0', cwd = root, stderr = 'inherit',
  env = process.env, timeoutMs = START_TIMEOUT_MS,
} = {}) {
  const child = spawn(bin, ['--addr', addr, ...args], { cwd, env, stdio: ['ignore', 'pipe', stderr] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${bin} printed no address within ${timeoutMs} ms`)), timeoutMs);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const url = parseListening(out);
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`dev server exited (${code ?? signal}) before listening`));
      });
    });
    // Keep reading stdout, so that the process never blocks on a full pipe.
    child.stdout.resume();
    await waitHealthy(base, timeoutMs);
    return { child, base, port: Number(new URL(base).port), stop };
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
}

/** Polls `GET base/healthz` until it answers 200, for at most `timeoutMs`. */
export async function waitHealthy(base, timeoutMs = START_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last;
    try {
      const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`${base}/healthz failed for ${timeoutMs} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let topics = 0;
/** A fresh topic name, unique within this process, starting with `prefix`. */
export const topicNamer = (prefix) => () => `${prefix}-${process.pid}-${Date.now()}-${topics++}`;

/**
 * Publishes `data` (with `event` as its type, if given) to topic `topic`; resolves the
 * assigned id, rejects on any status but 200.
 */
export async function publish(base, topic, data, event) {
  const response = await fetch(`${base}/publish?topic=${encodeURIComponent(topic)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event ? { event, data } : { data }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`publish to ${topic}: ${response.status} ${text}`);
  return JSON.parse(text).id;
}
