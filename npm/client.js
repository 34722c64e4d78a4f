// The package's JS API: an EventSource-compatible `SseClient` on top of the lean wasm
// `RawClient`, which owns the connection, reconnection, parsing and dedupe. Listeners, onX
// properties, async iterators, JSON decoding and AbortSignal live here, where they are
// smaller than in wasm. Works in windows, workers and Node (no window/document assumed).
import { RawClient, onPanic } from './wasm_sse.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** Event types the client fires itself: never registered with the transport. */
const OWN_TYPES = new Set(['open', 'error', 'message', 'reconnecting', 'statechange', 'transportchange', 'sharechange']);
const TRANSPORTS = ['auto', 'eventsource', 'fetch', 'long-poll'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

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
  // Closed on request, or at the end of a one-shot stream (`closeOnEnd`): no error.
  if (type === undefined || type === 'ended') return undefined;
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

/** A body fetch sends as it is: `FormData`, `URLSearchParams`, `Blob`, buffers. */
const isRawBody = (body) => ArrayBuffer.isView(body) || body instanceof ArrayBuffer
  || [globalThis.FormData, globalThis.URLSearchParams, globalThis.Blob].some((type) => type && body instanceof type);

const isNumber = (v) => typeof v === 'number' && v >= 0 && !Number.isNaN(v);

/** Checks the user's options and builds the plain object the wasm side reads. */
function normalize(options) {
  if (options == null) return {};
  if (typeof options !== 'object') throw invalid('options', 'must be an object');
  const out = {};
  const {
    transport = 'auto', headers, method, body, withCredentials, reconnect, idleTimeoutMs,
    connectTimeoutMs, longPollTimeoutMs, stallDowngradeMs, pauseWhenHidden, lastEventId, lastEventIdParam, maxEventSize, eventTypes,
    fetch, closeOnEnd, retryOn, share,
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
    if (!METHODS.includes(m)) throw invalid('method', `must be one of ${METHODS.join(', ')}`);
    out.method = m;
  }
  if (body != null) {
    // Strings and what fetch sends as it is (FormData, URLSearchParams, Blob, buffers) go
    // through; other objects are sent as JSON.
    if (typeof body === 'string' || isRawBody(body)) {
      out.body = body;
    } else if (typeof body === 'object') {
      out.body = JSON.stringify(body);
      out.headers = [...(out.headers ?? []), 'content-type', 'application/json'];
    } else {
      throw invalid('body', 'must be a string, an object (sent as JSON), FormData, URLSearchParams, a Blob or a buffer');
    }
    out.method ??= 'POST';
  }
  if (fetch != null) {
    if (typeof fetch !== 'function') throw invalid('fetch', 'must be a function');
    out.fetch = fetch;
  }
  if (closeOnEnd) {
    if (transport === 'eventsource' || transport === 'long-poll') {
      throw invalid('closeOnEnd', 'needs fetch streaming (EventSource cannot tell a clean end; long polls end each answer)');
    }
    out.closeOnEnd = true;
  }
  if (retryOn != null) {
    if (typeof retryOn !== 'function') throw invalid('retryOn', 'must be a function');
    out.retryOn = (type, status, detail) => Boolean(retryOn(failureError(type, status, detail)));
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
  // `''`: the request is the key.
  if (share != null && share !== false) out.share = share === true ? '' : String(share);
  return out;
}

/** An `Event` of `type` with extra fields (`ErrorEvent` and `CustomEvent` are not everywhere). */
function event(type, fields) {
  return Object.assign(new Event(type), fields);
}

/** Set in an event's data length when its data is in the chunk's JSON array. */
const IN_JSON = 2 ** 31;
/** An `on()` handler's value not decoded yet. */
const NOT_DECODED = Symbol('not decoded');
/** Set on an event whose listener called `stopImmediatePropagation()`. */
const STOPPED = Symbol('stopped');
const NO_PORTS = Object.freeze([]);

/**
 * The event a listener receives for each server-sent event: the fields of a `MessageEvent`
 * (`data`, `lastEventId`, `origin`, `source`, `ports`) and of an `Event` being dispatched
 * (`type`, `target`, `currentTarget`, `eventPhase`, `timeStamp`, the propagation methods),
 * with `MessageEvent` on its prototype chain, so `e instanceof MessageEvent` holds as it does
 * for `EventSource`'s events.
 *
 * Why a plain object and not a browser-built event: building a native `Event` and passing it
 * through `EventTarget.dispatchEvent` cost more than everything else the client does per
 * event (docs/benchmarks.md, transport benchmark). `SseClient` calls its listeners itself
 * (see `#dispatch`), with the same order, `once`, `signal`, `handleEvent`, removal and
 * exception rules as `dispatchEvent`. The own fields shadow `Event.prototype`'s and
 * `MessageEvent.prototype`'s getters, which reject an object the browser did not build. The
 * one difference: such an event cannot be passed to another target's `dispatchEvent`.
 */
class SseMessageEvent {
  // Declared as fields, so they are defined on the instance: a plain assignment would hit
  // the prototype chain's getter-only accessors and throw.
  // The fields that differ between events; the rest are on the prototype.
  type;
  data;
  lastEventId;
  origin;
  target;
  eventPhase = 2; // AT_TARGET, until the dispatch ends
  timeStamp;

  constructor(type, data, lastEventId, origin, target, timeStamp) {
    this.type = type;
    this.data = data;
    this.lastEventId = lastEventId;
    this.origin = origin;
    this.target = target;
    this.timeStamp = timeStamp;
    this[STOPPED] = false;
  }

  get currentTarget() { return this.eventPhase ? this.target : null; }
  get srcElement() { return this.target; }
  stopImmediatePropagation() { this[STOPPED] = true; }
  stopPropagation() {} // nothing to stop: the client is the only target, as for EventSource
  preventDefault() {} // not cancelable, as EventSource's events are not
  composedPath() { return this.eventPhase ? [this.target] : []; }
  get cancelBubble() { return false; }
  set cancelBubble(_) {}
}
for (const [name, value] of [['source', null], ['ports', NO_PORTS], ['bubbles', false], ['cancelable', false],
  ['composed', false], ['defaultPrevented', false], ['isTrusted', false], ['returnValue', true]]) {
  Object.defineProperty(SseMessageEvent.prototype, name, { value });
}
if (typeof MessageEvent === 'function') Object.setPrototypeOf(SseMessageEvent.prototype, MessageEvent.prototype);

/** Where a listener's exception goes: the global error handler, as from `dispatchEvent`. */
const reportListenerError = globalThis.reportError ?? ((error) => setTimeout(() => { throw error; }));

/** The capture flag of `addEventListener`/`removeEventListener` options. */
const captureOf = (options) => (typeof options === 'boolean' ? options : Boolean(options?.capture));

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
  #shared = null;
  #lastEventId = '';
  #eventType = 'message';
  #lastFailure = null;
  #pending = null;
  #downgrade = null;
  #handlers = new Map();
  /** Per event type, its listeners in order: `{ callback, capture, once, removed }`. */
  #listeners = new Map();
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
        // Lifecycle changes are waiting: the same, a microtask later.
        () => queueMicrotask(this.#takeChanges),
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
  /** `'leader'`, `'follower'` or `null`: this client's part in a shared stream. */
  get shared() { return this.#shared; }

  get onopen() { return this.#handlers.get('open')?.fn ?? null; }
  set onopen(fn) { this.#setHandler('open', fn); }
  get onmessage() { return this.#handlers.get('message')?.fn ?? null; }
  set onmessage(fn) { this.#setHandler('message', fn); }
  get onerror() { return this.#handlers.get('error')?.fn ?? null; }
  set onerror(fn) { this.#setHandler('error', fn); }

  addEventListener(type, callback, options) {
    type = String(type);
    if (callback == null) return;
    if (typeof callback !== 'function' && typeof callback !== 'object') {
      throw new TypeError('addEventListener: the listener must be a function or an object');
    }
    const capture = captureOf(options);
    const signal = typeof options === 'object' ? options?.signal : undefined;
    if (signal?.aborted) return;
    if (this.#listeners.get(type)?.some((e) => e.callback === callback && e.capture === capture)) return;
    const entry = { callback, capture, once: Boolean(typeof options === 'object' && options?.once), removed: false, json: null };
    this.#add(type, entry);
    signal?.addEventListener('abort', () => this.#remove(type, entry), { once: true });
  }

  removeEventListener(type, callback, options) {
    type = String(type);
    const capture = captureOf(options);
    const entry = this.#listeners.get(type)?.find((e) => e.callback === callback && e.capture === capture);
    if (entry) this.#remove(type, entry);
  }

  /**
   * Calls `handler(value, event)` with every event of `type`, its data decoded with
   * `JSON.parse`; data that does not decode fires an `error` event (type `decode`) instead,
   * and the stream goes on. Returns a function that removes the handler.
   */
  on(type, handler) {
    type = String(type);
    // Among the type's listeners, in order, but never matched by removeEventListener.
    const entry = { callback: null, capture: false, once: false, removed: false, json: handler };
    this.#add(type, entry);
    this.#listen(type, true);
    return () => this.#remove(type, entry);
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

  /**
   * Drops the connection and opens a new one at once, resuming after the last event (not
   * counted as a failure). `readyState` is CONNECTING until the new connection's `open`.
   */
  reconnect({ url, body } = {}) {
    if (!this.#raw) return;
    if (url !== undefined) {
      let resolved;
      try {
        resolved = new URL(String(url), globalThis.location?.href);
      } catch (cause) {
        throw new SseError('invalid-url', `invalid URL ${JSON.stringify(String(url))}`, { cause, fatal: false });
      }
      this.#url = resolved.href;
      this.#origin = resolved.origin;
      this.#raw.setUrl(this.#url);
    }
    if (body !== undefined) {
      const raw = typeof body === 'string' || isRawBody(body);
      this.#raw.setBody(raw ? body : JSON.stringify(body));
    }
    this.#opened = false;
    this.#setState(CONNECTING);
    this.#raw.reconnect();
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
      client.#finish('panic');
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
      if (entry) this.removeEventListener(type, entry.listener);
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

  #add(type, entry) {
    const list = this.#listeners.get(type);
    // Copy on write: a dispatch under way goes on over the list it started with.
    this.#listeners.set(type, list ? [...list, entry] : [entry]);
    if (!list) {
      // Events the page dispatches itself (`client.dispatchEvent(...)`) still reach the
      // listeners, through one native listener per type.
      super.addEventListener(type, this.#fromDispatchEvent);
      this.#listen(type);
    }
  }

  #remove(type, entry) {
    if (entry.removed) return;
    entry.removed = true;
    const list = this.#listeners.get(type).filter((e) => e !== entry);
    if (list.length) {
      this.#listeners.set(type, list);
    } else {
      this.#listeners.delete(type);
      super.removeEventListener(type, this.#fromDispatchEvent);
    }
  }

  /**
   * Calls the listeners of `list` with `ev` as `EventTarget.dispatchEvent` would: in the
   * order they were added, skipping those removed meanwhile, `once` ones removed first,
   * until one calls `stopImmediatePropagation()`; an exception goes to the global error
   * handler and the other listeners still run. An `on()` handler gets the data decoded
   * (each its own copy), or an `error` event of type `decode` fires in its place.
   */
  #dispatch(list, ev, decoded = NOT_DECODED) {
    for (const entry of list) {
      if (entry.removed) continue;
      if (entry.once) this.#remove(ev.type, entry);
      try {
        const { callback, json } = entry;
        if (json) {
          let value = decoded;
          // The first handler takes the value decoded with the chunk; others decode their own.
          decoded = NOT_DECODED;
          if (value === NOT_DECODED) {
            try {
              value = JSON.parse(ev.data);
            } catch (cause) {
              const error = new SseError('decode', `the data of a "${ev.type}" event is not valid JSON: ${cause.message}`, { cause, event: ev });
              this.#dispatchError(error);
              continue;
            }
          }
          json.call(this, value, ev);
        } else if (typeof callback === 'function') {
          callback.call(this, ev);
        } else {
          callback.handleEvent(ev);
        }
      } catch (error) {
        reportListenerError(error);
      }
      if (ev[STOPPED]) break;
    }
  }

  /** The native listener of a type with listeners: runs them for a dispatched `Event`. */
  #fromDispatchEvent = (ev) => {
    const list = this.#listeners.get(ev.type);
    if (!list) return;
    const stop = ev.stopImmediatePropagation;
    // Own property: marks the event as `SseMessageEvent.stopImmediatePropagation` does.
    ev.stopImmediatePropagation = function stopImmediatePropagation() {
      this[STOPPED] = true;
      stop.call(this);
    };
    this.#dispatch(list, ev);
  };

  /** Asks the wasm for events of `type`, with their data as JSON too when `json`. */
  #listen(type, json = false) {
    if (this.#raw && (json || !OWN_TYPES.has(type))) this.#raw.listen(String(type), json);
  }

  #setState(state, reason) {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.dispatchEvent(event('statechange', { readyState: state, previous, reason }));
  }

  #announceOpen(transport) {
    this.#opened = true;
    this.#setState(OPEN);
    // The response's status and headers (fetch streaming, long polling).
    const [status, headers] = this.#raw?.response() ?? [];
    this.dispatchEvent(event('open', { transport: transport ?? this.#transport, status, headers }));
  }

  /** Dispatches the events the wasm delivered since the last call, in order. */
  #takeEvents = () => {
    if (!this.#raw) return;
    // One string and, per event, the UTF-16 lengths of its type (0: the previous event's),
    // ID and data: slices of one string cost far less than one string per event.
    // The data of the types with an `on()` handler come as one JSON array (see
    // crates/npm/src/pending.rs), decoded at once; if it does not decode, each is decoded
    // on its own, so the error names the event.
    const [text, lengths, json] = this.#raw.takeEvents();
    let values;
    if (json) {
      try {
        values = JSON.parse(json + ']');
      } catch {}
    }
    const timeStamp = performance.now();
    let at = 0;
    let jsonAt = 1;
    let nth = 0;
    for (let i = 0; i < lengths.length && this.#state !== CLOSED; i += 3) {
      if (lengths[i]) this.#eventType = text.slice(at, (at += lengths[i]));
      const type = this.#eventType;
      const lastEventId = (this.#lastEventId = text.slice(at, (at += lengths[i + 1])));
      let length = lengths[i + 2];
      let data;
      let decoded = NOT_DECODED;
      if (length >= IN_JSON) {
        length -= IN_JSON;
        data = json.slice(jsonAt, (jsonAt += length));
        jsonAt += 1; // the comma
        if (values) decoded = values[nth];
        nth += 1;
      } else {
        data = text.slice(at, (at += length));
      }
      const ev = new SseMessageEvent(type, data, lastEventId, this.#origin, this, timeStamp);
      // Events take a faster path than the lifecycle: never let one overtake its `open`.
      if (!this.#opened) {
        this.#announceOpen();
        if (this.#state === CLOSED) break;
      }
      const list = this.#listeners.get(type);
      if (list) this.#dispatch(list, ev, decoded);
      ev.eventPhase = 0;
      for (const sink of this.#iterators) {
        if (sink.type === undefined || sink.type === type) sink.push(ev);
      }
    }
  };

  /** An HTTP status error gets the start of the response's body (`body`), if any. */
  #withBody(error) {
    if (error?.type === 'http-status') {
      const body = this.#raw?.errorBody();
      if (body !== undefined) error.body = body;
    }
    return error;
  }

  #dispatchError(error) {
    this.dispatchEvent(event('error', { error, message: error.message }));
  }

  /** Handles the lifecycle changes the wasm made since the last call, in order. */
  #takeChanges = () => {
    for (const change of this.#raw?.takeChanges() ?? []) this.#onChange(change);
  };

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
        const error = this.#withBody(failureError(change[1], change[2], change[3]));
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
      case 'shared': {
        const [, shared, previous] = change;
        this.#shared = shared;
        this.dispatchEvent(event('sharechange', { shared, previous }));
        break;
      }
      case 'too-large': {
        const limit = change[1];
        this.#dispatchError(new SseError('event-too-large', `an event larger than ${limit} bytes was dropped`, { limit }));
        break;
      }
      case 'closed': {
        const error = this.#withBody(closeError(change));
        this.#finish(change[1] ?? 'requested');
        if (error) this.#dispatchError(error);
        break;
      }
    }
  }

  /**
   * Closed for good: release the wasm client, the signal listener, end the iterators.
   * `reason` goes on the `statechange` event: `'requested'`, `'ended'` (`closeOnEnd`), or
   * the type of the error that closed it.
   */
  #finish(reason = 'requested') {
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
    this.#shared = null;
    const iterators = [...this.#iterators];
    this.#iterators.clear();
    for (const sink of iterators) sink.end();
    this.#setState(CLOSED, reason);
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
