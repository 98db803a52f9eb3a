/**
 * Sealed downloads from a presigned GET URL: a random-access byte source pinned to one ETag, read
 * by core's reader (`openSealed`) for the whole object or a plaintext range. Runtime-neutral.
 * @module
 */
import { type ByteSource, FIRST_READ, type SequentialRead } from '@sealstream/core';
import { type BodyFeed, feedOf } from '../body-feed.ts';
import { bytesHeader, parseContentRange } from '../range.ts';
import { resumableRead } from '../resumable-read.ts';
import { PresignedTransferError } from './errors.ts';
import {
  aborted,
  type BodyBounds,
  failedAnswer,
  type HttpOptions,
  httpBounds,
  readBody,
  readWithin,
  requireHeader,
  retryBrokenBody,
  send,
} from './http.ts';

/**
 * Where to read: a presigned GET URL, or a function that returns a fresh one for each request (an
 * error it throws, e.g. the page's server being down, is thrown by the read as it is).
 */
export type UrlSource = string | (() => string | Promise<string>);

/**
 * A `ByteSource` over a presigned GET URL, for core's `openSealed`. Every read after the first
 * carries `If-Match` with the ETag seen first, so a read never mixes two versions of an object.
 */
export class PresignedSource implements ByteSource {
  readonly size: number;
  /** The ETag every read is pinned to. */
  readonly etag: string;
  /** The bytes [0, head.length) from the first read. */
  readonly head: Uint8Array;
  readonly #url: () => string | Promise<string>;
  readonly #http: HttpOptions;
  readonly #name: string;

  private constructor(url: () => string | Promise<string>, http: HttpOptions, name: string, first: First) {
    this.#url = url;
    this.#http = http;
    this.#name = name;
    this.size = first.size;
    this.etag = first.etag;
    this.head = first.bytes;
  }

  /**
   * Opens a source with one ranged GET of the bytes core's reader reads first (its `FIRST_READ`,
   * 4 KiB: the header of all but the largest objects), which also tells the size and ETag; reads
   * inside those bytes are then served without a request.
   * @throws {PresignedTransferError} `CORS_HEADER_HIDDEN` when the bucket's CORS rule hides `ETag`
   *   or `Content-Range`; `NOT_FOUND`, `ACCESS_DENIED`, `NETWORK_ERROR`, `TIMEOUT`, `SERVER_FAULT`.
   */
  static async open(
    url: UrlSource,
    options: HttpOptions & { name?: string; signal?: AbortSignal } = {},
  ): Promise<PresignedSource> {
    if ((typeof url !== 'string' || url === '') && typeof url !== 'function') {
      throw new PresignedTransferError(
        'INVALID_ARGUMENT',
        `"url" expected a presigned URL or a function returning one, got ${url === '' ? 'an empty string' : typeof url}`,
      );
    }
    const get = typeof url === 'string' ? () => url : url;
    const name = options.name ?? 'download';
    const what = `${name}: first read`;
    const body: BodyBounds = { what, idleMs: httpBounds(options).timeoutMs, signal: options.signal };
    const first = await retryBrokenBody(options, options.signal, () =>
      PresignedSource.#first(get, options, body),
    );
    return new PresignedSource(get, options, name, first);
  }

  /** The first read: one ranged GET of FIRST_READ bytes, which also tells the size and ETag. */
  static async #first(
    get: () => string | Promise<string>,
    options: HttpOptions & { signal?: AbortSignal },
    body: BodyBounds,
  ): Promise<First> {
    const { what } = body;
    const res = await send(
      { url: get, method: 'GET', headers: { range: bytesHeader(0, FIRST_READ) }, what },
      options,
      options.signal,
    );
    let first: First;
    if (res.status === 206) {
      const etag = requireHeader(res, 'ETag', what);
      const range = parseContentRange(requireHeader(res, 'Content-Range', what));
      // at most what was asked: a store that sends more is caught below, not read on without end
      const bytes = await readBody(res, { ...body, limit: FIRST_READ + 1 });
      if (!range || range.size === undefined || range.start !== 0 || range.end !== bytes.length) {
        throw new PresignedTransferError(
          'SERVER_FAULT',
          `${what}: Content-Range does not match the bytes sent`,
        );
      }
      first = { size: range.size, etag, bytes };
    } else if (res.status === 200) {
      // A store that ignores Range sends everything: keep the first FIRST_READ bytes and cancel the rest.
      const etag = requireHeader(res, 'ETag', what);
      // without it (a chunked answer) the object would be taken for an empty one
      const length = requireHeader(res, 'Content-Length', what);
      const size = /^\d+$/.test(length.trim()) ? Number(length) : Number.NaN;
      if (!Number.isSafeInteger(size)) {
        await res.body?.cancel();
        throw new PresignedTransferError(
          'SERVER_FAULT',
          `${what}: the store sent Content-Length ${JSON.stringify(length)}`,
        );
      }
      const bytes = await readSlice(res, 0, Math.min(FIRST_READ, size), body);
      first = { size, etag, bytes };
    } else if (res.status === 416) {
      // An empty object: nothing to read, which is not a sealstream object either.
      first = { size: 0, etag: res.headers.get('ETag') ?? '', bytes: new Uint8Array(0) };
    } else {
      throw await failedAnswer(res, what, options);
    }
    return first;
  }

  /**
   * The bytes [start, end), end exclusive, with one ranged GET pinned to {@link etag}; asked again
   * when its body breaks off or stalls (`attempts` in all).
   */
  async read(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    this.#check(start, end);
    if (end === start) return new Uint8Array(0);
    if (end <= this.head.length) return this.head.slice(start, end);
    return retryBrokenBody(this.#http, signal, () => this.#readOnce(start, end, signal));
  }

  /** One ranged GET of [start, end) and its body. */
  async #readOnce(start: number, end: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const what = `${this.#name}: bytes [${start}, ${end})`;
    const res = await this.#get(start, end, what, signal);
    const body: BodyBounds = { what, idleMs: httpBounds(this.#http).timeoutMs, signal };
    if (res.status === 200) {
      // Range ignored: skip to `start` and keep only what was asked, in bounded memory.
      return readSlice(res, start, end, body);
    }
    let range: ReturnType<typeof parseContentRange>;
    try {
      range = parseContentRange(requireHeader(res, 'Content-Range', what));
    } catch (err) {
      await res.body?.cancel().catch(() => {});
      throw err;
    }
    const bytes = await readBody(res, { ...body, limit: end - start + 1 });
    if (!range || range.start !== start || range.end !== end || bytes.length !== end - start) {
      throw new PresignedTransferError(
        'SERVER_FAULT',
        `${what}: the store sent ${bytes.length} bytes for Content-Range ${res.headers.get('Content-Range')}`,
      );
    }
    return bytes;
  }

  /**
   * The bytes [start, end) in order, written straight into the caller's buffers (core's reader
   * uses this for reads longer than one window: the whole object is one GET streamed, opened a
   * batch at a time as it arrives). Pinned to {@link etag} like {@link read}; a body that breaks
   * off, or brings nothing for `timeoutMs`, is asked again from the first byte not yet received,
   * up to `attempts` times in a row without progress.
   * @throws {PresignedTransferError} as {@link read}; `NETWORK_ERROR` or `TIMEOUT` when resuming
   *   fails; `ABORTED`.
   */
  readSequentialInto(start: number, end: number, signal?: AbortSignal): SequentialRead {
    this.#check(start, end);
    const attempts = this.#http.attempts ?? 3;
    const idleMs = this.#http.timeoutMs ?? 120_000;
    return resumableRead(start, end, signal, {
      head: this.head,
      idleMs,
      open: async (position) => {
        const what = `${this.#name}: bytes [${position}, ${end})`;
        return this.#feed(await this.#get(position, end, what, signal), position, end, what);
      },
      recover: async (cause, inRow, position, idle) => {
        if (signal?.aborted) throw aborted(this.#name, signal);
        if (cause instanceof PresignedTransferError) throw cause;
        if (inRow < attempts) return;
        throw new PresignedTransferError(
          idle ? 'TIMEOUT' : 'NETWORK_ERROR',
          `${this.#name}: the download broke off at byte ${position} of [${start}, ${end})${
            idle ? ` (nothing received for ${idleMs} ms)` : ''
          } and resuming from there failed ${attempts} times in a row`,
          { cause },
        );
      },
    });
  }

  #check(start: number, end: number): void {
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end > this.size ||
      end < start
    ) {
      throw new PresignedTransferError(
        'RANGE_NOT_SATISFIABLE',
        `${this.#name}: bytes [${start}, ${end}) are outside an object of ${this.size} bytes`,
      );
    }
  }

  /** One ranged GET of [start, end) pinned to {@link etag}: a 206 or a 200 with the same ETag. */
  async #get(start: number, end: number, what: string, signal: AbortSignal | undefined): Promise<Response> {
    const res = await send(
      {
        url: this.#url,
        method: 'GET',
        headers: { range: bytesHeader(start, end), 'if-match': this.etag },
        what,
      },
      this.#http,
      signal,
    );
    if (res.status !== 206 && res.status !== 200) throw await failedAnswer(res, what, this.#http);
    const etag = requireHeader(res, 'ETag', what);
    if (etag !== this.etag) {
      await res.body?.cancel();
      throw new PresignedTransferError(
        'OBJECT_CHANGED',
        `${what}: the object changed since it was first read (ETag ${this.etag}, now ${etag})`,
      );
    }
    return res;
  }

  /** The feed of an answer's body for [start, end): a 206 must start at `start`; a 200 is the whole object. */
  async #feed(res: Response, start: number, end: number, what: string): Promise<BodyFeed> {
    if (res.status === 200) return feedOf(res.body, { offset: 0, bodyEnd: this.size }, start, end);
    const range = parseContentRange(requireHeader(res, 'Content-Range', what));
    if (!range || range.start !== start) {
      await res.body?.cancel();
      throw new PresignedTransferError(
        'SERVER_FAULT',
        `${what}: the store answered Content-Range ${res.headers.get('Content-Range')}`,
      );
    }
    return feedOf(res.body, { offset: start, bodyEnd: range.end }, start, end);
  }
}

interface First {
  size: number;
  etag: string;
  bytes: Uint8Array;
}

/**
 * Bytes [start, end) of a response body, reading no further than `end` and holding only the slice;
 * every wait bounded as in {@link readBody}.
 */
async function readSlice(res: Response, start: number, end: number, bounds: BodyBounds): Promise<Uint8Array> {
  const out = new Uint8Array(end - start);
  if (!res.body) {
    if (end === 0) return out;
    throw new PresignedTransferError('SERVER_FAULT', `${bounds.what}: the store sent no body`);
  }
  const reader = res.body.getReader();
  let position = 0;
  try {
    while (position < end) {
      const { done, value } = await readWithin(reader, bounds, position);
      if (done) break;
      const from = Math.max(start, position);
      const to = Math.min(end, position + value.length);
      if (to > from) out.set(value.subarray(from - position, to - position), from - start);
      position += value.length;
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
  if (position < end) {
    throw new PresignedTransferError(
      'SERVER_FAULT',
      `${bounds.what}: the body ended at byte ${position}, before ${end}`,
    );
  }
  return out;
}
