// One chaos client and what it records, shared by the browser page (tests/chaos/chaos.js)
// and the harness's Node clients (scripts/chaos.mjs): the same options and the same
// bookkeeping on both sides. Plain ESM with no imports, so both can load it.

/**
 * Opens `new SseClient(url, ...)` over `transport` with the chaos run's settings and records
 * the `seq` of every event, reconnects, transport changes and errors. `now()` is the clock
 * (milliseconds); `expected` is the number of distinct events that completes the run.
 */
export function watch(SseClient, { url, transport, topic, expected, initialDelayMs, maxDelayMs, now }) {
  const record = {
    transport, topic, seqs: [], unique: 0, reconnects: 0, errors: 0, fatal: null,
    transports: [], completeMs: null,
  };
  const seen = new Set();
  const started = now();
  const client = new SseClient(url, {
    transport,
    // From the first event on: a first attempt that fails must not skip events.
    lastEventId: '0',
    reconnect: { initialDelayMs, maxDelayMs },
    // Each client stays on the transport it tests: a switch fails the run.
    stallDowngradeMs: null,
    connectTimeoutMs: 5000,
  });
  client.onmessage = (event) => {
    const { seq } = JSON.parse(event.data);
    record.seqs.push(seq);
    if (!seen.has(seq)) {
      seen.add(seq);
      record.unique += 1;
      if (record.unique === expected) record.completeMs = now() - started;
    }
  };
  client.addEventListener('reconnecting', () => { record.reconnects += 1; });
  client.addEventListener('transportchange', (e) => { record.transports.push(e.transport); });
  client.addEventListener('error', (e) => {
    record.errors += 1;
    if (e.error?.fatal) record.fatal = e.error.message;
  });
  return { client, record };
}
