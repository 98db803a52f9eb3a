/**
 * Time bounds of every request: connect, idle and whole-request timeouts set on the client, a
 * separate bound for cleanup requests, and the mapping of transport failures to typed errors.
 * @module
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SosError } from './errors.ts';
import { httpStatus } from './sse-c.ts';

/** Time bounds of a client's requests, in milliseconds. */
export interface SosTimeouts {
  /** TCP connect. Default 10 s. */
  connectMs: number;
  /**
   * No byte sent or received on a connection for this long (TLS handshake, request body,
   * response headers and body alike). Default 30 s.
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

/** Validates partial timeouts and fills in the defaults. */
export function resolveTimeouts(input: Partial<SosTimeouts> | undefined): SosTimeouts {
  if (input === undefined) return { ...DEFAULT_TIMEOUTS };
  if (typeof input !== 'object' || input === null) {
    throw new SosError('INVALID_ARGUMENT', `"timeouts" expected an object, got ${typeof input}`);
  }
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

/** Send options of a cleanup request: its own deadline, never the caller's (possibly aborted) signal. */
export function cleanupSendOptions(client: S3Client): { abortSignal: AbortSignal; requestTimeout: number } {
  const { cleanupMs } = timeoutsOf(client);
  return { abortSignal: AbortSignal.timeout(cleanupMs), requestTimeout: cleanupMs };
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

/** True for a connect, idle or request timeout of the HTTP handler. */
export function isTimeoutError(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | undefined;
  return e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT';
}

/**
 * Turns a transport failure into a typed error; anything else (SDK errors with a status below
 * 500, our own errors) is returned unchanged:
 * - a timeout (connect, idle, request; also a cleanup's own deadline): `TIMEOUT`;
 * - a connection reset or closed early, after the SDK's retries: `SERVER_FAULT`;
 * - a 5xx answer after the SDK's retries: `SERVER_FAULT`.
 */
export function mapTransportError(err: unknown, what: string): unknown {
  if (err instanceof SosError) return err;
  if (isTimeoutError(err)) {
    return new SosError('TIMEOUT', `${what}: ${(err as Error).message || 'timed out'}`, { cause: err });
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
