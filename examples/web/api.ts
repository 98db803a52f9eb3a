/**
 * The web example's API: what a page asks its server for. The server holds the store credentials
 * and presigns; it never sees plaintext or keys, and confines the page to one bucket.
 *
 * POST /api/uploads           { key }                       -> { uploadId }
 * POST /api/uploads/part      { key, uploadId, partNumber, size } -> { url }  (size: the part's bytes, signed)
 * POST /api/uploads/complete  { key, uploadId, parts }      -> { etag, versionId }
 * POST /api/uploads/abort     { key, uploadId }             -> {}
 * GET  /api/objects                                         -> { bucket, objects: [{ key, size, lastModified }] }
 * POST /api/objects/url       { key }                       -> { url }  (a presigned GET)
 *
 * A failed call answers `{ error: { code, message } }`: 400 for what the page sent (a bad field,
 * a key that is no plain object name, a parts list the store refuses: the store's code, e.g.
 * InvalidPart), 404 for an upload or object that is not there, 502 when this server or the store
 * failed (the store's refusal of this server's credentials included).
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  abortPresignedUpload,
  completePresignedUpload,
  createPresignedUpload,
  presignGet,
  presignUploadPart,
} from '@sealstream/sos/presign';

/** Handles one request if it is for the API; returns false otherwise. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, body: Uint8Array) => Promise<boolean>;

/** The API over one bucket. */
export function presignApi(client: S3Client, bucket: string): ApiHandler {
  const routes: Record<string, (input: Record<string, unknown>) => Promise<unknown>> = {
    'POST /api/uploads': (i) => createPresignedUpload(client, { bucket, key: keyOf(i) }),
    'POST /api/uploads/part': (i) =>
      presignUploadPart(client, {
        bucket,
        key: keyOf(i),
        uploadId: text(i.uploadId, 'uploadId'),
        partNumber: whole(i.partNumber, 'partNumber'),
        contentLength: partSize(i.size),
        expiresIn: 600,
      }).then((url) => ({ url })),
    'POST /api/uploads/complete': (i) =>
      completePresignedUpload(client, {
        bucket,
        key: keyOf(i),
        uploadId: text(i.uploadId, 'uploadId'),
        parts: i.parts as never,
      }),
    'POST /api/uploads/abort': (i) =>
      abortPresignedUpload(client, { bucket, key: keyOf(i), uploadId: text(i.uploadId, 'uploadId') }).then(
        () => ({}),
      ),
    'GET /api/objects': async () => {
      const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      const objects = (out.Contents ?? []).map((o) => ({
        key: o.Key,
        size: o.Size,
        lastModified: o.LastModified?.toISOString(),
      }));
      return { bucket, objects };
    },
    'POST /api/objects/url': (i) =>
      presignGet(client, { bucket, key: keyOf(i), expiresIn: 600 }).then((url) => ({ url })),
  };
  return async (req, res, body) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[`${req.method} ${path}`];
    if (!route) return false;
    try {
      // JSON only: a cross-site form or text/plain POST (which a browser sends without asking this
      // server first) is refused before anything is presigned
      if (req.method === 'POST' && !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
        send(res, 415, {
          error: {
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: 'API calls are JSON (content-type: application/json)',
          },
        });
        return true;
      }
      const input = body.length ? JSON.parse(new TextDecoder().decode(body)) : {};
      if (typeof input !== 'object' || input === null) throw badRequest('expected a JSON object');
      send(res, 200, await route(input));
    } catch (err) {
      if (err instanceof SyntaxError) {
        send(res, 400, {
          error: { code: 'INVALID_ARGUMENT', message: `the body is not JSON: ${err.message}` },
        });
        return true;
      }
      const [status, code] = answerFor(err);
      send(res, status, { error: { code, message: (err as Error)?.message ?? String(err) } });
    }
    return true;
  };
}

/** Answers with `value` as JSON, never cached. */
export function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
}

/** Object keys the page may use: plain names, no path tricks, at most 200 characters. */
function keyOf(input: Record<string, unknown>): string {
  const key = text(input.key, 'key');
  if (
    key.length > 200 ||
    key.startsWith('/') ||
    key.split('/').some((s) => s === '..' || s === '.' || s === '')
  ) {
    throw badRequest(`"key" is not an acceptable object name: ${JSON.stringify(key)}`);
  }
  return key;
}

/**
 * The most a page may PUT as one part: the page's parts are 8 MiB of sealed bytes; this leaves room
 * for a larger `partSize` while keeping what one URL can store bounded (each URL signs its length).
 */
export const MAX_PART_SIZE = 64 * 1024 * 1024;

/** The length a part URL is signed for: what the page says it will PUT, within {@link MAX_PART_SIZE}. */
function partSize(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_PART_SIZE) {
    throw badRequest(`"size" expected a part length of 1 to ${MAX_PART_SIZE} bytes`);
  }
  return value;
}

/**
 * The status and code a failed call answers with: the page's own mistakes are 4xx (a value it sent,
 * an upload or object that is not there, a parts list the store refuses), so a page can tell them
 * from this server's or the store's faults (502).
 */
function answerFor(err: unknown): [number, string] {
  const e = err as {
    code?: unknown;
    status?: unknown;
    name?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.code === 'string') {
    return [e.status, e.code];
  }
  switch (e?.code) {
    case 'INVALID_ARGUMENT':
      return [400, e.code];
    case 'UPLOAD_NOT_FOUND':
    case 'NOT_FOUND':
      return [404, e.code];
  }
  // what the SDK throws as the store said it: a 400 (InvalidPart, EntityTooSmall, MalformedXML) is
  // about the parts list the page sent
  if (e?.$metadata?.httpStatusCode === 400 && typeof e.name === 'string') return [400, e.name];
  return [502, typeof e?.code === 'string' ? e.code : 'SERVER_FAULT'];
}

/** A whole number as JSON gives it: not a string, boolean or list that `Number()` would turn into one. */
function whole(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw badRequest(`"${name}" expected a whole number, got ${JSON.stringify(value) ?? typeof value}`);
  }
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw badRequest(`"${name}" expected a non-empty string`);
  return value;
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { code: 'INVALID_ARGUMENT', status: 400 });
}
