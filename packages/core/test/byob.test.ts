/**
 * Reading encryptStream / decryptStream with a BYOB reader (run-stream.ts): on the backends that
 * seal in the calling thread the readable side is a byte stream, a run is sealed or opened straight
 * into the buffer the consumer lends, and the consumer may lend the same buffer again for every read.
 * The bytes are those of any other read; nothing unauthenticated reaches a lent buffer's reader; a
 * write waits for the consumer, run by run; cancelling through the BYOB reader ends both sides.
 */
import { describe, expect, test, vi } from 'vitest';
import { allocUninitialized } from '../src/alloc.ts';
import {
  type BackendName,
  CHUNK_SIZE,
  decryptStream,
  encryptStream,
  generateKey,
  isSealstreamError,
  SEALED_CHUNK_SIZE,
} from '../src/index.ts';
import { BACKENDS, pattern, type ReadAll, runTransform, split, through } from './helpers.ts';

// every buffer the streams make for their output, counted (the real allocation behind it)
vi.mock('../src/alloc.ts', async (original) => {
  const real = await original<typeof import('../src/alloc.ts')>();
  return { ...real, allocUninitialized: vi.fn(real.allocUninitialized) };
});
const allocations = vi.mocked(allocUninitialized);

const C = CHUNK_SIZE;
const key = generateKey();
/** The backends whose streams are run streams (WebCrypto has its own pipelined stream). */
const RUN_BACKENDS = BACKENDS.filter((b): b is Exclude<BackendName, 'webcrypto'> => b !== 'webcrypto');

/** A BYOB reader lending one buffer of `view` bytes again and again (the same memory, transferred each time). */
const lending =
  (view: number): ReadAll =>
  async (readable, take) => {
    const reader = readable.getReader({ mode: 'byob' });
    let buffer = new Uint8Array(view);
    for (;;) {
      const { done, value } = await reader.read(buffer);
      if (done) return;
      take(value);
      buffer = new Uint8Array(value.buffer as ArrayBuffer);
    }
  };

/** Writes `writes` into `ts` while a {@link lending} reader reads it; what came out, the error, the reads that brought bytes. */
async function readByob(ts: TransformStream<Uint8Array, Uint8Array>, writes: Uint8Array[], view: number) {
  let reads = 0;
  const read = lending(view);
  const outcome = await runTransform(ts, writes, (readable, take) =>
    read(readable, (chunk) => {
      reads++;
      take(chunk);
    }),
  );
  return { ...outcome, reads };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe.each(RUN_BACKENDS)('%s: BYOB reads', (backend) => {
  const plain = pattern(5 * C + 7);
  // smaller than a unit (served from a queued buffer), a unit exactly, one more, several units, 4 MiB
  const VIEWS = [1000, C, SEALED_CHUNK_SIZE, SEALED_CHUNK_SIZE + 1, 3 * SEALED_CHUNK_SIZE + 5, 4 << 20];
  const WRITES = [1, 5000, C, 3 * C + 5, 1 << 20];

  test('the same bytes as a default reader, for any buffer and write size, one buffer reused', async () => {
    const sealed = await through(encryptStream({ recipients: [key], backend }), split(plain, 4096));
    for (const view of VIEWS) {
      for (const w of WRITES) {
        if (w === 1 && view < C) continue; // a byte at a time into tiny buffers adds time, not coverage
        const enc = await readByob(encryptStream({ recipients: [key], backend }), split(plain, w), view);
        expect(enc.error, `encrypt, view ${view}, writes ${w}`).toBeUndefined();
        // a fresh header each time: the sealed bytes differ, their plaintext must not
        const back = await through(decryptStream({ keys: [key], backend }), [enc.output]);
        expect(same(back, plain), `encrypt, view ${view}, writes ${w}`).toBe(true);
        const dec = await readByob(decryptStream({ keys: [key], backend }), split(sealed, w), view);
        expect(dec.error, `decrypt, view ${view}, writes ${w}`).toBeUndefined();
        expect(same(dec.output, plain), `decrypt, view ${view}, writes ${w}`).toBe(true);
      }
    }
  });

  test('runs go straight into the lent buffer: the streams allocate nothing for them', async () => {
    const big = pattern(64 * C);
    const sealed = await through(encryptStream({ recipients: [key], backend }), [big]);
    allocations.mockClear();
    const enc = await readByob(
      encryptStream({ recipients: [key], backend }),
      split(big, 1 << 20),
      64 * SEALED_CHUNK_SIZE,
    );
    expect(enc.error).toBeUndefined();
    // the header, the 64 sealed chunks in one read, the final (empty) chunk: only that one allocated
    expect(enc.reads).toBe(3);
    expect(allocations).toHaveBeenCalledTimes(1);
    allocations.mockClear();
    const dec = await readByob(decryptStream({ keys: [key], backend }), split(sealed, 1 << 20), 64 * C);
    expect(same(dec.output, big)).toBe(true);
    expect(allocations).toHaveBeenCalledTimes(1); // the final chunk's
    // the same with a default reader: a buffer per run
    allocations.mockClear();
    await through(decryptStream({ keys: [key], backend }), split(sealed, 1 << 20));
    expect(allocations.mock.calls.length).toBeGreaterThan(1);
  });

  test('a tampered chunk: CHUNK_AUTH_FAILED, and what the reader got is plaintext before it, none of its run', async () => {
    const big = pattern(40 * C);
    const sealed = await through(encryptStream({ recipients: [key], backend }), [big]);
    const at = sealed.length - 20 * SEALED_CHUNK_SIZE; // inside chunk 20 (the header comes first)
    const bad = sealed.slice();
    bad[at] = bad[at]! ^ 1;
    const view = 8 * SEALED_CHUNK_SIZE;
    const out = await readByob(decryptStream({ keys: [key], backend }), split(bad, 1 << 20), view);
    expect(isSealstreamError(out.error) && out.error.code).toBe('CHUNK_AUTH_FAILED');
    expect(out.output.length).toBeLessThan(20 * C);
    expect(same(out.output, big.subarray(0, out.output.length))).toBe(true);
  });

  test('a large write waits for the consumer: no run is sealed before it is read', async () => {
    const ts = encryptStream({ recipients: [key], backend });
    const writer = ts.writable.getWriter();
    let written = false;
    const writing = writer.write(pattern(8 << 20)).then(() => {
      written = true;
    });
    const reader = ts.readable.getReader({ mode: 'byob' });
    const header = await reader.read(new Uint8Array(4096));
    expect(header.done).toBe(false);
    const first = await reader.read(new Uint8Array(SEALED_CHUNK_SIZE * 64));
    expect(first.value?.length).toBe(64 * SEALED_CHUNK_SIZE);
    await new Promise((r) => setTimeout(r, 20));
    expect(written).toBe(false); // 7 runs of 8 are still to be read
    let buffer = new Uint8Array(first.value!.buffer as ArrayBuffer);
    let total = first.value!.length;
    const closing = writing.then(() => writer.close());
    for (;;) {
      const { done, value } = await reader.read(buffer);
      if (done) break;
      total += value.length;
      buffer = new Uint8Array(value.buffer as ArrayBuffer);
    }
    await closing;
    expect(written).toBe(true);
    expect(total).toBe(512 * SEALED_CHUNK_SIZE + 16); // every chunk, and the final empty one
  });

  test('cancelling through the BYOB reader errors the writable side with the reason; the write in progress ends', async () => {
    const ts = decryptStream({ keys: [key], backend });
    const sealed = await through(encryptStream({ recipients: [key], backend }), [pattern(20 * C)]);
    const writer = ts.writable.getWriter();
    const writing = writer.write(sealed).catch((e: unknown) => e);
    const reader = ts.readable.getReader({ mode: 'byob' });
    const first = await reader.read(new Uint8Array(2 * C));
    expect(first.value?.length).toBe(2 * C);
    const reason = new Error('the consumer has had enough');
    await reader.cancel(reason);
    expect(await writing).toBeUndefined(); // the write in progress ended quietly
    await expect(writer.write(new Uint8Array(1))).rejects.toBe(reason);
    await expect(writer.close()).rejects.toThrow(); // a TypeError, by the streams spec: errored
  });
});

test('WebCrypto keeps its own pipelined stream: a default reader only, said by the platform', () => {
  const ts = encryptStream({ recipients: [key], backend: 'webcrypto' });
  expect(() => ts.readable.getReader({ mode: 'byob' })).toThrow(TypeError);
  void ts.readable.cancel();
});
