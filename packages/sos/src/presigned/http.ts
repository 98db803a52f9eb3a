/**
 * One request to a presigned URL with `fetch`: retries, a timeout, and the decision table that
 * turns an answer (or its absence) into a typed error. Runtime-neutral: browsers, workers, Node.
 * @module
 */
import { PresignedTransferError } from './errors.ts';

/** How requests are made; `fetch` can be replaced (tests, a custom agent). */
export interface HttpOptions {
  /** Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Attempts for a request that failed without an answer, timed out or got a 5xx: 1 to 10, default 3. */
  attempts?: number;
  /**
   * Time allowed, in ms (1 to 2 147 483 647, default 120 000), for each step that waits on another
   * party: one attempt until the answer's headers arrive, each wait for the next piece of an
   * answer's body, and each call of the page's own presigner or URL function.
   */
  timeoutMs?: number;
}

/** The largest delay a timer takes (a larger one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The attempts and timeout of `options`, checked once: a count or a delay out of range would retry
 * without end, throw nothing useful, or time out every request at once.
 * @throws {PresignedTransferError} `INVALID_ARGUMENT`.
 */
export function httpBounds(options: HttpOptions = {}): { attempts: number; timeoutMs: number } {
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
    throw new PresignedTransferError('INVALID_ARGUMENT', `"attempts" expected 1 to 10, got ${attempts}`);
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMER_MS) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"timeoutMs" expected 1 to ${MAX_TIMER_MS} ms, got ${timeoutMs}`,
    );
  }
  return { attempts, timeoutMs };
}

/**
 * Waits for a step of the caller's own code (its presigner, its URL function: a request to its
 * server) within `timeoutMs` and `signal`. What the step throws is thrown as it is; a step that
 * does not settle in time is `TIMEOUT`, one outwaited by an abort `ABORTED`. A step given up on
 * still runs: `onLate` gets what it resolves to later (e.g. to abort an upload created too late).
 * @throws {PresignedTransferError} `TIMEOUT`, `ABORTED`; what `step` throws.
 */
export function bounded<T>(
  step: () => T | Promise<T>,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
  onLate?: (value: T) => void,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(aborted(what, signal));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      settle();
      reject(
        new PresignedTransferError(
          'TIMEOUT',
          `${what}: no answer within ${timeoutMs} ms from your code that calls your server`,
        ),
      );
    }, timeoutMs);
    const onAbort = () => {
      settle();
      reject(aborted(what, signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    Promise.resolve()
      .then(step)
      .then(
        (value) => {
          if (settled) return onLate?.(value);
          settle();
          resolve(value);
        },
        (err) => {
          if (settled) return;
          settle();
          reject(err);
        },
      );
  });
}

/** Limits of {@link readBody}. */
export interface BodyBounds {
  what: string;
  /** Longest wait for the next piece of the body, in ms. */
  idleMs: number;
  signal?: AbortSignal | undefined;
  /** Stop (and cancel the rest) once this many bytes are read. */
  limit?: number;
}

/**
 * An answer's body, read whole (or to `limit`) with every wait bounded: fetch's own timeout ends
 * with the headers, so a body that stalls, breaks off or outlives an abort would otherwise hang or
 * throw the browser's bare `TypeError`.
 * @throws {PresignedTransferError} `TIMEOUT` (nothing for `idleMs`), `NETWORK_ERROR` (the body broke
 *   off), `ABORTED`.
 */
export async function readBody(res: Response, bounds: BodyBounds): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const limit = bounds.limit ?? Number.POSITIVE_INFINITY;
  try {
    while (length < limit) {
      const { done, value } = await readWithin(reader, bounds, length);
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } finally {
    // done or given up: the rest (if any) is not wanted, and the connection is let go
    void reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(Math.min(length, limit));
  let offset = 0;
  for (const c of chunks) {
    const n = Math.min(c.length, out.length - offset);
    out.set(c.subarray(0, n), offset);
    offset += n;
  }
  return out;
}

/** Errors of a body that broke off or stalled after its answer came: worth one more request. */
const brokenBodies = new WeakSet<object>();

/**
 * Runs `once` (a request and the reading of its body) again when its body broke off or stalled,
 * up to `attempts` times in all: `send` retries a request that got no answer, but an answer whose
 * body is cut (a flaky network) would otherwise end a read that one more request completes.
 * @throws what the last attempt threw.
 */
export async function retryBrokenBody<T>(
  options: HttpOptions,
  signal: AbortSignal | undefined,
  once: () => Promise<T>,
): Promise<T> {
  const { attempts } = httpBounds(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (err) {
      if (attempt >= attempts || signal?.aborted || !brokenBodies.has(err as object)) throw err;
    }
  }
}

/**
 * The next piece of a body, within `idleMs` and `signal`.
 * @throws {PresignedTransferError} `TIMEOUT`, `NETWORK_ERROR`, `ABORTED`.
 */
export function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  bounds: BodyBounds,
  received: number,
): ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> {
  const { what, idleMs, signal } = bounds;
  return bounded(
    () =>
      reader.read().catch((cause) => {
        const broken = new PresignedTransferError(
          'NETWORK_ERROR',
          `${what}: the answer's body broke off after ${received} bytes (the connection was lost or reset)`,
          { cause },
        );
        brokenBodies.add(broken);
        throw broken;
      }),
    what,
    idleMs,
    signal,
  ).catch((err) => {
    if (err instanceof PresignedTransferError && err.code === 'TIMEOUT') {
      const stalled = new PresignedTransferError(
        'TIMEOUT',
        `${what}: the answer's body stalled: nothing arrived for ${idleMs} ms after ${received} bytes`,
      );
      brokenBodies.add(stalled);
      throw stalled;
    }
    throw err;
  });
}

/**
 * A request to send: `url` is asked for again on every attempt, so a fresh signature can be used;
 * an error it throws ends the request with that error.
 */
export interface PresignedRequest {
  url: () => string | Promise<string>;
  method: 'GET' | 'HEAD' | 'PUT';
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** What the request is, for messages: `part 3 of photos/a.jpg`. */
  what: string;
}

const RETRYABLE = new Set([500, 502, 503, 504]);

/**
 * Sends a request, retrying network failures, timeouts and 5xx with backoff, and returns the first
 * answer that is neither. Every other status is the caller's to judge with {@link failedAnswer}.
 * @throws {PresignedTransferError} `ABORTED`, `TIMEOUT`, `NETWORK_ERROR`, `SERVER_FAULT`; and
 *   what `request.url` throws, as it is.
 */
export async function send(
  request: PresignedRequest,
  options: HttpOptions = {},
  signal?: AbortSignal,
): Promise<Response> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const { attempts, timeoutMs } = httpBounds(options);
  let last: PresignedTransferError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (signal?.aborted) throw aborted(request.what, signal);
    if (attempt > 1) await sleep(250 * 2 ** (attempt - 2), signal);
    // The caller's own code (its server presigning the URL): what it throws is its own error, thrown
    // as it is, neither retried nor taken for a network failure with advice about CORS; bounded
    // like any other wait, so a server that never answers the page cannot hang the transfer.
    const url = await bounded(request.url, `${request.what}: its URL`, timeoutMs, signal);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const onAbort = () => timeout.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const init: RequestInit = { method: request.method, signal: timeout.signal };
      if (request.headers) init.headers = request.headers;
      if (request.body) init.body = request.body as Uint8Array<ArrayBuffer>;
      const res = await doFetch(url, init);
      if (!RETRYABLE.has(res.status)) return res;
      await res.body?.cancel();
      last = new PresignedTransferError(
        'SERVER_FAULT',
        `${request.what}: the store answered ${res.status} ${res.statusText} ${attempts} times`,
        { status: res.status },
      );
    } catch (cause) {
      if (signal?.aborted) throw aborted(request.what, signal);
      last = timeout.signal.aborted
        ? new PresignedTransferError(
            'TIMEOUT',
            `${request.what}: no answer within ${timeoutMs} ms (tried ${attempts} times)`,
            { cause },
          )
        : new PresignedTransferError(
            'NETWORK_ERROR',
            `${request.what}: the request failed without an answer (tried ${attempts} times). Either the network is down, or the page's Content-Security-Policy (connect-src) does not allow the store, or the store refused the browser's CORS preflight: the bucket's CORS rule must allow this page's origin, the ${request.method} method and the headers sent. Some stores (Ceph RGW) also send their error answers without CORS headers, so an expired or refused presigned URL looks the same to a page`,
            { cause },
          );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
  throw last!;
}

/**
 * The error for an answer the caller cannot use (SPEC-like decision table):
 * | status | code |
 * | 403 | ACCESS_DENIED (URL expired or not signed for this request) |
 * | 404 | NOT_FOUND |
 * | 412 | OBJECT_CHANGED (If-Match failed) |
 * | 416 | RANGE_NOT_SATISFIABLE |
 * | anything else | SERVER_FAULT |
 */
export async function failedAnswer(
  res: Response,
  what: string,
  options: HttpOptions = {},
): Promise<PresignedTransferError> {
  // the body only adds S3's error code to the message: a few KiB, within the timeout, or nothing
  const body = await readBody(res, { what, idleMs: httpBounds(options).timeoutMs, limit: 16 * 1024 }).catch(
    () => new Uint8Array(0),
  );
  const text = new TextDecoder().decode(body);
  const s3Code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  const detail = `${res.status}${s3Code ? ` ${s3Code}` : ''}`;
  const status = res.status;
  switch (status) {
    case 403:
      return new PresignedTransferError(
        'ACCESS_DENIED',
        `${what}: the store refused the request (${detail}): the presigned URL expired, was signed for another request, or its credentials lack the right`,
        { status },
      );
    case 404:
      return new PresignedTransferError('NOT_FOUND', `${what}: not found (${detail})`, { status });
    case 412:
      return new PresignedTransferError(
        'OBJECT_CHANGED',
        `${what}: the object changed since it was first read (${detail}): start again to read the new version`,
        { status },
      );
    case 416:
      return new PresignedTransferError(
        'RANGE_NOT_SATISFIABLE',
        `${what}: range not satisfiable (${detail})`,
        {
          status,
        },
      );
    default:
      return new PresignedTransferError('SERVER_FAULT', `${what}: unexpected answer ${detail}`, { status });
  }
}

/**
 * A response header the transfer needs. Missing from a cross-origin answer, it was hidden by the
 * bucket's CORS rule (the browser exposes only a few headers unless ExposeHeaders lists them);
 * missing from a same-origin or non-browser answer, the store did not send it.
 * @throws {PresignedTransferError} `CORS_HEADER_HIDDEN` or `SERVER_FAULT`.
 */
export function requireHeader(res: Response, name: string, what: string): string {
  const value = res.headers.get(name);
  if (value !== null) return value;
  if (res.type === 'cors') {
    throw new PresignedTransferError(
      'CORS_HEADER_HIDDEN',
      `${what}: the browser hid the ${name} response header: the bucket's CORS rule must list "${name}" in ExposeHeaders (see the @sealstream/sos README, "CORS for browsers")`,
      { status: res.status, header: name },
    );
  }
  throw new PresignedTransferError('SERVER_FAULT', `${what}: the store sent no ${name} header`, {
    status: res.status,
    header: name,
  });
}

/** The error for an aborted transfer. */
export function aborted(what: string, signal: AbortSignal): PresignedTransferError {
  return new PresignedTransferError('ABORTED', `${what}: aborted`, { cause: signal.reason });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
