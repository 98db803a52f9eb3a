/**
 * Cutting an upload's body into parts, in buffers that are reused once the server has stored
 * their part: memory stays `queueSize x partSize` instead of growing with whatever garbage the
 * collector has not reclaimed yet (a fresh 8 MiB buffer per part is freed only when V8 decides to
 * collect, and it lets external memory grow well past the parts in flight first).
 * @module
 */
import { CHUNK_SIZE, type PayloadSealer, SEALED_CHUNK_SIZE } from '@sealstream/core';
import { SosError } from './errors.ts';

/** A body the uploader reads: bytes, a Node `Readable` or a web `ReadableStream` (both async iterable). */
export type UploadBody = Uint8Array | AsyncIterable<Uint8Array>;

/** What the uploader reads parts from. */
export interface PartSource {
  /** Up to `size` bytes; fewer only at the end of the body, none once it is over. */
  read(size: number): Promise<Uint8Array>;
  /** Hands back a part returned by {@link read} once the server has stored it. */
  release(part: Uint8Array): void;
  /** Makes the read in progress, and every later one, fail with `reason`. */
  cancel(reason: unknown): void;
}

/** Part buffers handed back after use, reused for parts of the same size. */
class PartPool {
  #free: Uint8Array[] = [];
  /** Buffers handed out by {@link take}: only those come back into the pool. */
  readonly #ours = new WeakSet<ArrayBufferLike>();

  take(size: number): Uint8Array {
    // part sizes only grow (growingPartSize): buffers of another size are of no further use
    this.#free = this.#free.filter((b) => b.byteLength === size);
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const buffer = new Uint8Array(size);
    this.#ours.add(buffer.buffer);
    return buffer;
  }

  give(part: Uint8Array): void {
    if (this.#ours.has(part.buffer) && part.byteOffset === 0) {
      this.#free.push(new Uint8Array(part.buffer, 0, part.buffer.byteLength));
    }
  }
}

/**
 * The chunks of a streamed body, one at a time. Reads race the stop signal, so a stalled source
 * does not hold up an abort.
 */
class ChunkInput {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #stop: AbortSignal;
  /** The rest of the last chunk, not yet taken. */
  pending: Uint8Array | undefined;

  constructor(body: AsyncIterable<Uint8Array>, stop: AbortSignal) {
    this.#iterator = body[Symbol.asyncIterator]();
    this.#stop = stop;
  }

  /**
   * The next chunk (the pending rest first), or `undefined` at the end. (Not `Promise.race` with one
   * long-lived promise: each race leaves a reaction on it that keeps its chunk alive until the
   * upload ends.)
   */
  async next(): Promise<Uint8Array | undefined> {
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      return pending;
    }
    const stop = this.#stop;
    stop.throwIfAborted();
    const { value, done } = await new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      const onStop = () => reject(stop.reason);
      stop.addEventListener('abort', onStop, { once: true });
      this.#iterator
        .next()
        .then(resolve, reject)
        .finally(() => stop.removeEventListener('abort', onStop));
    });
    if (done) return undefined;
    if (!(value instanceof Uint8Array)) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"body" stream must yield bytes, got ${typeof value} (an encoding set?)`,
      );
    }
    return value;
  }
}

/** Stop handling shared by the part sources. */
abstract class StoppableSource {
  protected readonly stop = new AbortController();
  protected readonly pool = new PartPool();

  constructor(signal: AbortSignal | undefined, abortedError: (signal: AbortSignal) => unknown) {
    if (signal?.aborted) this.cancel(abortedError(signal));
    signal?.addEventListener('abort', () => this.cancel(abortedError(signal)), { once: true });
  }

  cancel(reason: unknown): void {
    this.stop.abort(reason);
  }

  release(part: Uint8Array): void {
    this.pool.give(part);
  }
}

/**
 * Cuts a body into parts as it is: a part is copied into a reused buffer unless a single incoming
 * chunk (or the body given as bytes) already holds it.
 */
export class PartReader extends StoppableSource implements PartSource {
  #bytes: Uint8Array | undefined;
  readonly #input: ChunkInput | undefined;

  constructor(
    body: UploadBody,
    signal: AbortSignal | undefined,
    abortedError: (signal: AbortSignal) => unknown,
  ) {
    super(signal, abortedError);
    if (body instanceof Uint8Array) this.#bytes = body;
    else this.#input = new ChunkInput(body, this.stop.signal);
  }

  async read(size: number): Promise<Uint8Array> {
    this.stop.signal.throwIfAborted();
    if (this.#bytes !== undefined) {
      const part = this.#bytes.subarray(0, size);
      this.#bytes = this.#bytes.subarray(part.byteLength);
      return part;
    }
    const input = this.#input!;
    let buffer: Uint8Array | undefined;
    let filled = 0;
    while (filled < size) {
      const chunk = await input.next();
      if (chunk === undefined) break;
      if (filled === 0 && chunk.byteLength >= size) {
        if (chunk.byteLength > size) input.pending = chunk.subarray(size);
        return chunk.subarray(0, size);
      }
      buffer ??= this.pool.take(size);
      const take = Math.min(size - filled, chunk.byteLength);
      buffer.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.byteLength) input.pending = chunk.subarray(take);
    }
    return buffer === undefined ? new Uint8Array(0) : buffer.subarray(0, filled);
  }
}

/** Whole chunks of plaintext gathered before sealing them in one call. */
const BATCH_CHUNKS = 64;

/** The sealing of an object: its first bytes (header) and the sealer of its payload (core's `createSealer`). */
export interface Sealing {
  prefix: Uint8Array;
  sealer: PayloadSealer;
}

/**
 * Encrypts a plaintext body while cutting it into parts: chunks are sealed straight into the
 * reused part buffers (a sealed chunk that straddles two parts goes through a one-chunk spill
 * buffer), with no stream and no buffer per batch in between.
 */
export class SealingPartReader extends StoppableSource implements PartSource {
  readonly #input: ChunkInput;
  readonly #sealer: PayloadSealer;
  readonly #onPlaintext: (bytes: number) => void;
  /** Plaintext gathered for sealing: [#plainStart, #plainEnd). Reused. */
  readonly #plain = new Uint8Array(BATCH_CHUNKS * CHUNK_SIZE);
  #plainStart = 0;
  #plainEnd = 0;
  /** Sealed bytes waiting for the next part (the prefix first, then a straddling chunk). */
  #spill: Uint8Array;
  readonly #spillBuffer = new Uint8Array(SEALED_CHUNK_SIZE);
  #inputEnded = false;
  #sealedFinal = false;

  constructor(
    body: UploadBody,
    sealing: Sealing,
    onPlaintext: (bytes: number) => void,
    signal: AbortSignal | undefined,
    abortedError: (signal: AbortSignal) => unknown,
  ) {
    super(signal, abortedError);
    const iterable: AsyncIterable<Uint8Array> =
      body instanceof Uint8Array
        ? (async function* () {
            yield body;
          })()
        : body;
    this.#input = new ChunkInput(iterable, this.stop.signal);
    this.#sealer = sealing.sealer;
    this.#spill = sealing.prefix;
    this.#onPlaintext = onPlaintext;
  }

  async read(size: number): Promise<Uint8Array> {
    this.stop.signal.throwIfAborted();
    let part: Uint8Array | undefined;
    let filled = 0;
    while (filled < size) {
      if (this.#spill.byteLength > 0) {
        part ??= this.pool.take(size);
        const take = Math.min(size - filled, this.#spill.byteLength);
        part.set(this.#spill.subarray(0, take), filled);
        filled += take;
        this.#spill = this.#spill.subarray(take);
        continue;
      }
      if (this.#sealedFinal) break;
      const whole = Math.floor((this.#plainEnd - this.#plainStart) / CHUNK_SIZE);
      if (whole === 0 && !this.#inputEnded) {
        await this.#gather();
        continue;
      }
      part ??= this.pool.take(size);
      const fits = Math.floor((size - filled) / SEALED_CHUNK_SIZE);
      if (whole > 0 && fits > 0) {
        // whole chunks are never the final one (it is shorter than a chunk): seal them in place
        const n = Math.min(whole, fits);
        const plain = this.#plain.subarray(this.#plainStart, this.#plainStart + n * CHUNK_SIZE);
        filled += await this.#sealer.seal(plain, part.subarray(filled), false);
        this.#plainStart += n * CHUNK_SIZE;
      } else if (whole > 0) {
        // less than a sealed chunk left in this part: the chunk straddles into the next one
        const plain = this.#plain.subarray(this.#plainStart, this.#plainStart + CHUNK_SIZE);
        await this.#sealer.seal(plain, this.#spillBuffer, false);
        this.#spill = this.#spillBuffer;
        this.#plainStart += CHUNK_SIZE;
      } else {
        // the input is over and less than a chunk is left: the final chunk (maybe empty)
        const plain = this.#plain.subarray(this.#plainStart, this.#plainEnd);
        this.#spill = this.#spillBuffer.subarray(0, await this.#sealer.seal(plain, this.#spillBuffer, true));
        this.#plainStart = this.#plainEnd;
        this.#sealedFinal = true;
      }
    }
    return part === undefined ? new Uint8Array(0) : part.subarray(0, filled);
  }

  /** Moves the partial chunk left to the front and reads plaintext until the buffer is full or the input ends. */
  async #gather(): Promise<void> {
    const rest = this.#plainEnd - this.#plainStart;
    this.#plain.copyWithin(0, this.#plainStart, this.#plainEnd);
    this.#plainStart = 0;
    this.#plainEnd = rest;
    while (this.#plainEnd < this.#plain.byteLength) {
      const chunk = await this.#input.next();
      if (chunk === undefined) {
        this.#inputEnded = true;
        return;
      }
      const take = Math.min(this.#plain.byteLength - this.#plainEnd, chunk.byteLength);
      this.#plain.set(chunk.subarray(0, take), this.#plainEnd);
      this.#plainEnd += take;
      this.#onPlaintext(take);
      if (take < chunk.byteLength) this.#input.pending = chunk.subarray(take);
    }
  }
}
