/**
 * The file loops (`sealLoop`, `openLoop`) at their block boundaries, in process, through the
 * same read/write seam the commands give them: the bytes `encrypt()` makes for the same keys and
 * randomness, nothing unauthenticated written, and a failed write stops the loop.
 */
import { randomBytes } from 'node:crypto';
import {
  CHUNK_SIZE,
  decrypt,
  type EncryptOptions,
  encrypt,
  generateKey,
  isSealstreamError,
  SEALED_CHUNK_SIZE,
  sealedLength,
} from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import {
  type BlockOutput,
  LOOP_CHUNKS,
  LOOP_WRITE_BYTES,
  type LoopCounts,
  openLoop,
  sealLoop,
} from '../src/sealing.ts';

const BLOCK = LOOP_CHUNKS * CHUNK_SIZE;
const SEALED_BLOCK = LOOP_CHUNKS * SEALED_CHUNK_SIZE;
const key = generateKey();

/** Reads `bytes` in order into the loop's buffers, as a regular file does (short only at the end). */
function reader(bytes: Uint8Array): { read: (into: Uint8Array) => Promise<number>; reads: () => number } {
  let at = 0;
  let reads = 0;
  return {
    read: async (into) => {
      reads++;
      const n = Math.min(into.length, bytes.length - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      return n;
    },
    reads: () => reads,
  };
}

/** Collects what the loop writes (copied: the loop reuses its buffers) and its counts. */
function sink() {
  const parts: Buffer[] = [];
  let read = 0;
  let wrote = 0;
  const counts: LoopCounts = { read: (n) => (read += n), wrote: (n) => (wrote += n) };
  return {
    write: async (bytes: Uint8Array) => {
      parts.push(Buffer.from(bytes));
    },
    counts,
    bytes: () => Buffer.concat(parts),
    read: () => read,
    wrote: () => wrote,
  };
}

/**
 * An output that lends its buffers, as the writer thread's ring does: two buffers taken in turn,
 * each filled with garbage before it is lent (a loop must make the whole block, never rely on what
 * was there), and a copy of what is put. `next()` twice without a `put` between is a loop error.
 */
function lender(into: ReturnType<typeof sink>) {
  const ring = [new Uint8Array(LOOP_WRITE_BYTES), new Uint8Array(LOOP_WRITE_BYTES)];
  let turn = 0;
  let lent: Uint8Array | undefined;
  let lends = 0;
  const blocks: BlockOutput = {
    next() {
      if (lent !== undefined) throw new Error('next() before the lent buffer was put');
      lent = ring[turn++ % ring.length]!.fill(0xee);
      lends++;
      return lent;
    },
    put(bytes) {
      if (lent === undefined) throw new Error('put() without a lent buffer');
      into.write(lent.subarray(0, bytes));
      lent = undefined;
    },
  };
  return { blocks, sink: into, lends: () => lends, outstanding: () => lent !== undefined };
}

/**
 * Options with deterministic randomness (core's internal `_random`, for tests), so the loop's
 * output can be compared with `encrypt()`'s.
 */
function seeded(): EncryptOptions {
  let n = 0;
  const random = (length: number) => new Uint8Array(length).map(() => n++ & 0xff);
  return { recipients: key, _random: random } as EncryptOptions;
}

/** Bytes before the payload of `sealed`, an object of `size` plaintext bytes. */
const headerLength = (sealed: Uint8Array, size: number) => sealed.length - sealedLength(size, true);

const SIZES = [
  0,
  1,
  CHUNK_SIZE - 1,
  CHUNK_SIZE,
  CHUNK_SIZE + 1,
  BLOCK - 1,
  BLOCK,
  BLOCK + 1,
  2 * BLOCK + CHUNK_SIZE + 7,
  3 * BLOCK,
];

/**
 * Opens `sealed` with openLoop, expecting a failure: what was written (into `out`, through `blocks`
 * when given), and the error.
 */
async function openFailing(
  sealed: Uint8Array,
  out = sink(),
  blocks?: BlockOutput,
): Promise<{ out: ReturnType<typeof sink>; failure: unknown }> {
  const failure = await openLoop(
    reader(sealed).read,
    out.write,
    { keys: [key] },
    () => {},
    out.counts,
    new AbortController().signal,
    blocks,
  ).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { out, failure };
}

describe('sealLoop and openLoop', () => {
  it.each(SIZES)('%i bytes: the bytes encrypt() makes, and back', async (size) => {
    const plain = randomBytes(size);
    const out = sink();
    const signal = new AbortController().signal;
    await sealLoop(reader(plain).read, out.write, seeded(), out.counts, signal);
    const sealed = out.bytes();
    expect(sealed.equals(Buffer.from(await encrypt(plain, seeded())))).toBe(true);
    expect(out.read()).toBe(size);
    expect(out.wrote()).toBe(sealed.length);

    const back = sink();
    let openedWith: string | undefined = 'not called';
    await openLoop(
      reader(sealed).read,
      back.write,
      { keys: [key] },
      (id) => (openedWith = id),
      back.counts,
      signal,
    );
    expect(back.bytes().equals(plain)).toBe(true);
    expect(openedWith).toMatch(/^[0-9a-f]{16}$/);
    expect(back.read()).toBe(sealed.length);
    expect(back.wrote()).toBe(size);
  });

  it.each(SIZES)(
    "%i bytes through lent buffers (the writer thread's ring): the same bytes, and back",
    async (size) => {
      const plain = randomBytes(size);
      const signal = new AbortController().signal;
      const out = sink();
      const sealing = lender(out);
      await sealLoop(reader(plain).read, out.write, seeded(), out.counts, signal, sealing.blocks);
      const sealed = out.bytes();
      expect(sealed.equals(Buffer.from(await encrypt(plain, seeded())))).toBe(true);
      // the header is written; every block of the payload is made in a lent buffer
      expect(sealing.lends()).toBe(Math.floor(size / BLOCK) + 1);
      expect(out.wrote()).toBe(sealed.length);

      const back = sink();
      const opening = lender(back);
      await openLoop(
        reader(sealed).read,
        back.write,
        { keys: [key] },
        () => {},
        back.counts,
        signal,
        opening.blocks,
      );
      expect(back.bytes().equals(plain)).toBe(true);
      expect(back.wrote()).toBe(size);
      expect(opening.outstanding()).toBe(false);
    },
  );

  it('through lent buffers, a tampered chunk in the second block: that block is never put', async () => {
    const plain = randomBytes(3 * BLOCK);
    const sealed = Buffer.from(await encrypt(plain, { recipients: key }));
    sealed[headerLength(sealed, plain.length) + 2 * SEALED_BLOCK - 5]! ^= 1;
    const opening = lender(sink());
    const { out, failure } = await openFailing(sealed, opening.sink, opening.blocks);
    expect(isSealstreamError(failure, 'CHUNK_AUTH_FAILED'), String(failure)).toBe(true);
    // the second block was opened into a lent buffer, which stays lent: nothing of it goes out
    expect(opening.lends()).toBe(2);
    expect(opening.outstanding()).toBe(true);
    expect(out.bytes().equals(plain.subarray(0, BLOCK))).toBe(true);
  });

  it('a tampered chunk in the second block: only the first block is written, then CHUNK_AUTH_FAILED', async () => {
    const plain = randomBytes(3 * BLOCK);
    const sealed = Buffer.from(await encrypt(plain, { recipients: key }));
    // one byte of the last chunk of the second block
    sealed[headerLength(sealed, plain.length) + 2 * SEALED_BLOCK - 5]! ^= 1;
    const { out, failure } = await openFailing(sealed);
    expect(isSealstreamError(failure, 'CHUNK_AUTH_FAILED'), String(failure)).toBe(true);
    expect(out.bytes().equals(plain.subarray(0, BLOCK))).toBe(true);
  });

  it('an object cut at a block boundary is TRUNCATED, with only authenticated blocks written', async () => {
    const plain = randomBytes(2 * BLOCK + 100);
    const sealed = Buffer.from(await encrypt(plain, { recipients: key }));
    // the header and the first block: whole chunks, none of them final
    const cut = sealed.subarray(0, headerLength(sealed, plain.length) + SEALED_BLOCK);
    const { out, failure } = await openFailing(cut);
    expect(isSealstreamError(failure, 'TRUNCATED'), String(failure)).toBe(true);
    expect(out.bytes().equals(plain.subarray(0, BLOCK))).toBe(true);
    expect(Buffer.from(await decrypt(sealed, { keys: [key] })).equals(plain)).toBe(true);
  });

  it('a write that fails mid-file (ENOSPC) ends the loop with that error: no write after it, no more reading', async () => {
    const plain = randomBytes(6 * BLOCK);
    const input = reader(plain);
    let writes = 0;
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const out = sink();
    const write = async (bytes: Uint8Array) => {
      // the header, then two blocks; the third block's write fails
      if (++writes === 4) throw full;
      await out.write(bytes);
    };
    const failure = await sealLoop(
      input.read,
      write,
      { recipients: key },
      out.counts,
      new AbortController().signal,
    ).catch((err: unknown) => err);
    expect(failure).toBe(full);
    // the failure shows at the next block's turn to write: by then one more block was read and
    // sealed, and the read after it started (5 reads of 6 blocks); nothing was written after it
    expect(input.reads()).toBe(5);
    expect(writes).toBe(4);
    const header = headerLength(await encrypt(plain, { recipients: key }), plain.length);
    expect(out.wrote()).toBe(header + 2 * SEALED_BLOCK);
    expect(out.bytes().length).toBe(header + 2 * SEALED_BLOCK);
  });

  it('an aborted signal stops the loop before the next block', async () => {
    const controller = new AbortController();
    const reason = new Error('interrupted');
    controller.abort(reason);
    const out = sink();
    const failure = await sealLoop(
      reader(randomBytes(BLOCK)).read,
      out.write,
      { recipients: key },
      out.counts,
      controller.signal,
    ).catch((err: unknown) => err);
    expect(failure).toBe(reason);
    expect(out.read()).toBe(0);
  });
});
