// The package's JS API: an EventSource-compatible `SseClient` on top of the lean wasm
// `RawClient`, which owns the connection, reconnection, parsing and dedupe. Listeners, onX
// properties, async iterators, JSON decoding and AbortSignal live here, where they are
// smaller than in wasm. Works in windows, workers and Node (no window/document assumed).
import { RawClient, onPanic } from './wasm_sse.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** Event types the client fires itself: never registered with the transport. */
const OWN_TYPES = new Set(['open', 'error', 'message', 'reconnecting', 'statechange', 'transportchange']);
const TRANSPORTS = ['auto', 'eventsource', 'fetch', 'long-poll'];

const FAILURES = {
  network: () => 'network error',
  'stream-ended': () => 'the server ended the stream',
  'idle-timeout': () => 'no data received within the idle timeout',
  'connect-timeout': () => 'the connection did not open within the connect timeout',
  'http-status': (status) => `HTTP status ${status}`,
  'content-type': (_, type) => `unexpected Content-Type "${type}" (expected text/event-stream)`,
};

// The clients not yet closed, and whether the wasm panicked (see `SseClient.#onPanic`).
const live = new Set();
let panicked = false;
const panicError = () =>
  new SseError('panic', 'the wasm panicked (a bug in wasm-sse)', { fatal: true });

/** An `Error` whose `type` names what went wrong (see `SseErrorType` in index.d.ts). */
export class SseError extends Error {
  constructor(type, message, details) {
    super(message, details && 'cause' in details ? { cause: details.cause } : undefined);
    this.name = 'SseError';
    this.type = type;
    this.fatal = false;
    if (details) {
      for (const key of Object.keys(details)) if (key !== 'cause') this[key] = details[key];
    }
  }
}

/** The error of a lost connection, from `[type, status, detail]`. */
function failureError(type, status, detail, fatal = false) {
  const details = { fatal };
  if (type === 'http-status') {
    details.status = status;
    if (detail !== undefined) details.retryAfterMs = detail;
  }
  if (type === 'content-type') details.contentType = detail;
  const message = (FAILURES[type] ?? (() => detail ?? type))(status, detail);
  return new SseError(type, message, details);
}

/** The error a `closed` change carries (`undefined` when the client was closed on request). */
function closeError([, type, status, detail, count, last]) {
  if (type === undefined) return undefined;
  if (type === 'no-content') {
    return new SseError(type, 'the server answered 204 No Content: not reconnecting', { fatal: true });
  }
  if (type === 'attempts-exhausted' || type === 'elapsed-exhausted') {
    const cause = failureError(last, status, detail);
    const what = type === 'attempts-exhausted' ? `${count} reconnection attempt(s)` : `${count} ms of outage`;
    const details = { fatal: true, cause, last };
    details[type === 'attempts-exhausted' ? 'attempts' : 'elapsedMs'] = count;
    return new SseError(type, `gave up after ${what}; last failure: ${cause.message}`, details);
  }
  if (type in FAILURES) return failureError(type, status, detail, true);
  // An error closing the client (`invalid-option` carries the option's name 5th).
  const details = { fatal: true };
  if (type === 'invalid-option' && count !== undefined) details.option = count;
  return new SseError(type, detail || type, details);
}

function invalid(option, reason) {
  return new SseError('invalid-option', `invalid option ${option}: ${reason}`, { option, fatal: true });
}

/** Header pairs (a plain object, a `Headers`, a `Map` or an array of pairs) as a flat array. */
function flatHeaders(headers) {
  if (headers == null) return [];
  const entries = typeof headers[Symbol.iterator] === 'function' ? [...headers] : Object.entries(headers);
  return entries.flatMap(([name, value]) => [String(name), String(value)]);
}

const isNumber = (v) => typeof v === 'number' && v >= 0 && !Number.isNaN(v);

/** Checks the user's options and builds the plain object the wasm side reads. */
function normalize(options) {
  if (options == null) return {};
  if (typeof options !== 'object') throw invalid('options', 'must be an object');
  const out = {};
  const {
    transport = 'auto', headers, method, body, withCredentials, reconnect, idleTimeoutMs,
    connectTimeoutMs, longPollTimeoutMs, stallDowngradeMs, pauseWhenHidden, lastEventId, lastEventIdParam, maxEventSize, eventTypes,
  } = options;
  if (!TRANSPORTS.includes(transport)) throw invalid('transport', `must be one of ${TRANSPORTS.join(', ')}`);
  out.transport = transport;
  if (typeof headers === 'function') {
    out.headerProvider = async () => flatHeaders(await headers());
  } else if (headers != null) {
    if (typeof headers !== 'object') throw invalid('headers', 'must be an object or a function');
    out.headers = flatHeaders(headers);
  }
  if (method != null) {
    const m = String(method).toUpperCase();
    if (m !== 'GET' && m !== 'POST') throw invalid('method', 'must be GET or POST');
    out.method = m;
  }
  if (body != null) {
    if (typeof body !== 'string') throw invalid('body', 'must be a string');
    out.body = body;
    out.method ??= 'POST';
  }
  if (withCredentials !== undefined) out.withCredentials = Boolean(withCredentials);
  if (reconnect === false) {
    out.reconnect = { maxRetries: 0 };
  } else if (reconnect != null) {
    if (typeof reconnect !== 'object') throw invalid('reconnect', 'must be an object or false');
    const r = {};
    for (const key of ['initialDelayMs', 'maxDelayMs', 'multiplier', 'maxRetries', 'maxElapsedMs', 'resetAfterMs']) {
      if (reconnect[key] === undefined) continue;
      if (!isNumber(reconnect[key])) throw invalid(`reconnect.${key}`, 'must be a non-negative number');
      r[key] = reconnect[key];
    }
    if (reconnect.jitter !== undefined) r.jitter = Boolean(reconnect.jitter);
    out.reconnect = r;
  }
  for (const [key, value] of [['idleTimeoutMs', idleTimeoutMs], ['connectTimeoutMs', connectTimeoutMs], ['longPollTimeoutMs', longPollTimeoutMs], ['stallDowngradeMs', stallDowngradeMs]]) {
    if (value === undefined) continue;
    if (value !== null && !isNumber(value)) throw invalid(key, 'must be a non-negative number or null');
    out[key] = value === 0 ? null : value;
  }
  if (pauseWhenHidden !== undefined) out.pauseWhenHidden = Boolean(pauseWhenHidden);
  if (lastEventId != null) out.lastEventId = String(lastEventId);
  if (lastEventIdParam != null) out.lastEventIdParam = String(lastEventIdParam);
  if (maxEventSize !== undefined) {
    if (!isNumber(maxEventSize)) throw invalid('maxEventSize', 'must be a non-negative number');
    out.maxEventSize = maxEventSize;
  }
  if (eventTypes != null) out.eventTypes = [...eventTypes].map(String);
  return out;
}

/** An `Event` of `type` with extra fields (`ErrorEvent` and `CustomEvent` are not everywhere). */
function event(type, fields) {
  return Object.assign(new Event(type), fields);
}

/**
 * The event a listener receives for each server-sent event: an `Event` with the fields of a
 * `MessageEvent` (`data`, `lastEventId`, `origin`, `source`, `ports`) and `MessageEvent` on
 * its prototype chain, so `e instanceof MessageEvent` holds as it does for `EventSource`'s
 * events.
 *
 * Why not `new MessageEvent(type, init)`: a browser's `MessageEvent` constructor stores `data`
 * as a value any realm may read, which makes it far slower to build than an `Event` with the
 * same fields (docs/benchmarks.md, transport benchmark). The own fields shadow
 * `MessageEvent.prototype`'s getters, which would reject an object the browser did not build
 * as a `MessageEvent`.
 */
class SseMessageEvent extends Event {
  // Declared as fields, so they are defined on the instance: a plain assignment would hit
  // `MessageEvent.prototype`'s getter-only accessors and throw.
  data;
  lastEventId;
  origin;
  source;
  ports;

  constructor(type, data, lastEventId, origin) {
    super(type);
    this.data = data;
    this.lastEventId = lastEventId;
    this.origin = origin;
    this.source = null;
    this.ports = NO_PORTS;
  }
}
const NO_PORTS = Object.freeze([]);
if (typeof MessageEvent === 'function') Object.setPrototypeOf(SseMessageEvent.prototype, MessageEvent.prototype);

/**
 * An `EventSource`-compatible Server-Sent Events client; see index.d.ts for the API.
 */
export class SseClient extends EventTarget {
  #raw;
  #url;
  #origin;
  #withCredentials;
  #state = CONNECTING;
  #opened = false;
  #transport = null;
  #lastEventId = '';
  #eventType = 'message';
  #lastFailure = null;
  #pending = null;
  #downgrade = null;
  #handlers = new Map();
  #iterators = new Set();
  #signal;
  #onAbort;

  constructor(url, options = undefined) {
    super();
    let resolved;
    try {
      resolved = new URL(String(url), globalThis.location?.href);
    } catch (cause) {
      throw new SseError('invalid-url', `invalid URL ${JSON.stringify(String(url))}`, { cause, fatal: true });
    }
    const opts = normalize(options);
    this.#url = resolved.href;
    this.#origin = resolved.origin;
    this.#withCredentials = Boolean(opts.withCredentials);
    this.#lastEventId = opts.lastEventId ?? '';
    try {
      if (panicked) throw panicError();
      onPanic(SseClient.#onPanic);
      this.#raw = new RawClient(
        this.#url,
        opts,
        // Events are waiting: take them all at once, after the wasm has parsed the rest of
        // the chunk (see RawClient in crates/npm/src/bindings.rs).
        () => queueMicrotask(this.#takeEvents),
        (change) => this.#onChange(change),
      );
      live.add(this);
    } catch (e) {
      if (panicked) throw panicError();
      throw e instanceof SseError ? e : new SseError(e?.type ?? 'js', e?.message ?? String(e), { fatal: true, option: e?.option });
    }
    const signal = options?.signal;
    if (signal) {
      if (signal.aborted) {
        this.close();
      } else {
        this.#signal = signal;
        this.#onAbort = () => this.close();
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
  }

  /** The absolute URL of the event stream. */
  get url() { return this.#url; }
  /** Whether credentials are sent cross-origin. */
  get withCredentials() { return this.#withCredentials; }
  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
  get readyState() { return this.#state; }
  /** The ID of the last event received (or given in the options); `''` when none. */
  get lastEventId() { return this.#lastEventId; }
  /** The transport of the current (or last) connection: `null` before the first attempt. */
  get transport() { return this.#transport; }

  get onopen() { return this.#handlers.get('open')?.fn ?? null; }
  set onopen(fn) { this.#setHandler('open', fn); }
  get onmessage() { return this.#handlers.get('message')?.fn ?? null; }
  set onmessage(fn) { this.#setHandler('message', fn); }
  get onerror() { return this.#handlers.get('error')?.fn ?? null; }
  set onerror(fn) { this.#setHandler('error', fn); }

  addEventListener(type, listener, options) {
    super.addEventListener(type, listener, options);
    this.#listen(type);
  }

  /**
   * Calls `handler(value, event)` with every event of `type`, its data decoded with
   * `JSON.parse`; data that does not decode fires an `error` event (type `decode`) instead,
   * and the stream goes on. Returns a function that removes the handler.
   */
  on(type, handler) {
    const listener = (ev) => {
      let value;
      try {
        value = JSON.parse(ev.data);
      } catch (cause) {
        const error = new SseError('decode', `the data of a "${type}" event is not valid JSON: ${cause.message}`, { cause, event: ev });
        this.dispatchEvent(event('error', { error, message: error.message }));
        return;
      }
      handler.call(this, value, ev);
    };
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** The events of `type` (every event when omitted), until the client closes. */
  events(type) {
    if (type !== undefined) this.#listen(type);
    const queue = [];
    const waiting = [];
    const sink = {
      type,
      push: (ev) => {
        if (waiting.length) waiting.shift()({ value: ev, done: false });
        else queue.push(ev);
      },
      end: () => {
        for (const wake of waiting.splice(0)) wake({ value: undefined, done: true });
      },
    };
    const iterators = this.#iterators;
    if (this.#state !== CLOSED) iterators.add(sink);
    return {
      next: () => {
        if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
        if (!iterators.has(sink)) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        iterators.delete(sink);
        queue.length = 0;
        sink.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  [Symbol.asyncIterator]() {
    return this.events();
  }

  /** Closes the connection for good and releases everything; no event fires afterwards. */
  close() {
    if (!this.#raw) return;
    this.#finish();
  }

  // A panic in the wasm (a bug) traps the instance, which may then be corrupt: every live
  // client closes with a fatal `panic` error, without calling into the wasm again (`#raw`
  // is dropped unfreed), and later constructors throw the same error.
  // (Registered by the constructor: the wasm is not instantiated yet when this module runs.)
  static #onPanic() {
    panicked = true;
    for (const client of live) {
      client.#raw = null;
      client.#finish();
      client.#dispatchError(panicError());
    }
  }

  /** Same as `close()` (the name of wasm-bindgen's destructor). */
  free() {
    this.close();
  }

  // An event handler property: one listener per type, kept in its place while the handler
  // changes and removed when set to null, as with EventTarget handler attributes.
  #setHandler(type, fn) {
    let entry = this.#handlers.get(type);
    if (typeof fn !== 'function') {
      if (entry) super.removeEventListener(type, entry.listener);
      this.#handlers.delete(type);
      return;
    }
    if (!entry) {
      const listener = (ev) => entry.fn.call(this, ev);
      entry = { fn, listener };
      this.#handlers.set(type, entry);
      this.addEventListener(type, listener);
    }
    entry.fn = fn;
  }

  #listen(type) {
    if (this.#raw && !OWN_TYPES.has(type)) this.#raw.listen(String(type));
  }

  #setState(state) {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.dispatchEvent(event('statechange', { readyState: state, previous }));
  }

  #announceOpen(transport) {
    this.#opened = true;
    this.#setState(OPEN);
    this.dispatchEvent(event('open', { transport: transport ?? this.#transport }));
  }

  /** Dispatches the events the wasm delivered since the last call, in order. */
  #takeEvents = () => {
    if (!this.#raw) return;
    // One string and, per event, the UTF-16 lengths of its type (0: the previous event's),
    // ID and data: slices of one string cost far less than one string per event.
    const [text, lengths] = this.#raw.takeEvents();
    let at = 0;
    for (let i = 0; i < lengths.length; i += 3) {
      if (lengths[i]) this.#eventType = text.slice(at, (at += lengths[i]));
      const id = text.slice(at, (at += lengths[i + 1]));
      this.#onEvent(this.#eventType, text.slice(at, (at += lengths[i + 2])), id);
    }
  };

  #onEvent(type, data, lastEventId) {
    if (this.#state === CLOSED) return;
    this.#lastEventId = lastEventId;
    // Events take a faster path than the lifecycle: never let one overtake its `open`.
    if (!this.#opened) this.#announceOpen();
    const ev = new SseMessageEvent(type, data, lastEventId, this.#origin);
    this.dispatchEvent(ev);
    for (const sink of this.#iterators) {
      if (sink.type === undefined || sink.type === type) sink.push(ev);
    }
  }

  #dispatchError(error) {
    this.dispatchEvent(event('error', { error, message: error.message }));
  }

  #onChange(change) {
    if (!this.#raw) return;
    switch (change[0]) {
      case 'connecting': {
        const [, attempt, delayMs, transport] = change;
        const pending = this.#pending;
        this.#pending = null;
        if (pending && transport === 'eventsource') {
          // No fetch retry to tell more: report the refusal as it is.
          this.#setState(CONNECTING);
          this.#dispatchError(pending);
        }
        if (transport !== this.#transport) {
          const previous = this.#transport;
          this.#transport = transport;
          const reason = this.#downgrade ?? undefined;
          this.#downgrade = null;
          this.dispatchEvent(event('transportchange', { transport, previous, reason }));
        }
        if (attempt > 0) {
          const error = this.#lastFailure;
          this.dispatchEvent(event('reconnecting', { attempt, delayMs, reason: error?.type ?? 'network', error }));
        }
        break;
      }
      case 'open':
        if (!this.#opened) this.#announceOpen(change[1]);
        break;
      case 'failure': {
        const error = failureError(change[1], change[2], change[3]);
        const opened = this.#opened;
        this.#lastFailure = error;
        this.#opened = false;
        // The browser's EventSource does not say why it refused a stream (an error status,
        // 204, a wrong content type: all look like a network error). The client then asks
        // again over fetch, which can tell: that attempt's outcome is reported instead, so a
        // refused stream fires one error (fatal, at CLOSED) as EventSource does.
        if (!opened && this.#transport === 'eventsource' && error.type === 'network') {
          this.#pending = error;
          break;
        }
        this.#setState(CONNECTING);
        this.#dispatchError(error);
        break;
      }
      case 'downgraded':
        // The stream opened but stayed silent (a buffering proxy): the client switches
        // transports for good; the `connecting` that follows reports the change.
        this.#downgrade = change[3];
        this.#opened = false;
        this.#setState(CONNECTING);
        break;
      case 'too-large': {
        const limit = change[1];
        this.#dispatchError(new SseError('event-too-large', `an event larger than ${limit} bytes was dropped`, { limit }));
        break;
      }
      case 'closed': {
        const error = closeError(change);
        this.#finish();
        if (error) this.#dispatchError(error);
        break;
      }
    }
  }

  /** Closed for good: release the wasm client, the signal listener, end the iterators. */
  #finish() {
    live.delete(this);
    const raw = this.#raw;
    if (raw) {
      this.#raw = null;
      raw.free();
    }
    if (this.#signal) {
      this.#signal.removeEventListener('abort', this.#onAbort);
      this.#signal = undefined;
    }
    const iterators = [...this.#iterators];
    this.#iterators.clear();
    for (const sink of iterators) sink.end();
    this.#setState(CLOSED);
  }
}

// The readyState constants, on the class and on instances, as on EventSource.
for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSED', CLOSED]]) {
  const property = { value, enumerable: true };
  Object.defineProperty(SseClient, name, property);
  Object.defineProperty(SseClient.prototype, name, property);
}

if (typeof Symbol.dispose === 'symbol') {
  SseClient.prototype[Symbol.dispose] = SseClient.prototype.close;
}
