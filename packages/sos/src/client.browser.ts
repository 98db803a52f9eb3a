/**
 * `createSosClient()` of the browser entry: an `S3Client` over `fetch` for SOS or any
 * S3-compatible endpoint, with the same endpoint rules as in Node (https only, plain http only on
 * a loopback host when allowed), credentials given by the caller, and answers checked for the
 * headers a CORS rule may hide. No Node built-in, no `Buffer`, no `process`.
 * @module
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type EndpointOptions, resolveEndpoint, type SosCredentials } from './client-options.ts';
import { checkExposedHeaders } from './cors.ts';
import { SosError } from './errors.ts';
import {
  isTimeoutError,
  markTimeouts,
  registerTimeouts,
  resolveTimeouts,
  type SosTimeouts,
} from './timeouts.ts';

/** Options of the browser {@link createSosClient}. Give exactly one of `zone` and `endpoint`. */
export interface SosClientOptions extends EndpointOptions {
  /** Signing region; default: the zone, else `us-east-1`. */
  region?: string;
  /**
   * Credentials: required, a page has no environment or profile to find them in. Whoever can
   * read the page can use them: give short-lived, narrowly scoped ones, or keep them on a server
   * and use presigned URLs (`@sealstream/sos/presigned`) instead.
   */
  credentials: S3ClientConfig['credentials'] | SosCredentials;
  /**
   * Time bounds in milliseconds. In a browser `requestMs` (until the answer's headers, body sent
   * included; default 10 min), `idleMs` (an answer's body bringing nothing for this long while it
   * is being read; default 30 s: the read resumes from the first missing byte, as in Node) and
   * `cleanupMs` (default 30 s) apply; `connectMs` does not: `fetch` has no connect timeout.
   */
  timeouts?: Partial<SosTimeouts>;
  /** Further `S3Client` settings; the ones above take precedence. */
  clientConfig?: S3ClientConfig;
}

/**
 * Creates an `S3Client` for SOS or another S3-compatible store, in a browser or a worker.
 *
 * The store must allow the page's origin by a CORS rule (see `sdkCorsRule`); an answer whose
 * needed header the rule hides fails with `SERVER_FAULT` naming the header, and a request the
 * browser refuses (preflight, CSP, network) fails with `SERVER_FAULT` saying which causes fit.
 * @throws {SosError} `INSECURE_ENDPOINT`, `UNKNOWN_ZONE`, `INVALID_ARGUMENT` as in Node, and
 *   `INVALID_ARGUMENT` when no credentials are given.
 * @example
 * const client = createSosClient({ zone: 'ch-gva-2', credentials: await fetchScopedCredentials() });
 */
export function createSosClient(options: SosClientOptions): S3Client {
  const resolved = resolveEndpoint(options);
  if (options.credentials === undefined || options.credentials === null) {
    throw new SosError(
      'INVALID_ARGUMENT',
      '"credentials" are required in a browser (there is no environment or profile to find them in); ' +
        'to keep credentials off the page, presign on a server and use @sealstream/sos/presigned',
    );
  }
  const timeouts = resolveTimeouts(options.timeouts);
  const client = new S3Client({
    ...options.clientConfig,
    endpoint: resolved.endpoint,
    region: options.region ?? resolved.zone ?? 'us-east-1',
    credentials: options.credentials,
    forcePathStyle: resolved.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      requestTimeout: timeouts.requestMs,
      customFetch: (input, init) => checkedFetch(input, init, timeouts.idleMs),
    },
  });
  registerTimeouts(client, timeouts);
  markTimeouts(client, new URL(resolved.endpoint).origin);
  return client;
}

/**
 * `fetch`, with the two browser-only failures told apart from the store's answers: a request that
 * got no answer the page may read, and an answer whose needed headers CORS hides. The answer's
 * body is bounded by `idleMs` (see {@link guardedBody}).
 */
async function checkedFetch(
  input: Parameters<typeof fetch>[0],
  init: RequestInit | undefined,
  idleMs: number,
): Promise<Response> {
  const request = new Request(input, init);
  let response: Response;
  try {
    response = await fetch(request);
  } catch (err) {
    if (request.signal.aborted || (err as Error)?.name === 'AbortError') throw err;
    // retryable like a connection reset in Node; after the SDK's retries, SERVER_FAULT as there
    throw Object.assign(
      new SosError(
        'SERVER_FAULT',
        `${request.method} ${new URL(request.url).origin}: the request failed without an answer the page may read ` +
          `(${(err as Error)?.message ?? err}). Either the network is down, or the page's Content-Security-Policy ` +
          "(connect-src) does not allow the store, or the store refused the browser's CORS preflight (the bucket's " +
          'CORS rule must allow this origin, the method and the headers: see sdkCorsRule). Some stores (Ceph RGW) ' +
          'also send error answers without CORS headers, so a refused request (a wrong SSE-C key, bad credentials) looks the same',
        { cause: err },
      ),
      { $retryable: {} },
    );
  }
  try {
    checkExposedHeaders(request, response);
  } catch (err) {
    await response.body?.cancel().catch(() => {});
    throw err;
  }
  // an answer that cannot carry a body (a Response built with one for them throws) is kept as it is
  if (response.body === null || NULL_BODY_STATUSES.has(response.status)) return response;
  return new Response(guardedBody(response.body, idleMs, request.signal), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** Statuses whose answers have no body (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * An answer's body whose failures the transport can act on. `fetch`'s timeout ends with the
 * headers, and a body that breaks off fails with a bare `TypeError: network error`: a body that
 * stalled hung the read for ever, and one cut short was neither resumed nor typed. Here a read
 * that brings nothing for `idleMs` fails as an idle timeout, and a broken body as a connection
 * reset, as Node's do: the transport resumes both from the first byte not yet received. The
 * timer runs only while a read waits, so a reader that pauses (backpressure) is not cut. A
 * caller's abort passes through as it is.
 */
function guardedBody(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                Object.assign(
                  new Error(
                    `the answer's body brought nothing for ${idleMs} ms of inactivity (idle timeout)`,
                  ),
                  { name: 'TimeoutError', code: 'ETIMEDOUT', timeout: 'idle', ms: idleMs },
                ),
              ),
            idleMs,
          );
        });
        try {
          const next = await Promise.race([reader.read(), idle]);
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          void reader.cancel(err).catch(() => {});
          if (signal.aborted || (err as Error)?.name === 'AbortError' || isTimeoutError(err)) throw err;
          throw Object.assign(
            new Error(
              `the connection broke off while the answer's body was arriving (${(err as Error)?.message ?? err})`,
            ),
            { code: 'ECONNRESET', cause: err },
          );
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
