/**
 * Time bounds of every request: connect, idle and whole-request timeouts set on the client, a
 * separate bound for cleanup requests, and the mapping of transport failures to typed errors.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SosError } from './errors.ts';
import { refuseUnknownOptions } from './known-options.ts';
import { httpStatus } from './sse-c.ts';

/** Time bounds of a client's requests, in milliseconds. */
export interface SosTimeouts {
  /**
   * A new connection's TCP connect and TLS handshake together (Node). Default 10 s. Each attempt
   * of a request that needs a new connection is bounded by it: a dead or black-holed endpoint
   * fails after about `maxAttempts × connectMs` (30 s by default).
   */
  connectMs: number;
  /**
   * No byte sent or received on an established connection for this long (request body, response
   * headers and body alike). Default 30 s. The SDK arms this timer 3 s into a request when it is
   * 6 s or more, so a store that never answers fails each attempt after `idleMs` + 3 s.
   */
  idleMs: number;
  /**
   * One request from start until the response headers, including sending its body (a part):
   * raise it for parts of hundreds of MiB on slow links. Default 10 min. A response body is
   * bounded by `idleMs` instead, however long it is.
   */
  requestMs: number;
  /**
   * Each cleanup request (AbortMultipartUpload after a failure), whatever the caller's signal.
   * Default 30 s.
   */
  cleanupMs: number;
}

/** The defaults: generous for slow links, short enough that a dead server is noticed. */
export const DEFAULT_TIMEOUTS: Readonly<SosTimeouts> = Object.freeze({
  connectMs: 10_000,
  idleMs: 30_000,
  requestMs: 600_000,
  cleanupMs: 30_000,
});

const byClient = new WeakMap<S3Client, SosTimeouts>();

/**
 * Validates partial timeouts and fills in the defaults.
 * @throws {SosError} `INVALID_ARGUMENT` for a value that is not 1 ms to 24 h, or a name that is not
 *   one of the bounds.
 */
export function resolveTimeouts(input: Partial<SosTimeouts> | undefined): SosTimeouts {
  if (input === undefined) return { ...DEFAULT_TIMEOUTS };
  if (typeof input !== 'object' || input === null) {
    throw new SosError('INVALID_ARGUMENT', `"timeouts" expected an object, got ${typeof input}`);
  }
  // a misspelt bound (`requestTimeout`, `connect`) would otherwise leave the default in place unseen
  refuseUnknownOptions(input, Object.keys(DEFAULT_TIMEOUTS), 'timeouts');
  const out = { ...DEFAULT_TIMEOUTS };
  for (const name of Object.keys(DEFAULT_TIMEOUTS) as (keyof SosTimeouts)[]) {
    const value = input[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1 || value > 24 * 3600_000) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"timeouts.${name}" expected milliseconds from 1 to 86400000, got ${String(value)}`,
      );
    }
    out[name] = value;
  }
  return out;
}

/** Remembers the timeouts a client was made with (see `createSosClient`). */
export function registerTimeouts(client: S3Client, timeouts: SosTimeouts): void {
  byClient.set(client, timeouts);
}

/** The timeouts of a client: its own when `createSosClient` made it, else the defaults. */
export function timeoutsOf(client: S3Client): SosTimeouts {
  return byClient.get(client) ?? DEFAULT_TIMEOUTS;
}

/**
 * Send options of a cleanup request: its own deadline, never the caller's (possibly aborted)
 * signal. The deadline aborts with a reason marked as our cleanup timeout, so that the abort maps
 * to `TIMEOUT` and is told apart from a caller's abort.
 */
export function cleanupSendOptions(client: S3Client): { abortSignal: AbortSignal; requestTimeout: number } {
  const { cleanupMs } = timeoutsOf(client);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timeoutReason('cleanup', cleanupMs)), cleanupMs);
  // like AbortSignal.timeout: a pending deadline keeps no process alive
  (timer as { unref?: () => void }).unref?.();
  return { abortSignal: controller.signal, requestTimeout: cleanupMs };
}

/** Which of our time bounds elapsed. */
export type TimeoutKind = 'connect' | 'idle' | 'request' | 'cleanup';

/** The error a timeout of ours carries: retryable like the SDK's timeouts (its name and code). */
function timeoutReason(kind: TimeoutKind, ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms (${kind} timeout)`), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
    timeout: kind,
    ms,
  });
}

/** Node's codes for a connection that failed under us. */
const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** True for an error of the connection itself (reset, refused, closed early), not an answer. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string } | undefined;
  if (e === undefined || e === null) return false;
  if (e.code !== undefined && CONNECTION_CODES.has(e.code)) return true;
  return e.message === 'aborted' || e.message === 'socket hang up' || e.message === 'premature close';
}

/**
 * Which timeout `err` is: one the SDK's HTTP handler or our agent raised (connect, idle, request),
 * or a request aborted by one of our own deadlines (cleanup). `undefined` for anything else, a
 * caller's abort included (whatever its reason: an `AbortSignal.timeout()` of the caller's is the
 * caller's decision, `ABORTED`, not ours). Decision table:
 * - `timeout` property set by us (the agent's connect bound; an `AbortError` of a request whose
 *   signal was one of our deadlines, marked by {@link markTimeouts}): that kind;
 * - any other `AbortError`: not a timeout;
 * - `TimeoutError` or `ETIMEDOUT` from the SDK: by its message, "of inactivity" idle, "requestTimeout"
 *   or "did not complete within" (fetch) request, "establish a connection" connect; else idle (a
 *   socket's own ETIMEDOUT).
 */
export function timeoutKind(err: unknown): TimeoutKind | undefined {
  const e = err as { name?: string; code?: string; message?: string; timeout?: unknown } | undefined;
  if (e === undefined || e === null || typeof e !== 'object') return undefined;
  if (isKind(e.timeout)) return e.timeout;
  if (e.name === 'AbortError') return undefined;
  if (e.name !== 'TimeoutError' && e.code !== 'ETIMEDOUT') return undefined;
  const message = e.message ?? '';
  if (message.includes('of inactivity')) return 'idle';
  // Node's handler: "exceeded the configured N ms requestTimeout"; fetch's: "did not complete within"
  if (message.includes('requestTimeout') || message.includes('did not complete within')) return 'request';
  if (message.includes('establish a connection')) return 'connect';
  return 'idle';
}

function isKind(value: unknown): value is TimeoutKind {
  return value === 'connect' || value === 'idle' || value === 'request' || value === 'cleanup';
}

/** True for a connect, idle or request timeout of the HTTP handler, or a cleanup's own deadline. */
export function isTimeoutError(err: unknown): boolean {
  return timeoutKind(err) !== undefined;
}

/** The option of {@link SosTimeouts} that sets each kind, named in messages. */
const SETTING: Record<TimeoutKind, keyof SosTimeouts> = {
  connect: 'connectMs',
  idle: 'idleMs',
  request: 'requestMs',
  cleanup: 'cleanupMs',
};

/** Where the SDK keeps a request's abort signal in the handler context. */
const SMITHY_CONTEXT = '__smithy_context';

/**
 * Marks the timeouts a client throws so that {@link mapTransportError} can say which store did
 * not answer (the SDK's own messages do not name it), and which bound elapsed when one of our
 * deadlines aborted the request (the SDK's retry loop answers an abort with an `AbortError` of its
 * own, without the signal's reason).
 */
export function markTimeouts(client: S3Client, endpoint: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (typeof err !== 'object' || err === null) throw err;
        const signal = (context as Record<string, { abortSignal?: AbortSignal } | undefined>)[SMITHY_CONTEXT]
          ?.abortSignal;
        const reason = signal?.aborted ? (signal.reason as { timeout?: unknown; ms?: unknown }) : undefined;
        if ((err as Error).name === 'AbortError' && isKind(reason?.timeout)) {
          Object.assign(err, { timeout: reason.timeout, ms: reason.ms });
        }
        if (isTimeoutError(err) && !('$endpoint' in err)) Object.assign(err, { $endpoint: endpoint });
        throw err;
      }
    },
    { step: 'initialize', name: 'sealstreamMarkTimeouts', override: true },
  );
}

/**
 * A timeout's message: which store, which bound (and the option that sets it), how many attempts.
 * Never the request's content: no key, no header.
 */
function describeTimeout(err: unknown, kind: TimeoutKind, ms: number | undefined): string {
  const e = err as { $endpoint?: string; $metadata?: { attempts?: number } };
  const store = e.$endpoint === undefined ? 'the store' : `the store at ${e.$endpoint}`;
  const bound = ms === undefined ? '' : ` ${ms} ms`;
  const what = {
    connect: `${store} did not complete the connection (TCP connect and TLS handshake) within${bound}`,
    idle: `${store} sent and took nothing for${bound}`,
    request: `${store} did not answer the request within${bound}`,
    cleanup: `${store} did not answer the cleanup request within${bound}`,
  }[kind];
  const attempts = e.$metadata?.attempts;
  const tries = attempts !== undefined && attempts > 1 ? `, ${attempts} attempts` : '';
  return `${what} (${kind} timeout, timeouts.${SETTING[kind]}${tries})`;
}

/**
 * Turns a transport failure into a typed error; anything else (SDK errors with a status below
 * 500, our own errors) is returned unchanged:
 * - a timeout (connect, idle, request; also a cleanup's own deadline, never a caller's abort):
 *   `TIMEOUT`, naming the endpoint (when known), the bound and the attempts;
 * - a connection reset or closed early, after the SDK's retries: `SERVER_FAULT`;
 * - a 5xx answer after the SDK's retries: `SERVER_FAULT`.
 */
export function mapTransportError(err: unknown, what: string): unknown {
  if (err instanceof SosError) return err;
  const kind = timeoutKind(err);
  if (kind !== undefined) {
    const ms = msOf(err);
    return new SosError('TIMEOUT', `${what}: ${describeTimeout(err, kind, ms)}`, { cause: err });
  }
  if (isConnectionError(err)) {
    const e = err as { code?: string; message?: string };
    return new SosError(
      'SERVER_FAULT',
      `${what}: the connection to the store failed (${e.code ?? e.message}) and retries did not help`,
      { cause: err },
    );
  }
  const status = httpStatus(err);
  if (status !== undefined && status >= 500) {
    return new SosError('SERVER_FAULT', `${what}: the store answered ${status} after retries`, {
      cause: err,
    });
  }
  return err;
}

/** The bound that elapsed: ours carry it, the SDK's say it in their message. */
function msOf(err: unknown): number | undefined {
  const e = err as { message?: string; ms?: unknown };
  if (typeof e.ms === 'number') return e.ms;
  const found = /(\d+) ms/.exec(e.message ?? '');
  return found ? Number(found[1]) : undefined;
}
