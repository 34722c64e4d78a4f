// The EventSource-compatibility suite: one test body, run against the browser's EventSource
// and against SseClient; the Node test (tests/node/browser.test.mjs) compares the two logs.
import { SseClient } from '/pkg/index.js';

async function body(make, name) {
  const topic = `compat-${name}-${Date.now()}`;
  const publish = (data, event) =>
    fetch(`/publish?topic=${topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event ? { event, data } : { data }),
    });
  // Replayed on connect: a message, a named event with a listener, one without, a message.
  await publish('a');
  await publish('b', 'note');
  await publish('x', 'other');
  await publish('c');
  // The server ends the stream after 4 events, asking for a quick reconnect.
  const url = `/events?topic=${topic}&lastEventId=0&closeAfter=4&retry=100`;
  const log = [];
  const events = [];
  const waiters = new Set();
  const seen = (pred) => new Promise((resolve) => {
    const check = () => { if (events.some(pred)) { waiters.delete(check); resolve(); } };
    waiters.add(check);
    check();
  });
  const source = make(url);
  log.push(`init readyState=${source.readyState} url=${source.url === new URL(url, location.href).href} ` +
    `withCredentials=${source.withCredentials} constants=${source.CONNECTING}${source.OPEN}${source.CLOSED} ` +
    `static=${source.constructor.CONNECTING}${source.constructor.OPEN}${source.constructor.CLOSED}`);
  const counts = {};
  const record = (how) => (e) => {
    const fields = e.type === 'open' || e.type === 'error' ? ''
      : ` data=${e.data} id=${e.lastEventId} origin=${e.origin === location.origin} message=${e instanceof MessageEvent}`;
    log.push(`${how} ${e.type} readyState=${source.readyState} target=${e.target === source} ` +
      `current=${e.currentTarget === source} phase=${e.eventPhase}${fields}`);
    events.push({ type: e.type, data: e.data, nth: (counts[e.type] = (counts[e.type] ?? 0) + 1) });
    for (const check of [...waiters]) check();
  };
  source.onopen = record('onopen');
  source.onmessage = record('onmessage');
  source.onerror = record('onerror');
  source.addEventListener('message', record('listener'));
  source.addEventListener('note', record('listener'));
  const duplicate = record('duplicate');
  source.addEventListener('note', duplicate);
  source.addEventListener('note', duplicate);
  const removed = record('removed');
  source.addEventListener('message', removed);
  source.removeEventListener('message', removed);
  source.addEventListener('message', record('once'), { once: true });
  // dispatchEvent's rules, which SseClient follows without it: an exception is reported and
  // the other listeners still run; a listener removed (by its signal) during a dispatch is
  // skipped; one added during a dispatch waits for the next event; handleEvent objects;
  // stopImmediatePropagation; the event's dispatch fields after the dispatch.
  const onWindowError = (e) => { log.push(`window error ${e.error?.message}`); e.preventDefault(); };
  window.addEventListener('error', onWindowError);
  const controller = new AbortController();
  source.addEventListener('message', (e) => {
    if (e.data === 'a') {
      // `once`: the browser runs microtasks between the listeners of an event it dispatches
      // itself, SseClient (as any `dispatchEvent` called from script) after the last one, so
      // the log would differ if this listener ran after the one the test waits on.
      source.addEventListener('message', record('added during dispatch'), { once: true });
      throw new Error('listener failed on a');
    }
    if (e.data === 'c') controller.abort();
  });
  source.addEventListener('message', record('signal'), { signal: controller.signal });
  const handler = { handleEvent(e) { log.push(`handleEvent ${e.type} this=${this === handler}`); } };
  source.addEventListener('note', handler);
  source.addEventListener('other', (e) => { log.push(`stopping ${e.data}`); e.stopImmediatePropagation(); });
  source.addEventListener('other', record('after stopImmediatePropagation'));
  source.addEventListener('other', (e) => queueMicrotask(() => {
    log.push(`after dispatch current=${e.currentTarget} phase=${e.eventPhase} cancelable=${e.cancelable} ` +
      `bubbles=${e.bubbles} defaultPrevented=${e.defaultPrevented} path=${e.composedPath().length}`);
  }), { capture: true });

  await seen((e) => e.type === 'message' && e.data === 'c');
  await seen((e) => e.type === 'error');
  log.push(`after error readyState=${source.readyState}`);
  await seen((e) => e.type === 'open' && e.nth === 2); // the reconnection's open
  const live = seen((e) => e.type === 'message' && e.data === 'd');
  await publish('d');
  await live;
  source.onmessage = null;
  const gone = seen((e) => e.type === 'message' && e.data === 'e');
  await publish('e');
  await gone;
  source.close();
  log.push(`closed readyState=${source.readyState}`);
  source.close();
  await publish('f');
  await new Promise((resolve) => setTimeout(resolve, 500));
  log.push(`end readyState=${source.readyState} onmessage=${source.onmessage}`);
  window.removeEventListener('error', onWindowError);
  return log;
}

// A refused stream (an error status, 204): one error, readyState CLOSED, no reconnection.
async function refused(make, status) {
  const log = [];
  const source = make(`/events?topic=compat-refused&status=${status}`);
  let errors = 0;
  const failed = new Promise((resolve) => {
    source.onerror = (e) => {
      errors += 1;
      log.push(`error ${e.type} readyState=${source.readyState}`);
      resolve();
    };
  });
  source.onopen = () => log.push('open');
  source.onmessage = (e) => log.push(`message ${e.data}`);
  await failed;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  log.push(`end status=${status} errors=${errors} readyState=${source.readyState}`);
  source.close();
  return log;
}

async function suite(make, name) {
  return [...await body(make, name), ...await refused(make, 404), ...await refused(make, 204)];
}

window.runCompat = async () => ({
  EventSource: await suite((url) => new EventSource(url), 'es'),
  SseClient: await suite((url) => new SseClient(url), 'sse'),
});
window.compatReady = true;
