// Types of the wasm-sse package. Hand-written: the public API is the JS layer (client.js),
// not wasm-bindgen's raw exports.

/** The package version, read from the wasm module. */
export function version(): string;

/** `SseClient.readyState`: 0 connecting (or waiting to reconnect), 1 open, 2 closed. */
export type ReadyState = 0 | 1 | 2;

/** The transports: the browser's `EventSource`, fetch streaming, long polling. */
export type Transport = 'eventsource' | 'fetch' | 'long-poll';

/**
 * What went wrong, as the `type` of an {@link SseError}.
 *
 * Connection losses (the client reconnects; `fatal` is false):
 * - `network`: the request failed or the connection dropped
 * - `stream-ended`: the server ended the stream
 * - `idle-timeout`: nothing arrived for `idleTimeoutMs`
 * - `connect-timeout`: the connection did not open within `connectTimeoutMs`
 * - `http-status`: a retryable status (408, 429, 5xx); `status`, maybe `retryAfterMs`
 *
 * The client closed for good (`fatal` is true, `readyState` is `CLOSED`):
 * - `http-status`: any other status (401, 404, ...); `status`
 * - `content-type`: the response was not `text/event-stream`; `contentType`
 * - `no-content`: the server answered 204 (the SSE "stop reconnecting")
 * - `attempts-exhausted`: `reconnect.maxRetries` reached; `attempts`, `last`, `cause`
 * - `elapsed-exhausted`: `reconnect.maxElapsedMs` reached; `elapsedMs`, `last`, `cause`
 * - `header-provider`: the `headers` function threw or rejected
 * - `invalid-url`, `invalid-option`: thrown by the constructor (`option` names the option)
 * - `unsupported`: the environment cannot open the transport
 * - `js`: another JavaScript exception
 * - `panic`: the wasm panicked (a bug in wasm-sse): every open client closes with it, and
 *   the constructor throws it from then on (the wasm instance cannot be used again)
 *
 * Reported while the stream goes on (`fatal` is false):
 * - `decode`: an `on(type, handler)` event's data is not JSON; `event` holds the event
 * - `event-too-large`: an event over `maxEventSize` was dropped; `limit`
 */
export type SseErrorType =
  | 'network'
  | 'stream-ended'
  | 'idle-timeout'
  | 'connect-timeout'
  | 'http-status'
  | 'content-type'
  | 'no-content'
  | 'attempts-exhausted'
  | 'elapsed-exhausted'
  | 'decode'
  | 'event-too-large'
  | 'invalid-url'
  | 'invalid-option'
  | 'header-provider'
  | 'unsupported'
  | 'js'
  | 'panic';

/** Every error of the package: an `Error` whose `type` says what went wrong. */
export class SseError extends Error {
  readonly name: 'SseError';
  readonly type: SseErrorType;
  /** Whether the client closed for good because of it. */
  readonly fatal: boolean;
  /** `http-status`: the HTTP status. */
  readonly status?: number;
  /** `http-status`: the response's `Retry-After`, in milliseconds. */
  readonly retryAfterMs?: number;
  /**
   * `http-status` (fetch streaming, long polling): the start of the response's body, at most
   * 4 KiB of it as text, to show the server's message; absent when the body was empty.
   */
  readonly body?: string;
  /** `content-type`: the `Content-Type` received (`''` when missing). */
  readonly contentType?: string;
  /** `attempts-exhausted`: the reconnection attempts made in the outage. */
  readonly attempts?: number;
  /** `elapsed-exhausted`: the outage's length, in milliseconds. */
  readonly elapsedMs?: number;
  /** `attempts-exhausted`, `elapsed-exhausted`: the type of the last failure. */
  readonly last?: SseErrorType;
  /** `event-too-large`: the limit, in bytes. */
  readonly limit?: number;
  /** `invalid-option`: the option's name. */
  readonly option?: string;
  /** `decode`: the event whose data did not decode. */
  readonly event?: SseMessageEvent;
}

/** A server-sent event, as `EventSource` hands it to listeners (a `MessageEvent`). */
export interface SseMessageEvent<T extends string = string> extends MessageEvent<string> {
  readonly type: T;
  /** The event's data: its `data:` lines joined with `\n`. */
  readonly data: string;
  /** The last event ID at dispatch (`''` when none). */
  readonly lastEventId: string;
  /** The origin of the stream's URL. */
  readonly origin: string;
}

/** `open`: the connection is open. */
export interface SseOpenEvent extends Event {
  readonly type: 'open';
  readonly transport: Transport;
  /** The response's status (fetch streaming, long polling; not over `EventSource`). */
  readonly status?: number;
  /**
   * The response's headers (fetch streaming, long polling). Cross-origin, only those the
   * server lists in `Access-Control-Expose-Headers`.
   */
  readonly headers?: Headers;
}

/** `error`: a connection loss (the client reconnects), the final close, or a decode error. */
export interface SseErrorEvent extends Event {
  readonly type: 'error';
  /** What went wrong. `undefined` only for a server-sent event named `error`. */
  readonly error: SseError;
  readonly message: string;
}

/** `reconnecting`: a reconnection attempt starts after `delayMs`. */
export interface SseReconnectingEvent extends Event {
  readonly type: 'reconnecting';
  /** 1 for the first retry of an outage. */
  readonly attempt: number;
  readonly delayMs: number;
  /** The type of the failure that ended the previous connection. */
  readonly reason: SseErrorType;
  readonly error: SseError;
}

/** `statechange`: `readyState` changed. */
export interface SseStateChangeEvent extends Event {
  readonly type: 'statechange';
  readonly readyState: ReadyState;
  readonly previous: ReadyState;
  /**
   * With `CLOSED`: `'requested'` (`close()`, an aborted signal), `'ended'` (the end of a
   * `closeOnEnd` stream), or the type of the error that closed the client.
   */
  readonly reason?: 'requested' | 'ended' | SseErrorType;
}

/** `transportchange`: the next connection uses another transport (also for the first one). */
export interface SseTransportChangeEvent extends Event {
  readonly type: 'transportchange';
  readonly transport: Transport;
  readonly previous: Transport | null;
  /** Why, when the client gave up on a stream that opened but stayed silent (a buffering proxy). */
  readonly reason?: string;
}

/** A client's part in the sharing of its stream across tabs (the `share` option). */
export type ShareRole = 'leader' | 'follower';

/** `sharechange`: this client's share role changed (`null`: it takes no part for now). */
export interface SseShareChangeEvent extends Event {
  readonly type: 'sharechange';
  readonly shared: ShareRole | null;
  readonly previous: ShareRole | null;
}

/** The events the client fires itself, by type. */
export interface SseClientEventMap {
  open: SseOpenEvent;
  error: SseErrorEvent;
  message: SseMessageEvent;
  reconnecting: SseReconnectingEvent;
  statechange: SseStateChangeEvent;
  transportchange: SseTransportChangeEvent;
  sharechange: SseShareChangeEvent;
}

/** Header name/value pairs: a plain object, a `Headers`, or pairs. */
export type HeadersLike = Record<string, string> | Headers | Iterable<readonly [string, string]>;

/** Reconnection policy; see the README. */
export interface ReconnectOptions {
  /** Upper bound of the first retry's delay. Default 1000. */
  initialDelayMs?: number;
  /** Cap of the delay (a server's `retry:` or `Retry-After` may exceed it). Default 30000. */
  maxDelayMs?: number;
  /** Growth factor per attempt. Default 2. */
  multiplier?: number;
  /** Full jitter: a random delay up to the cap. Default true. */
  jitter?: boolean;
  /** Retries per outage before closing with `attempts-exhausted`. Default unlimited. */
  maxRetries?: number;
  /** Outage length after which to close with `elapsed-exhausted`. Default unlimited. */
  maxElapsedMs?: number;
  /** A connection healthy this long ends the outage (the counters restart). Default 5000. */
  resetAfterMs?: number;
}

/** Options of `new SseClient(url, options)`; every one is optional. */
export interface SseClientOptions {
  /** Default `'auto'`: fetch streaming for same-origin URLs, in Node and with headers/method/body; `EventSource` for cross-origin URLs in browsers; else long polling. */
  transport?: 'auto' | Transport;
  /**
   * Request headers (fetch-based transports only), or a function returning them (or a
   * Promise of them), called before every connection attempt. Default none.
   */
  headers?: HeadersLike | (() => HeadersLike | Promise<HeadersLike>);
  /** Default `'GET'`, or `'POST'` when a body is given. Fetch-based transports only. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * The request body (not with `GET`). Strings, `FormData`, `URLSearchParams`, `Blob`s and
   * buffers are sent as they are; another object is sent as JSON, with
   * `content-type: application/json`. Default none.
   */
  body?: string | FormData | URLSearchParams | Blob | ArrayBuffer | ArrayBufferView | object;
  /**
   * A `fetch` to call instead of `globalThis.fetch` (fetch streaming and long polling): a
   * proxy in Node, instrumentation, a service binding, a test double. Called with a
   * `Request`; must return a Promise of a `Response`.
   */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * End the client when the server ends the stream cleanly, instead of reconnecting: for a
   * request whose answer is complete when its body ends (an LLM completion). `readyState`
   * becomes `CLOSED` (`statechange` with `reason: 'ended'`, no `error`) and iterators finish;
   * network errors and 5xx still retry and resume. Needs fetch streaming (the automatic
   * choice with it); with `transport: 'eventsource'` or `'long-poll'` the constructor throws.
   * Default false.
   */
  closeOnEnd?: boolean;
  /**
   * Asked, synchronously, before the client closes on a failure it does not retry by itself
   * (401, 403, 404, a wrong content type): return `true` to retry instead, with the
   * reconnection policy's delay and limits. The `headers` function runs again before the
   * retry, so this is where an expired token gets refreshed. Default: none (close).
   */
  retryOn?: (error: SseError) => boolean;
  /** Send cookies cross-origin, as `EventSource`'s option. Default false. */
  withCredentials?: boolean;
  /** The reconnection policy; `false` never reconnects. */
  reconnect?: ReconnectOptions | false;
  /** Reconnect when nothing arrives for this long. Default `null` (off). */
  idleTimeoutMs?: number | null;
  /**
   * Give up on a streaming attempt (`eventsource`, `fetch`) that has not opened after this
   * long. Default `null` (off): wait for the response head as long as `EventSource` does.
   * Long polls are timed by `longPollTimeoutMs` instead.
   */
  connectTimeoutMs?: number | null;
  /**
   * Give up on a long poll the server has not answered after this long (an `idle-timeout`
   * failure, then a reconnect). Default 90000, above the holds servers use; `null`: off.
   */
  longPollTimeoutMs?: number | null;
  /**
   * Switch to long polling for good on evidence of a proxy that buffers whole responses: a
   * stream that opens, stays silent at least this long, then gets its whole body in one
   * burst at its end. Silence alone never switches. Default 10000; `null`: off.
   */
  stallDowngradeMs?: number | null;
  /** Close while the page is hidden, resume when visible. Default false. */
  pauseWhenHidden?: boolean;
  /** Resume after this event ID on the first connection too. Default none. */
  lastEventId?: string;
  /** The query parameter carrying the last event ID where no header can. Default `'lastEventId'`. */
  lastEventIdParam?: string;
  /** The largest event accepted (fetch-based transports), in bytes. Default 1 MiB. */
  maxEventSize?: number;
  /** Named event types to receive from the start (the `EventSource` transport needs them for `for await`). */
  eventTypes?: Iterable<string>;
  /** Aborting it closes the client. */
  signal?: AbortSignal;
  /**
   * Share the stream with the clients of this origin (tabs, windows, iframes, workers) that
   * open it with the same share key: one network connection for all of them (see
   * docs/sharing.md). `true`: the key is the request (URL, `withCredentials`, method, body,
   * static headers); a string: that key, needed with `headers` as a function or a body that
   * is not text (the constructor throws otherwise). Pages that agree on a key share what
   * the leader's credentials receive. Where `navigator.locks` or `BroadcastChannel` is
   * missing (Node) the client connects on its own. Default false.
   */
  share?: boolean | string;
}

type ListenerOf<E> = ((this: SseClient<any>, event: E) => void) | { handleEvent(event: E): void };

/**
 * An `EventSource`-compatible Server-Sent Events client: code written for `EventSource`
 * runs unchanged. `Events` maps event types to the JSON payload `on(type, handler)` hands
 * to handlers.
 */
export class SseClient<Events extends Record<string, unknown> = Record<string, unknown>> extends EventTarget
  implements AsyncIterable<SseMessageEvent> {
  constructor(url: string | URL, options?: SseClientOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;

  /** The absolute URL of the stream. */
  readonly url: string;
  readonly withCredentials: boolean;
  readonly readyState: ReadyState;
  /** The ID of the last event received (or given in the options); `''` when none. */
  readonly lastEventId: string;
  /** The transport of the current (or last) connection; `null` before the first attempt. */
  readonly transport: Transport | null;
  /**
   * This client's part in the sharing of its stream (`share` option): `'leader'` (it holds
   * the connection), `'follower'` (it receives the leader's events), or `null` (not shared,
   * not available, undecided, stepped down while its page is hidden away, or closed).
   */
  readonly shared: ShareRole | null;

  onopen: ((this: SseClient<Events>, event: SseOpenEvent) => unknown) | null;
  onmessage: ((this: SseClient<Events>, event: SseMessageEvent) => unknown) | null;
  onerror: ((this: SseClient<Events>, event: SseErrorEvent) => unknown) | null;

  addEventListener<K extends keyof SseClientEventMap>(
    type: K, listener: ListenerOf<SseClientEventMap[K]> | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener<K extends string>(
    type: K, listener: ListenerOf<SseMessageEvent<K>> | null, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SseClientEventMap>(
    type: K, listener: ListenerOf<SseClientEventMap[K]> | null, options?: boolean | EventListenerOptions): void;
  removeEventListener<K extends string>(
    type: K, listener: ListenerOf<SseMessageEvent<K>> | null, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;

  /**
   * Calls `handler` with the JSON-decoded data of every `type` event. Data that is not JSON
   * fires an `error` event (`type: 'decode'`) instead; the stream goes on.
   * Returns a function that removes the handler.
   */
  on<K extends keyof Events & string>(
    type: K, handler: (this: SseClient<Events>, data: Events[K], event: SseMessageEvent<K>) => void): () => void;

  /** The events of `type` (of every type when omitted), until the client closes. */
  events<K extends string>(type: K): AsyncIterableIterator<SseMessageEvent<K>>;
  events(): AsyncIterableIterator<SseMessageEvent>;
  [Symbol.asyncIterator](): AsyncIterableIterator<SseMessageEvent>;

  /**
   * Drops the connection and opens a new one at once, resuming after the last event (not
   * counted as a failure). `url` and `body` (as the options take them) replace the
   * request's from this attempt on: for an app whose filter or cursor changes, or from
   * `retryOn`. `readyState` is `CONNECTING` until the new connection's `open`.
   */
  reconnect(changes?: { url?: string | URL; body?: SseClientOptions['body'] }): void;
  /** Closes the connection for good and releases everything; no event fires afterwards. */
  close(): void;
  /** Same as `close()`. */
  free(): void;
  /** Same as `close()`: `using client = new SseClient(url)`. */
  [Symbol.dispose](): void;
}
