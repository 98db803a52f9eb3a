/**
 * Reading one version of an object by ranged GETs: pinned to the ETag (and version) of the first
 * answer, resumed from where a broken body stopped, and safe with servers that ignore `Range`.
 * @module
 */
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { ByteSource, SequentialRead } from '@sealstream/core';
import { bodyFeed, bodySpan, pastRange, prematureClose } from './body-feed.ts';
import { SosError } from './errors.ts';
import { bytesHeader, parseContentRange } from './range.ts';
import { Resumes, resumableRead } from './resumable-read.ts';
import { httpStatus, type SseCParams } from './sse-c.ts';
import { mapStoreError } from './store-errors.ts';
import { isConnectionError, isTimeoutError, mapTransportError } from './timeouts.ts';

/** Resumes of a broken body before a read gives up, counted since the last byte received. */
export const DEFAULT_RESUMES = 4;
/** First pause before a resume; doubles after each resume that brought no byte. */
const RESUME_BACKOFF_MS = 100;

/** Which object and how to ask for it. */
export interface S3ObjectRef {
  client: S3Client;
  bucket: string;
  key: string;
  versionId?: string | undefined;
  sseC?: SseCParams | undefined;
  /** Checks each answer (e.g. that SSE-C was applied); throwing fails the read. */
  check?: ((out: GetObjectCommandOutput) => void) | undefined;
}

/** The first answer about an object: what follow-up reads are pinned to. */
export interface ObjectPin {
  size: number;
  etag: string | undefined;
  versionId: string | undefined;
}

/** What the first answer says about the object (the same version every later read is pinned to). */
export interface ObjectFacts {
  etag: string | undefined;
  versionId: string | undefined;
  contentType: string | undefined;
  metadata: Record<string, string>;
  lastModified: Date | undefined;
}

/** Bytes fetched so far (shared with the caller, for reporting). */
export interface FetchStats {
  bytesFetched: number;
}

/**
 * An object's bytes by ranged GETs, as a {@link ByteSource}. Every request after the first carries
 * `If-Match` with the first answer's ETag (and its `VersionId` when it had one), so an object
 * replaced during a read fails with `OBJECT_CHANGED` instead of mixing two versions. A body that
 * breaks off (reset, closed early, idle timeout) is asked again from the first missing byte, up to
 * `resumes` times without progress. A `200` answer to a ranged GET (a server that ignores
 * `Range`) is read up to the wanted bytes, discarding what comes before and cancelling the rest:
 * memory stays the size of the range asked for.
 */
export class S3RangeSource implements ByteSource {
  readonly size: number;
  readonly #ref: S3ObjectRef;
  readonly #pin: ObjectPin;
  readonly #resumes: number;
  /** Bytes `[0, head.length)` of the pinned version, already received: reads inside them cost no request. */
  readonly #head: Uint8Array;
  readonly stats: FetchStats;
  /** What the first answer said about the object; undefined when built from a pin alone. */
  readonly facts: ObjectFacts | undefined;

  constructor(
    ref: S3ObjectRef,
    pin: ObjectPin,
    options: { resumes?: number; stats?: FetchStats; head?: Uint8Array; facts?: ObjectFacts } = {},
  ) {
    this.#ref = ref;
    this.#pin = pin;
    this.size = pin.size;
    this.#resumes = options.resumes ?? DEFAULT_RESUMES;
    this.stats = options.stats ?? { bytesFetched: 0 };
    this.#head = options.head ?? new Uint8Array(0);
    this.facts = options.facts;
  }

  /** The pin of this source (size, ETag, version). */
  get pin(): ObjectPin {
    return this.#pin;
  }

  /**
   * Opens an object with a first ranged GET of `[start, end)` and returns the source pinned to
   * its answer, with the bytes (fewer when the object is shorter). When `start` is 0 the source
   * keeps those bytes and serves later reads inside them without a request.
   * @throws {SosError} `TIMEOUT`, `SERVER_FAULT`, `DOWNLOAD_INCOMPLETE`, `ABORTED`. A 416 (e.g. an
   *   empty object) and the store's other refusals of this first GET are left to the caller as the
   *   SDK's errors (an SSE-C key's refusal looks like a denied access: see `getObject`).
   */
  static async open(
    ref: S3ObjectRef,
    start: number,
    end: number,
    options: { signal?: AbortSignal | undefined; resumes?: number; stats?: FetchStats } = {},
  ): Promise<{ source: S3RangeSource; bytes: Uint8Array }> {
    const stats = options.stats ?? { bytesFetched: 0 };
    const out = await send(ref, undefined, start, end, options.signal);
    const pin = pinOf(out, ref);
    const facts: ObjectFacts = {
      etag: out.ETag || undefined,
      versionId: out.VersionId ?? ref.versionId,
      contentType: out.ContentType,
      metadata: out.Metadata ?? {},
      lastModified: out.LastModified,
    };
    const reader = new S3RangeSource(ref, pin, { ...options, stats, facts });
    const stop = Math.min(end, pin.size);
    const bytes = await reader.#collect(start, stop, options.signal, out);
    const source =
      start === 0 ? new S3RangeSource(ref, pin, { ...options, stats, head: bytes, facts }) : reader;
    return { source, bytes };
  }

  /**
   * Exactly the bytes `[start, end)`.
   * @throws {SosError} `OBJECT_CHANGED`, `DOWNLOAD_INCOMPLETE`, `TIMEOUT`, `SERVER_FAULT`, `ABORTED`,
   *   `INVALID_ARGUMENT` for a range outside the object; `NOT_FOUND` (deleted since the first read),
   *   `ACCESS_DENIED`, `BAD_CREDENTIALS` (e.g. a session token that expired meanwhile).
   */
  async read(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    this.#check(start, end);
    if (start === end) return new Uint8Array(0);
    if (end <= this.#head.length) {
      if (signal?.aborted) throw aborted(signal, undefined);
      return this.#head.subarray(start, end);
    }
    return this.#collect(start, end, signal, undefined);
  }

  /**
   * Exactly the bytes `[start, end)`, written into `into` (the reader's reused window buffers: the
   * body's chunks are copied once, into them, and no buffer is allocated per read).
   * @returns The bytes written: always `end - start` (the core's reader checks the count).
   * @throws {SosError} as {@link read}, and `INVALID_ARGUMENT` when `into` is not `end - start` long.
   */
  async readInto(start: number, end: number, into: Uint8Array, signal?: AbortSignal): Promise<number> {
    this.#check(start, end);
    if (into.byteLength !== end - start) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `readInto: ${into.byteLength} bytes of room for [${start}, ${end})`,
      );
    }
    if (start === end) return 0;
    await this.#collect(start, end, signal, undefined, into);
    // the count the core's reader checks: #bytes bounds every body to the range and resumes until
    // `end`, so #collect fills all of `into` or throws
    return end - start;
  }

  /**
   * The bytes `[start, end)` in order as they arrive: one GET streamed, resumed like {@link read}
   * from the first byte not yet received when the body breaks off (pinned to the same version).
   * The pieces are the body's own buffers, never copied here; ending the iteration early closes
   * the body.
   * @throws {SosError} as {@link read}.
   */
  readSequential(start: number, end: number, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    this.#check(start, end);
    return this.#bytes(start, end, signal, () => undefined);
  }

  /**
   * The bytes `[start, end)` in order, written straight into the caller's buffers: one GET
   * streamed, each network piece copied once into the buffer being filled (no promise per piece),
   * resumed like {@link read} from the first byte not yet received when the body breaks off.
   * The body is paused between fills. `close()` stops the GET if it is still running.
   * @throws {SosError} as {@link read}, from `fill`.
   */
  readSequentialInto(start: number, end: number, signal?: AbortSignal): SequentialRead {
    this.#check(start, end);
    return resumableRead(start, end, signal, {
      head: this.#head,
      open: async (position, failed) => {
        const out = await this.#request(position, end, start, signal, failed);
        try {
          return bodyFeed(out, position, end);
        } catch (err) {
          destroyBody(out);
          throw err;
        }
      },
      recover: (err, inRow, position) => this.#recover(err, inRow, position, end, start, signal),
      received: (bytes) => {
        this.stats.bytesFetched += bytes;
      },
    });
  }

  #check(start: number, end: number): void {
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end < start ||
      end > this.size
    ) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `read [${start}, ${end}) is outside the object of ${this.size} bytes`,
      );
    }
  }

  /**
   * The bytes `[start, end)` as a stream, resumed like {@link read}; `first` is an answer already
   * received for exactly that range (or the whole object), read before any new request.
   */
  stream(
    start: number,
    end: number,
    signal: AbortSignal | undefined,
    first?: GetObjectCommandOutput,
  ): ReadableStream<Uint8Array> {
    let pending = first;
    const cancel = new AbortController();
    // the caller's signal is referenced by this stream's own callbacks: AbortSignal.any() alone
    // holds it weakly, and a collected AbortSignal.timeout() never fires
    const callerSignal = signal;
    const onAbort = () => cancel.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    const iterator = this.#bytes(start, end, cancel.signal, () => {
      const out = pending;
      pending = undefined;
      return out;
    });
    const release = () => callerSignal?.removeEventListener('abort', onAbort);
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const { value, done } = await iterator.next();
            if (done) {
              release();
              controller.close();
            } else controller.enqueue(value);
          } catch (err) {
            release();
            throw err;
          }
        },
        async cancel(reason) {
          release();
          cancel.abort(reason);
          await iterator.return(undefined).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
  }

  async #collect(
    start: number,
    end: number,
    signal: AbortSignal | undefined,
    first: GetObjectCommandOutput | undefined,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    const buffer = into ?? new Uint8Array(end - start);
    let filled = 0;
    let pending = first;
    const take = () => {
      const out = pending;
      pending = undefined;
      return out;
    };
    for await (const chunk of this.#bytes(start, end, signal, take)) {
      buffer.set(chunk, filled);
      filled += chunk.byteLength;
    }
    return buffer;
  }

  /**
   * The bytes `[start, end)` in the order received, resuming broken bodies; `first()` may hand
   * over an answer already received for `start`.
   */
  async *#bytes(
    start: number,
    end: number,
    signal: AbortSignal | undefined,
    first: () => GetObjectCommandOutput | undefined,
  ): AsyncGenerator<Uint8Array> {
    let position = start;
    if (position < this.#head.length && end > position) {
      // already received with the first answer (and counted then)
      const stop = Math.min(end, this.#head.length);
      yield this.#head.subarray(position, stop);
      position = stop;
    }
    const resume = new Resumes();
    while (position < end) {
      const out = first() ?? (await this.#request(position, end, start, signal, resume.failed));
      const before = position;
      try {
        for await (const chunk of bodyRange(out, position, end)) {
          position += chunk.byteLength;
          this.stats.bytesFetched += chunk.byteLength;
          yield chunk;
        }
        if (position < end) throw prematureClose();
      } catch (err) {
        destroyBody(out);
        await this.#recover(err, resume.fail(position > before), position, end, start, signal);
      }
    }
  }

  /**
   * Sends the pinned GET of `[position, end)` for a read; after a broken body (`failed`), a
   * request that fails on the connection means the download is what was lost.
   */
  async #request(
    position: number,
    end: number,
    start: number,
    signal: AbortSignal | undefined,
    failed: boolean,
  ): Promise<GetObjectCommandOutput> {
    let out: GetObjectCommandOutput;
    try {
      out = await send(this.#ref, this.#pin, position, end, signal);
    } catch (err) {
      if (!failed || !(isConnectionError(err) || isTimeoutError(err) || isTransportCode(err))) throw err;
      throw this.#incomplete(position, end, start, err);
    }
    this.#checkPin(out);
    return out;
  }

  /**
   * After a body broke off at `position` (`inRow` failures without progress): rethrows what is not
   * a connection failure (or an abort as `ABORTED`), gives up with `DOWNLOAD_INCOMPLETE` after too
   * many, else waits before the next request (longer after each failure that brought nothing).
   */
  async #recover(
    err: unknown,
    inRow: number,
    position: number,
    end: number,
    start: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (signal?.aborted) throw aborted(signal, err);
    if (!(isConnectionError(err) || isTimeoutError(err))) throw err;
    if (inRow > this.#resumes) throw this.#incomplete(position, end, start, err);
    await pause(RESUME_BACKOFF_MS * 2 ** (inRow - 1), signal);
  }

  #checkPin(out: GetObjectCommandOutput): void {
    const pin = this.#pin;
    const size = sizeOf(out);
    if (
      (pin.etag !== undefined && out.ETag !== undefined && out.ETag !== pin.etag) ||
      (pin.versionId !== undefined && out.VersionId !== undefined && out.VersionId !== pin.versionId) ||
      (size !== undefined && size !== pin.size)
    ) {
      destroyBody(out);
      throw changed(this.#ref, undefined);
    }
  }

  #incomplete(position: number, end: number, start: number, cause: unknown): SosError {
    const { bucket, key } = this.#ref;
    return new SosError(
      'DOWNLOAD_INCOMPLETE',
      `get ${bucket}/${key}: the download broke off at byte ${position} of [${start}, ${end}) and resuming ` +
        `from there failed ${this.#resumes} times in a row (${(cause as Error)?.message ?? cause})`,
      { cause },
    );
  }
}

/** Sends one ranged GET of `[start, end)`, pinned when `pin` is given. */
async function send(
  ref: S3ObjectRef,
  pin: ObjectPin | undefined,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): Promise<GetObjectCommandOutput> {
  const versionId = pin?.versionId ?? ref.versionId;
  let out: GetObjectCommandOutput;
  try {
    out = await ref.client.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(versionId !== undefined ? { VersionId: versionId } : {}),
        ...(pin?.etag !== undefined ? { IfMatch: pin.etag } : {}),
        Range: bytesHeader(start, end),
        ...ref.sseC,
      }),
      signal ? { abortSignal: signal } : {},
    );
  } catch (err) {
    if (signal?.aborted) throw aborted(signal, err);
    if (pin !== undefined && httpStatus(err) === 412) throw changed(ref, err);
    if (httpStatus(err) === 416) throw err;
    const what = `get ${ref.bucket}/${ref.key}`;
    const mapped = mapTransportError(err, what);
    // a first answer's refusal is left to the caller, who tells SSE-C answers apart first
    if (pin === undefined) throw mapped;
    // e.g. a 404: deleted since the first answer
    throw mapStoreError(mapped, {
      what: `${what} (the object was there when the read began)`,
      bucket: ref.bucket,
      key: ref.key,
      versionId,
    });
  }
  try {
    if (!out.Body) {
      throw new SosError('SERVER_FAULT', `get ${ref.bucket}/${ref.key}: the store answered without a body`);
    }
    ref.check?.(out);
  } catch (err) {
    destroyBody(out);
    throw err;
  }
  return out;
}

/** What the first answer pins: the object's size, ETag and version. */
function pinOf(out: GetObjectCommandOutput, ref: S3ObjectRef): ObjectPin {
  const size = sizeOf(out);
  if (size === undefined) {
    destroyBody(out);
    throw new SosError(
      'SERVER_FAULT',
      `get ${ref.bucket}/${ref.key}: the store's answer gives no object size (Content-Range ${out.ContentRange ?? 'missing'})`,
    );
  }
  return { size, etag: out.ETag || undefined, versionId: out.VersionId ?? ref.versionId };
}

/** The object's total size from an answer: Content-Range's total for 206, Content-Length for 200. */
function sizeOf(out: GetObjectCommandOutput): number | undefined {
  if (out.$metadata.httpStatusCode === 206) return parseContentRange(out.ContentRange)?.size;
  return out.ContentLength;
}

/**
 * The bytes `[start, end)` of an answer to a GET for them. A 206 must start at `start`; a 200 (the
 * server ignored `Range`) starts at byte 0, so what comes before `start` is read and dropped, and
 * the body is cancelled once `end` is reached: never more than one incoming chunk is held.
 *
 * A body that ends where the range does is read to its end, not cut at its last byte: cutting
 * it before the end of the message closes the connection, and a new TLS connection per read
 * costs more than the read itself (a listing of 500 small objects paid one per object).
 */
async function* bodyRange(
  out: GetObjectCommandOutput,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  const span = bodySpan(out, start, end);
  let offset = span.offset;
  const bodyEnd = span.bodyEnd;
  let complete = false;
  try {
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
      const from = Math.max(start - offset, 0);
      const to = Math.min(end - offset, chunk.byteLength);
      offset += chunk.byteLength;
      if (to > from) yield chunk.subarray(from, to);
      if (pastRange(offset, end, bodyEnd)) return;
    }
    complete = true;
  } finally {
    if (!complete) destroyBody(out);
  }
}

/** Stops receiving an answer's body (closes its connection when bytes are still coming). */
function destroyBody(out: GetObjectCommandOutput): void {
  const body = out.Body as { destroy?: (err?: Error) => void } | undefined;
  body?.destroy?.();
}

function changed(ref: S3ObjectRef, cause: unknown): SosError {
  return new SosError(
    'OBJECT_CHANGED',
    `get ${ref.bucket}/${ref.key}: the object was replaced while being read (its ETag or version changed); read it again`,
    cause === undefined ? undefined : { cause },
  );
}

function aborted(signal: AbortSignal, cause: unknown): SosError {
  return new SosError('ABORTED', 'download aborted', { cause: signal.reason ?? cause });
}

function isTransportCode(err: unknown): boolean {
  return err instanceof SosError && (err.code === 'TIMEOUT' || err.code === 'SERVER_FAULT');
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal, undefined));
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal!, undefined));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
