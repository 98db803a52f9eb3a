/**
 * Byte sources: random access to an object's stored (sealed) bytes, whatever holds them (memory, a
 * file handle, an S3 ranged GET pinned to one version). The reader (reader.ts) is the only code that
 * decides what to read; sources only answer.
 * @module
 */
import { SealstreamError } from './errors.ts';

/** A random-access source of an object's stored (sealed) bytes. */
export interface ByteSource {
  /** Total size of the stored object in bytes. */
  readonly size: number;
  /** Returns exactly the bytes [start, end) (end exclusive), or throws. Honors `signal`. */
  read(start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Optional: writes exactly the bytes [start, end) into `into` (`end - start` bytes long), or
   * throws. The reader passes buffers it reuses for window after window, so a source that copies
   * what it receives anyway (a network body) should offer this: streaming then allocates no sealed
   * window per read. `into` belongs to the caller again once the promise settles.
   * @returns The bytes written, or nothing (taken as all of them). A source that can come up short
   *   (a file that shrank) should say how many it wrote: any other count than `end - start` fails
   *   the read with `TRUNCATED`, naming both. A source that writes fewer and says nothing is
   *   caught too, at a cost: its window fails authentication, and the reader reads it again with
   *   {@link ByteSource.read} to tell a short source from tampering.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: sources written before the count returned void, and still may
  readInto?(start: number, end: number, into: Uint8Array, signal?: AbortSignal): Promise<number | void>;
  /**
   * Optional: the bytes [start, end) in order, as they arrive, in pieces of any size (one request
   * where the source can, e.g. one GET streamed). The reader uses it for long in-order reads and
   * opens each run of chunks as soon as its bytes are in, instead of waiting for whole windows.
   * The pieces must add up to exactly `end - start` bytes; each belongs to the reader once yielded.
   * Ending the iteration early (`return()`) must release what the read holds; honors `signal`.
   */
  readSequential?(start: number, end: number, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /**
   * Optional: the bytes [start, end) in order, written straight into the caller's buffers (one
   * request where the source can). Preferred over {@link readSequential} by the reader: a source
   * that copies what it receives anyway (a network body) then copies each piece once, into the
   * reader's batch, with no promise per piece.
   */
  readSequentialInto?(start: number, end: number, signal?: AbortSignal): SequentialRead;
}

/** An in-order read in progress ({@link ByteSource.readSequentialInto}). */
export interface SequentialRead {
  /**
   * Writes the next bytes of the read into `into`: all of it, unless the read ends first.
   * @returns The bytes written; fewer than `into.length` only at the end of the read (a short
   *   answer before the end is the source's own error, e.g. the object is shorter than it said).
   */
  fill(into: Uint8Array): Promise<number>;
  /** Ends the read (early or not), releasing what it holds. Safe to call more than once. */
  close(): void;
}

/**
 * The in-order read of `[start, end)` of a source that has one: its own
 * {@link ByteSource.readSequentialInto}, or its {@link ByteSource.readSequential} pieces copied
 * into the caller's buffers. A piece past `end` fails the read with `TRUNCATED` (the source answered
 * another length).
 */
export function sequentialRead(
  source: ByteSource,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): SequentialRead {
  if (source.readSequentialInto !== undefined) return source.readSequentialInto(start, end, signal);
  const pieces = source.readSequential!(start, end, signal)[Symbol.asyncIterator]();
  /** What remains of the last piece, not yet written. */
  let rest: Uint8Array | undefined;
  let received = 0;
  return {
    async fill(into) {
      let written = 0;
      while (written < into.length) {
        if (rest === undefined || rest.length === 0) {
          const next = await pieces.next();
          if (next.done) break;
          if (!(next.value instanceof Uint8Array)) throw sourceLength(start, end, next.value);
          received += next.value.length;
          if (received > end - start) throw sourceLength(start, end, received);
          rest = next.value;
        }
        const take = Math.min(into.length - written, rest.length);
        into.set(take === rest.length ? rest : rest.subarray(0, take), written);
        rest = rest.subarray(take);
        written += take;
      }
      return written;
    },
    close() {
      rest = undefined;
      void pieces.return?.()?.catch(() => {});
    },
  };
}

/**
 * The error for a read of `[from, to)` that the source answered with another length, `got` (a
 * count, or whatever else it answered). `TRUNCATED` either way, since what was read is not the
 * object the source announced; the message says which way it is off, because "shorter" sends a
 * user looking for a cut object and "longer" for a broken source.
 */
export function sourceLength(from: number, to: number, got: unknown): SealstreamError {
  const expected = to - from;
  if (typeof got !== 'number' || !Number.isInteger(got) || got < 0) {
    return new SealstreamError(
      'TRUNCATED',
      `the byte source answered ${typeof got === 'number' ? got : got === null ? 'null' : typeof got} for [${from}, ${to}) instead of ${expected} bytes: the source broke its contract`,
    );
  }
  return new SealstreamError(
    'TRUNCATED',
    `the byte source returned ${got} bytes for [${from}, ${to}) where ${expected} were expected: ${
      got < expected
        ? 'the object is shorter than the source said, or it changed'
        : 'more than asked for, so the source is broken or the object changed'
    }`,
  );
}

/**
 * How long a source is given, once a read's signal aborts, to end the read itself (with an error of
 * its own, such as a transport's `ABORTED`) before the reader stops waiting for it. A source that
 * ignores its signal would otherwise keep a cancelled stream, and whoever awaits it, hanging.
 */
export const ABORT_GRACE_MS = 100;

/**
 * `read`, unless `signal` aborts and the source does not end the read within
 * {@link ABORT_GRACE_MS}: then a rejection with the signal's reason. The abandoned read's own
 * outcome is still handled (no unhandled rejection); whatever buffer it writes into must not be
 * reused by the caller.
 */
export function unlessAbandoned<T>(read: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  // a JavaScript source may answer without a promise, as `await` always allowed
  if (signal === undefined) return Promise.resolve(read);
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), ABORT_GRACE_MS);
    };
    const settled = () => {
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(read).then(
      (value) => {
        settled();
        resolve(value);
      },
      (err: unknown) => {
        settled();
        reject(err);
      },
    );
  });
}

/**
 * A byte source over bytes in memory (tests, browsers, small objects). Reads return views, not copies.
 * @example
 * const sealed = await openSealed(bytesSource(await file.bytes()), { keys: [key] });
 */
export function bytesSource(bytes: Uint8Array): ByteSource {
  if (!(bytes instanceof Uint8Array)) {
    throw new SealstreamError('INVALID_ARGUMENT', `bytesSource expects a Uint8Array, got ${typeof bytes}`);
  }
  return {
    size: bytes.length,
    async read(start, end, signal) {
      signal?.throwIfAborted();
      return bytes.subarray(start, end);
    },
  };
}

/**
 * Reads `[start, end)` from a source and checks that it answered exactly that. A source that does
 * not end the read once `signal` aborts is left behind ({@link unlessAbandoned}).
 * @throws {SealstreamError} `TRUNCATED` when the source returns another length.
 */
export async function readExactly(
  source: ByteSource,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const bytes = await unlessAbandoned(source.read(start, end, signal), signal);
  if (!(bytes instanceof Uint8Array)) throw sourceLength(start, end, bytes);
  if (bytes.length !== end - start) throw sourceLength(start, end, bytes.length);
  return bytes;
}

/**
 * Reads `[start, end)` from a source into `into` with its {@link ByteSource.readInto}, and checks
 * the count it reports, if it reports one. Abandoned as {@link readExactly} is: the caller must not
 * reuse `into` when `signal` has aborted.
 * @throws {SealstreamError} `TRUNCATED` when the source says it wrote another length.
 */
export async function readIntoExactly(
  source: ByteSource,
  start: number,
  end: number,
  into: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  const written = await unlessAbandoned(source.readInto!(start, end, into, signal), signal);
  if (written !== undefined && written !== end - start) throw sourceLength(start, end, written);
}

/**
 * Validates a source given by a caller.
 * @throws {SealstreamError} `INVALID_ARGUMENT`.
 */
export function checkSource(source: ByteSource): void {
  if (!source || typeof source.read !== 'function') {
    throw new SealstreamError('INVALID_ARGUMENT', 'a byte source needs a size and a read(start, end) method');
  }
  if (!Number.isSafeInteger(source.size) || source.size < 0) {
    throw new SealstreamError(
      'INVALID_ARGUMENT',
      `a byte source's size must be a non-negative safe integer, got ${source.size}`,
    );
  }
}
