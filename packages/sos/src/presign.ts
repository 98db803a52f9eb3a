/**
 * `@sealstream/sos/presign`: the server side of presigned transfers. A page's own server creates
 * a multipart upload, presigns its part URLs, completes or aborts it, and presigns GETs and HEADs;
 * the page seals and moves the bytes itself (`@sealstream/sos/presigned`), so it never holds store
 * credentials and the server never sees plaintext or keys.
 * @module
 */
import {
  AbortMultipartUploadCommand,
  type CORSRule,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PresignedTransferError } from './presigned/errors.ts';
import { MAX_PARTS, type UploadedPart } from './presigned/upload.ts';
import { mapStoreError, type StoreTarget } from './store-errors.ts';

/** Where an object is. */
export interface PresignLocation {
  bucket: string;
  key: string;
}

/** How long a presigned URL stays valid, in seconds: 1 to 604 800 (7 days); default 900. */
export interface PresignExpiry {
  expiresIn?: number;
}

/**
 * The CORS rule a bucket needs for pages at `origins` to upload and download through presigned
 * URLs. ExposeHeaders matters: without `ETag` a page cannot complete a multipart upload, without
 * `Content-Range` it cannot read ranges (the browser hides both unless they are listed).
 */
export function browserCorsRule(origins: string[]): CORSRule {
  if (!Array.isArray(origins) || origins.length === 0 || origins.some((o) => typeof o !== 'string' || !o)) {
    throw new PresignedTransferError('INVALID_ARGUMENT', '"origins" expected a non-empty list of origins');
  }
  return {
    AllowedOrigins: origins,
    AllowedMethods: ['GET', 'HEAD', 'PUT'],
    AllowedHeaders: ['Range', 'If-Match', 'Content-Type'],
    ExposeHeaders: ['ETag', 'Content-Range', 'Content-Length', 'Accept-Ranges', 'x-amz-version-id'],
    MaxAgeSeconds: 3600,
  };
}

/**
 * Sets {@link browserCorsRule} as the bucket's CORS configuration (replacing any other rule).
 * @throws {SosError} the store's refusals mapped as the transport maps them (`BUCKET_NOT_FOUND`,
 *   `ACCESS_DENIED`, `BAD_CREDENTIALS`).
 */
export async function allowBrowserAccess(client: S3Client, bucket: string, origins: string[]): Promise<void> {
  const rule = browserCorsRule(origins);
  const command = new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } });
  await mapped(client.send(command), { what: `set the CORS rule of ${bucket}`, bucket });
}

/**
 * One request of the server helpers: the store's refusals (no such bucket or upload, access denied,
 * credentials refused) become the transport's {@link SosError}s, the SDK's error their cause.
 */
async function mapped<T>(request: Promise<T>, target: StoreTarget): Promise<T> {
  try {
    return await request;
  } catch (err) {
    throw mapStoreError(err, target);
  }
}

/**
 * Creates a multipart upload for a page to fill; returns its id.
 * @throws {PresignedTransferError} `INVALID_ARGUMENT` for a bad location or content type.
 * @throws {SosError} the store's refusals (`BUCKET_NOT_FOUND`, `ACCESS_DENIED`, `BAD_CREDENTIALS`).
 */
export async function createPresignedUpload(
  client: S3Client,
  location: PresignLocation & { contentType?: string },
): Promise<{ uploadId: string }> {
  checkLocation(location, false);
  const { contentType } = location;
  if (contentType !== undefined && (typeof contentType !== 'string' || hasControl(contentType))) {
    refuse('contentType', 'expected a media type without control characters', contentType);
  }
  const command = new CreateMultipartUploadCommand({
    Bucket: location.bucket,
    Key: location.key,
    ContentType: location.contentType ?? 'application/octet-stream',
  });
  const out = await mapped(client.send(command), {
    what: `create an upload of ${location.bucket}/${location.key}`,
    bucket: location.bucket,
    key: location.key,
  });
  if (!out.UploadId) {
    throw new PresignedTransferError('SERVER_FAULT', `the store created no upload id for ${location.key}`);
  }
  return { uploadId: out.UploadId };
}

/** The largest part S3 takes, in bytes (5 GiB). */
const MAX_PART_BYTES = 5 * 1024 ** 3;

/**
 * A presigned PUT URL for part `partNumber` (1 to 10 000) of an upload.
 *
 * With `contentLength`, the URL signs the part's length too: the store refuses (403
 * `SignatureDoesNotMatch`) a PUT of any other length, so a server can bound what a page stores
 * through it (check the length the page asks for, then sign it). Without it, the URL takes a part of
 * any size up to the store's 5 GiB. `uploadSealed` tells its presigner each part's length.
 * @throws {PresignedTransferError} `INVALID_ARGUMENT` for a bad location, part number or length.
 */
export async function presignUploadPart(
  client: S3Client,
  request: PresignLocation & PresignExpiry & { uploadId: string; partNumber: number; contentLength?: number },
): Promise<string> {
  checkLocation(request, true);
  const { partNumber, contentLength } = request;
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"partNumber" expected 1 to ${MAX_PARTS}, got ${partNumber}`,
    );
  }
  if (
    contentLength !== undefined &&
    (!Number.isSafeInteger(contentLength) || contentLength < 0 || contentLength > MAX_PART_BYTES)
  ) {
    refuse('contentLength', `expected a part length of 0 to ${MAX_PART_BYTES} bytes`, contentLength);
  }
  const command = new UploadPartCommand({
    Bucket: request.bucket,
    Key: request.key,
    UploadId: request.uploadId,
    PartNumber: partNumber,
    ContentLength: contentLength,
  });
  return getSignedUrl(client, command, {
    expiresIn: expiry(request.expiresIn),
    ...(contentLength === undefined ? {} : { signableHeaders: new Set(['content-length']) }),
  });
}

/**
 * Completes an upload with the parts the page reports; returns the object's ETag and version.
 * @throws {PresignedTransferError} `INVALID_ARGUMENT` for a bad location or parts list.
 * @throws {SosError} the store's refusals (`UPLOAD_NOT_FOUND`, `BUCKET_NOT_FOUND`, `ACCESS_DENIED`,
 *   `BAD_CREDENTIALS`); other answers (e.g. `InvalidPart`) as the SDK throws them.
 */
export async function completePresignedUpload(
  client: S3Client,
  request: PresignLocation & { uploadId: string; parts: UploadedPart[] },
): Promise<{ etag: string | undefined; versionId: string | undefined }> {
  checkLocation(request, true);
  const parts = request.parts;
  if (
    !Array.isArray(parts) ||
    parts.length === 0 ||
    parts.length > MAX_PARTS ||
    parts.some(
      (p, i) =>
        p?.partNumber !== i + 1 ||
        typeof p.etag !== 'string' ||
        p.etag.length === 0 ||
        p.etag.length > MAX_TOKEN_LENGTH ||
        hasControl(p.etag),
    )
  ) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"parts" expected 1 to ${MAX_PARTS} parts numbered 1, 2, 3... in order, each with its ETag (text of at most ${MAX_TOKEN_LENGTH} characters)`,
    );
  }
  const command = new CompleteMultipartUploadCommand({
    Bucket: request.bucket,
    Key: request.key,
    UploadId: request.uploadId,
    MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
  });
  const out = await mapped(client.send(command), {
    what: `complete ${request.bucket}/${request.key}`,
    bucket: request.bucket,
    key: request.key,
    uploadId: request.uploadId,
  });
  // RGW answers with an empty ETag here; undefined says the same without pretending.
  return { etag: out.ETag || undefined, versionId: out.VersionId || undefined };
}

/**
 * Aborts an upload and checks that no part is left: S3 may keep a part that was still arriving
 * when the abort came, so the abort is repeated until ListParts says the upload is gone.
 * @throws {PresignedTransferError} `UPLOAD_NOT_ABORTED` with `uploadId`, `bucket` and `key`.
 */
export async function abortPresignedUpload(
  client: S3Client,
  request: PresignLocation & { uploadId: string },
): Promise<void> {
  checkLocation(request, true);
  const { bucket, key, uploadId } = request;
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (!isNoSuchUpload(err)) last = err;
    }
    try {
      await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (isNoSuchUpload(err)) return;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  throw new PresignedTransferError(
    'UPLOAD_NOT_ABORTED',
    `multipart upload ${uploadId} of ${bucket}/${key} could not be aborted: abort it later (aws s3api abort-multipart-upload --bucket ${bucket} --key ${key} --upload-id ${uploadId}) or let a lifecycle rule expire it`,
    { uploadId, bucket, key, cause: last },
  );
}

/** A presigned GET URL (a page reads it with Range requests). */
export async function presignGet(
  client: S3Client,
  request: PresignLocation & PresignExpiry,
): Promise<string> {
  checkLocation(request, false);
  return getSignedUrl(client, new GetObjectCommand({ Bucket: request.bucket, Key: request.key }), {
    expiresIn: expiry(request.expiresIn),
  });
}

/** A presigned HEAD URL. */
export async function presignHead(
  client: S3Client,
  request: PresignLocation & PresignExpiry,
): Promise<string> {
  checkLocation(request, false);
  return getSignedUrl(client, new HeadObjectCommand({ Bucket: request.bucket, Key: request.key }), {
    expiresIn: expiry(request.expiresIn),
  });
}

/** Longest key S3 takes, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** Longest upload ID or part ETag taken (S3's are under 200 characters): bounds what a page can make us send. */
const MAX_TOKEN_LENGTH = 1024;
/** True when `text` holds a C0 control or DEL: never in a name a URL or header carries. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function refuse(what: string, why: string, value: unknown): never {
  const shown = typeof value === 'string' && value.length > 80 ? `${value.slice(0, 80)}...` : value;
  throw new PresignedTransferError(
    'INVALID_ARGUMENT',
    `"${what}" ${why}, got ${JSON.stringify(shown) ?? String(value)}`,
  );
}

/**
 * Checks what the helpers take from a page, before anything is signed or sent: a bucket name
 * without a slash, a key of 1 to 1024 UTF-8 bytes without `.` or `..` segments (a browser resolves
 * them in the URL, which then no longer matches its signature) and, like both, without control
 * characters; an upload ID when one is given.
 * @throws {PresignedTransferError} `INVALID_ARGUMENT`.
 */
function checkLocation(request: PresignLocation & { uploadId?: string }, withUpload: boolean): void {
  const { bucket, key } = request ?? ({} as PresignLocation);
  if (typeof bucket !== 'string' || bucket === '' || bucket.includes('/') || hasControl(bucket)) {
    refuse('bucket', 'expected a bucket name (no slash, no control character)', bucket);
  }
  if (typeof key !== 'string' || key === '' || new TextEncoder().encode(key).byteLength > MAX_KEY_BYTES) {
    refuse('key', `expected an object key of 1 to ${MAX_KEY_BYTES} UTF-8 bytes`, key);
  }
  if (hasControl(key)) refuse('key', 'must not hold control characters', key);
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) {
    refuse(
      'key',
      'must not hold "." or ".." segments (a browser resolves them, and the URL no longer matches its signature)',
      key,
    );
  }
  if (withUpload) checkToken('uploadId', request.uploadId);
}

function checkToken(what: string, value: unknown): void {
  if (typeof value !== 'string' || value === '' || value.length > MAX_TOKEN_LENGTH || hasControl(value)) {
    refuse(what, `expected text of 1 to ${MAX_TOKEN_LENGTH} characters without control characters`, value);
  }
}

function expiry(seconds: number | undefined): number {
  const s = seconds ?? 900;
  if (!Number.isInteger(s) || s < 1 || s > 604_800) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"expiresIn" expected 1 to 604800 seconds, got ${s}`,
    );
  }
  return s;
}

function isNoSuchUpload(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404;
}
