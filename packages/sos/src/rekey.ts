/**
 * `rekeyObject`: new keys for an existing object, without the old object ever being left
 * half-replaced (a single PutObject and a completed multipart upload both replace it atomically).
 * @module
 */
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import {
  DEFAULT_MAX_WORK_FACTOR,
  isSealstreamError,
  passphraseWorkExcess,
  type Rewrapped,
} from '@sealstream/core';
import {
  type ClientSideOptions,
  type Fetcher,
  fetcherFor,
  identityFor,
  openS3Sealed,
  openS3Source,
  recipientsOf,
} from './client-side.ts';
import { type Encryption, type ResolvedEncryption, resolveEncryption } from './encryption.ts';
import { SosError } from './errors.ts';
import { optionNames } from './known-options.ts';
import { checkLocation, checkProgress, checkQueueSize, type ObjectLocation } from './objects.ts';
import type { S3RangeSource } from './s3-source.ts';
import { assertSseCApplied, mapSseCError } from './sse-c.ts';
import { mapRequestError } from './store-errors.ts';
import {
  choosePartSize,
  LIMITS,
  type PartJob,
  runMultipart,
  type UploadBody,
  type UploadProgress,
  type UploadResult,
  uploadObject,
} from './upload.ts';

const MiB = 1024 * 1024;
/** Server-side copy parts are this many times the part size: fewer requests, no client memory involved. */
const COPY_PART_FACTOR = 8;

/** Options of {@link rekeyObject}. */
export interface RekeyObjectOptions extends ObjectLocation {
  /** How the object is encrypted now, with keys that open it. */
  encryption: Encryption;
  /**
   * The same layers with the new keys: `clientSide.keys` are the new recipients (the identity
   * bound in the header is kept), `sseC` the new SSE-C key or key map.
   */
  newEncryption: Encryption;
  /** Client-side: keep the current recipients and add the new ones (default: replace them). */
  keepExisting?: boolean;
  /** Re-key this version; the result is written as the current version. */
  versionId?: string;
  /** Part size of the new object (5 MiB to 5 GiB, default 8 MiB, grown to fit 10,000 parts). */
  partSize?: number;
  /** Parts in flight at once (default 4); memory stays about `queueSize x partSize`. */
  queueSize?: number;
  /** Aborting stops the rekey; the old object stays as it was and no parts are left. */
  signal?: AbortSignal;
  /** Called as bytes reach the server (uploaded or copied there). */
  onProgress?: (progress: UploadProgress) => void;
}

/** What {@link rekeyObject} reports. */
export interface RekeyObjectResult {
  /**
   * `copy`: client-side only, large: a new header plus the first part went up, the rest was
   * copied by the server (`UploadPartCopy`). `rewrite`: client-side only, small: downloaded and
   * put back with the new header. `stream`: SSE-C (with or without client-side inside): streamed
   * down with the old key and up with the new one.
   */
  method: 'copy' | 'rewrite' | 'stream';
  /** Bytes stored before and after (they differ when the header's recipients change). */
  previousSize: number;
  size: number;
  /** Bytes that went through the client, each way, and bytes the server copied by itself. */
  bytesDownloaded: number;
  bytesUploaded: number;
  bytesCopied: number;
  /** Parts of the new object; 0 when it went up as one PutObject. */
  parts: number;
  etag: string | undefined;
  versionId: string | undefined;
}

const REKEY_OPTIONS = optionNames<RekeyObjectOptions>()(
  [
    'client',
    'bucket',
    'key',
    'encryption',
    'newEncryption',
    'keepExisting',
    'versionId',
    'partSize',
    'queueSize',
    'signal',
    'onProgress',
  ],
  true,
);

/**
 * Gives an existing object new keys.
 *
 * Client-side encryption: only the header's recipient stanzas change (`Keyring.rewrap`), the
 * payload is kept byte for byte. Objects under two parts are downloaded and put back; larger ones
 * become a multipart upload whose first part is the new header plus the first part of the
 * payload and whose other parts the server copies from the old object, so about one part travels
 * each way whatever the size. SSE-C (alone or around client-side encryption): Ceph RGW does not
 * copy an SSE-C object to a new key (501 to a copy with both keys), so the object streams down
 * with the old key and back up with the new one, memory bounded like `putObject`, never through disk.
 *
 * The new object replaces the old one only once complete; on failure or abort the old object is
 * untouched and no multipart upload is left. In a versioned bucket the old versions remain, still
 * under the old keys: delete them to retire those keys.
 * @returns What was moved where.
 * @throws {SosError} `INVALID_ARGUMENT` (layers differ between `encryption` and `newEncryption`,
 *   nothing is encrypted, or the new header's passphrases would ask for more scrypt work in all
 *   than `maxWorkFactor` lets a reader do: nothing is written), `ABORTED`, the SSE-C errors of `getObject`, the store's refusals
 *   (`NOT_FOUND`, `BUCKET_NOT_FOUND`, `ACCESS_DENIED`, `BAD_CREDENTIALS`), `TIMEOUT`,
 *   `SERVER_FAULT`; {@link SealstreamError} `NO_MATCHING_KEY` when the given keys do not open the
 *   object, `IDENTITY_MISMATCH`.
 * @example
 * await rekeyObject({ client, bucket, key,
 *   encryption: { clientSide: { keys: [oldKey] } }, newEncryption: { clientSide: { keys: [newKey] } } });
 */
export async function rekeyObject(options: RekeyObjectOptions): Promise<RekeyObjectResult> {
  const { client, bucket, key } = checkLocation(options, REKEY_OPTIONS, 'rekeyObject');
  const from = await resolveEncryption(client, options.encryption, bucket, key);
  const to = await resolveEncryption(client, options.newEncryption, bucket, key);
  if (!from.clientSide && !from.sseC) {
    throw new SosError('INVALID_ARGUMENT', `"encryption" is 'none': there are no keys to replace`);
  }
  if (!from.clientSide !== !to.clientSide || !from.sseC !== !to.sseC) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"newEncryption" must have the same layers as "encryption" (client-side: ${layer(from.clientSide)} -> ${layer(to.clientSide)}, SSE-C: ${layer(from.sseC)} -> ${layer(to.sseC)}): rekey changes keys, not layers`,
    );
  }
  if (from.clientSide && to.clientSide) {
    recipientsOf(to.clientSide);
    const kept = identityFor(from.clientSide, bucket, key);
    const wanted = identityFor(to.clientSide, bucket, key);
    if (wanted !== undefined && wanted !== kept) {
      throw new SosError(
        'INVALID_ARGUMENT',
        '"newEncryption.clientSide.identity" differs from "encryption.clientSide.identity": the identity is part of the sealed header and cannot change on rekey',
      );
    }
  }
  const queueSize = checkQueueSize(options.queueSize);
  checkProgress(options.onProgress);
  if (from.sseC) return streamRekey(options, from, to, queueSize);
  return copyRekey(options, from.clientSide!, to.clientSide!, queueSize);
}

function layer(value: unknown): string {
  return value === undefined ? 'no' : 'yes';
}

/**
 * Opens the object with the current keys (core's reader checks the identity the caller expects)
 * and rewraps its data key for the new recipients (core decides keep, add and duplicates).
 */
async function rewrapObject(
  f: Fetcher,
  from: ClientSideOptions,
  to: ClientSideOptions,
  keepExisting: boolean | undefined,
): Promise<{ source: Awaited<ReturnType<typeof openS3Sealed>>['source']; rewrapped: Rewrapped }> {
  const { source, sealed } = await openS3Sealed(f, from);
  const rewrapped = await sealed.rewrap({
    recipients: recipientsOf(to),
    ...(keepExisting !== undefined ? { keepExisting } : {}),
  });
  refuseUnreadablePassphrases(rewrapped.header, to.maxWorkFactor ?? from.maxWorkFactor, f);
  return { source, rewrapped };
}

/**
 * Refuses, before anything is written, a new header whose passphrase stanzas ask for more scrypt
 * work in all than a reader with the same limit accepts (SPEC §5.2: at most `2^(maxWorkFactor + 1)`):
 * each rekey with `keepExisting` and a new passphrase adds one, and past the budget every passphrase
 * of the object would be refused with `WORK_FACTOR_TOO_HIGH`. What this package writes, it opens.
 * @throws {SosError} `INVALID_ARGUMENT`.
 */
function refuseUnreadablePassphrases(
  header: Uint8Array,
  maxWorkFactor: number | undefined,
  at: { bucket: string; key: string },
): void {
  const excess = passphraseWorkExcess(header, { maxWorkFactor });
  if (!excess) return;
  throw new SosError(
    'INVALID_ARGUMENT',
    `rekey ${at.bucket}/${at.key}: the object would hold ${excess.stanzas} passphrase stanzas asking for scrypt work 2^${excess.workFactor.toFixed(2)} in all, above 2^${excess.budget}, what readers accept with maxWorkFactor ${maxWorkFactor ?? DEFAULT_MAX_WORK_FACTOR}: every passphrase of it would be refused; nothing was written`,
  );
}

/** Client-side only: rewrite the header, copy the payload server-side when the object is large. */
async function copyRekey(
  options: RekeyObjectOptions,
  from: ClientSideOptions,
  to: ClientSideOptions,
  queueSize: number,
): Promise<RekeyObjectResult> {
  const { client, bucket, key, signal } = options;
  const what = `rekey ${bucket}/${key}`;
  const head: HeadObjectCommandOutput = await client
    .send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: options.versionId }),
      signal ? { abortSignal: signal } : {},
    )
    .catch(async (err: unknown) => {
      if (signal?.aborted) throw new SosError('ABORTED', `${what}: aborted`, { cause: signal.reason });
      // an object stored with SSE-C too answers this HEAD without a key with a bare 400
      const object = { client, bucket, key, versionId: options.versionId };
      const sseCError = await mapSseCError(err, { what, sentKey: false, object });
      throw mapRequestError(sseCError, { what, bucket, key, versionId: options.versionId });
    });
  // pin what we read to this version (versioned buckets) and this ETag (servers that honour it)
  const versionId = options.versionId ?? head.VersionId;
  const fetcher = fetcherFor(options, { clientSide: from, sseC: undefined }, versionId, signal);
  const {
    source,
    rewrapped: { header, payloadOffset: oldHeaderLength },
  } = await rewrapObject(fetcher, from, to, options.keepExisting);
  const size = source.size;
  // copies are pinned to what the reads saw, not to the HEAD before them
  const etag = source.pin.etag ?? head.ETag;
  const newSize = size - oldHeaderLength + header.byteLength;
  const partSize = choosePartSize(newSize, options.partSize);
  const createParams = { Bucket: bucket, Key: key, ...keptFields(head) };
  let loaded = 0;
  const onPartDone = (n: number) => {
    loaded += n;
    options.onProgress?.({ loaded, total: newSize });
  };

  if (size < 2 * partSize) {
    const old = await source.read(oldHeaderLength, size, signal);
    const result = await uploadObject({
      client,
      params: { ...createParams, Body: concat(header, old), ContentLength: newSize },
      partSize,
      queueSize,
      signal,
      onProgress: options.onProgress,
      // the new object replaced the only copy of the data
      keepWrittenOnFailure: true,
    });
    return report('rewrite', size, result, fetcher.stats.bytesFetched, newSize, 0);
  }

  // part 1: the new header and the first partSize bytes after the old header (>= 5 MiB in all)
  const firstEnd = oldHeaderLength + partSize;
  const firstPart = concat(header, await source.read(oldHeaderLength, firstEnd, signal));
  const copySource =
    `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}` +
    (versionId !== undefined ? `?versionId=${encodeURIComponent(versionId)}` : '');
  const copyPartSize = Math.min(
    LIMITS.maxPartSize,
    Math.max(COPY_PART_FACTOR * partSize, Math.ceil((size - firstEnd) / (LIMITS.maxParts - 1) / MiB) * MiB),
  );
  let partNumber = 0;
  let offset = firstEnd;
  const next = async (): Promise<PartJob | undefined> => {
    if (partNumber === 0) return { partNumber: ++partNumber, body: firstPart };
    if (offset >= size) return undefined;
    const start = offset;
    offset = Math.min(size, offset + copyPartSize);
    return { partNumber: ++partNumber, copySource, start, end: offset - 1, ifMatch: etag };
  };
  const result = await runMultipart({
    client,
    createParams,
    sseC: undefined,
    queueSize,
    signal,
    next,
    onPartDone,
  });
  return report('copy', size, result, fetcher.stats.bytesFetched, firstPart.byteLength, size - firstEnd);
}

/**
 * SSE-C (possibly around client-side encryption): one GET with the old key streams into an
 * upload with the new key; the client-side header, if any, is swapped on the way.
 */
async function streamRekey(
  options: RekeyObjectOptions,
  from: ResolvedEncryption,
  to: ResolvedEncryption,
  queueSize: number,
): Promise<RekeyObjectResult> {
  const { client, bucket, key, signal } = options;
  const fetcher = fetcherFor(options, from, options.versionId, signal);
  let source: S3RangeSource | undefined;
  let lead: Uint8Array = new Uint8Array(0);
  let payloadOffset = 0;
  if (from.clientSide && to.clientSide) {
    // the client-side header is swapped on the way: core opens and rewraps it
    const opened = await rewrapObject(fetcher, from.clientSide, to.clientSide, options.keepExisting);
    source = opened.source;
    lead = opened.rewrapped.header;
    payloadOffset = opened.rewrapped.payloadOffset;
  } else {
    source = await openS3Source(fetcher).catch((err: unknown) => {
      // a ranged GET of an empty object is 416, which a sealed object never is: SSE-C alone may be
      if (isSealstreamError(err, 'TRUNCATED')) return undefined;
      throw err;
    });
  }
  // the stored fields to keep; for an empty object (no source), the check of the old key too
  const head = await headWith(options, from, source?.pin.versionId ?? options.versionId);
  if (source === undefined && (head.ContentLength ?? 0) !== 0) {
    throw new SosError(
      'OBJECT_CHANGED',
      `rekey ${bucket}/${key}: the object was replaced while being read; nothing was written`,
    );
  }
  const size = source?.size ?? 0;
  const newSize = size - payloadOffset + lead.byteLength;
  const rest = source?.stream(payloadOffset, size, signal).getReader();
  let received = 0;
  async function* body(): AsyncGenerator<Uint8Array> {
    if (lead.byteLength > 0) yield lead;
    if (rest === undefined) return;
    for (let r = await rest.read(); !r.done; r = await rest.read()) {
      received += r.value.byteLength;
      yield r.value;
    }
    // a connection cut short must not complete the upload with a truncated object
    if (received !== size - payloadOffset) {
      throw new SosError(
        'DOWNLOAD_INCOMPLETE',
        `${bucket}/${key}: the download ended after ${received} of ${size - payloadOffset} bytes; nothing was written`,
      );
    }
  }
  const partSize = choosePartSize(newSize, options.partSize);
  // up to one part goes up as a single PutObject, which replaces the object when the store takes it
  const onePut = newSize <= partSize;
  const what = `rekey ${bucket}/${key}`;
  const result = await uploadObject({
    client,
    params: {
      Bucket: bucket,
      Key: key,
      Body: body() as UploadBody,
      ContentLength: newSize,
      ...keptFields(head),
      ...to.sseC,
    },
    partSize,
    queueSize,
    signal,
    onProgress: options.onProgress,
    onFailure: () => {
      rest?.cancel().catch(() => {});
    },
    checkPart: (out) => {
      try {
        assertSseCApplied(out, to.sseC!, what);
      } catch (err) {
        // a multipart upload is aborted (the old object stays); a single PutObject has replaced it
        if (!onePut || !(err instanceof SosError)) throw err;
        throw new SosError(
          err.code,
          `${err.message}; the object was replaced all the same by what was sent with the new key (a rekey keeps what it wrote: it is the only copy of the data): keep the new key, and read the object with it to check`,
        );
      }
    },
    // the new object replaced the only copy of the data
    keepWrittenOnFailure: true,
  });
  return report('stream', size, result, fetcher.stats.bytesFetched, result.size, 0);
}

/**
 * A HEAD of the object with its current SSE-C key (a GET with it has just succeeded, or the
 * object is empty): the stored fields the new object keeps; SSE-C errors mapped as a read's.
 */
async function headWith(
  options: RekeyObjectOptions,
  from: ResolvedEncryption,
  versionId: string | undefined,
): Promise<HeadObjectCommandOutput> {
  const { client, bucket, key, signal } = options;
  const what = `rekey ${bucket}/${key}`;
  try {
    const out = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, ...from.sseC }),
      signal ? { abortSignal: signal } : {},
    );
    if (from.sseC) assertSseCApplied(out, from.sseC, what);
    return out;
  } catch (err) {
    if (signal?.aborted) throw new SosError('ABORTED', `${what}: aborted`, { cause: signal.reason });
    const object = { client, bucket, key, versionId };
    const sseCError = await mapSseCError(err, { what, sentKey: from.sseC !== undefined, object });
    throw mapRequestError(sseCError, { what, bucket, key, versionId });
  }
}

/** The fields of a `PutObject` that describe the object, not its place or its bytes. */
type StoredFields = Partial<Omit<PutObjectCommandInput, 'Body' | 'Bucket' | 'Key'>>;

/**
 * The stored fields of the old object that the new one keeps: content type, user metadata,
 * `Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Content-Language`, `Expires` and
 * the storage class (everything `putObject` sets but tags, which are a separate resource).
 */
function keptFields(head: HeadObjectCommandOutput): StoredFields {
  const fields: StoredFields = {
    ContentType: head.ContentType,
    CacheControl: head.CacheControl,
    ContentDisposition: head.ContentDisposition,
    ContentEncoding: head.ContentEncoding,
    ContentLanguage: head.ContentLanguage,
    StorageClass: head.StorageClass,
    ...(head.Metadata !== undefined && Object.keys(head.Metadata).length > 0
      ? { Metadata: head.Metadata }
      : {}),
    ...(head.Expires instanceof Date && !Number.isNaN(head.Expires.getTime())
      ? { Expires: head.Expires }
      : {}),
  };
  for (const name of Object.keys(fields) as (keyof typeof fields)[]) {
    if (fields[name] === undefined || fields[name] === '') delete fields[name];
  }
  return fields;
}

function report(
  method: RekeyObjectResult['method'],
  previousSize: number,
  result: UploadResult | Awaited<ReturnType<typeof runMultipart>>,
  bytesDownloaded: number,
  bytesUploaded: number,
  bytesCopied: number,
): RekeyObjectResult {
  return {
    method,
    previousSize,
    size: result.size,
    bytesDownloaded,
    bytesUploaded,
    bytesCopied,
    parts: result.parts,
    etag: result.etag,
    versionId: result.versionId,
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
