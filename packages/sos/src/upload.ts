/**
 * Multipart uploads: our own small uploader, so part sizes can grow while an object of unknown
 * size streams in (S3 needs only the parts before the last to be at least 5 MiB; lib-storage
 * would keep every part the same size and stop at 10,000 x partSize). A failed or aborted upload
 * leaves no parts behind.
 * @module
 */
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { sendPutObject } from './body-sent.ts';
import { describeError, SosError, UploadNotAbortedError } from './errors.ts';
import { PartReader, type PartSource, type Sealing, SealingPartReader, type UploadBody } from './parts.ts';
import { mayHaveReached, reachMark } from './reach.ts';
import { httpStatus, type SseCParams } from './sse-c.ts';
import { mapRequestError } from './store-errors.ts';
import { cleanupSendOptions, mapTransportError } from './timeouts.ts';

const MiB = 1024 * 1024;
/** SOS (and S3) multipart limits. */
export const LIMITS = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * 1024 * MiB,
  maxParts: 10_000,
  maxObjectSize: 4 * 1024 * 1024 * MiB,
} as const;
/** Part size when the caller gives none and the size allows it. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** Parts uploaded in parallel by default. */
export const DEFAULT_QUEUE_SIZE = 4;
/** With an unknown size, the part size doubles after every this many parts. */
export const PARTS_PER_SIZE_STEP = 1000;

/** Progress of an upload, in bytes sent to the server. */
export interface UploadProgress {
  loaded: number;
  total: number | undefined;
}

/**
 * Chooses a part size: the requested one (default 8 MiB), grown in whole MiB so that an object of
 * `size` bytes fits in 10,000 parts.
 * @throws {SosError} `INVALID_ARGUMENT` for a part size outside 5 MiB..5 GiB or an object over 4 TiB.
 */
export function choosePartSize(size: number | undefined, requested?: number): number {
  if (
    requested !== undefined &&
    (!Number.isSafeInteger(requested) || requested < LIMITS.minPartSize || requested > LIMITS.maxPartSize)
  ) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"partSize" expected an integer from 5 MiB to 5 GiB, got ${requested}`,
    );
  }
  if (size !== undefined && size > LIMITS.maxObjectSize) {
    throw new SosError('INVALID_ARGUMENT', `object of ${size} bytes exceeds the 4 TiB limit of SOS`);
  }
  const wanted = requested ?? DEFAULT_PART_SIZE;
  if (size === undefined) return wanted;
  const needed = Math.ceil(Math.ceil(size / LIMITS.maxParts) / MiB) * MiB;
  return Math.min(LIMITS.maxPartSize, Math.max(wanted, needed));
}

/**
 * Size of part `partNumber` (1-based) of an upload whose size is unknown: `base` for the first
 * 1,000 parts, then doubling every 1,000 parts, capped at 5 GiB. From any base of 5 MiB or more,
 * 10,000 parts hold at least 4 TiB (5 MiB x 1,000 x (2^10 - 1) = 4.9 TiB), and memory stays
 * `queueSize x base` for the first 1,000 parts (8 GiB of data with the 8 MiB default).
 */
export function growingPartSize(partNumber: number, base: number): number {
  const step = Math.floor((partNumber - 1) / PARTS_PER_SIZE_STEP);
  return Math.min(LIMITS.maxPartSize, base * 2 ** step);
}

/** The SSE-C echo fields of an S3 answer. */
export interface SseCEchoOutput {
  SSECustomerAlgorithm?: string | undefined;
  SSECustomerKeyMD5?: string | undefined;
}

/** Options of {@link uploadObject}. */
export interface UploadObjectOptions {
  client: S3Client;
  /** PutObject parameters; `Body` is the data, `ContentLength` its size when known. */
  params: Omit<PutObjectCommandInput, 'Body'> & { Body: UploadBody };
  /**
   * Size of every part but the last, or of part n (1-based) as a function, e.g. with
   * {@link growingPartSize} for bodies of unknown size. Each must be 5 MiB to 5 GiB.
   */
  partSize: number | ((partNumber: number) => number);
  queueSize: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: UploadProgress) => void) | undefined;
  /** Called once on the first failure, before waiting for requests in flight (e.g. to destroy the source stream). */
  onFailure?: (() => void) | undefined;
  /**
   * Checks the answer to each PutObject/UploadPart (e.g. that SSE-C was applied); throwing fails
   * the upload, so a multipart upload is aborted before any object appears.
   */
  checkPart?: ((output: SseCEchoOutput) => void) | undefined;
  /**
   * Encrypts the body on the way (core's `createSealer()`): chunks are sealed straight into the part
   * buffers. The stored size is then known only at the end.
   */
  sealing?: Sealing | undefined;
  /** With `sealing`: called with the plaintext bytes read from the body. */
  onPlaintext?: ((bytes: number) => void) | undefined;
  /**
   * When the one PutObject of a small body stored the object and the upload fails after all
   * (`checkPart` or `onProgress` threw), keep the object instead of deleting it: for a rekey, whose
   * new object has replaced the only copy of the data.
   */
  keepWrittenOnFailure?: boolean | undefined;
}

/** What the upload functions report. */
export interface UploadResult {
  etag: string | undefined;
  versionId: string | undefined;
  /** Bytes stored. */
  size: number;
  /** Part size of the first part; 0 when the object went up as one PutObject. */
  partSize: number;
  /** Number of parts; 0 for a single PutObject. */
  parts: number;
}

export type { UploadBody } from './parts.ts';

/**
 * Uploads a body as one PutObject when it fits in one part, else as a multipart upload with up to
 * `queueSize` parts in flight. Memory stays about `queueSize x partSize`: workers pull parts from
 * the body one at a time, and a part is read only when a worker is free.
 * @throws {SosError} `ABORTED` when `signal` fires; `INVALID_ARGUMENT` past 10,000 parts; `TIMEOUT`,
 *   `SERVER_FAULT`, and the store's refusals (`BUCKET_NOT_FOUND`, `ACCESS_DENIED`, ...) mapped;
 *   otherwise the underlying error. Afterwards no part is left on the server and no object was
 *   created (unless `keepWrittenOnFailure`), except for an abort of a single PutObject whose body
 *   had left, which says that the object may have been stored (see body-sent.ts).
 */
export async function uploadObject(options: UploadObjectOptions): Promise<UploadResult> {
  const { client, params, signal } = options;
  if (signal?.aborted) throw abortedError(signal);
  const { Body, ...rest } = params;
  const { partSize } = options;
  const sizeOf = typeof partSize === 'number' ? () => partSize : partSize;
  const reader: PartSource = options.sealing
    ? new SealingPartReader(Body, options.sealing, options.onPlaintext ?? (() => {}), signal, abortedError)
    : new PartReader(Body, signal, abortedError);
  const onFailure = () => {
    reader.cancel(new SosError('ABORTED', 'upload failed: reading the body was stopped'));
    options.onFailure?.();
  };
  let first: Uint8Array;
  let second: Uint8Array;
  try {
    first = await reader.read(sizeOf(1));
    second = first.byteLength < sizeOf(1) ? new Uint8Array(0) : await reader.read(sizeOf(2));
  } catch (err) {
    onFailure();
    throw signal?.aborted
      ? abortedError(signal, err)
      : mapTransportError(err, `upload ${rest.Bucket}/${rest.Key}`);
  }
  const total = params.ContentLength;
  if (second.byteLength === 0) {
    // one part's worth or less: a single PutObject, atomic like a completed multipart upload
    let out: PutObjectCommandOutput;
    try {
      // an abort once the whole body has left waits for the answer (body-sent.ts)
      const put = new PutObjectCommand({ ...rest, Body: first, ContentLength: first.byteLength });
      out = await sendPutObject(client, put, first, signal, abortedError);
    } catch (err) {
      onFailure();
      // sendPutObject's ABORTED says whether the object may have been stored: kept as it is
      if (err instanceof SosError && err.code === 'ABORTED') throw err;
      const what = `put ${rest.Bucket}/${rest.Key}`;
      throw signal?.aborted
        ? abortedError(signal, err)
        : mapRequestError(err, {
            what,
            bucket: String(rest.Bucket),
            key: String(rest.Key),
          });
    }
    try {
      options.checkPart?.(out);
      options.onProgress?.({ loaded: first.byteLength, total });
    } catch (err) {
      // The store has the object, but the upload failed after all (its answer shows SSE-C was not
      // applied: the bytes may be at rest unencrypted; or the caller's onProgress threw). A failed
      // upload leaves no object, as a multipart one does: the version just written is deleted.
      if (options.keepWrittenOnFailure) throw err;
      throw await deleteWritten(client, rest.Bucket!, rest.Key!, out.VersionId, err);
    }
    return {
      etag: out.ETag || undefined,
      versionId: out.VersionId,
      size: first.byteLength,
      partSize: 0,
      parts: 0,
    };
  }

  const queued = [first, second];
  let lastPart = 0;
  let ended = false;
  let loaded = 0;
  const next = async (): Promise<PartJob | undefined> => {
    let bytes = queued.shift();
    if (bytes === undefined) {
      if (ended) return undefined;
      bytes = await reader.read(sizeOf(lastPart + 1));
    }
    if (bytes.byteLength < sizeOf(lastPart + 1)) ended = true;
    if (bytes.byteLength === 0) return undefined;
    if (++lastPart > LIMITS.maxParts) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `the body needs more than ${LIMITS.maxParts} parts (first part ${first.byteLength} bytes); pass a larger "partSize"`,
      );
    }
    return { partNumber: lastPart, body: bytes };
  };
  const { ContentLength: _length, ...createParams } = rest;
  const result = await runMultipart({
    client,
    createParams,
    sseC: sseCOf(params),
    queueSize: options.queueSize,
    signal,
    next,
    checkPart: options.checkPart,
    onFailure,
    onPartDone: (size) => {
      loaded += size;
      options.onProgress?.({ loaded, total });
    },
    onPartStored: (body) => reader.release(body),
  });
  return { ...result, partSize: first.byteLength };
}

/**
 * Deletes the object version a single PutObject just wrote, for an upload that failed after the
 * store answered; bounded by `cleanupMs` whatever the caller's signal.
 * @returns The error to throw: `err`, its message saying the object was deleted when it is ours;
 *   when the delete fails too, an error saying what to delete by hand.
 */
async function deleteWritten(
  client: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
  err: unknown,
): Promise<unknown> {
  const what = `${bucket}/${key}${versionId ? ` (version ${versionId})` : ''}`;
  try {
    await client.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
      cleanupSendOptions(client),
    );
  } catch (cause) {
    const reason = err instanceof Error ? err.message : String(err);
    return new SosError(
      err instanceof SosError ? err.code : 'SERVER_FAULT',
      `${reason}; the object it stored could not be deleted (${describeError(cause)}): delete ${what} by hand`,
      { cause: err },
    );
  }
  if (!(err instanceof SosError)) return err;
  return new SosError(err.code, `${err.message}; the object it stored was deleted`, { cause: err.cause });
}

/** One part of a multipart upload: bytes to send, or a range of an existing object to copy. */
export type PartJob =
  | { partNumber: number; body: Uint8Array }
  | {
      partNumber: number;
      /** `bucket/key` (URL-encoded), with `?versionId=` to pin a version. */
      copySource: string;
      /** Inclusive-end byte range of the source, as in `CopySourceRange`. */
      start: number;
      end: number;
      /** ETag the source must still have (honoured by AWS and SOS; ignored by Ceph RGW 16). */
      ifMatch?: string | undefined;
    };

/** Options of {@link runMultipart}. */
export interface MultipartOptions {
  client: S3Client;
  /** CreateMultipartUpload parameters (bucket, key, content type, metadata, SSE-C). */
  createParams: Omit<PutObjectCommandInput, 'Body' | 'ContentLength'>;
  /** SSE-C parameters sent with every part and the completion, when the object uses SSE-C. */
  sseC: SseCParams | undefined;
  queueSize: number;
  signal?: AbortSignal | undefined;
  /** The next part, or `undefined` when there are no more; called one at a time. */
  next: () => Promise<PartJob | undefined>;
  checkPart?: ((output: SseCEchoOutput) => void) | undefined;
  onFailure?: (() => void) | undefined;
  /** Called with the size of each part the server has stored. */
  onPartDone?: ((size: number) => void) | undefined;
  /** Called with the bytes of each part the server has stored: the caller may reuse them. */
  onPartStored?: ((body: Uint8Array) => void) | undefined;
  /** Continue this multipart upload instead of creating one; `parts` are those it already holds. */
  existing?: { uploadId: string; parts: CompletedPart[] } | undefined;
  /**
   * Called (and awaited) just before CreateMultipartUpload is sent (not for an `existing` upload):
   * throwing fails the upload with nothing created (e.g. a journal that must record the attempt).
   */
  beforeCreate?: (() => Promise<void>) | undefined;
  /** Called (and awaited) once the upload exists, created or continued, before any part is sent. */
  onUploadId?: ((uploadId: string) => Promise<void>) | undefined;
  /** Called (and awaited, before the worker takes another part) when the server has stored a part. */
  onPartCompleted?: ((part: { partNumber: number; etag: string; size: number }) => Promise<void>) | undefined;
  /**
   * Called (and awaited) after the last part, before the completion: throwing fails the upload
   * (e.g. the source changed while it was read).
   */
  beforeComplete?: (() => Promise<void>) | undefined;
  /**
   * Keep the multipart upload on failure instead of aborting it (a resumable upload): returns the
   * error to throw, given the upload and the failure; or `undefined` to abort it after all (e.g.
   * nothing records it for a resume).
   */
  keepOnFailure?: ((uploadId: string, err: unknown) => unknown) | undefined;
}

/**
 * Runs a multipart upload: creates it, has `queueSize` workers upload or copy the parts that
 * `next()` hands out, and completes it. The object appears only at completion, atomically.
 *
 * On any failure or abort: requests in flight are cancelled, every worker is waited for, then the
 * multipart upload is aborted (with its own deadline, `timeouts.cleanupMs`), so no parts are
 * stranded and no object was created.
 * @throws {SosError} `ABORTED` when `signal` fires; `UPLOAD_NOT_ABORTED` ({@link UploadNotAbortedError})
 *   when the upload failed and aborting it failed too; `TIMEOUT`, `SERVER_FAULT` for transport
 *   faults; the store's refusals (`UPLOAD_NOT_FOUND`, `ACCESS_DENIED`, ...) mapped; otherwise the
 *   first error.
 */
export async function runMultipart(
  options: MultipartOptions,
): Promise<Omit<UploadResult, 'partSize'> & { partSize: number }> {
  const { client, createParams, sseC, signal } = options;
  const { Bucket, Key } = createParams;
  if (signal?.aborted) throw abortedError(signal);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let uploadId: string | undefined = options.existing?.uploadId;
  const parts: CompletedPart[] = [...(options.existing?.parts ?? [])];
  let size = 0;
  let failure: { err: unknown } | undefined;
  const fail = (err: unknown) => {
    if (failure) return;
    failure = { err };
    controller.abort();
    options.onFailure?.();
  };
  // parts are handed out one at a time: reading the body is sequential
  let turn: Promise<unknown> = Promise.resolve();
  const take = () => {
    const job = turn.then(() => (failure || controller.signal.aborted ? undefined : options.next()));
    turn = job.catch(() => {});
    return job;
  };
  const worker = async () => {
    for (let job = await take(); job !== undefined; job = await take()) {
      const send = { abortSignal: controller.signal };
      if ('body' in job) {
        const out = await client.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId: uploadId,
            PartNumber: job.partNumber,
            Body: job.body,
            ContentLength: job.body.byteLength,
            ...sseC,
          }),
          send,
        );
        options.checkPart?.(out);
        if (options.onPartCompleted) {
          if (!out.ETag) {
            throw new SosError(
              'SERVER_FAULT',
              `${Bucket}/${Key}: the store stored part ${job.partNumber} without an ETag`,
            );
          }
          await options.onPartCompleted({
            partNumber: job.partNumber,
            etag: out.ETag,
            size: job.body.byteLength,
          });
        }
        parts.push({ PartNumber: job.partNumber, ETag: out.ETag });
        size += job.body.byteLength;
        options.onPartDone?.(job.body.byteLength);
        options.onPartStored?.(job.body);
      } else {
        const out = await client
          .send(
            new UploadPartCopyCommand({
              Bucket,
              Key,
              UploadId: uploadId,
              PartNumber: job.partNumber,
              CopySource: job.copySource,
              CopySourceRange: `bytes=${job.start}-${job.end}`,
              ...(job.ifMatch !== undefined ? { CopySourceIfMatch: job.ifMatch } : {}),
              ...sseC,
            }),
            send,
          )
          .catch((err: unknown) => {
            // the source no longer has the ETag it was read with
            if (job.ifMatch === undefined || httpStatus(err) !== 412) throw err;
            throw new SosError(
              'OBJECT_CHANGED',
              `${job.copySource} changed while being copied; nothing was written`,
              {
                cause: err,
              },
            );
          });
        options.checkPart?.(out);
        parts.push({ PartNumber: job.partNumber, ETag: out.CopyPartResult?.ETag });
        size += job.end - job.start + 1;
        options.onPartDone?.(job.end - job.start + 1);
      }
    }
  };
  // a CreateMultipartUpload whose answer was lost may have created an upload we never learn of
  let createWindow: { from: number; to: number } | undefined;
  const create = async (): Promise<string> => {
    const createStart = Date.now();
    const reach = reachMark(client);
    const created = await client
      .send(new CreateMultipartUploadCommand({ ...createParams, ...sseC }), {
        abortSignal: controller.signal,
      })
      .catch((err: unknown) => {
        // a store never reached (every attempt failed to connect) created nothing
        if (mayHaveReached(client, reach)) createWindow = { from: createStart, to: Date.now() };
        throw err;
      });
    if ((created.$metadata.attempts ?? 1) > 1) createWindow = { from: createStart, to: Date.now() };
    if (!created.UploadId) {
      throw new SosError(
        'SERVER_FAULT',
        `${Bucket}/${Key}: the store answered CreateMultipartUpload without an UploadId`,
      );
    }
    return created.UploadId;
  };
  try {
    if (uploadId === undefined) {
      await options.beforeCreate?.();
      uploadId = await create();
    }
    await options.onUploadId?.(uploadId);
    const workers = Array.from({ length: options.queueSize }, () => worker().catch(fail));
    await Promise.all(workers);
    if (failure) throw failure.err;
    if (signal?.aborted) throw abortedError(signal);
    await options.beforeComplete?.();
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    // completion is never cancelled (once sent, the object may exist whatever the answer's fate),
    // only bounded by the client's idle and request timeouts
    const out = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...sseC,
      }),
    );
    return {
      etag: out.ETag || undefined,
      versionId: out.VersionId,
      size,
      partSize: 0,
      parts: parts.length,
    };
  } catch (caught) {
    fail(caught);
    const what = `upload ${Bucket}/${Key}`;
    // mapped before a resumable upload keeps it, so that its error carries the code
    const err = signal?.aborted
      ? abortedError(signal, caught)
      : mapRequestError(caught, {
          what,
          bucket: String(Bucket),
          key: String(Key),
          uploadId,
        });
    if (uploadId !== undefined && options.keepOnFailure) {
      // not abortedError: its message says that nothing is left on the server
      const kept = signal?.aborted
        ? new SosError('ABORTED', 'upload aborted', { cause: signal.reason ?? caught })
        : err;
      const keep = options.keepOnFailure(uploadId, kept);
      if (keep !== undefined) throw keep;
    }
    if (uploadId !== undefined) {
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }),
          cleanupSendOptions(client),
        );
      } catch (abortErr) {
        // 404: already gone (aborted, or completed after all): nothing is stranded
        if (httpStatus(abortErr) !== 404) {
          const abortWhat = `abort upload ${uploadId} of ${Bucket}/${Key}`;
          throw new UploadNotAbortedError(
            { bucket: String(Bucket), key: String(Key), uploadId },
            err,
            mapRequestError(abortErr, {
              what: abortWhat,
              bucket: String(Bucket),
              key: String(Key),
              uploadId,
            }),
          );
        }
      }
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (createWindow !== undefined)
      await abortLostUploads(client, String(Bucket), String(Key), uploadId, createWindow);
  }
}

/** Tolerated difference between our clock and the store's when matching upload start times. */
const CLOCK_SKEW_MS = 30_000;

/**
 * Aborts the multipart uploads of `key` that a retried (or failed) CreateMultipartUpload may have
 * created without our learning their IDs: those started while it ran (give or take the clock
 * skew), other than `keep`. Best effort, bounded by the cleanup timeout: an upload of the same
 * key started by another writer in that window would be aborted too (its completion then fails
 * with NoSuchUpload), which is why this runs only after a Create was retried or failed.
 */
async function abortLostUploads(
  client: S3Client,
  bucket: string,
  key: string,
  keep: string | undefined,
  window: { from: number; to: number },
): Promise<void> {
  try {
    await abortUploadsStartedIn(client, { bucket, key, keep, window });
  } catch {
    // best effort: the store is unreachable, and so is any upload it may hold
  }
}

/**
 * Aborts the multipart uploads of `key` that started within `window` (epoch milliseconds, widened
 * by the tolerated clock skew each way), other than `keep`: uploads a CreateMultipartUpload made
 * without its caller learning their IDs. Another writer's upload of the same key started in that
 * window is aborted too.
 * @returns How many were aborted.
 * @throws The listing's error (an abort that fails is skipped: the upload may be gone already).
 */
export async function abortUploadsStartedIn(
  client: S3Client,
  target: { bucket: string; key: string; keep?: string | undefined; window: { from: number; to: number } },
): Promise<number> {
  const { bucket, key, keep, window } = target;
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const listed = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: key,
        ...(keyMarker !== undefined ? { KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker } : {}),
      }),
      cleanupSendOptions(client),
    );
    for (const upload of listed.Uploads ?? []) {
      const started = upload.Initiated?.getTime();
      if (upload.Key !== key || upload.UploadId === undefined || upload.UploadId === keep) continue;
      if (
        started === undefined ||
        started < window.from - CLOCK_SKEW_MS ||
        started > window.to + CLOCK_SKEW_MS
      )
        continue;
      await client
        .send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }),
          cleanupSendOptions(client),
        )
        .then(() => aborted++)
        .catch(() => {});
    }
    // uploads are listed by key: once past `key`, none of ours can follow
    const last = listed.Uploads?.at(-1)?.Key;
    if (!listed.IsTruncated || listed.NextKeyMarker === undefined || (last !== undefined && last > key))
      break;
    keyMarker = listed.NextKeyMarker;
    uploadIdMarker = listed.NextUploadIdMarker;
  }
  return aborted;
}

function sseCOf(params: Omit<PutObjectCommandInput, 'Body'>): SseCParams | undefined {
  return params.SSECustomerKey === undefined
    ? undefined
    : {
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: params.SSECustomerKey,
        SSECustomerKeyMD5: params.SSECustomerKeyMD5!,
      };
}

export function abortedError(signal: AbortSignal, cause?: unknown): SosError {
  return new SosError(
    'ABORTED',
    'upload aborted: no object was created and no parts were left on the server',
    {
      cause: signal.reason ?? cause,
    },
  );
}
