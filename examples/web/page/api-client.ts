/**
 * The page's side of the web example's API (examples/web/api.ts): an UploadPresigner for
 * `uploadSealed`, the object list and presigned GET URLs. Runs in the browser.
 * @module
 */
import type { UploadedPart, UploadPresigner } from '@sealstream/sos/presigned';

/** An error the page's server answered with. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** How long the page waits for its server; a call past it fails (uploadSealed bounds it too). */
const CALL_TIMEOUT_MS = 30_000;

async function call<T>(method: 'GET' | 'POST', path: string, input?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: input === undefined ? {} : { 'content-type': 'application/json' },
      body: input === undefined ? null : JSON.stringify(input),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (err) {
    // the browser says only "Failed to fetch": name the party that did not answer
    const timedOut = (err as Error)?.name === 'TimeoutError';
    throw new ApiError(
      timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
      timedOut
        ? `${path}: the page's server did not answer within ${CALL_TIMEOUT_MS / 1000} s`
        : `${path}: the page's server did not answer (${(err as Error)?.message ?? err}): it may be down, or the network is`,
    );
  }
  const value = await res
    .json()
    .catch(() => ({ error: { code: 'SERVER_FAULT', message: `${path}: ${res.status}` } }));
  if (!res.ok || value.error)
    throw new ApiError(value.error?.code ?? 'SERVER_FAULT', value.error?.message ?? `${path}: ${res.status}`);
  return value as T;
}

/** Presigns the upload of object `key` through the page's server. */
export function apiPresigner(key: string): UploadPresigner {
  return {
    create: () => call('POST', '/api/uploads', { key }),
    partUrl: async (uploadId, partNumber, size) =>
      (await call<{ url: string }>('POST', '/api/uploads/part', { key, uploadId, partNumber, size })).url,
    complete: (uploadId, parts: UploadedPart[]) =>
      call('POST', '/api/uploads/complete', { key, uploadId, parts }),
    abort: async (uploadId) => {
      await call('POST', '/api/uploads/abort', { key, uploadId });
    },
  };
}

/** An object as the server lists it. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: string;
}

/** The bucket and its objects. */
export function listObjects(): Promise<{ bucket: string; objects: ListedObject[] }> {
  return call('GET', '/api/objects');
}

/** A presigned GET URL of `key`. */
export async function objectUrl(key: string): Promise<string> {
  return (await call<{ url: string }>('POST', '/api/objects/url', { key })).url;
}
