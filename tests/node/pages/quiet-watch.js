// Watches one SseClient against a quiet server, in Node (tests/node/quiet.test.mjs) and in a
// page (quiet.html, for tests/node/quiet-browser.test.mjs): the same record both ways, plain
// data that can cross from a page to Node. No imports: the caller brings the client.

/**
 * Watches `client` (just created) until its first `message`, or until a sign that it did
 * not take the quiet server for a healthy one: an `error`, a `reconnecting`, a second `open`,
 * a second `transportchange`, or `deadlineMs` without a message. Resolves with:
 * - `outcome`: `'message'`, or what ended the watch (`'error connect-timeout'`, ...)
 * - `log`: every client event as `[ms since the watch started, type, detail]`
 * - `message`: `{ data, lastEventId, at }` (`at`: `Date.now()` at dispatch), or `null`
 * - `opens`, `errors` (error types), `reconnects` (reasons), `transports` (`[previous,
 *   transport, reason]` per `transportchange`), `states` (`[previous, readyState]` per
 *   `statechange`), and the final `transport` and `readyState`
 */
export function watchQuiet(client, deadlineMs) {
  const started = Date.now();
  const record = {
    outcome: 'deadline',
    log: [],
    message: null,
    opens: 0,
    errors: [],
    reconnects: [],
    transports: [],
    states: [],
    transport: null,
    readyState: null,
  };
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      record.outcome = outcome;
      record.transport = client.transport;
      record.readyState = client.readyState;
      resolve(record);
    };
    const timer = setTimeout(() => finish('deadline'), deadlineMs);
    // Nothing after the end of the watch: the caller's close() is not part of the record.
    const note = (type, detail) => {
      if (!done) record.log.push([Date.now() - started, type, detail]);
    };
    client.addEventListener('open', (e) => {
      note('open', e.transport);
      record.opens += 1;
      if (record.opens > 1) finish('second open');
    });
    client.addEventListener('error', (e) => {
      const type = e.error?.type ?? 'unknown';
      note('error', `${type}${e.error?.fatal ? ' (fatal)' : ''}: ${e.error?.message ?? ''}`);
      record.errors.push(type);
      finish(`error ${type}`);
    });
    client.addEventListener('reconnecting', (e) => {
      note('reconnecting', `${e.reason} (attempt ${e.attempt}, in ${e.delayMs} ms)`);
      record.reconnects.push(e.reason);
      finish(`reconnecting ${e.reason}`);
    });
    client.addEventListener('transportchange', (e) => {
      note('transportchange', `${e.previous} -> ${e.transport}${e.reason ? ` (${e.reason})` : ''}`);
      record.transports.push([e.previous, e.transport, e.reason ?? null]);
      if (record.transports.length > 1) finish(`transport change to ${e.transport}`);
    });
    client.addEventListener('statechange', (e) => {
      if (done) return;
      note('statechange', `${e.previous} -> ${e.readyState}`);
      record.states.push([e.previous, e.readyState]);
    });
    client.addEventListener('message', (e) => {
      note('message', `${e.lastEventId}: ${e.data}`);
      record.message = { data: e.data, lastEventId: e.lastEventId, at: Date.now() };
      finish('message');
    });
  });
}

/** `record.log` as lines, for an assertion's message. */
export function describeWatch(record) {
  return [`outcome: ${record.outcome}`, ...record.log.map(([ms, type, detail]) => `  ${(ms / 1000).toFixed(1)} s ${type} ${detail ?? ''}`)].join('\n');
}
