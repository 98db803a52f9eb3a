/**
 * Filling the caller's buffers from the body of one GET answer, for the bytes `[start, end)` of the
 * object: the in-order download path ({@link S3RangeSource.readSequentialInto}). On Node.js the body
 * is read in flowing mode and each network piece (16 KiB, one TLS record) is copied straight into
 * the buffer being filled from its 'data' event: one promise per buffer filled, none per piece (an
 * async iterator over the body costs a promise and a generator step per piece, three layers deep).
 * Other bodies (a fetch body in browsers) are read through their async iterator.
 * @module
 */
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { SosError } from './errors.ts';
import { parseContentRange } from './range.ts';

/** Where an answer's body sits in the object, and where the wanted bytes stop. */
export interface BodySpan {
  /** Object offset of the body's first byte. */
  offset: number;
  /** Object offset where the body ends, when the answer says so. */
  bodyEnd: number | undefined;
}

/**
 * Where the body of an answer to a GET of `[start, end)` sits: a 206 must start at `start`; a 200
 * (the server ignored `Range`) starts at byte 0, and what comes before `start` is dropped.
 * @throws {SosError} `SERVER_FAULT` for a 206 that answers another range.
 */
export function bodySpan(out: GetObjectCommandOutput, start: number, end: number): BodySpan {
  if (out.$metadata.httpStatusCode === 206) {
    const range = parseContentRange(out.ContentRange);
    if (range === undefined || range.start !== start) {
      throw new SosError(
        'SERVER_FAULT',
        `the store answered bytes ${out.ContentRange ?? '(no Content-Range)'} to a request for [${start}, ${end})`,
      );
    }
    return { offset: start, bodyEnd: range.end };
  }
  return { offset: 0, bodyEnd: out.ContentLength }; // RANGE_IGNORED: the whole object follows
}

/**
 * True when a body that has delivered up to object offset `offset` should be cut: it is past the
 * range with more to come (the rest would only be dropped). A body that ends where the range does
 * is read to its end instead: cutting it closes the connection, and a new TLS connection per read
 * costs more than the read itself.
 */
export function pastRange(offset: number, end: number, bodyEnd: number | undefined): boolean {
  return offset > end || (offset >= end && bodyEnd !== end);
}

/** The error of a body that ended before the bytes asked for (a connection error: resumed). */
export function prematureClose(): Error {
  return Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** The bytes `[start, end)` of one answer's body, written into the caller's buffers. */
export interface BodyFeed {
  /**
   * Writes the next bytes into `into`: all of it, unless the range is complete first. A failure of
   * the body after some bytes were written resolves with those bytes and rejects the next call.
   * @returns The bytes written (0 once the range is complete).
   * @throws The body's error; a premature close when it ends before the range; `signal`'s reason.
   */
  fill(into: Uint8Array, signal: AbortSignal | undefined): Promise<number>;
  /** Stops receiving the body (closes its connection when bytes are still coming). */
  destroy(): void;
}

/** The feed for an SDK answer's body to a GET of `[start, end)` (checked with {@link bodySpan}). */
export function bodyFeed(out: GetObjectCommandOutput, start: number, end: number): BodyFeed {
  return feedOf(out.Body, bodySpan(out, start, end), start, end);
}

/**
 * The feed for a body whose place in the object is `span` (an answer already checked): flowing
 * mode on a Node.js stream; a web `ReadableStream` through its reader; else its async iterator.
 */
export function feedOf(body: unknown, span: BodySpan, start: number, end: number): BodyFeed {
  if (isNodeStream(body)) return new NodeStreamFeed(body, span, start, end);
  const web = body as Partial<ReadableStream<Uint8Array>>;
  const pieces: AsyncIterator<Uint8Array> =
    typeof web.getReader === 'function'
      ? readerPieces(web.getReader())
      : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return new IterableFeed(pieces, span, start, end);
}

/** A web stream's reader as an iterator: `return()` cancels the stream. */
function readerPieces(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncIterator<Uint8Array> {
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
}

/** What a Node.js readable body offers that the flowing feed uses. */
interface NodeStream {
  on(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(error?: Error): unknown;
}

function isNodeStream(body: unknown): body is NodeStream {
  const b = body as Partial<NodeStream> | undefined;
  return (
    typeof b?.on === 'function' &&
    typeof b.pause === 'function' &&
    typeof b.resume === 'function' &&
    typeof b.destroy === 'function'
  );
}

/** The part of a piece at object offset `offset` that lies in `[start, end)`, or undefined. */
function partInRange(piece: Uint8Array, offset: number, start: number, end: number): Uint8Array | undefined {
  const from = Math.max(start - offset, 0);
  const to = Math.min(end - offset, piece.byteLength);
  if (to <= from) return undefined;
  return from === 0 && to === piece.byteLength ? piece : piece.subarray(from, to);
}

/** Copies as much of `piece` as fits into `into` at `at`; returns the bytes copied. */
function copyInto(into: Uint8Array, at: number, piece: Uint8Array): number {
  const take = Math.min(into.length - at, piece.length);
  into.set(take === piece.length ? piece : piece.subarray(0, take), at);
  return take;
}

/** A fill waiting for bytes. */
interface Waiting {
  into: Uint8Array;
  written: number;
  resolve: (written: number) => void;
  reject: (err: unknown) => void;
  release: () => void;
}

/**
 * A Node.js body read in flowing mode while a fill waits, paused otherwise (so the socket's
 * backpressure holds the store back while the reader opens a batch). A piece that does not fit the
 * buffer keeps its rest for the next fill.
 */
class NodeStreamFeed implements BodyFeed {
  readonly #body: NodeStream;
  readonly #start: number;
  readonly #end: number;
  readonly #bodyEnd: number | undefined;
  /** Object offset of the next byte the body delivers. */
  #offset: number;
  /** Bytes of the range received and not yet written (pieces of at most one fill's overflow). */
  #queue: Uint8Array[] = [];
  #wait: Waiting | undefined;
  #failure: unknown;
  /** The body ended or closed: no more events but these. */
  #over = false;
  /** The body was cut past the range. */
  #cut = false;

  constructor(body: NodeStream, span: BodySpan, start: number, end: number) {
    this.#body = body;
    this.#offset = span.offset;
    this.#bodyEnd = span.bodyEnd;
    this.#start = start;
    this.#end = end;
    // paused before the 'data' listener, which would otherwise start the flow at once
    body.pause();
    body.on('data', (chunk: Uint8Array) => this.#onData(chunk));
    body.on('end', () => this.#onOver());
    body.on('close', () => this.#onOver());
    // kept for the body's whole life: an 'error' with no listener would crash the process
    body.on('error', (err: unknown) => {
      this.#failure ??= err;
      this.#settle();
    });
  }

  /** Every byte of the range received (and written or queued). */
  #complete(): boolean {
    return this.#offset >= this.#end || this.#cut;
  }

  #onData(chunk: Uint8Array): void {
    const piece = partInRange(chunk, this.#offset, this.#start, this.#end);
    this.#offset += chunk.byteLength;
    if (piece !== undefined) {
      const wait = this.#wait;
      if (wait === undefined) this.#queue.push(piece);
      else {
        const take = copyInto(wait.into, wait.written, piece);
        wait.written += take;
        if (take < piece.length) this.#queue.push(piece.subarray(take));
      }
    }
    if (pastRange(this.#offset, this.#end, this.#bodyEnd)) {
      this.#cut = true;
      this.#body.destroy();
    }
    this.#settle();
  }

  #onOver(): void {
    this.#over = true;
    if (!this.#complete()) this.#failure ??= prematureClose();
    this.#settle();
  }

  /** Writes queued bytes into `into` from `written`; returns the new count. */
  #drain(into: Uint8Array, written: number): number {
    while (written < into.length && this.#queue.length > 0) {
      const piece = this.#queue[0]!;
      const take = copyInto(into, written, piece);
      written += take;
      if (take === piece.length) this.#queue.shift();
      else this.#queue[0] = piece.subarray(take);
    }
    return written;
  }

  /**
   * How a fill that has written `written` bytes into `into` ends now, if it can: the range is
   * complete (once the body is over, when it ends with the range: read to its end, it keeps the
   * connection); its buffer is full; or the body failed.
   */
  #outcome(into: Uint8Array, written: number): { written: number } | { error: unknown } | undefined {
    if (this.#complete() && this.#queue.length === 0) {
      const endsSoon = !this.#over && !this.#cut && this.#failure === undefined;
      return endsSoon ? undefined : { written };
    }
    if (written === into.length) return { written };
    if (this.#failure !== undefined) return written > 0 ? { written } : { error: this.#failure };
    return undefined;
  }

  #settle(): void {
    const wait = this.#wait;
    if (wait === undefined) return;
    const outcome = this.#outcome(wait.into, wait.written);
    if (outcome === undefined) return;
    this.#wait = undefined;
    wait.release();
    // paused between fills: the socket's backpressure holds the store back meanwhile
    if (!this.#over) this.#body.pause();
    if ('error' in outcome) wait.reject(outcome.error);
    else wait.resolve(outcome.written);
  }

  fill(into: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const written = this.#drain(into, 0);
    const outcome = this.#outcome(into, written);
    if (outcome !== undefined) {
      return 'error' in outcome ? Promise.reject(outcome.error) : Promise.resolve(outcome.written);
    }
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.#failure ??= signal!.reason;
        const wait = this.#wait;
        this.#wait = undefined;
        this.#body.destroy();
        wait?.reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#wait = {
        into,
        written,
        resolve,
        reject,
        release: () => signal?.removeEventListener('abort', onAbort),
      };
      this.#body.resume();
    });
  }

  destroy(): void {
    this.#queue = [];
    if (!this.#over) this.#body.destroy();
  }
}

/** Any other body, read through its async iterator, a piece per step. */
class IterableFeed implements BodyFeed {
  readonly #pieces: AsyncIterator<Uint8Array>;
  readonly #start: number;
  readonly #end: number;
  readonly #bodyEnd: number | undefined;
  #offset: number;
  /** The rest of the last piece, not yet written. */
  #rest: Uint8Array | undefined;
  #failure: unknown;
  #done = false;

  constructor(pieces: AsyncIterator<Uint8Array>, span: BodySpan, start: number, end: number) {
    this.#pieces = pieces;
    this.#offset = span.offset;
    this.#bodyEnd = span.bodyEnd;
    this.#start = start;
    this.#end = end;
  }

  async fill(into: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    if (this.#failure !== undefined) throw this.#failure;
    signal?.throwIfAborted();
    // an abort cancels the body, which ends the read waiting on it (a stalled body would hold it)
    const onAbort = () => this.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    let written = 0;
    try {
      while (written < into.length) {
        if (this.#rest === undefined || this.#rest.length === 0) {
          if (this.#done) break;
          try {
            this.#rest = await this.#next();
            signal?.throwIfAborted();
          } catch (caught) {
            const err = signal?.aborted ? signal.reason : caught;
            if (written === 0) throw err;
            this.#failure = err; // thrown by the next call, after these bytes are counted
            break;
          }
          if (this.#rest === undefined) break;
        }
        const take = copyInto(into, written, this.#rest);
        this.#rest = this.#rest.subarray(take);
        written += take;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return written;
  }

  /** The next bytes of the range, or undefined once it is complete. */
  async #next(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.#offset >= this.#end) {
        // a body ending with the range is read to its end (keeps the connection)
        if (this.#bodyEnd === this.#end && !this.#done) await this.#pieces.next();
        this.#done = true;
        return undefined;
      }
      const next = await this.#pieces.next();
      if (next.done) {
        this.#done = true;
        throw prematureClose();
      }
      const chunk = next.value;
      const piece = partInRange(chunk, this.#offset, this.#start, this.#end);
      this.#offset += chunk.byteLength;
      if (pastRange(this.#offset, this.#end, this.#bodyEnd)) {
        this.#done = true;
        void this.#pieces.return?.()?.catch(() => {});
      }
      if (piece !== undefined) return piece;
    }
  }

  destroy(): void {
    this.#rest = undefined;
    if (!this.#done) {
      this.#done = true;
      void this.#pieces.return?.()?.catch(() => {});
    }
  }
}
