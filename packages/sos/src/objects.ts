/**
 * `putObject`, `getObject`, `headObject`: objects in, out and described, with the chosen
 * encryption applied on every request that needs it.
 * @module
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ciphertextSize, createSealer, MAX_HEADER_LENGTH } from '@sealstream/core';
import { type BodyInput, openBody, readerOf } from './body.ts';
import {
  describeObject,
  fetcherFor,
  identityFor,
  openObject,
  openS3Source,
  recipientsOf,
} from './client-side.ts';
import { type Encryption, type ResolvedEncryption, resolveEncryption } from './encryption.ts';
import { SosError } from './errors.ts';
import { optionNames, refuseUnknownOptions } from './known-options.ts';
import type { Sealing } from './parts.ts';
import {
  notSatisfiable,
  type ParsedRange,
  parseContentRange,
  parseRange,
  type RangeInput,
  type ResolvedRange,
  rangeHeader,
  resolveRange,
} from './range.ts';
import type { ResumedUpload, ResumeOptions } from './resume/options.ts';
import { S3RangeSource } from './s3-source.ts';
import { assertSseCApplied, httpStatus, mapSseCError } from './sse-c.ts';
import { mapRequestError } from './store-errors.ts';
import {
  choosePartSize,
  DEFAULT_QUEUE_SIZE,
  growingPartSize,
  type UploadBody,
  type UploadProgress,
  uploadObject,
} from './upload.ts';

/** Where an object lives. */
export interface ObjectLocation {
  client: S3Client;
  bucket: string;
  key: string;
}

/** Options of {@link putObject}. */
export interface PutObjectOptions extends ObjectLocation {
  /**
   * The data: bytes, a `Blob`/`File`, a web `ReadableStream`, a Node `Readable`, or (Node only) a
   * file path (streamed).
   */
  body: BodyInput;
  /** `'none'`, or `{ sseC: { key } }` / `{ sseC: { keyMap, alias } }`. */
  encryption: Encryption;
  /** Size of each part in bytes (5 MiB to 5 GiB, default 8 MiB, grown to fit 10,000 parts when the size is known). */
  partSize?: number;
  /** Parts uploaded in parallel (default 4); memory stays about `queueSize x partSize`. */
  queueSize?: number;
  /** Aborting stops the upload; nothing is left on the server. */
  signal?: AbortSignal;
  /**
   * Called as bytes reach the server. An error it throws fails the upload like any other: nothing
   * is left on the server (an object already stored by the one PutObject of a small body is deleted).
   */
  onProgress?: (progress: UploadProgress) => void;
  /**
   * The stored object's fields, as `PutObject` (and, for a multipart upload, `CreateMultipartUpload`)
   * take them, whatever the encryption. With client-side encryption they describe the plaintext but
   * are stored in the clear: put nothing secret in them, and know that a `contentEncoding` such as
   * `gzip` makes HTTP clients that honour it try to decode ciphertext.
   */
  contentType?: string;
  /** User metadata (`x-amz-meta-*`), stored in the clear. */
  metadata?: Record<string, string>;
  /** Object tags (`x-amz-tagging`), stored in the clear. */
  tags?: Record<string, string>;
  /** Storage class, e.g. `STANDARD` (what a store accepts is its own). */
  storageClass?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  /** The `Expires` header served with the object (not a lifecycle rule). */
  expires?: Date;
  /**
   * Node entry, file paths only: make the upload resumable through a journal file (see the
   * README, "Resumable uploads"). A failed upload is then NOT aborted: its parts stay on the
   * server, and calling `putObject` again with the same journal continues it.
   */
  resume?: ResumeOptions;
}

/** What {@link putObject} reports. */
export interface PutObjectResult {
  /** Bytes stored on the server. */
  size: number;
  /** Bytes of the caller's data (differs from `size` with client-side encryption). */
  plaintextSize: number;
  /** ETag from the server; may be missing (Ceph RGW returns none from CompleteMultipartUpload). */
  etag: string | undefined;
  versionId: string | undefined;
  /** Size of the first part; 0 for a single PutObject. Parts grow when the size is unknown (see `growingPartSize`). */
  partSize: number;
  /** With `resume`, when an interrupted upload was continued: what was skipped and sent again. */
  resumed?: ResumedUpload;
}

/**
 * Uploads an object as a stream: one PutObject when it fits one part, else a multipart upload
 * with parallel parts. With SSE-C, every request carries the key and every answer must confirm it.
 * @returns Size, ETag and version of the stored object.
 * @throws {SosError} `ABORTED`, `INSECURE_ENDPOINT` (SSE-C over http), `SSE_C_NOT_APPLIED`
 *   (server ignored SSE-C), `INVALID_ARGUMENT`, `SSE_C_NO_KEY_FOR_PATH`; the store's refusals as
 *   `BUCKET_NOT_FOUND`, `ACCESS_DENIED`, `BAD_CREDENTIALS`, `UPLOAD_NOT_FOUND` (the SDK's error as
 *   `cause`); other S3 errors as the SDK throws them.
 * @example
 * await putObject({ client, bucket: 'backups', key: 'db.tar', body: '/var/backups/db.tar',
 *   encryption: { sseC: { key: process.env.SSE_C_KEY! } } });
 */
export async function putObject(options: PutObjectOptions): Promise<PutObjectResult> {
  const { client, bucket, key } = checkLocation(options, PUT_OPTIONS, 'putObject');
  if (options.resume !== undefined) {
    throw new SosError(
      'NOT_RESUMABLE',
      'a resumable upload needs a file given by its path, in Node (the journal is a file): this body cannot be read again from an offset',
    );
  }
  const encryption = await resolveEncryption(client, options.encryption, bucket, key);
  const queueSize = checkQueueSize(options.queueSize);
  checkProgress(options.onProgress);
  const opened = openBody(options.body);
  let storedSize = opened.size;
  let plainCount = 0;
  let partSize: number;
  const clientSide = encryption.clientSide;
  let sealing: Sealing | undefined;
  if (clientSide) {
    // the body is sealed while it is cut into parts; the sealed size is known only at the end
    sealing = await createSealer({
      recipients: recipientsOf(clientSide),
      identity: identityFor(clientSide, bucket, key),
    });
    storedSize = undefined;
    // an upper bound of the sealed size keeps the part count under 10,000
    partSize = choosePartSize(
      opened.size === undefined ? undefined : ciphertextSize(opened.size, MAX_HEADER_LENGTH),
      options.partSize,
    );
  } else {
    partSize = choosePartSize(opened.size, options.partSize);
  }
  // read through our own reader, so a failure can cancel the chain back to the source
  const reader = opened.body instanceof Uint8Array ? undefined : readerOf(opened.body);
  const params: Omit<PutObjectCommandInput, 'Body'> & { Body: UploadBody } = {
    Bucket: bucket,
    Key: key,
    Body: reader ?? (opened.body as Uint8Array),
    ...(storedSize !== undefined ? { ContentLength: storedSize } : {}),
    ...objectFields(options),
    ...encryption.sseC,
  };
  const result = await uploadObject({
    // cancelling our reader cancels the source it reads from
    onFailure: () => reader?.cancel(),
    sealing,
    onPlaintext: (n) => (plainCount += n),
    client,
    params,
    // a body of unknown size may need more than 10,000 parts of the first size
    partSize: opened.size === undefined ? (n) => growingPartSize(n, partSize) : partSize,
    queueSize,
    signal: options.signal,
    onProgress: options.onProgress,
    ...(encryption.sseC
      ? { checkPart: (out) => assertSseCApplied(out, encryption.sseC!, `put ${bucket}/${key}`) }
      : {}),
  });
  if (result.parts > 0) await applyTags(options, result.versionId);
  return {
    size: result.size,
    plaintextSize: clientSide ? plainCount : result.size,
    etag: result.etag,
    versionId: result.versionId,
    partSize: result.partSize,
  };
}

/**
 * Sets the tags of an object just completed by a multipart upload: Ceph RGW drops x-amz-tagging on
 * CreateMultipartUpload (AWS keeps it), so they are set on the version just written.
 * @throws {SosError} `SERVER_FAULT` when that fails (the object is stored).
 */
export async function applyTags(
  options: Pick<PutObjectOptions, 'client' | 'bucket' | 'key' | 'tags'>,
  versionId: string | undefined,
): Promise<void> {
  const { client, bucket, key } = options;
  if (options.tags === undefined) return;
  try {
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
        Tagging: { TagSet: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  } catch (err) {
    throw new SosError(
      'SERVER_FAULT',
      `put ${bucket}/${key}: the object was stored, but setting its tags failed (${(err as Error)?.message ?? err}); set them again with PutObjectTagging`,
      { cause: err },
    );
  }
}

/** Options of {@link getObject}. */
export interface GetObjectOptions extends ObjectLocation {
  encryption: Encryption;
  /**
   * Only these bytes: `{ start, end? }` with `end` EXCLUSIVE (`{ start: 0, end: 1 }` is one byte;
   * no `end`: to the end), or HTTP text `bytes=a-b` (`b` inclusive), `bytes=a-`, `bytes=-n`. An
   * `end` past the object is clamped to its size; for client-side objects, ranges are of the
   * plaintext.
   */
  range?: RangeInput;
  versionId?: string;
  signal?: AbortSignal;
  /**
   * Client-side encryption: ranged GETs in flight at once when an object is read window by window
   * (8 MiB of plaintext each). Default 4. A read of the store is now one GET when it fits in one
   * window and one streamed GET, opened 1 MiB at a time, when it is longer, so this bounds nothing
   * there any more; it is still checked (1 to 64) and kept for sources read by windows.
   */
  parallel?: number;
}

/** What {@link getObject} returns. */
export interface GetObjectResult {
  /** The object's bytes (or the requested range). */
  body: ReadableStream<Uint8Array>;
  /** Bytes `body` will yield. */
  size: number;
  /** Size of the whole object. */
  objectSize: number;
  /** The bytes returned, `[start, end)` (end exclusive), when a range was asked for. */
  range: ResolvedRange | undefined;
  etag: string | undefined;
  versionId: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
  lastModified: Date | undefined;
  /** Client-side encrypted objects: key IDs and identity from the header. */
  header: { keyIds: string[]; identity: string | undefined } | undefined;
  /** Bytes fetched from the server so far (grows while `body` is read). */
  stats: { readonly bytesFetched: number };
}

/**
 * Downloads an object (or a byte range of it) as a stream.
 * @throws {SosError} `SSE_C_KEY_REQUIRED`, `SSE_C_KEY_MISMATCH`, `SSE_C_NOT_APPLIED`,
 *   `INVALID_ARGUMENT` (a malformed or empty range, before any request), `RANGE_NOT_SATISFIABLE`
 *   (a range starting at or past the end); `NOT_FOUND`, `BUCKET_NOT_FOUND`, `ACCESS_DENIED`,
 *   `BAD_CREDENTIALS` for the store's refusals (the SDK's error, e.g. `NoSuchKey`, as `cause`);
 *   other S3 errors as the SDK throws them.
 * @example
 * const { body } = await getObject({ client, bucket, key, encryption: { sseC: { key } }, range: { start: 0, end: 100 } });
 * await pipeline(Readable.fromWeb(body), createWriteStream('first-100-bytes'));
 */
export async function getObject(options: GetObjectOptions): Promise<GetObjectResult> {
  const { client, bucket, key } = checkLocation(options, GET_OPTIONS, 'getObject');
  const encryption = await resolveEncryption(client, options.encryption, bucket, key);
  const range = options.range === undefined ? undefined : parseRange(options.range);
  const what = `get ${bucket}/${key}`;
  if (encryption.clientSide) {
    const parallel = options.parallel ?? 4;
    if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > 64) {
      throw new SosError('INVALID_ARGUMENT', `"parallel" expected an integer from 1 to 64, got ${parallel}`);
    }
    const fetcher = fetcherFor(options, encryption, options.versionId, options.signal);
    const got = await openObject(fetcher, encryption.clientSide, range, parallel);
    // what the store said about the object, from the answer every read is pinned to
    const facts = got.source.facts;
    return {
      body: got.body,
      size: got.size,
      objectSize: got.objectSize,
      range: got.range,
      etag: facts?.etag,
      versionId: facts?.versionId,
      contentType: facts?.contentType,
      metadata: facts?.metadata ?? {},
      lastModified: facts?.lastModified,
      header: { keyIds: got.sealed.header.keyIds, identity: got.sealed.header.identity },
      stats: fetcher.stats,
    };
  }
  let out: Awaited<ReturnType<typeof sendGet>>;
  try {
    out = await sendGet(client, bucket, key, options.versionId, range, encryption, options.signal);
  } catch (err) {
    if (range !== undefined && httpStatus(err) === 416) throw notSatisfiable(range, undefined, err);
    if (options.signal?.aborted)
      throw new SosError('ABORTED', `${what}: aborted`, { cause: options.signal.reason });
    throw mapRequestError(await mapReadError(err, what, options, encryption), {
      what,
      bucket,
      key,
      versionId: options.versionId,
    });
  }
  if (encryption.sseC) {
    try {
      assertSseCApplied(out, encryption.sseC, what);
    } catch (err) {
      await out.Body?.transformToWebStream().cancel();
      throw err;
    }
  }
  if (!out.Body) throw new SosError('SERVER_FAULT', `${what}: the store answered without a body`);
  // the answer pins the object: a broken body is resumed from where it stopped, same ETag/version
  const ranged = out.$metadata.httpStatusCode === 206;
  const contentRange = ranged ? parseContentRange(out.ContentRange) : undefined;
  const objectSize = ranged ? contentRange?.size : out.ContentLength;
  if (objectSize === undefined || (ranged && contentRange === undefined)) {
    await out.Body.transformToWebStream().cancel();
    throw new SosError(
      'SERVER_FAULT',
      `${what}: the store's answer gives no object size (Content-Range ${out.ContentRange ?? 'missing'})`,
    );
  }
  let resolved: ResolvedRange | undefined = contentRange && {
    start: contentRange.start,
    end: contentRange.end,
  };
  if (range !== undefined && contentRange !== undefined) {
    // plain and SSE-C bytes carry no authentication: an answer for other bytes than those asked
    // (a misbehaving proxy or cache) would be handed on as the range. One that starts right but
    // ends early is fine: the read resumes from where its body ends.
    let asked: ResolvedRange | undefined;
    try {
      asked = resolveRange(range, objectSize);
    } catch {
      // a 206 for a range its own object size says cannot be satisfied: the mismatch below
    }
    if (asked === undefined || contentRange.start !== asked.start || contentRange.end > asked.end) {
      await out.Body.transformToWebStream().cancel();
      throw new SosError(
        'SERVER_FAULT',
        `${what}: the store answered bytes ${out.ContentRange} to a request for ${rangeHeader(range)}: not the bytes asked for`,
      );
    }
    resolved = asked;
  }
  if (range !== undefined && !ranged) {
    // a server that ignores Range answers 200 with the whole object: keep only the range asked for
    try {
      resolved = resolveRange(range, objectSize);
    } catch (err) {
      await out.Body.transformToWebStream().cancel();
      throw notSatisfiable(range, objectSize, err);
    }
  }
  const start = resolved?.start ?? 0;
  const end = resolved === undefined ? objectSize : resolved.end;
  const source = new S3RangeSource(
    {
      client,
      bucket,
      key,
      versionId: options.versionId,
      sseC: encryption.sseC,
      ...(encryption.sseC ? { check: (o) => assertSseCApplied(o, encryption.sseC!, what) } : {}),
    },
    { size: objectSize, etag: out.ETag || undefined, versionId: out.VersionId ?? options.versionId },
  );
  return {
    body: source.stream(start, end, options.signal, out),
    size: end - start,
    objectSize,
    range: range === undefined ? undefined : resolved,
    etag: out.ETag,
    versionId: out.VersionId,
    contentType: out.ContentType,
    metadata: out.Metadata ?? {},
    lastModified: out.LastModified,
    header: undefined,
    stats: source.stats,
  };
}

/** Options of {@link openObjectSource}. */
export interface ObjectSourceOptions extends ObjectLocation {
  /** `'none'` or SSE-C: what the store needs to hand out the stored bytes (a client-side layer is not opened). */
  encryption: Encryption;
  versionId?: string;
  /** Aborts the first GET. */
  signal?: AbortSignal;
}

/**
 * An object's stored bytes as a random-access byte source for core's reader (`openSealed`,
 * `inspectSealed`): ranged GETs pinned to the first answer's ETag/version, resumed, safe with
 * servers that ignore `Range`. The first GET asks for what core's reader reads first (`FIRST_READ`,
 * 4 KiB), kept to serve later reads inside it.
 * @throws {SealstreamError} `TRUNCATED` for an empty object; {@link SosError} SSE-C and transport
 *   errors, and the store's refusals (`NOT_FOUND`, `BUCKET_NOT_FOUND`, `ACCESS_DENIED`, `BAD_CREDENTIALS`).
 * @example
 * const source = await openObjectSource({ client, bucket, key, encryption: 'none' });
 * const facts = await inspectSealed(source); // recipients, identity, plaintext size
 */
export async function openObjectSource(options: ObjectSourceOptions): Promise<S3RangeSource> {
  const { client, bucket, key } = checkLocation(options, SOURCE_OPTIONS, 'openObjectSource');
  const encryption = await resolveEncryption(client, options.encryption, bucket, key);
  return openS3Source(fetcherFor(options, encryption, options.versionId, options.signal));
}

/** Options of {@link headObject}. */
export interface HeadObjectOptions extends ObjectLocation {
  encryption: Encryption;
  versionId?: string;
}

/** What {@link headObject} reports. */
export interface HeadObjectResult {
  /** Size of the object's content. */
  size: number;
  /** Bytes stored on the server. */
  storedSize: number;
  etag: string | undefined;
  versionId: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
  lastModified: Date | undefined;
  /** Present for SSE-C objects: the key's MD5 (base64) as the server reports it, which identifies the key. */
  sseC: { algorithm: string; keyMD5: string } | undefined;
  /** Client-side encrypted objects: key IDs (of raw-key recipients) and identity from the header. */
  header: { keyIds: string[]; identity: string | undefined } | undefined;
}

/**
 * Describes an object without downloading it.
 * @throws {SosError} `SSE_C_KEY_REQUIRED`, `SSE_C_KEY_MISMATCH`, `SSE_C_NOT_APPLIED`; `NOT_FOUND`
 *   (a HEAD's 404 cannot tell a missing object from a missing bucket), `ACCESS_DENIED` (nor its 403
 *   denied access from wrong credentials), with the SDK's error (`NotFound`...) as `cause`.
 */
export async function headObject(options: HeadObjectOptions): Promise<HeadObjectResult> {
  const { client, bucket, key } = checkLocation(options, HEAD_OPTIONS, 'headObject');
  const encryption = await resolveEncryption(client, options.encryption, bucket, key);
  const what = `head ${bucket}/${key}`;
  let out: HeadObjectCommandOutput;
  try {
    out = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: options.versionId, ...encryption.sseC }),
    );
  } catch (err) {
    throw mapRequestError(await mapReadError(err, what, options, encryption), {
      what,
      bucket,
      key,
      versionId: options.versionId,
    });
  }
  if (encryption.sseC) assertSseCApplied(out, encryption.sseC, what);
  const storedSize = out.ContentLength ?? 0;
  let size = storedSize;
  let header: HeadObjectResult['header'];
  if (encryption.clientSide) {
    // one small ranged read: the header gives key IDs, and its length the exact plaintext size
    const described = await describeObject(
      fetcherFor(options, encryption, options.versionId ?? out.VersionId, undefined),
    );
    size = described.size;
    header = { keyIds: described.header.keyIds, identity: described.header.identity };
  }
  return {
    size,
    storedSize,
    header,
    etag: out.ETag,
    versionId: out.VersionId,
    contentType: out.ContentType,
    metadata: out.Metadata ?? {},
    lastModified: out.LastModified,
    sseC:
      out.SSECustomerAlgorithm && out.SSECustomerKeyMD5
        ? { algorithm: out.SSECustomerAlgorithm, keyMD5: out.SSECustomerKeyMD5 }
        : undefined,
  };
}

function sendGet(
  client: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
  range: ParsedRange | undefined,
  encryption: ResolvedEncryption,
  signal: AbortSignal | undefined,
) {
  return client.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      VersionId: versionId,
      ...(range !== undefined ? { Range: rangeHeader(range) } : {}),
      ...encryption.sseC,
    }),
    signal ? { abortSignal: signal } : {},
  );
}

function mapReadError(
  err: unknown,
  what: string,
  location: ObjectLocation & { versionId?: string | undefined },
  encryption: ResolvedEncryption,
): Promise<unknown> {
  return mapSseCError(err, { what, sentKey: encryption.sseC !== undefined, object: location });
}

/** Checks the options object, its `client` and its `bucket` (what every call on a bucket needs). */
export function checkBucketOptions<T extends { client: S3Client; bucket: string }>(options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"options" expected an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  if (typeof options.client?.send !== 'function') {
    throw new SosError('INVALID_ARGUMENT', '"client" expected an S3Client (see createSosClient)');
  }
  checkName(options, 'bucket');
  return options;
}

/**
 * {@link checkBucketOptions}, and a `key`; with `known`, also that every option is one of these names
 * (`abortSignal` for `signal`, `partsize` for `partSize` would otherwise be ignored without a word).
 * @param what - The function, in messages: `putObject`.
 */
export function checkLocation<T extends ObjectLocation>(
  options: T,
  known?: readonly string[],
  what = 'options',
): T {
  checkName(checkBucketOptions(options), 'key');
  if (known !== undefined) refuseUnknownOptions(options, known, what);
  return options;
}

/** The options of each object function, for {@link checkLocation}. */
export const PUT_OPTIONS = optionNames<PutObjectOptions>()(
  [
    'client',
    'bucket',
    'key',
    'body',
    'encryption',
    'partSize',
    'queueSize',
    'signal',
    'onProgress',
    'contentType',
    'metadata',
    'tags',
    'storageClass',
    'cacheControl',
    'contentDisposition',
    'contentEncoding',
    'contentLanguage',
    'expires',
    'resume',
  ],
  true,
);
const GET_OPTIONS = optionNames<GetObjectOptions>()(
  ['client', 'bucket', 'key', 'encryption', 'range', 'versionId', 'signal', 'parallel'],
  true,
);
const SOURCE_OPTIONS = optionNames<ObjectSourceOptions>()(
  ['client', 'bucket', 'key', 'encryption', 'versionId', 'signal'],
  true,
);
const HEAD_OPTIONS = optionNames<HeadObjectOptions>()(
  ['client', 'bucket', 'key', 'encryption', 'versionId'],
  true,
);

function checkName(options: { bucket: string; key?: string }, field: 'bucket' | 'key'): void {
  if (typeof options[field] !== 'string' || options[field] === '') {
    throw new SosError(
      'INVALID_ARGUMENT',
      `"${field}" expected a non-empty string, got ${JSON.stringify(options[field])}`,
    );
  }
}

/**
 * Checks an `onProgress` option: called only once bytes are stored, a wrong type would otherwise
 * fail the call after the store has the object.
 * @throws {SosError} `INVALID_ARGUMENT`.
 */
export function checkProgress(onProgress: unknown): void {
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new SosError('INVALID_ARGUMENT', `"onProgress" expected a function, got ${typeof onProgress}`);
  }
}

export function checkQueueSize(queueSize: number | undefined): number {
  if (queueSize === undefined) return DEFAULT_QUEUE_SIZE;
  if (!Number.isSafeInteger(queueSize) || queueSize < 1 || queueSize > 64) {
    throw new SosError('INVALID_ARGUMENT', `"queueSize" expected an integer from 1 to 64, got ${queueSize}`);
  }
  return queueSize;
}

/**
 * The `PutObject` fields a caller set, checked: a wrong type is a caller mistake, reported before
 * any byte is sent rather than as a store's 400 halfway through a multipart upload.
 * @throws {SosError} `INVALID_ARGUMENT`.
 */
export function objectFields(options: PutObjectOptions): Partial<Omit<PutObjectCommandInput, 'Body'>> {
  const fields: Partial<Omit<PutObjectCommandInput, 'Body'>> = {};
  const text = [
    ['contentType', 'ContentType'],
    ['storageClass', 'StorageClass'],
    ['cacheControl', 'CacheControl'],
    ['contentDisposition', 'ContentDisposition'],
    ['contentEncoding', 'ContentEncoding'],
    ['contentLanguage', 'ContentLanguage'],
  ] as const;
  for (const [name, field] of text) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"${name}" expected a non-empty string, got ${JSON.stringify(value)}`,
      );
    }
    (fields as Record<string, string>)[field] = value;
  }
  if (options.metadata !== undefined) fields.Metadata = stringRecord(options.metadata, 'metadata');
  if (options.tags !== undefined) {
    // RFC 3986 encoding: URLSearchParams' `+` for a space is kept literally by stores
    fields.Tagging = Object.entries(stringRecord(options.tags, 'tags'))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
  }
  if (options.expires !== undefined) {
    if (!(options.expires instanceof Date) || Number.isNaN(options.expires.getTime())) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"expires" expected a valid Date, got ${String(options.expires)}`,
      );
    }
    fields.Expires = options.expires;
  }
  return fields;
}

function stringRecord(value: unknown, name: string): Record<string, string> {
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== 'string')
  ) {
    throw new SosError('INVALID_ARGUMENT', `"${name}" expected an object of string values`);
  }
  return value as Record<string, string>;
}
