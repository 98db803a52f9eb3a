/**
 * The random-access reader (the equivalent of age's `DecryptReaderAt`): opens an object from a
 * {@link ByteSource} and reads all of it or any range, fetching only the chunks needed, a bounded
 * number of windows at a time. Everything above the core (S3 ranged GETs, file handles) is only a
 * byte source; this is the one place that decides what to read.
 * @module
 */
import { allocUninitialized } from './alloc.ts';
import { concat } from './bytes.ts';
import { isSealstreamError, SealstreamError } from './errors.ts';
import { encodeRecipientsBlock, type HeaderInfo, inspectHeader, MAGIC, readHeaderLength } from './header.ts';
import {
  checkRange,
  type DecryptOptions,
  type OpenedPayload,
  openPayload,
  openPrefixLength,
  prepareOpen,
} from './open.ts';
import { openedLength, PayloadOpener } from './payload.ts';
import { type RewrapOptions, rewrapStanzas } from './rewrap.ts';
import { CHUNK_SIZE, chunkOffset, plaintextSize, SEALED_CHUNK_SIZE } from './sizes.ts';
import {
  type ByteSource,
  checkSource,
  readExactly,
  readIntoExactly,
  sequentialRead,
  sourceLength,
  unlessAbandoned,
} from './source.ts';

/**
 * Bytes read first to open a header. A header with a few stanzas is ~150 bytes, 64 stanzas ~6 KiB:
 * 4 KiB opens all but the largest in one read, and keeps a one-byte range of any object within two
 * reads and 4 KiB + one sealed chunk (about 20 KiB).
 */
export const FIRST_READ = 4096;
/** Default plaintext bytes per window (one read each): 512 chunks. */
export const DEFAULT_WINDOW_SIZE = 8 * 1024 * 1024;
/** Default windows fetched and decrypted at once. */
export const DEFAULT_PARALLEL_WINDOWS = 4;
/**
 * Sealed chunks gathered before they are opened in an in-order read (1 MiB of plaintext): one
 * cipher call and one buffer handed on per batch, whatever sizes the network delivers.
 */
const SEQUENTIAL_BATCH_CHUNKS = 64;

/** A plaintext byte range, `end` exclusive (the one range convention of sealstream). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Options of {@link openSealed}. */
export interface OpenSealedOptions extends DecryptOptions {
  /** Plaintext bytes per read when streaming: a multiple of 16384 (default 8 MiB). */
  windowSize?: number;
  /** Reads in flight when streaming (default 4). Memory is about `parallel x windowSize x 2`. */
  parallel?: number;
  /** Aborts the reads that open the header. */
  signal?: AbortSignal;
}

/** What a rewrap produced: the new object is `header` followed by the stored bytes from `payloadOffset`. */
export interface Rewrapped {
  /** The new header (context and recipients block). */
  header: Uint8Array;
  /** Where the payload starts in the stored object (its old header length). */
  payloadOffset: number;
  /** Key IDs of the new header's recipients. */
  keyIds: string[];
}

/**
 * An opened object: its header is parsed, its data key recovered and committed, its identity checked.
 * Built by {@link openSealed}.
 */
export interface SealedObject {
  /** What the header says (recipients, identity, header length). */
  readonly header: HeaderInfo;
  /** Key ID of the key that opened it; undefined when a passphrase did. */
  readonly keyId: string | undefined;
  /** Plaintext size in bytes, exact (SPEC §8). */
  readonly size: number;
  /** Stored (sealed) size in bytes. */
  readonly storedSize: number;
  /**
   * The plaintext of the whole object, or of `range`, as a stream. Windows are read and decrypted
   * `parallel` at a time and delivered in order; a read longer than one window from a source with
   * {@link ByteSource.readSequentialInto} or {@link ByteSource.readSequential} is one in-order
   * read instead, opened 1 MiB at a time as its bytes arrive. A read that reaches the end
   * authenticates the final chunk (and so the length).
   * No byte of a chunk is released before it authenticates.
   * @throws {SealstreamError} at once, `RANGE_NOT_SATISFIABLE` for a range that is empty, reversed or
   *   outside the object and `INVALID_ARGUMENT` for one that is not two integer offsets; through the
   *   stream, the chunks' errors.
   */
  stream(range?: ByteRange, options?: { signal?: AbortSignal }): ReadableStream<Uint8Array>;
  /**
   * The plaintext `[start, end)` in one buffer (one read of just the chunks it needs): the range
   * and its sealed bytes are both in memory at once, so anything large is for {@link stream}.
   * @throws {SealstreamError} as {@link SealedObject.stream}; `INVALID_ARGUMENT`, before anything
   *   is read, for a range too large for one buffer on this platform.
   */
  read(range?: ByteRange, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /**
   * A new header for the same data key (SPEC §5): the payload bytes do not change, so the new object
   * is `header || stored[payloadOffset:]`.
   */
  rewrap(options: RewrapOptions): Promise<Rewrapped>;
}

/**
 * Opens a sealed object from a byte source: reads the header (a small first read, then exactly the
 * rest the header length says), recovers the data key, checks the commitment and the identity.
 * @throws {SealstreamError} header errors, `TRUNCATED`, `WORK_FACTOR_TOO_HIGH`, `NO_MATCHING_KEY`,
 *   `COMMITMENT_MISMATCH`, `IDENTITY_MISMATCH`, `INVALID_ARGUMENT`; and whatever the source throws.
 * @example
 * const sealed = await openSealed(bytesSource(bytes), { keys: [key], identity: 'bucket/key' });
 * const part = await sealed.read({ start: 1000, end: 2000 });
 * await sealed.stream().pipeTo(destination);
 */
export async function openSealed(source: ByteSource, options: OpenSealedOptions): Promise<SealedObject> {
  checkSource(source);
  // the caller's errors before any read (SPEC §9), options missing altogether included
  const prepared = prepareOpen(options);
  const windowSize = options.windowSize ?? DEFAULT_WINDOW_SIZE;
  const parallel = options.parallel ?? DEFAULT_PARALLEL_WINDOWS;
  if (!Number.isSafeInteger(windowSize) || windowSize < CHUNK_SIZE || windowSize % CHUNK_SIZE !== 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `windowSize must be a positive multiple of ${CHUNK_SIZE}, got ${windowSize}`,
    );
  }
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > 64) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `parallel must be an integer from 1 to 64, got ${parallel}`,
    );
  }
  const prefix = await readOpenPrefix(source, options.signal);
  const opened = await openPayload(prefix, prepared);
  const size = plaintextSize(source.size, opened.info.headerLength);
  return new Sealed(source, opened, prefix, size, windowSize, parallel);
}

/** What {@link inspectSealed} learns from a header, without any key. */
export interface SealedFacts {
  /** What the header says (recipients, identity, header length). */
  header: HeaderInfo;
  /** Plaintext size in bytes, exact (SPEC §8). */
  size: number;
  /** Stored (sealed) size in bytes. */
  storedSize: number;
}

/**
 * Reads and parses the header of a sealed object from a byte source, without keys: what `inspect`
 * and a store's `headObject` report. Reads like {@link openSealed} (a small first read, then
 * exactly the rest of the header).
 * @returns The facts, or `undefined` when the source does not start with the sealstream magic
 *   (including sources shorter than it): it is not a sealstream object at all.
 * @throws {SealstreamError} header errors and `TRUNCATED` for a sealstream object cut short; and
 *   whatever the source throws.
 */
export async function inspectSealed(
  source: ByteSource,
  options: { signal?: AbortSignal } = {},
): Promise<SealedFacts | undefined> {
  checkSource(source);
  const first = await readExactly(source, 0, Math.min(FIRST_READ, source.size), options.signal);
  if (first.length < MAGIC.length || MAGIC.some((b, i) => first[i] !== b)) return undefined;
  const prefix = await readOpenPrefix(source, options.signal, first);
  const header = inspectHeader(prefix);
  return { header, size: plaintextSize(source.size, header.headerLength), storedSize: source.size };
}

/**
 * Reads what opening needs: `FIRST_READ` bytes (or the whole object if smaller), then, only if the
 * header is longer, exactly the rest of it and the payload prefix. `firstRead` is that first read
 * when the caller already made it.
 */
async function readOpenPrefix(
  source: ByteSource,
  signal: AbortSignal | undefined,
  firstRead?: Uint8Array,
): Promise<Uint8Array> {
  if (source.size === 0) throw new SealstreamError('TRUNCATED', 'the object is empty: no sealstream header');
  const first = firstRead ?? (await readExactly(source, 0, Math.min(FIRST_READ, source.size), signal));
  const h = readHeaderLength(first);
  if (h === undefined) {
    throw new SealstreamError(
      'TRUNCATED',
      `the object ends inside the sealstream header (${source.size} bytes): it was truncated`,
    );
  }
  const need = Math.min(openPrefixLength(h), source.size);
  if (first.length >= need) return first;
  return concat(first, await readExactly(source, first.length, need, signal));
}

class Sealed implements SealedObject {
  readonly header: HeaderInfo;
  readonly keyId: string | undefined;
  readonly size: number;
  readonly storedSize: number;
  readonly #source: ByteSource;
  readonly #opened: OpenedPayload;
  /** The bytes read to open the header: a small object's chunks are served from them. */
  readonly #prefix: Uint8Array;
  readonly #windowSize: number;
  readonly #parallel: number;

  constructor(
    source: ByteSource,
    opened: OpenedPayload,
    prefix: Uint8Array,
    size: number,
    windowSize: number,
    parallel: number,
  ) {
    this.#source = source;
    this.#opened = opened;
    this.#prefix = prefix;
    this.#windowSize = windowSize;
    this.#parallel = parallel;
    this.header = opened.info;
    this.keyId = opened.keyId;
    this.size = size;
    this.storedSize = source.size;
  }

  /** Checks a caller's range; none means the whole object. */
  #range(range: ByteRange | undefined): ByteRange {
    return range === undefined ? { start: 0, end: this.size } : checkRange(range, this.size);
  }

  /**
   * Reads and decrypts the chunks holding plaintext `[start, end)`; when `end` is the size, through
   * the final chunk (SPEC §8), which also covers the empty range at the end of an empty object. A
   * range that ends inside the final chunk reads it whole, to the end of the object.
   */
  #span(start: number, end: number): { first: number; final: boolean; from: number; to: number } {
    const h = this.header.headerLength;
    const first = Math.floor(start / CHUNK_SIZE);
    // The final chunk is the one holding the last byte (index size / 16384, empty when the size is a
    // multiple): a read reaching the end needs it, and so does one that ends inside it.
    const finalIndex = Math.floor(this.size / CHUNK_SIZE);
    const final = end === this.size || Math.floor((end - 1) / CHUNK_SIZE) === finalIndex;
    const last = final ? finalIndex : Math.floor((end - 1) / CHUNK_SIZE);
    return {
      first,
      final,
      from: chunkOffset(first, h),
      to: final ? this.storedSize : chunkOffset(last + 1, h),
    };
  }

  async #window(start: number, end: number, signal?: AbortSignal, pool?: WindowPool): Promise<Uint8Array> {
    const { first, final, from, to } = this.#span(start, end);
    // the output first (decide before reading): a range too large for one buffer fails here,
    // typed, before the source is asked for it
    const plain = allocateOutput(openedLength(to - from, final), end - start, pool !== undefined);
    let sealed: Uint8Array;
    let reused: Uint8Array | undefined;
    if (to <= this.#prefix.length) {
      // no source call to honor the signal: an aborted read still ends as aborted
      signal?.throwIfAborted();
      sealed = this.#prefix.subarray(from, to);
    } else if (pool !== undefined && this.#source.readInto !== undefined) {
      reused = pool.take(to - from);
      sealed = reused.subarray(0, to - from);
      try {
        await readIntoExactly(this.#source, from, to, sealed, signal);
      } catch (err) {
        // an abandoned read may still write into the buffer: only a settled one gives it back
        if (!signal?.aborted) pool.give(reused);
        throw err;
      }
    } else sealed = await readExactly(this.#source, from, to, signal);
    try {
      await this.#open(first, sealed, final, plain);
      const base = first * CHUNK_SIZE;
      // a plain Uint8Array view (allocUninitialized may return a Node Buffer), as before
      return new Uint8Array(plain.buffer, plain.byteOffset + start - base, end - start);
    } catch (err) {
      // readInto cannot say it came up short unless it returns a count: a window it filled that
      // fails is read again with read(), whose length is checked, before anyone is told of tampering
      if (reused === undefined || !isAuthFailure(err)) throw err;
      throw await this.#recheck(first, from, to, final, err, signal, 'readInto');
    } finally {
      if (reused !== undefined) pool!.give(reused);
    }
  }

  /** Opens consecutive sealed chunks from chunk `first` into `plain`. */
  async #open(first: number, sealed: Uint8Array, final: boolean, plain: Uint8Array): Promise<void> {
    await new PayloadOpener(this.#opened.cipher, first).open(sealed, plain, final);
  }

  /**
   * The error for sealed bytes `[from, to)` that the source's `method` wrote into the reader's
   * buffer (`readInto`, `readSequentialInto`: the source's word for how many) and that failed with
   * `failure`: those bytes read again with `read`. A source that answers another length there was short (or long), not
   * tampered with (`TRUNCATED`, naming both lengths), and a typed error of the source's own (an
   * object that changed) is passed on; bytes that now authenticate mean `readInto`
   * wrote other bytes than the object's (`INVALID_ARGUMENT`: the source is broken, or the object
   * changed between the two reads); bytes that fail again confirm `failure`. Error path only.
   */
  async #recheck(
    first: number,
    from: number,
    to: number,
    final: boolean,
    failure: SealstreamError<string>,
    signal: AbortSignal | undefined,
    method: 'readInto' | 'readSequentialInto',
  ): Promise<SealstreamError<string>> {
    const again = await readExactly(this.#source, from, to, signal).catch((err: unknown) => err);
    // the source's own typed answer (short, changed, aborted) says more than "tampered"; an
    // untyped failure of the second read says nothing about the first
    if (!(again instanceof Uint8Array)) return isSealstreamError(again) ? again : failure;
    try {
      await this.#open(first, again, final, allocUninitialized(openedLength(again.length, final)));
    } catch {
      return failure;
    }
    return new SealstreamError(
      'INVALID_ARGUMENT',
      `the byte source's ${method} wrote bytes for [${from}, ${to}) that fail authentication while its read(${from}, ${to}) returns bytes that pass: ${method} does not fill the buffers it is given (a broken source), or the object changed between the two reads`,
    );
  }

  /**
   * The plaintext `[start, end)` from one in-order read of its chunks ({@link sequentialRead}): the
   * bytes are written into one reused batch of {@link SEQUENTIAL_BATCH_CHUNKS} sealed chunks, and
   * each full batch is opened and handed on before the next one is read. The last batch is opened
   * with the final chunk when the range reaches it; nothing is released before it authenticates.
   */
  async *#sequential(start: number, end: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const { first, final, from, to } = this.#span(start, end);
    const opener = new PayloadOpener(this.#opened.cipher, first);
    const batch = allocUninitialized(SEQUENTIAL_BATCH_CHUNKS * SEALED_CHUNK_SIZE);
    /** Plaintext offset of the batch's first chunk. */
    let position = first * CHUNK_SIZE;
    // fill() counts are the source's word: a batch it filled that fails is checked as readInto's are
    const filledBySource = this.#source.readSequentialInto !== undefined;
    const open = async (filled: number, last: boolean, received: number): Promise<Uint8Array | undefined> => {
      const plain = allocUninitialized(openedLength(filled, last));
      let opened: number;
      try {
        opened = await opener.open(batch.subarray(0, filled), plain, last);
      } catch (err) {
        if (!filledBySource || !isAuthFailure(err)) throw err;
        const at = from + received - filled;
        throw await this.#recheck(
          position / CHUNK_SIZE,
          at,
          at + filled,
          last,
          err,
          signal,
          'readSequentialInto',
        );
      }
      const lo = Math.max(start, position) - position;
      const hi = Math.min(end, position + opened) - position;
      position += opened;
      return hi > lo ? new Uint8Array(plain.buffer, plain.byteOffset + lo, hi - lo) : undefined;
    };
    const read = sequentialRead(this.#source, from, to, signal);
    try {
      let received = 0;
      for (;;) {
        const want = Math.min(batch.length, to - from - received);
        const filled = await unlessAbandoned(
          read.fill(want === batch.length ? batch : batch.subarray(0, want)),
          signal,
        );
        received += filled;
        if (filled !== want) throw sourceLength(from, to, received);
        // a full batch with more bytes to come holds no final chunk
        if (received < to - from) {
          const plain = await open(filled, false, received);
          if (plain !== undefined) yield plain;
          continue;
        }
        // the source must end here: a byte more is another object than the one it announced
        if ((await unlessAbandoned(read.fill(new Uint8Array(1)), signal)) !== 0) {
          throw sourceLength(from, to, received + 1);
        }
        const plain = await open(filled, final, received);
        if (plain !== undefined) yield plain;
        return;
      }
    } finally {
      read.close();
    }
  }

  async read(range?: ByteRange, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const { start, end } = this.#range(range);
    return this.#window(start, end, options.signal);
  }

  stream(range?: ByteRange, options: { signal?: AbortSignal } = {}): ReadableStream<Uint8Array> {
    const { start, end } = this.#range(range);
    const controller = new AbortController();
    const signal = controller.signal;
    // The caller's signal is referenced by this stream's own callbacks: AbortSignal.any() holds its
    // sources weakly, and a collected AbortSignal.timeout() would never fire.
    const callerSignal = options.signal;
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) onCallerAbort();
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const release = () => callerSignal?.removeEventListener('abort', onCallerAbort);
    const parts =
      (this.#source.readSequentialInto !== undefined || this.#source.readSequential !== undefined) &&
      end - start > this.#windowSize
        ? this.#sequential(start, end, signal)
        : this.#windows(start, end, signal);
    // one part per pull: nothing is read ahead of the consumer but the windows in flight
    return new ReadableStream<Uint8Array>(
      {
        pull: async (stream) => {
          try {
            const { value, done } = await parts.next();
            if (!done) return stream.enqueue(value);
            release();
            stream.close();
          } catch (err) {
            release();
            controller.abort();
            throw err;
          }
        },
        cancel: async (reason) => {
          release();
          controller.abort(reason);
          await parts.return(undefined).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** The plaintext `[start, end)` window by window, `parallel` windows read at a time, in order. */
  async *#windows(start: number, end: number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const inFlight: Promise<Uint8Array>[] = [];
    // sealed windows are read into at most `parallel` buffers, reused until the stream ends
    const pool = new WindowPool();
    let next = start;
    let started = false;
    for (;;) {
      // An empty object still authenticates its (empty) final chunk before the stream ends.
      while (inFlight.length < this.#parallel && (next < end || !started)) {
        // Windows after the first start on a window boundary: no chunk is read twice.
        const windowEnd = Math.min(end, (Math.floor(next / this.#windowSize) + 1) * this.#windowSize);
        const window = this.#window(next, windowEnd, signal, pool);
        window.catch(() => {}); // surfaced in order below
        inFlight.push(window);
        next = windowEnd;
        started = true;
      }
      const window = inFlight.shift();
      if (window === undefined) return;
      const bytes = await window;
      if (bytes.length > 0) yield bytes;
    }
  }

  async rewrap(options: RewrapOptions): Promise<Rewrapped> {
    const { parsed, dataKey, backend } = this.#opened;
    const stanzas = await rewrapStanzas(parsed.stanzas, dataKey, options, backend);
    const header = concat(parsed.context, encodeRecipientsBlock(stanzas));
    // Read back through the one parser, so what is reported is what readers will see.
    return { header, payloadOffset: parsed.headerLength, keyIds: inspectHeader(header).keyIds };
  }
}

/** A chunk that did not authenticate (the errors a short or wrong fill also gives). */
function isAuthFailure(err: unknown): err is SealstreamError<string> {
  return isSealstreamError(err, 'CHUNK_AUTH_FAILED') || isSealstreamError(err, 'TRAILING_DATA');
}

/**
 * A buffer for `length` bytes of output (every byte is written by the cipher before it is handed
 * on: no need to zero it) for a range of `rangeLength` bytes, read at once or as a stream's window.
 * @throws {SealstreamError} `INVALID_ARGUMENT` when the platform cannot allocate one buffer that large.
 */
function allocateOutput(length: number, rangeLength: number, streaming: boolean): Uint8Array {
  try {
    return allocUninitialized(length);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      streaming
        ? `a window of ${rangeLength} bytes does not fit in one buffer here (${err.message}): give openSealed a smaller windowSize`
        : `read() returns a range in one buffer, and ${rangeLength} bytes do not fit in one here (${err.message}): read it with stream(), which holds a few windows at a time, or in smaller ranges`,
      { cause: err },
    );
  }
}

/**
 * Buffers for sealed windows, reused by one stream: a window's sealed bytes are dead once decrypted,
 * and a fresh 8 MiB buffer per window is garbage the collector reclaims late (external memory grows
 * window after window first). At most `parallel` exist, one per window in flight.
 */
class WindowPool {
  #free: Uint8Array[] = [];

  take(size: number): Uint8Array {
    // a smaller buffer (a range's first window) is of no further use: let it go
    this.#free = this.#free.filter((b) => b.byteLength >= size);
    return this.#free.pop() ?? allocUninitialized(size);
  }

  give(buffer: Uint8Array): void {
    this.#free.push(buffer);
  }
}
