/**
 * Sealing and opening local data. Files go through a loop over reused buffers
 * ({@link sealLoop}, {@link openLoop}), with no allocation per block and nothing for the garbage
 * collector. When a read or a write is asynchronous (a pipe on stdout), the next block is read and
 * the current one sealed while the one before is written. A regular file is read synchronously
 * (on this thread: cheaper than libuv's thread pool, measured); a large output file is written by
 * a thread of its own (`writer-thread.ts`: `write` only copies the block into its ring), a small
 * one synchronously. Pipes (stdin) go
 * through {@link sealingTransform}, a Node `Transform`, which must hand each buffer on.
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import {
  CHUNK_SIZE,
  createOpenerFromReader,
  createSealer,
  type DecryptOptions,
  type EncryptOptions,
  openedLength,
  type ReadFull,
  SEALED_CHUNK_SIZE,
  sealedLength,
} from '@sealstream/core';
import { nativePageOffset, PlacedBuffer } from './page-placement.ts';

/** Plaintext chunks sealed per call: 1 MiB. */
const BATCH_CHUNKS = 64;

/**
 * A Transform that encrypts what is written to it into a sealstream object; `onPlaintext` counts
 * the plaintext bytes as they come in. Each buffer it pushes is fresh (the consumer may hold it).
 */
export function sealingTransform(options: EncryptOptions, onPlaintext: (bytes: number) => void): Transform {
  const plain = Buffer.allocUnsafe(BATCH_CHUNKS * CHUNK_SIZE);
  let filled = 0;
  let begun: ReturnType<typeof createSealer> | undefined;
  const sealer = () => {
    begun ??= createSealer(options);
    return begun;
  };
  const seal = async (transform: Transform, final: boolean) => {
    const { sealer: s } = await sealer();
    const out = Buffer.allocUnsafe(sealedLength(filled, final));
    const n = await s.seal(plain.subarray(0, filled), out, final);
    filled = 0;
    transform.push(out.subarray(0, n));
  };
  return new Transform({
    construct(callback) {
      sealer().then(
        ({ prefix }) => {
          this.push(Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength));
          callback();
        },
        (err: Error) => callback(err),
      );
    },
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      onPlaintext(chunk.length);
      const run = async () => {
        let at = 0;
        while (at < chunk.length) {
          const take = Math.min(plain.length - filled, chunk.length - at);
          chunk.copy(plain, filled, at, at + take);
          filled += take;
          at += take;
          // a full buffer is whole chunks, never the final one (shorter than a chunk)
          if (filled === plain.length) await seal(this, false);
        }
      };
      run().then(() => callback(), callback);
    },
    flush(callback: TransformCallback) {
      seal(this, true).then(() => callback(), callback);
    },
  });
}

/**
 * Chunks per block of the file loops: 256 KiB of plaintext. The loop's working set (two input and
 * two output blocks, 1 MiB) then stays in this machine's L2 cache, so the kernel's copies of
 * `pread`/`write` and the cipher meet warm lines. Measured in interleaved runs on a cached 1 GiB
 * file: 1 MiB blocks (4 MiB working set) cost ~0.4 s more system time per GiB (the copies
 * missing the cache); 128 and 64 KiB blocks cost more user time (more calls per byte); 2-8 MiB
 * blocks were measured earlier at 40-100% more CPU.
 */
export const LOOP_CHUNKS = 16;

/**
 * The largest block a file loop makes: a block of plaintext sealed as the final one (the loop never
 * makes one that long, since a final block is a short read, but it is what its output buffer holds).
 */
export const LOOP_WRITE_BYTES = sealedLength(LOOP_CHUNKS * CHUNK_SIZE, true);

/**
 * Bytes processed between two turns of the event loop. Reads and writes of regular files complete
 * at once (synchronous calls), so without these turns a signal would not be handled until the end.
 */
const YIELD_EVERY = 16 << 20;

/** Writes all of `bytes`; they may be reused once it resolves. */
export type WriteAll = (bytes: Uint8Array) => Promise<void>;

/**
 * An output that lends its own buffers (a writer thread's ring): a loop makes each block in the
 * buffer `next()` returns (at least {@link LOOP_WRITE_BYTES} long) and hands its first `bytes` over
 * with `put`, instead of writing a copy. Nothing in a lent buffer is written before `put`.
 */
export interface BlockOutput {
  next(): Uint8Array;
  put(bytes: number): void;
}

/** Byte counts of a loop, as it goes: what was read and what was written. */
export interface LoopCounts {
  read(bytes: number): void;
  wrote(bytes: number): void;
}

/**
 * One block after another through two pairs of buffers: block `i + 1` is read while block `i`
 * is processed, and block `i` is written while block `i + 1` is read and processed. A buffer is
 * written again only after the operation that used it has settled. Nothing is left in flight
 * when it returns or throws. With `blocks`, each block is made in a buffer the output lends, and
 * handed over only once `step` succeeded (so a block that fails to open is never written).
 * @param step - Processes the `n` bytes read (`final`: the input ended) into `out`; returns the
 *   bytes to write.
 * @param start - The input's position at the first read (where the file's bytes sit in their page);
 *   a wrong one costs speed, never bytes.
 */
async function blockLoop(
  read: ReadFull,
  write: WriteAll,
  inSize: number,
  outSize: number,
  step: (input: Uint8Array, out: Uint8Array, final: boolean) => Promise<number>,
  counts: LoopCounts,
  signal: AbortSignal,
  blocks: BlockOutput | undefined,
  start: number,
): Promise<void> {
  // each read lands at the page offset its bytes have in the file (page-placement.ts: the kernel's
  // copy out of the page cache is five times slower at some relative offsets)
  const pageOffset = nativePageOffset();
  // each operation in flight is awaited later; until then a failure of it is not "unhandled"
  const inFlight = <T>(p: Promise<T>) => {
    p.catch(() => {});
    return p;
  };
  const inputs = [new PlacedBuffer(inSize, pageOffset), new PlacedBuffer(inSize, pageOffset)];
  let position = start;
  const readBlock = (i: number) => inFlight(read((inputs[i & 1] as PlacedBuffer).at(position)));
  const outs = blocks ? [] : [new Uint8Array(outSize), new Uint8Array(outSize)];
  const lent = () => {
    const out = (blocks as BlockOutput).next();
    if (out.length < outSize)
      throw new RangeError(`a lent output buffer of ${out.length} bytes, not ${outSize}`);
    return out;
  };
  const pick = (pair: Uint8Array[], i: number) => pair[i & 1] as Uint8Array;
  let reading: Promise<number> = readBlock(0);
  let writing: Promise<void> = Promise.resolve();
  const yieldEvery = Math.max(1, Math.floor(YIELD_EVERY / inSize));
  try {
    for (let i = 0; ; i++) {
      // let signal handlers (SIGINT, SIGTERM) run even when every read and write completed at once
      if (i % yieldEvery === yieldEvery - 1) await new Promise((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
      const n = await reading;
      counts.read(n);
      const input = (inputs[i & 1] as PlacedBuffer).at(position).subarray(0, n);
      position += n;
      // a short read is the end of the input: the block holds the final chunk
      const final = n < inSize;
      if (!final) reading = readBlock(i + 1);
      const out = blocks ? lent() : pick(outs, i);
      const m = await step(input, out, final);
      if (blocks) {
        blocks.put(m);
        counts.wrote(m);
      } else {
        await writing;
        writing = inFlight(write(out.subarray(0, m)).then(() => counts.wrote(m)));
      }
      if (final) break;
    }
    await writing;
  } catch (err) {
    // settle what is still in flight (its own failure is secondary) before the buffers are dropped
    await Promise.allSettled([reading, writing]);
    throw err;
  }
}

/**
 * Encrypts an input read in order by `read` into `write`: the header, then the payload sealed
 * {@link LOOP_CHUNKS} chunks per call (into the buffers `blocks` lends, when given). The same bytes
 * as `encryptStream` for the same keys.
 */
export async function sealLoop(
  read: ReadFull,
  write: WriteAll,
  options: EncryptOptions,
  counts: LoopCounts,
  signal: AbortSignal,
  blocks?: BlockOutput,
): Promise<void> {
  const { prefix, sealer } = await createSealer(options);
  await write(prefix);
  counts.wrote(prefix.length);
  const block = LOOP_CHUNKS * CHUNK_SIZE;
  await blockLoop(
    read,
    write,
    block,
    sealedLength(block, true),
    (plain, out, final) => sealer.seal(plain, out, final),
    counts,
    signal,
    blocks,
    0,
  );
}

/**
 * Decrypts an object read in order by `read` into `write`: the header first (exactly its bytes),
 * then whole runs of sealed chunks. A block is written only once every chunk in it authenticated;
 * any failure throws before its block is written (or handed to `blocks`).
 * @param onOpen - Called once the header is opened, before any plaintext.
 */
export async function openLoop(
  read: ReadFull,
  write: WriteAll,
  options: DecryptOptions,
  onOpen: (keyId: string | undefined) => void,
  counts: LoopCounts,
  signal: AbortSignal,
  blocks?: BlockOutput,
): Promise<void> {
  let headerBytes = 0;
  const { opened, opener } = await createOpenerFromReader(async (into: Uint8Array) => {
    const n = await read(into);
    headerBytes += n;
    return n;
  }, options);
  counts.read(headerBytes);
  onOpen(opened.keyId);
  // a block of whole sealed chunks is never the final one (the final chunk is always shorter)
  const block = LOOP_CHUNKS * SEALED_CHUNK_SIZE;
  await blockLoop(
    read,
    write,
    block,
    openedLength(block, false),
    (sealed, out, final) => opener.open(sealed, out, final),
    counts,
    signal,
    blocks,
    headerBytes,
  );
}
