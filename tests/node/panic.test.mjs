// A panic in the wasm, in Node, against the real dev server (SSE_DEVSERVER_URL): the package
// is built once more with crates/npm's `test-panic` feature (a hidden `testPanic` export)
// into .tmp/panic-dist/, which the published package never is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { base, next, publish, skip, topicNamer } from './helpers.mjs';

const root = new URL('../../', import.meta.url);
const topic = topicNamer('panic');

test('a panic closes every live client with a fatal `panic` SseError; constructors then throw it', { skip, timeout: 600_000 }, async () => {
  execFileSync('bash', ['scripts/build.sh'], {
    cwd: root,
    env: { ...process.env, WASM_SSE_DIST: '.tmp/panic-dist', WASM_SSE_FEATURES: 'test-panic' },
    stdio: 'pipe',
  });
  const { SseClient, SseError } = await import(new URL('.tmp/panic-dist/node.js', root));
  const { testPanic } = await import(new URL('.tmp/panic-dist/wasm_sse.js', root));
  assert.equal(typeof testPanic, 'function');

  const t = topic();
  const clients = [new SseClient(`${base}/events?topic=${t}`), new SseClient(`${base}/events?topic=${t}`)];
  const delivered = clients.map((client) => next(client, 'message'));
  await Promise.all(clients.map((client) => next(client, 'open')));
  await publish(t, 'before');
  assert.deepEqual((await Promise.all(delivered)).map((e) => e.data), ['before', 'before']);
  // A client closed before the panic hears nothing of it.
  const closed = new SseClient(`${base}/events?topic=${t}`);
  closed.close();
  let closedErrors = 0;
  closed.addEventListener('error', () => closedErrors++);

  // The clients learn it from the hook, before the trap reaches the caller. (A panic in a
  // task of its own, `testPanic(true)`, reaches them the same way, but its trap then has no JS
  // caller: Node reports it as an uncaught exception, which would fail this test file.)
  const errors = clients.map((client) => next(client, 'error'));
  assert.throws(() => testPanic(false), WebAssembly.RuntimeError);
  for (const { error } of await Promise.all(errors)) {
    assert.ok(error instanceof SseError);
    assert.equal(error.type, 'panic');
    assert.equal(error.fatal, true);
  }
  for (const client of clients) assert.equal(client.readyState, SseClient.CLOSED);
  assert.equal(closedErrors, 0);

  // The instance is not called again: closing does nothing, new clients throw, and a second
  // panic traps at once (the hook ran once).
  for (const client of clients) client.close();
  assert.throws(() => new SseClient(`${base}/events?topic=${t}`), (e) => e instanceof SseError && e.type === 'panic' && e.fatal);
  assert.throws(() => testPanic(false), WebAssembly.RuntimeError);
});
