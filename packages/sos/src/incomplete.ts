/**
 * Incomplete multipart uploads: the uploads a bucket still holds parts of (an interrupted upload
 * kept for resuming, or one whose abort failed), with their age and the bytes they occupy, and
 * aborting them (what `mc rm --incomplete` does). Their parts are billed until aborted.
 * @module
 */
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SosError } from './errors.ts';
import { optionNames } from './known-options.ts';
import { checkBucketOptions, checkLocation } from './objects.ts';
import { httpStatus } from './sse-c.ts';
import { mapStoreError } from './store-errors.ts';
import { mapTransportError } from './timeouts.ts';

/** One incomplete multipart upload. */
export interface IncompleteUpload {
  key: string;
  uploadId: string;
  /** When the upload was started (the store's clock). */
  initiated: Date;
  /** Parts the store holds. */
  parts: number;
  /** Bytes the store holds in those parts. */
  size: number;
}

/** Options of {@link listIncompleteUploads}. */
export interface ListIncompleteUploadsOptions {
  client: S3Client;
  bucket: string;
  /** Only uploads whose key starts with this (default: every upload in the bucket). */
  prefix?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Options of {@link abortIncompleteUpload}. */
export interface AbortIncompleteUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  uploadId: string;
  signal?: AbortSignal | undefined;
}

/** Uploads whose parts are listed at once: each is one ListParts request (or more, past 1,000 parts). */
const PARTS_LISTED_AT_ONCE = 8;

/**
 * The incomplete multipart uploads of a bucket (under `prefix`), in the store's order (by key,
 * then by start time), each with its number of parts and their total size. Every page of the
 * listing is followed, and every page of each upload's parts. An upload that completes or is
 * aborted while it is listed is left out: it is no longer incomplete.
 * @throws {SosError} `INVALID_ARGUMENT` for a bad option; `ABORTED` when `signal` fires; `TIMEOUT`,
 *   `SERVER_FAULT` for transport faults; `BUCKET_NOT_FOUND`, `ACCESS_DENIED`, `BAD_CREDENTIALS` for
 *   the store's refusals (the SDK's error as `cause`).
 * @example
 * for (const u of await listIncompleteUploads({ client, bucket: 'backups' }))
 *   console.log(u.key, u.uploadId, u.parts, u.size);
 */
export async function listIncompleteUploads(
  options: ListIncompleteUploadsOptions,
): Promise<IncompleteUpload[]> {
  const out: IncompleteUpload[] = [];
  for await (const page of incompleteUploadPages(options)) out.push(...page);
  return out;
}

/**
 * {@link listIncompleteUploads} a page (up to 1,000 uploads) at a time, so a caller can show a
 * bucket with any number of uploads with one page in memory.
 * @throws as {@link listIncompleteUploads}.
 */
export async function* incompleteUploadPages(
  options: ListIncompleteUploadsOptions,
): AsyncGenerator<IncompleteUpload[]> {
  const { client, bucket, signal } = checkTarget(options);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') {
    throw new SosError('INVALID_ARGUMENT', `"prefix" expected a string, got ${typeof prefix}`);
  }
  const what = `list incomplete uploads of ${bucket}/${prefix}`;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await send(
      (o) =>
        client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            ...(prefix !== '' ? { Prefix: prefix } : {}),
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
          o,
        ),
      signal,
      what,
    ).catch((err: unknown) => {
      throw mapStoreError(err, { what, bucket });
    });
    const listed = (page.Uploads ?? []).filter(
      (u): u is typeof u & { Key: string; UploadId: string } =>
        u.Key !== undefined && u.UploadId !== undefined,
    );
    const uploads: (IncompleteUpload | undefined)[] = new Array(listed.length);
    let next = 0;
    const worker = async () => {
      while (next < listed.length) {
        const i = next++;
        const u = listed[i]!;
        const held = await partsHeld(client, bucket, u.Key, u.UploadId, signal);
        if (held === undefined) continue;
        uploads[i] = {
          key: u.Key,
          uploadId: u.UploadId,
          initiated: u.Initiated ?? new Date(Number.NaN),
          ...held,
        };
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_LISTED_AT_ONCE, listed.length) }, worker));
    const found = uploads.filter((u): u is IncompleteUpload => u !== undefined);
    if (found.length > 0) yield found;
    if (!page.IsTruncated) break;
    // a truncated page without markers would list the same page forever
    if (page.NextKeyMarker === undefined && page.NextUploadIdMarker === undefined) {
      throw new SosError(
        'SERVER_FAULT',
        `${what}: the store's listing is truncated but gives no next marker`,
      );
    }
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/** The parts an upload holds, or `undefined` when the store no longer knows the upload. */
async function partsHeld(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  signal: AbortSignal | undefined,
): Promise<{ parts: number; size: number } | undefined> {
  let parts = 0;
  let size = 0;
  let marker: string | undefined;
  for (;;) {
    let page: ListPartsCommandOutput;
    const what = `list the parts of upload ${uploadId} of ${bucket}/${key}`;
    try {
      page = await send(
        (o) =>
          client.send(
            new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
            o,
          ),
        signal,
        what,
      );
    } catch (err) {
      // completed or aborted since it was listed
      if (httpStatus(err) === 404 && (err as { name?: string }).name !== 'NoSuchBucket') return undefined;
      throw mapStoreError(err, { what, bucket, key, uploadId });
    }
    for (const p of page.Parts ?? []) {
      parts++;
      size += p.Size ?? 0;
    }
    if (!page.IsTruncated) break;
    if (page.NextPartNumberMarker === undefined || page.NextPartNumberMarker === marker) {
      throw new SosError(
        'SERVER_FAULT',
        `list the parts of upload ${uploadId}: the store's listing is truncated but gives no next marker`,
      );
    }
    marker = page.NextPartNumberMarker;
  }
  return { parts, size };
}

const ABORT_OPTIONS = optionNames<AbortIncompleteUploadOptions>()(
  ['client', 'bucket', 'key', 'uploadId', 'signal'],
  true,
);

/**
 * Aborts an incomplete multipart upload: the store deletes its parts. No object is created or
 * changed; an object already stored under the same key stays as it is.
 * @returns `true` when the upload was aborted, `false` when the store did not know it (already
 *   aborted or completed, or a wrong ID): either way it holds no parts of it now.
 * @throws {SosError} `INVALID_ARGUMENT` for a bad option; `ABORTED` when `signal` fires; `TIMEOUT`,
 *   `SERVER_FAULT` for transport faults; `BUCKET_NOT_FOUND`, `ACCESS_DENIED`, `BAD_CREDENTIALS` for
 *   the store's refusals (the SDK's error as `cause`).
 * @example
 * await abortIncompleteUpload({ client, bucket: 'backups', key: 'db.tar', uploadId });
 */
export async function abortIncompleteUpload(options: AbortIncompleteUploadOptions): Promise<boolean> {
  const { client, bucket, key, signal } = checkLocation(options, ABORT_OPTIONS, 'abortIncompleteUpload');
  checkSignal(signal);
  const { uploadId } = options;
  if (typeof uploadId !== 'string' || uploadId === '') {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"uploadId" expected a non-empty string, got ${JSON.stringify(uploadId)}`,
    );
  }
  const what = `abort upload ${uploadId} of ${bucket}/${key}`;
  try {
    await send(
      (o) =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), o),
      signal,
      what,
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchUpload') return false;
    throw mapStoreError(err, { what, bucket, key, uploadId });
  }
}

function checkTarget<T extends { client: S3Client; bucket: string; signal?: AbortSignal | undefined }>(
  options: T,
): T {
  checkSignal(checkBucketOptions(options).signal);
  return options;
}

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new SosError('INVALID_ARGUMENT', '"signal" expected an AbortSignal');
  }
}

/** Sends one request with the caller's signal, mapping an abort and transport faults to typed errors. */
async function send<O>(
  request: (options: { abortSignal?: AbortSignal }) => Promise<O>,
  signal: AbortSignal | undefined,
  what: string,
): Promise<O> {
  if (signal?.aborted) throw aborted(what, signal);
  try {
    return await request(signal ? { abortSignal: signal } : {});
  } catch (err) {
    if (signal?.aborted) throw aborted(what, signal);
    throw mapTransportError(err, what);
  }
}

function aborted(what: string, signal: AbortSignal): SosError {
  return new SosError('ABORTED', `${what}: aborted`, { cause: signal.reason });
}
