// Helpers shared by the Node tests that talk to the real dev server (SSE_DEVSERVER_URL).
// Not a test file itself (`node --test` only picks up `*.test.mjs`).
import assert from 'node:assert/strict';

/** The dev server's base URL, from SSE_DEVSERVER_URL (undefined when unset). */
export const base = process.env.SSE_DEVSERVER_URL;

/** A `skip` option for tests that need the dev server. */
export const skip = base ? false : 'SSE_DEVSERVER_URL is not set';

let topics = 0;
/** A fresh topic name, unique within this process, starting with `prefix`. */
export const topicNamer = (prefix) => () => `${prefix}-${process.pid}-${Date.now()}-${topics++}`;

/** Publishes `data` (with `event` as its type, if given) to topic `t`. */
export async function publish(t, data, event) {
  const response = await fetch(`${base}/publish?topic=${t}`, {
    method: 'POST',
    body: JSON.stringify(event ? { event, data } : { data }),
  });
  assert.equal(response.status, 200, await response.text());
}

/** The next `type` event of `target` satisfying `pred`. */
export function next(target, type, pred = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), ms);
    target.addEventListener(type, function listener(event) {
      if (!pred(event)) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(event);
    });
  });
}
