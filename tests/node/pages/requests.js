// What JS users ask of the connection (issue 18), as scenarios that run the same in Node
// and in headless Chromium (tests/node/requests.test.mjs): each takes the `SseClient`
// class and the servers' origins, drives one client and returns what it saw, for the test
// to check. `dev` is a wasm-sse dev server; `local` a server of the test
// (tests/node/fixtures/request-server.mjs). No imports: the page and Node load it alike.

/** Waits for `type` on `client` (the first that `pred` accepts). */
function next(client, type, pred = () => true, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), ms);
    client.addEventListener(type, function listener(event) {
      if (!pred(event)) return;
      clearTimeout(timer);
      client.removeEventListener(type, listener);
      resolve(event);
    });
  });
}

/** The request as the dev server saw it (`echo=1`), and how a one-shot stream ends. */
async function echoed(SseClient, dev, options) {
  const client = new SseClient(`${dev}/events?topic=echo-${Math.random()}&echo=1&closeAfter=0`, {
    closeOnEnd: true, ...options,
  });
  const seen = [];
  const iterated = (async () => {
    for await (const e of client) seen.push(e.type);
    return 'done';
  })();
  const request = JSON.parse((await next(client, 'request')).data);
  const closed = await next(client, 'statechange', (e) => e.readyState === 2);
  return {
    method: request.method,
    contentType: request.headers['content-type'] ?? null,
    body: request.body,
    transport: client.transport,
    closed: closed.reason,
    iterator: await iterated,
    seen,
  };
}

export const scenarios = {
  // Bodies of each kind, sent with the request; `closeOnEnd` ends the client at the end.
  async 'body: object as JSON'(SseClient, { dev }) {
    return echoed(SseClient, dev, { body: { q: 1, s: 'é' } });
  },
  async 'body: URLSearchParams'(SseClient, { dev }) {
    return echoed(SseClient, dev, { body: new URLSearchParams({ a: '1', b: 'x y' }) });
  },
  async 'body: FormData'(SseClient, { dev }) {
    const form = new FormData();
    form.append('field', 'value');
    const result = await echoed(SseClient, dev, { body: form });
    return { ...result, body: result.body.includes('name="field"') && result.body.includes('value') };
  },
  async 'body: Blob'(SseClient, { dev }) {
    return echoed(SseClient, dev, { body: new Blob(['raw bytes'], { type: 'text/plain' }) });
  },
  async 'body: a string with PUT'(SseClient, { local }) {
    const client = new SseClient(`${local}/method`, { method: 'put', body: 'put body', closeOnEnd: true });
    const event = await next(client, 'message');
    await next(client, 'statechange', (e) => e.readyState === 2);
    return { data: event.data };
  },
  // The user's fetch is used for every request: a stream, and each long poll.
  async 'fetch option'(SseClient, { dev }) {
    const urls = [];
    const fetch = (request) => {
      urls.push(new URL(request.url).searchParams.get('transport') ?? 'stream');
      return globalThis.fetch(request);
    };
    const results = {};
    for (const transport of ['fetch', 'long-poll']) {
      urls.length = 0;
      const topic = `fetch-${transport}-${Math.random()}`;
      for (const data of ['a', 'b', 'c']) {
        await globalThis.fetch(`${dev}/publish?topic=${topic}`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }),
        });
      }
      const client = new SseClient(`${dev}/events?topic=${topic}`, { transport, fetch, lastEventId: '0' });
      await next(client, 'message', (e) => e.data === 'c');
      client.close();
      results[transport] = [...urls];
    }
    return results;
  },
  // A 401 is fatal, unless retryOn says otherwise: the headers function then runs again.
  async 'retryOn refreshes a token'(SseClient, { local }) {
    let calls = 0;
    const asked = [];
    const client = new SseClient(`${local}/auth`, {
      headers: () => ({ authorization: `Bearer t${++calls}` }),
      retryOn: (error) => {
        asked.push(`${error.type} ${error.status}`);
        return error.status === 401;
      },
      reconnect: { initialDelayMs: 10, jitter: false },
    });
    const event = await next(client, 'message');
    client.close();
    return { data: event.data, calls, asked };
  },
  async 'retryOn declines'(SseClient, { local }) {
    const client = new SseClient(`${local}/auth`, { headers: { authorization: 'Bearer bad' }, retryOn: () => false });
    const error = await next(client, 'error');
    return { type: error.error.type, status: error.error.status, fatal: error.error.fatal, readyState: client.readyState };
  },
  // The open event carries the response's status and headers; an HTTP error the start of
  // its body.
  async 'response details'(SseClient, { local }) {
    const out = {};
    for (const transport of ['fetch', 'long-poll']) {
      const client = new SseClient(`${local}/head`, { transport });
      const open = await next(client, 'open');
      client.close();
      out[transport] = { status: open.status, requestId: open.headers.get('x-request-id') };
    }
    const refused = new SseClient(`${local}/refuse`, { transport: 'fetch' });
    const { error } = await next(refused, 'error');
    out.error = { type: error.type, status: error.status, length: error.body.length, start: error.body.slice(0, 11) };
    // An error body that never ends: the failure is reported with what came.
    const held = new SseClient(`${local}/held-error`, { transport: 'fetch', reconnect: { initialDelayMs: 60_000 } });
    const started = Date.now();
    const late = (await next(held, 'error')).error;
    held.close();
    out.held = { type: late.type, status: late.status, body: late.body, withinSeconds: Date.now() - started < 3000 };
    return out;
  },
  // reconnect(): a new connection now, resuming after the last event; nothing twice.
  async 'reconnect()'(SseClient, { dev }) {
    const topic = `reconnect-${Math.random()}`;
    const publish = (data) => globalThis.fetch(`${dev}/publish?topic=${topic}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }),
    });
    await publish('1');
    const client = new SseClient(`${dev}/events?topic=${topic}`, { lastEventId: '0' });
    const data = [];
    const states = [];
    let opens = 0;
    client.onmessage = (e) => data.push(e.data);
    client.onopen = () => { opens += 1; };
    client.addEventListener('statechange', (e) => states.push(e.readyState));
    await next(client, 'message');
    client.reconnect();
    await next(client, 'open');
    const second = next(client, 'message', (e) => e.data === '2');
    await publish('2');
    await second;
    client.close();
    return { data, opens, states };
  },
  // reconnect({ url, body }): the next connections use them.
  async 'reconnect() with a new URL and body'(SseClient, { local }) {
    const client = new SseClient(`${local}/method?v=1`, { method: 'POST', body: 'first' });
    const first = await next(client, 'message');
    client.reconnect({ url: `${local}/method?v=2`, body: { second: true } });
    const second = await next(client, 'message', (e) => e.data !== first.data);
    const url = client.url;
    client.close();
    return { first: first.data, second: second.data, url: new URL(url).search };
  },
  // closeOnEnd: a lost connection still resumes; the clean end closes.
  async 'closeOnEnd after a cut'(SseClient, { local }) {
    const client = new SseClient(`${local}/cut-then-end`, {
      closeOnEnd: true, reconnect: { initialDelayMs: 10, jitter: false },
    });
    const data = [];
    const errors = [];
    client.onmessage = (e) => data.push(e.data);
    client.onerror = (e) => errors.push(e.error.type);
    const closed = await next(client, 'statechange', (e) => e.readyState === 2);
    return { data, errors, reason: closed.reason };
  },
  async 'closeOnEnd refuses eventsource and long-poll'(SseClient, { dev }) {
    const out = [];
    for (const transport of ['eventsource', 'long-poll']) {
      try {
        new SseClient(`${dev}/events`, { transport, closeOnEnd: true }).close();
        out.push('accepted');
      } catch (e) {
        out.push(`${e.type} ${e.option}`);
      }
    }
    return out;
  },
};
