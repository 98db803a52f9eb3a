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
   */
  readInto?(start: number, end: number, into: Uint8Array, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: the bytes [start, end) in order, as they arrive, in pieces of any size (one request
   * where the source can, e.g. one GET streamed). The reader uses it for long in-order reads and
   * opens each run of chunks as soon as its bytes are in, instead of waiting for whole windows.
   * The pieces must add up to exactly `end - start` bytes; each belongs to the reader once yielded.
   * Ending the iteration early (`return()`) must release what the read holds; honors `signal`.
   */
  readSequential?(start: number, end: number, signal?: AbortSignal): AsyncIterable<Uint8Array>;
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
 * Reads `[start, end)` from a source and checks that it answered exactly that.
 * @throws {SealstreamError} `TRUNCATED` when the source returns another length.
 */
export async function readExactly(
  source: ByteSource,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const bytes = await source.read(start, end, signal);
  if (!(bytes instanceof Uint8Array) || bytes.length !== end - start) {
    throw new SealstreamError(
      'TRUNCATED',
      `the byte source returned ${bytes instanceof Uint8Array ? bytes.length : typeof bytes} bytes for [${start}, ${end}), not ${end - start}: the object is shorter than it said or changed`,
    );
  }
  return bytes;
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
