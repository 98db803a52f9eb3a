/**
 * Sealed uploads to presigned part URLs, for a page that must never hold store credentials: the
 * data is sealed with core's `encryptStream`, cut into parts kept in bounded memory (a browser can
 * stream a request body only over HTTP/2, so each part is a buffer), and several parts are PUT at
 * once. The page's own server creates, completes and aborts the multipart upload (see
 * `@sealstream/sos/presign`). Runtime-neutral: no Node built-in, no Buffer, no process.
 * @module
 */
import { ciphertextSize, type EncryptOptions, encryptStream, PAYLOAD_PREFIX_LENGTH } from '@sealstream/core';
import { checkedBlobStream } from '../blob-source.ts';
import { PresignedTransferError } from './errors.ts';
import { aborted, bounded, failedAnswer, type HttpOptions, httpBounds, requireHeader, send } from './http.ts';

const MiB = 1024 * 1024;
/** S3's smallest part (all parts but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's most parts in one upload. */
export const MAX_PARTS = 10_000;
/** Default part size: 8 MiB, so 4 in flight hold 40 MiB with the one being filled. */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** Default number of parts PUT at once. */
export const DEFAULT_PARTS_IN_FLIGHT = 4;

/** A part the store acknowledged. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/**
 * What the page's server does for it: each call is one request to that server, which holds the
 * credentials (see `@sealstream/sos/presign` for the server side).
 */
export interface UploadPresigner {
  /** Creates the multipart upload; returns its id. */
  create(): Promise<{ uploadId: string }>;
  /**
   * A presigned PUT URL for one part (1-based) of `contentLength` bytes, the exact length that will
   * be PUT to it: a server can check it and sign it (`presignUploadPart`'s `contentLength`), so that
   * the URL takes no other length. Asked again when a part is retried. What it throws fails the
   * upload with that error (after the upload is aborted), as for the other calls.
   */
  partUrl(uploadId: string, partNumber: number, contentLength: number): Promise<string>;
  /** Completes the upload with every part, in order. */
  complete(uploadId: string, parts: UploadedPart[]): Promise<{ etag?: string; versionId?: string }>;
  /** Aborts the upload, leaving no part stored; must throw when that could not be done. */
  abort(uploadId: string): Promise<void>;
}

/** Progress of a sealed upload. */
export interface SealedUploadProgress {
  /** Plaintext bytes read from the source. */
  plaintextBytes: number;
  /** Plaintext size, when the source is a Blob. */
  plaintextTotal: number | undefined;
  /** Sealed bytes the store acknowledged. */
  uploadedBytes: number;
  /** Sealed size, once the header is known and when the source is a Blob. */
  sealedTotal: number | undefined;
  partsUploaded: number;
}

/** Options of {@link uploadSealed}. */
export interface UploadSealedOptions extends HttpOptions {
  /** Recipients and identity of the new object (core's `encryptStream` options). */
  encryption: EncryptOptions;
  presigner: UploadPresigner;
  /** Bytes per part (the last may be smaller): 5 MiB to 5 GiB, default 8 MiB. */
  partSize?: number;
  /** Parts PUT at once, default 4. Memory is about `(partsInFlight + 1) x partSize`. */
  partsInFlight?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SealedUploadProgress) => void;
  /** Names the object in messages, e.g. its key. */
  name?: string;
}

/** The result of {@link uploadSealed}. */
export interface SealedUploadResult {
  uploadId: string;
  etag: string | undefined;
  versionId: string | undefined;
  /** Sealed bytes stored. */
  size: number;
  plaintextSize: number;
  parts: number;
}

/**
 * Seals `source` and uploads it through presigned part URLs. On any failure or abort, parts in
 * flight are cancelled and the upload is aborted through the presigner, so nothing is stranded.
 * @example
 * await uploadSealed(file, { encryption: { recipients: [key], identity: `${bucket}/${name}` }, presigner });
 * @throws {PresignedTransferError} `ABORTED`, `CORS_HEADER_HIDDEN` (the ETag is hidden), `ACCESS_DENIED`,
 *   `NETWORK_ERROR`, `TIMEOUT` (the store's or the presigner's), `SERVER_FAULT`, `SOURCE_CHANGED` (a
 *   Blob that could not be read to its end), `UPLOAD_NOT_ABORTED` (carries `uploadId`),
 *   `INVALID_ARGUMENT`; core errors of `encryptStream`; what the presigner throws, as it is.
 */
export async function uploadSealed(
  source: Blob | ReadableStream<Uint8Array>,
  options: UploadSealedOptions,
): Promise<SealedUploadResult> {
  if (!options || typeof options !== 'object') {
    throw new PresignedTransferError('INVALID_ARGUMENT', '"options" expected { encryption, presigner, ... }');
  }
  const presigner = options.presigner as Partial<UploadPresigner> | undefined;
  if (
    !presigner ||
    (['create', 'partUrl', 'complete', 'abort'] as const).some((f) => typeof presigner[f] !== 'function')
  ) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      '"presigner" expected { create, partUrl, complete, abort }, each a function calling your server',
    );
  }
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const inFlight = options.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > 5 * 1024 * MiB) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `"partSize" expected 5 MiB to 5 GiB, got ${partSize}`,
    );
  }
  if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 64) {
    throw new PresignedTransferError('INVALID_ARGUMENT', `"partsInFlight" expected 1 to 64, got ${inFlight}`);
  }
  const isBlob = typeof Blob !== 'undefined' && source instanceof Blob;
  if (!isBlob && !(source instanceof ReadableStream)) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      'the source must be a Blob, a File or a ReadableStream',
    );
  }
  if (!isBlob && (source as ReadableStream).locked) {
    // a stream another reader holds would fail at the first read with a bare TypeError
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      'the source stream is locked (it is being read elsewhere): pass a stream nothing else reads',
    );
  }
  const plaintextTotal = isBlob ? (source as Blob).size : undefined;
  if (plaintextTotal !== undefined && ciphertextSize(plaintextTotal, 0) / partSize > MAX_PARTS - 1) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `${plaintextTotal} bytes do not fit in ${MAX_PARTS} parts of ${partSize} bytes: choose a larger partSize`,
    );
  }
  const { timeoutMs } = httpBounds(options);
  const name = options.name ?? 'upload';
  const signal = options.signal;
  if (signal?.aborted) throw aborted(name, signal);
  // Every call of the presigner is a request to the page's server: bounded like the store's, so a
  // server that never answers fails the upload instead of hanging it.
  const call = <T>(step: () => Promise<T>, what: string, withSignal = true, onLate?: (value: T) => void) =>
    bounded(step, `${name}: the presigner's ${what}`, timeoutMs, withSignal ? signal : undefined, onLate);

  const progress: SealedUploadProgress = {
    plaintextBytes: 0,
    plaintextTotal,
    uploadedBytes: 0,
    sealedTotal: undefined,
    partsUploaded: 0,
  };
  const report = () => options.onProgress?.({ ...progress });
  const counted = (
    isBlob ? blobSource(source as Blob, name) : (source as ReadableStream<Uint8Array>)
  ).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        progress.plaintextBytes += chunk.length;
        c.enqueue(chunk);
      },
    }),
  );
  const sealed = counted.pipeThrough(encryptStream(options.encryption)).getReader();

  let created: { uploadId?: unknown } | undefined;
  try {
    created = await call(
      () => options.presigner.create(),
      'create',
      true,
      // created after the upload gave up on it: nobody will fill it, so it is aborted
      (late) => {
        const id = (late as { uploadId?: unknown } | undefined)?.uploadId;
        if (typeof id === 'string' && id)
          void call(() => options.presigner.abort(id), 'abort', false).catch(() => {});
      },
    );
  } catch (err) {
    // nothing was created: the source is let go (a stream is cancelled, not left locked)
    await sealed.cancel(err).catch(() => {});
    throw err;
  }
  const uploadId = created?.uploadId;
  if (typeof uploadId !== 'string' || uploadId === '') {
    await sealed.cancel().catch(() => {});
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `${name}: the presigner's create gave no uploadId (${JSON.stringify(uploadId) ?? typeof uploadId}): it must resolve to { uploadId } as createPresignedUpload does`,
    );
  }
  // Cancels the part PUTs in flight when the upload fails or is aborted.
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const parts: UploadedPart[] = [];
  const running = new Set<Promise<void>>();
  let failure: unknown;
  let size = 0;

  const putPart = async (partNumber: number, body: Uint8Array) => {
    const what = `${name}: part ${partNumber}`;
    // bounded by send, as every URL function is
    const url = async () =>
      partUrlFor(
        await options.presigner.partUrl(uploadId, partNumber, body.length),
        uploadId,
        partNumber,
        what,
      );
    const res = await send({ url, method: 'PUT', body, what }, options, stop.signal);
    if (!res.ok) throw await failedAnswer(res, what, options);
    const etag = requireHeader(res, 'ETag', what);
    await res.body?.cancel();
    parts.push({ partNumber, etag });
    progress.uploadedBytes += body.length;
    progress.partsUploaded++;
    report();
  };
  const dispatch = async (partNumber: number, body: Uint8Array) => {
    const job = putPart(partNumber, body).catch((err) => {
      failure ??= err;
      stop.abort(err);
    });
    running.add(job);
    void job.finally(() => running.delete(job));
    // Bounded memory: wait for a slot before the next part is filled.
    while (running.size >= inFlight && !failure) await Promise.race(running);
  };

  try {
    let buffer = new Uint8Array(partSize);
    let filled = 0;
    let partNumber = 0;
    for (;;) {
      if (failure || stop.signal.aborted) break;
      const { done, value } = await readOrAbort(sealed, stop.signal);
      if (done) break;
      if (size === 0 && plaintextTotal !== undefined) {
        // The first output is the header and payload prefix: the sealed size is now exact.
        progress.sealedTotal = ciphertextSize(plaintextTotal, value.length - PAYLOAD_PREFIX_LENGTH);
      }
      size += value.length;
      let offset = 0;
      while (offset < value.length) {
        const n = Math.min(partSize - filled, value.length - offset);
        buffer.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === partSize) {
          if (partNumber + 1 >= MAX_PARTS) {
            throw new PresignedTransferError(
              'INVALID_ARGUMENT',
              `the stream does not fit in ${MAX_PARTS} parts of ${partSize} bytes: choose a larger partSize`,
            );
          }
          await dispatch(++partNumber, buffer);
          buffer = new Uint8Array(partSize);
          filled = 0;
        }
      }
    }
    if (!failure && !stop.signal.aborted && filled > 0)
      await dispatch(++partNumber, buffer.subarray(0, filled));
    await Promise.all(running);
    if (signal?.aborted) throw aborted(name, signal);
    if (failure) throw failure;
    parts.sort((a, b) => a.partNumber - b.partNumber);
    // Not abortable: once asked, the store may already have made the object, and aborting the
    // upload then would report ABORTED for an object that exists (its abort finds no upload).
    // Given up on, its outcome is unknown: the store may have made the object all the same.
    const done = await call(
      () => options.presigner.complete(uploadId, parts),
      'complete (given up on, the object may have been stored all the same: look before uploading it again)',
      false,
    );
    return {
      uploadId,
      etag: done?.etag,
      versionId: done?.versionId,
      size,
      plaintextSize: progress.plaintextBytes,
      parts: parts.length,
    };
  } catch (err) {
    const reason = signal?.aborted ? aborted(name, signal) : (failure ?? err);
    stop.abort(reason);
    await sealed.cancel(reason).catch(() => {});
    await Promise.allSettled(running);
    try {
      // cleanup: bounded, and done whatever the caller's signal says
      await call(() => options.presigner.abort(uploadId), 'abort', false);
    } catch (cause) {
      throw new PresignedTransferError(
        'UPLOAD_NOT_ABORTED',
        `${name}: the upload failed (${(reason as Error).message ?? String(reason)}) and its multipart upload ${uploadId} could not be aborted: abort it later (aws s3api abort-multipart-upload --upload-id ${uploadId}) or let a lifecycle rule expire it`,
        { uploadId, cause },
      );
    }
    throw reason;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The URL the presigner gave for a part, checked against the part before any byte goes: an S3
 * presigned URL names its upload and part number in its query, and one for another upload or part
 * (a mix-up in the page's server) would store these bytes there. A URL that names neither (a proxy
 * of the page's own) is taken as it is.
 * @throws {PresignedTransferError} `INVALID_ARGUMENT` for a URL that is not text or names another
 *   upload or part.
 */
function partUrlFor(url: unknown, uploadId: string, partNumber: number, what: string): string {
  if (typeof url !== 'string' || url === '') {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `${what}: the presigner's partUrl gave no URL (${typeof url})`,
    );
  }
  let search: string;
  try {
    // a relative URL (the page's own origin) is fine: only its query is read
    search = new URL(url, 'https://relative.invalid').search;
  } catch {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `${what}: the presigner's partUrl gave a malformed URL`,
    );
  }
  const named = queryOf(search);
  const namedUpload = named.get('uploadId') ?? null;
  const namedPart = named.get('partNumber') ?? null;
  if (
    (namedUpload !== null && namedUpload !== uploadId) ||
    (namedPart !== null && namedPart !== String(partNumber))
  ) {
    throw new PresignedTransferError(
      'INVALID_ARGUMENT',
      `${what}: the presigner's partUrl gave a URL for ${namedUpload !== uploadId ? `another upload (${namedUpload})` : `part ${namedPart}`}, not for part ${partNumber} of upload ${uploadId}: nothing was sent to it`,
    );
  }
  return url;
}

/**
 * The parameters of a query, percent-decoded as a signer encodes them (not as a form: `+` stays a
 * plus sign, as S3 reads it); a pair that does not decode is skipped.
 */
function queryOf(search: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of search.replace(/^\?/, '').split('&')) {
    const at = pair.indexOf('=');
    try {
      const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
      if (!params.has(name)) params.set(name, at < 0 ? '' : decodeURIComponent(pair.slice(at + 1)));
    } catch {
      // malformed percent-encoding: not a parameter a signer wrote
    }
  }
  return params;
}

/** A picked file read so that a change under the reader is `SOURCE_CHANGED` (see blob-source.ts). */
function blobSource(blob: Blob, name: string): ReadableStream<Uint8Array> {
  return checkedBlobStream(
    blob,
    (detail, cause) =>
      new PresignedTransferError(
        'SOURCE_CHANGED',
        `${name}: the file could not be read as it was picked (${detail}): it was changed, moved or removed after it was picked; nothing was stored, pick it again`,
        { cause },
      ),
  );
}

/** Reads the next chunk, or stops waiting when `signal` aborts. */
function readOrAbort(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal: AbortSignal,
): ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    reader.read().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
