// Helpers shared by the Node tests that talk to the real dev server (SSE_DEVSERVER_URL).
// Not a test file itself (`node --test` only picks up `*.test.mjs`). Starting the server and
// publishing to it are defined once, in scripts/devserver.mjs.
import { publish as publishTo } from '../../scripts/devserver.mjs';

export { topicNamer } from '../../scripts/devserver.mjs';

/** The dev server's base URL, from SSE_DEVSERVER_URL (undefined when unset). */
export const base = process.env.SSE_DEVSERVER_URL;

/** A `skip` option for tests that need the dev server. */
export const skip = base ? false : 'SSE_DEVSERVER_URL is not set';

/** Publishes `data` (with `event` as its type, if given) to topic `t`; resolves its id. */
export function publish(t, data, event) {
  return publishTo(base, t, data, event);
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
