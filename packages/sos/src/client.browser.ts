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
import { markTimeouts, registerTimeouts, resolveTimeouts, type SosTimeouts } from './timeouts.ts';

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
   * Time bounds in milliseconds. In a browser only `requestMs` (until the answer's headers, body
   * sent included; default 10 min) and `cleanupMs` (default 30 s) apply: `fetch` has no connect
   * or idle timeout of its own.
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
    requestHandler: { requestTimeout: timeouts.requestMs, customFetch: checkedFetch },
  });
  registerTimeouts(client, timeouts);
  markTimeouts(client, new URL(resolved.endpoint).origin);
  return client;
}

/**
 * `fetch`, with the two browser-only failures told apart from the store's answers: a request that
 * got no answer the page may read, and an answer whose needed headers CORS hides.
 */
async function checkedFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
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
  return response;
}
