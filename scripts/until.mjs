// Polling with a bound, for tests and benchmarks that wait on a browser or a server.

/**
 * Resolves with the first truthy value of `check()` (awaited; polled every 25 ms), or fails
 * with "timed out waiting for `what`" after `ms` milliseconds.
 */
export async function until(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
