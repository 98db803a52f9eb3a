/**
 * Client-side encryption paths: objects are sealed with `@sealstream/core` before they leave the
 * process and opened after they arrive; the server only ever stores ciphertext.
 * @module
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  decrypt,
  type HeaderInfo,
  inspectHeader,
  Keyring,
  type KeysInput,
  type OpenedObject,
  openHeader,
  openPrefixLength,
  plaintextSize,
  type Recipient,
  readHeaderLength,
  SealstreamError,
} from '@sealstream/core';
import type { ResolvedEncryption } from './encryption.ts';
import { SosError } from './errors.ts';
import { type ByteRange, notSatisfiable, type ResolvedRange, resolveRange } from './range.ts';
import { type FetchStats, S3RangeSource } from './s3-source.ts';
import { httpStatus, mapSseCError } from './sse-c.ts';

/** Client-side encryption settings. */
export interface ClientSideOptions {
  /**
   * On upload: the recipients (raw keys as bytes or text, `{ key }`, `{ passphrase }`), one or
   * several. On download: the keys to try (the same forms, or a `Keyring`).
   */
  keys: KeysInput;
  /**
   * Bind the object to its location: `true` binds `bucket/key` into the header and requires it on
   * read (an object moved or swapped in the bucket then fails with `IDENTITY_MISMATCH`); a string
   * binds that identity instead. Default: not bound.
   */
  identity?: boolean | string;
  /**
   * On download and rekey: the highest passphrase work factor (scrypt logN) to accept; default
   * the core's limit of 20 (SPEC §5.2). Raise it only for objects whose writer you trust.
   */
  maxWorkFactor?: number;
}

/** The identity to bind or expect, if any. */
export function identityFor(options: ClientSideOptions, bucket: string, key: string): string | undefined {
  if (options.identity === true) return `${bucket}/${key}`;
  if (typeof options.identity === 'string') return options.identity;
  return undefined;
}

/** Recipients for sealing: any key form but a keyring (a keyring is for opening). */
export function recipientsOf(options: ClientSideOptions): Recipient | Recipient[] {
  if (options.keys instanceof Keyring) {
    throw new SosError(
      'INVALID_ARGUMENT',
      '"encryption.clientSide.keys" for an upload expected keys or passphrases, not a Keyring',
    );
  }
  return options.keys;
}

/** First read of an object: enough for most headers in one request. */
const FIRST_READ = 64 * 1024;

/** Where to fetch from, and how. */
export interface Fetcher {
  client: S3Client;
  bucket: string;
  key: string;
  versionId: string | undefined;
  encryption: ResolvedEncryption;
  signal: AbortSignal | undefined;
  /** Ciphertext bytes fetched so far (shared by copies, for reporting). */
  stats: FetchStats;
  /** The object, pinned to the first answer's ETag/version once the first read is done. */
  source?: S3RangeSource;
}

/**
 * Fetches ciphertext bytes `[start, end)` (clamped to the object's end). The first call opens the
 * object and pins every later one to the same ETag/version (see {@link S3RangeSource}).
 * @returns The bytes and the object's total size.
 */
export async function fetchBytes(
  f: Fetcher,
  start: number,
  end: number,
): Promise<{ bytes: Uint8Array; size: number }> {
  if (f.source !== undefined) {
    const stop = Math.min(end, f.source.size);
    const bytes = await f.source.read(Math.min(start, stop), stop, f.signal);
    return { bytes, size: f.source.size };
  }
  try {
    const { source, bytes } = await S3RangeSource.open(
      {
        client: f.client,
        bucket: f.bucket,
        key: f.key,
        versionId: f.versionId,
        sseC: f.encryption.sseC,
      },
      start,
      end,
      { signal: f.signal, stats: f.stats },
    );
    f.source = source;
    return { bytes, size: source.size };
  } catch (err) {
    if (httpStatus(err) === 416) {
      throw new SealstreamError(
        'TRUNCATED',
        `${f.bucket}/${f.key} is empty or shorter than a sealstream header: it is not a sealstream object or was truncated`,
        { cause: err },
      );
    }
    throw await mapSseCError(err, {
      what: `get ${f.bucket}/${f.key}`,
      sentKey: f.encryption.sseC !== undefined,
      probe: async () =>
        (await f.client.send(new HeadObjectCommand({ Bucket: f.bucket, Key: f.key, VersionId: f.versionId })))
          .$metadata.httpStatusCode,
    });
  }
}

/** The header of an object, read with one small ranged GET (two for very large headers). */
export async function readPrefix(
  f: Fetcher,
): Promise<{ prefix: Uint8Array; headerLength: number; ciphertextSize: number }> {
  let { bytes, size } = await fetchBytes(f, 0, FIRST_READ);
  const headerLength = readHeaderLength(bytes);
  if (headerLength === undefined) {
    throw new SealstreamError(
      'TRUNCATED',
      `${f.bucket}/${f.key} ends inside the sealstream header (${size} bytes): it was truncated`,
    );
  }
  const need = Math.min(openPrefixLength(headerLength), size);
  if (bytes.byteLength < need) {
    const more = await fetchBytes(f, bytes.byteLength, need);
    const joined = new Uint8Array(bytes.byteLength + more.bytes.byteLength);
    joined.set(bytes);
    joined.set(more.bytes, bytes.byteLength);
    bytes = joined;
  }
  return { prefix: bytes, headerLength, ciphertextSize: size };
}

/** What `headObject` learns from the header of a client-side encrypted object. */
export async function describeObject(
  f: Fetcher,
): Promise<{ header: HeaderInfo; size: number; ciphertextSize: number }> {
  const { prefix, headerLength, ciphertextSize } = await readPrefix(f);
  const header = inspectHeader(prefix);
  return { header, size: plaintextSize(ciphertextSize, headerLength), ciphertextSize };
}

/** Plaintext bytes decrypted per ranged GET when streaming. */
const WINDOW = 8 * 1024 * 1024;

/**
 * Opens an object for reading, whole or a plaintext range. Fetches the header first (one small
 * ranged GET, whose bytes are reused when they cover the data), then streams window by window:
 * each window is one ranged GET of just the chunks it needs, up to `parallel` windows in flight,
 * output kept in order. Memory stays about `parallel x 8 MiB`. A range that touches the end
 * includes the final chunk, so truncation is detected.
 */
export async function openObject(
  f: Fetcher,
  options: ClientSideOptions,
  range: ByteRange | undefined,
  parallel: number,
): Promise<{
  body: ReadableStream<Uint8Array>;
  size: number;
  objectSize: number;
  range: ResolvedRange | undefined;
  header: HeaderInfo;
}> {
  const { prefix, ciphertextSize } = await readPrefix(f);
  const identity = identityFor(options, f.bucket, f.key);
  const { maxWorkFactor } = options;
  const opened: OpenedObject = await openHeader(prefix, { keys: options.keys, identity, maxWorkFactor });
  const objectSize = opened.plaintextSize(ciphertextSize);
  if (range === undefined && prefix.byteLength >= ciphertextSize) {
    // the first read holds the whole object (small or empty): decrypt and authenticate it at once
    const plain = await decrypt(prefix.subarray(0, ciphertextSize), {
      keys: options.keys,
      identity,
      maxWorkFactor,
    });
    return {
      body: streamOf(plain),
      size: plain.byteLength,
      objectSize,
      range: undefined,
      header: opened.info,
    };
  }
  let resolved: ResolvedRange;
  try {
    resolved = range === undefined ? { start: 0, end: objectSize - 1 } : resolveRange(range, objectSize);
  } catch (err) {
    throw range === undefined ? err : notSatisfiable(range, objectSize, err);
  }
  const stop = resolved.end + 1;
  let next = resolved.start;
  const inFlight: Promise<Uint8Array>[] = [];
  const controller = new AbortController();
  // the caller's signal stays referenced by the body's callbacks below: AbortSignal.any() alone
  // holds its sources weakly, and a collected AbortSignal.timeout() never fires
  const callerSignal = f.signal;
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const release = () => callerSignal?.removeEventListener('abort', onCallerAbort);
  const fetcher: Fetcher = { ...f, signal: controller.signal };
  const startWindow = () => {
    // windows after the first start on a window boundary: no chunk is fetched twice
    const windowEnd = Math.min(stop, (Math.floor(next / WINDOW) + 1) * WINDOW);
    const plan = opened.planRange({ start: next, end: windowEnd }, ciphertextSize);
    next = windowEnd;
    const sealed =
      plan.ciphertextEnd <= prefix.byteLength
        ? Promise.resolve(prefix.subarray(plan.ciphertextStart, plan.ciphertextEnd))
        : fetchBytes(fetcher, plan.ciphertextStart, plan.ciphertextEnd).then((r) => r.bytes);
    const window = sealed.then((bytes) => opened.decryptRange(plan, bytes));
    window.catch(() => {}); // surfaced in order by pull()
    inFlight.push(window);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(stream) {
        while (inFlight.length < parallel && next < stop) startWindow();
        const window = inFlight.shift();
        if (window === undefined) {
          release();
          stream.close();
          return;
        }
        try {
          stream.enqueue(await window);
        } catch (err) {
          release();
          controller.abort();
          throw callerSignal?.aborted
            ? new SosError('ABORTED', 'download aborted', { cause: callerSignal.reason })
            : err;
        }
      },
      cancel(reason) {
        release();
        controller.abort(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    body,
    size: stop - resolved.start,
    objectSize,
    range: range === undefined ? undefined : resolved,
    header: opened.info,
  };
}

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
