/**
 * openSealed: the one random-access reader (SPEC §8). Checked against a counting byte source: what it
 * reads, how many reads, how many at once, and every failure ending in a typed error.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  type ByteSource,
  bytesSource,
  CHUNK_SIZE,
  ciphertextSize,
  decrypt,
  encrypt,
  FIRST_READ,
  generateKey,
  inspectHeader,
  keyId,
  openSealed,
  readHeaderLength,
  SEALED_CHUNK_SIZE,
} from '../src/index.ts';
import { pattern } from './helpers.ts';

const C = CHUNK_SIZE;
const key = generateKey();

/** A byte source over memory that records every read and the most reads in flight at once. */
function counting(bytes: Uint8Array, delay = 0) {
  const reads: [number, number][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const source: ByteSource = {
    size: bytes.length,
    async read(start, end, signal) {
      reads.push([start, end]);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (delay) await new Promise((r) => setTimeout(r, delay));
        signal?.throwIfAborted();
        return bytes.slice(start, end);
      } finally {
        inFlight--;
      }
    },
  };
  return {
    source,
    reads,
    get maxInFlight() {
      return maxInFlight;
    },
    get fetched() {
      return reads.reduce((n, [a, b]) => n + b - a, 0);
    },
  };
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream as unknown as AsyncIterable<Uint8Array>) parts.push(part.slice());
  return new Uint8Array(Buffer.concat(parts));
}

describe('reads', () => {
  test.each([0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 5])(
    '%i bytes: whole stream and read() are exact',
    async (n) => {
      const plain = pattern(n, n);
      const sealed = await encrypt(plain, { recipients: [key] });
      for (const parallel of [1, 3]) {
        const object = await openSealed(bytesSource(sealed), { keys: [key], windowSize: C, parallel });
        expect(object.size).toBe(n);
        expect(object.storedSize).toBe(sealed.length);
        expect(object.keyId).toBe(keyId(key));
        expect(await collect(object.stream())).toEqual(plain);
        expect(await object.read()).toEqual(plain);
      }
    },
  );

  test('any range, streamed or read at once, equals the slice of the plaintext', async () => {
    const n = 4 * C + 77;
    const plain = pattern(n, 9);
    const sealed = await encrypt(plain, { recipients: [key] });
    const object = await openSealed(bytesSource(sealed), { keys: [key], windowSize: C, parallel: 2 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n }), async (a, len) => {
        const range = { start: a, end: Math.min(n, a + len) };
        const want = plain.subarray(range.start, range.end);
        expect(await object.read(range)).toEqual(want);
        expect(await collect(object.stream(range))).toEqual(want);
      }),
      { numRuns: 15 },
    );
  }, 180_000);

  test('a range that ends inside the final chunk, short of the end, reads that chunk to the end of the object', async () => {
    const n = 4 * C + 77;
    const plain = pattern(n, 5);
    const sealed = await encrypt(plain, { recipients: [key] });
    const object = await openSealed(bytesSource(sealed), { keys: [key], windowSize: C, parallel: 2 });
    for (const range of [
      { start: 0, end: 4 * C + 1 },
      { start: 4 * C, end: n - 1 },
      { start: 3 * C + 5, end: 4 * C + 40 },
    ]) {
      const want = plain.subarray(range.start, range.end);
      expect(await object.read(range)).toEqual(want);
      expect(await collect(object.stream(range))).toEqual(want);
    }
  });

  test.each([
    [C - 1, 0, C - 2],
    [C - 1, 5, 6],
    [4 * C + 77, 4 * C, 4 * C + 76],
    [4 * C + 77, 3 * C + 10, 4 * C + 1],
    [2 * C, 2 * C - 3, 2 * C - 1],
  ])(
    'a range ending inside the final chunk, before its last byte (%i bytes, [%i, %i))',
    async (n, start, end) => {
      // the final chunk is read whole and authenticated as final: found by sos's boundary tests
      // against the RGW (failed before: the read ran past the stored size)
      const plain = pattern(n, 3);
      const sealed = await encrypt(plain, { recipients: [key] });
      const object = await openSealed(bytesSource(sealed), { keys: [key], windowSize: C });
      const want = plain.subarray(start, end);
      expect(await object.read({ start, end })).toEqual(want);
      expect(await collect(object.stream({ start, end }))).toEqual(want);
    },
  );

  test('ranges that are empty, reversed or past the end are RANGE_NOT_SATISFIABLE', async () => {
    const sealed = await encrypt(pattern(100), { recipients: [key] });
    const object = await openSealed(bytesSource(sealed), { keys: [key] });
    for (const range of [
      { start: 5, end: 5 },
      { start: 6, end: 5 },
      { start: -1, end: 5 },
      { start: 0, end: 101 },
    ]) {
      expect(() => object.stream(range)).toThrow(expect.objectContaining({ code: 'RANGE_NOT_SATISFIABLE' }));
      await expect(object.read(range)).rejects.toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });
    }
  });

  test('a range that is not two integer offsets is INVALID_ARGUMENT, with a message that says so', async () => {
    const sealed = await encrypt(pattern(100), { recipients: [key] });
    const object = await openSealed(bytesSource(sealed), { keys: [key] });
    const bad: [unknown, string][] = [
      [{ start: 0.5, end: 5 }, 'integer'],
      [{ start: '1', end: '5' }, 'integer'], // JavaScript callers: text from a form or a URL
      [{ start: Number.NaN, end: 5 }, 'integer'],
      [{ start: 90 }, 'no end'],
      [{ end: 10 }, 'no start'],
      [null, '{ start, end }'],
      ['0-10', '{ start, end }'],
    ];
    for (const [range, says] of bad) {
      const r = range as { start: number; end: number };
      expect(() => object.stream(r)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      const error = await object.read(r).catch((e) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(error.message).toContain(says);
    }
  });
});

describe('what it reads', () => {
  test('one byte of a 64 MiB object: two reads, under 24 KiB', async () => {
    const n = 64 * 1024 * 1024;
    const plain = pattern(n, 3);
    const sealed = await encrypt(plain, { recipients: [key] });
    for (const at of [0, 12_345_678, n - 1]) {
      const c = counting(sealed);
      const object = await openSealed(c.source, { keys: [key] });
      expect(await object.read({ start: at, end: at + 1 })).toEqual(plain.subarray(at, at + 1));
      expect(c.reads.length, `byte ${at}`).toBe(2);
      expect(c.fetched, `byte ${at}`).toBeLessThanOrEqual(24 * 1024);
      expect(c.reads[0]).toEqual([0, FIRST_READ]);
    }
  });

  test('a small object is read once, whole', async () => {
    const sealed = await encrypt(pattern(1000), { recipients: [key] });
    const c = counting(sealed);
    const object = await openSealed(c.source, { keys: [key] });
    expect(await collect(object.stream())).toEqual(pattern(1000));
    expect(c.reads).toEqual([[0, sealed.length]]);
  });

  test('a header longer than the first read: the second read is exactly the rest', async () => {
    const keys = Array.from({ length: 64 }, () => generateKey());
    const sealed = await encrypt(pattern(10), { recipients: keys });
    const h = readHeaderLength(sealed)!;
    expect(h).toBeGreaterThan(FIRST_READ);
    const c = counting(sealed);
    const object = await openSealed(c.source, { keys: [keys[63]!] });
    expect(c.reads).toEqual([
      [0, FIRST_READ],
      [FIRST_READ, h + 56],
    ]);
    expect(await object.read()).toEqual(pattern(10));
  });

  test('windows are read at most `parallel` at a time, none twice, in order', async () => {
    const n = 20 * C + 3;
    const plain = pattern(n, 5);
    const sealed = await encrypt(plain, { recipients: [key] });
    const c = counting(sealed, 2);
    const object = await openSealed(c.source, { keys: [key], windowSize: 2 * C, parallel: 3 });
    expect(await collect(object.stream({ start: C + 1, end: n }))).toEqual(plain.subarray(C + 1));
    expect(c.maxInFlight).toBeLessThanOrEqual(3);
    const windows = c.reads.slice(1);
    for (let i = 1; i < windows.length; i++) expect(windows[i]![0]).toBe(windows[i - 1]![1]);
    expect(windows.at(-1)![1]).toBe(sealed.length); // through the final chunk
  });

  test('cancelling a stream aborts the reads in flight', async () => {
    const sealed = await encrypt(pattern(10 * C), { recipients: [key] });
    const signals: AbortSignal[] = [];
    const source: ByteSource = {
      size: sealed.length,
      read: async (a, b, signal) => {
        if (a > 0 && signal) signals.push(signal);
        return sealed.slice(a, b);
      },
    };
    const object = await openSealed(source, { keys: [key], windowSize: C, parallel: 2 });
    const reader = object.stream().getReader();
    await reader.read();
    await reader.cancel();
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });
});

describe('failures end in typed errors, and nothing unauthenticated is released', () => {
  const n = 3 * C + 10;
  const plain = pattern(n, 7);

  test('a tampered chunk fails the window that holds it; other ranges still read', async () => {
    const sealed = await encrypt(plain, { recipients: [key] });
    const h = readHeaderLength(sealed)!;
    sealed[h + 56 + SEALED_CHUNK_SIZE + 3]! ^= 1; // chunk 1
    const object = await openSealed(bytesSource(sealed), { keys: [key], windowSize: C, parallel: 1 });
    const got: Uint8Array[] = [];
    const reader = object.stream().getReader();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          got.push(value.slice());
        }
      })(),
    ).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED', message: expect.stringContaining('chunk 1') });
    expect(new Uint8Array(Buffer.concat(got))).toEqual(plain.subarray(0, C)); // chunk 0 only
    expect(await object.read({ start: 2 * C, end: n })).toEqual(plain.subarray(2 * C));
  });

  test('a length no object has is TRUNCATED at open; an empty source too', async () => {
    const sealed = await encrypt(plain, { recipients: [key] });
    const cut = sealed.subarray(0, sealed.length - 10 - 16); // ends at a chunk boundary
    await expect(openSealed(bytesSource(cut), { keys: [key] })).rejects.toMatchObject({ code: 'TRUNCATED' });
    await expect(openSealed(bytesSource(new Uint8Array(0)), { keys: [key] })).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
    await expect(openSealed(bytesSource(sealed.subarray(0, 30)), { keys: [key] })).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
  });

  test('bytes appended to a valid object: TRAILING_DATA when a read reaches the end', async () => {
    const sealed = await encrypt(plain, { recipients: [key] });
    const longer = new Uint8Array(Buffer.concat([sealed, new Uint8Array(20)]));
    const object = await openSealed(bytesSource(longer), { keys: [key] });
    await expect(object.read()).rejects.toMatchObject({ code: 'TRAILING_DATA' });
    await expect(decrypt(longer, { keys: [key] })).rejects.toMatchObject({ code: 'TRAILING_DATA' });
  });

  test('a tampered empty object fails: the empty final chunk is authenticated', async () => {
    const sealed = await encrypt(new Uint8Array(0), { recipients: [key] });
    sealed[sealed.length - 1]! ^= 1;
    const object = await openSealed(bytesSource(sealed), { keys: [key] });
    expect(object.size).toBe(0);
    await expect(collect(object.stream())).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
  });

  test('a source that answers short is TRUNCATED; a source that fails passes its error on', async () => {
    const sealed = await encrypt(plain, { recipients: [key] });
    const short: ByteSource = { size: sealed.length, read: async (a, b) => sealed.slice(a, b - 1) };
    await expect(openSealed(short, { keys: [key] })).rejects.toMatchObject({ code: 'TRUNCATED' });
    const failing: ByteSource = {
      size: sealed.length,
      read: async (a, b) => {
        if (a > 0) throw new Error('network down');
        return sealed.slice(a, b);
      },
    };
    const object = await openSealed(failing, { keys: [key], windowSize: C });
    await expect(object.read({ start: 2 * C, end: 2 * C + 1 })).rejects.toThrow('network down');
  });

  test('read() of a range no buffer can hold: INVALID_ARGUMENT pointing at stream(), before the source is asked', async () => {
    const sealed = await encrypt(plain, { recipients: [key] });
    const h = readHeaderLength(sealed)!;
    const asked: [number, number][] = [];
    // a 4 TiB object: its header is real, its payload is never read
    const huge: ByteSource = {
      size: ciphertextSize(2 ** 42, h),
      async read(start, end) {
        asked.push([start, end]);
        const out = new Uint8Array(Math.min(end - start, FIRST_READ));
        out.set(sealed.subarray(start, Math.min(end, sealed.length)));
        return out.subarray(0, end - start);
      },
    };
    const object = await openSealed(huge, { keys: [key] });
    const before = asked.length;
    for (const range of [undefined, { start: 0, end: 2 ** 41 }]) {
      await expect(object.read(range)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('stream()'),
      });
    }
    expect(asked.length).toBe(before);
    // a stream's window that large: the message names windowSize
    const wide = await openSealed(huge, { keys: [key], windowSize: 2 ** 41 });
    const reader = wide.stream().getReader();
    await expect(reader.read()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('windowSize'),
    });
  });

  test('keys, identity and options are checked at open', async () => {
    const sealed = await encrypt(plain, { recipients: [key], identity: 'b/k' });
    const src = bytesSource(sealed);
    await expect(openSealed(src, { keys: [generateKey()] })).rejects.toMatchObject({
      code: 'NO_MATCHING_KEY',
    });
    await expect(openSealed(src, { keys: [key], identity: 'b/other' })).rejects.toMatchObject({
      code: 'IDENTITY_MISMATCH',
      message: expect.stringMatching(/is bound to "b\/k": it was moved, copied or swapped/),
    });
    // sealed without a binding: said as such, not as a move
    const unbound = bytesSource(await encrypt(plain, { recipients: [key] }));
    await expect(openSealed(unbound, { keys: [key], identity: 'b/k' })).rejects.toMatchObject({
      code: 'IDENTITY_MISMATCH',
      message: expect.stringMatching(/not bound to any identity: it was sealed without one/),
    });
    expect((await openSealed(src, { keys: [key], identity: 'b/k' })).header.identity).toBe('b/k');
    for (const bad of [{ windowSize: C + 1 }, { windowSize: 0 }, { parallel: 0 }, { parallel: 1.5 }]) {
      await expect(openSealed(src, { keys: [key], ...bad })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
    await expect(openSealed({ size: -1, read: src.read }, { keys: [key] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    // no options at all: the caller's error, not a TypeError from reading an option
    const bare = openSealed as (source: ByteSource) => ReturnType<typeof openSealed>;
    await expect(bare(src)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('rewrap', () => {
  const [a, b, c] = [generateKey(), generateKey(), generateKey()];
  const plain = pattern(2 * C + 9, 11);
  const rebuilt = (sealed: Uint8Array, r: { header: Uint8Array; payloadOffset: number }) =>
    new Uint8Array(Buffer.concat([r.header, sealed.subarray(r.payloadOffset)]));

  test('replaces recipients by default; the payload bytes do not change', async () => {
    const sealed = await encrypt(plain, { recipients: [a], identity: 'b/k' });
    const object = await openSealed(bytesSource(sealed), { keys: [a] });
    const r = await object.rewrap({ recipients: [b, c] });
    expect(r.keyIds).toEqual([keyId(b), keyId(c)]);
    const next = rebuilt(sealed, r);
    expect(inspectHeader(next).identity).toBe('b/k');
    expect(await decrypt(next, { keys: [c], identity: 'b/k' })).toEqual(plain);
    await expect(decrypt(next, { keys: [a] })).rejects.toMatchObject({ code: 'NO_MATCHING_KEY' });
  });

  test('keep, add and remove; a key already there or given twice is added once', async () => {
    const sealed = await encrypt(plain, { recipients: [a, b] });
    const object = await openSealed(bytesSource(sealed), { keys: [a] });
    const kept = await object.rewrap({ recipients: [b, c, c], keepExisting: true });
    expect(kept.keyIds).toEqual([keyId(a), keyId(b), keyId(c)]);
    const removed = await object.rewrap({ remove: [keyId(a)], recipients: [c] });
    expect(removed.keyIds).toEqual([keyId(b), keyId(c)]);
    expect(await decrypt(rebuilt(sealed, removed), { keys: [c] })).toEqual(plain);
    const onlyRemoved = await object.rewrap({ remove: [keyId(b)] });
    expect(onlyRemoved.keyIds).toEqual([keyId(a)]);
  });

  test('removing a key ID the object does not have, everything, or changing nothing is INVALID_ARGUMENT', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    const object = await openSealed(bytesSource(sealed), { keys: [a] });
    await expect(object.rewrap({ remove: [keyId(c)] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(object.rewrap({ remove: [keyId(a)] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(object.rewrap({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const bare = object.rewrap.bind(object) as () => ReturnType<typeof object.rewrap>;
    await expect(bare()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('remove takes key IDs as users copy them: upper case or with surrounding spaces', async () => {
    const sealed = await encrypt(plain, { recipients: [a, b] });
    const object = await openSealed(bytesSource(sealed), { keys: [a] });
    for (const id of [keyId(b).toUpperCase(), ` ${keyId(b)}\n`]) {
      const r = await object.rewrap({ remove: [id] });
      expect(r.keyIds).toEqual([keyId(a)]);
      await expect(decrypt(rebuilt(sealed, r), { keys: [b] })).rejects.toMatchObject({
        code: 'NO_MATCHING_KEY',
      });
      expect(await decrypt(rebuilt(sealed, r), { keys: [a] })).toEqual(plain);
    }
  });

  test('a rewrap checks the header, not the payload: a damaged payload stays damaged (and is caught on read)', async () => {
    const sealed = await encrypt(plain, { recipients: [a] });
    const h = readHeaderLength(sealed)!;
    const damaged = sealed.slice();
    damaged[h + 56 + 100]! ^= 1;
    const object = await openSealed(bytesSource(damaged), { keys: [a] });
    const r = await object.rewrap({ recipients: [b] });
    expect(rebuilt(damaged, r).subarray(r.header.length)).toEqual(damaged.subarray(h));
    await expect(decrypt(rebuilt(damaged, r), { keys: [b] })).rejects.toMatchObject({
      code: 'CHUNK_AUTH_FAILED',
    });
    // a damaged header or commitment is refused before anything is wrapped
    const badCommitment = sealed.slice();
    badCommitment[h + 20]! ^= 1;
    await expect(openSealed(bytesSource(badCommitment), { keys: [a] })).rejects.toMatchObject({
      code: 'COMMITMENT_MISMATCH',
    });
  });

  test('a passphrase opens once: rewrap reuses the data key, no second scrypt', async () => {
    const sealed = await encrypt(plain, { recipients: [{ passphrase: 'pw', workFactor: 10 }] });
    const object = await openSealed(bytesSource(sealed), { keys: [{ passphrase: 'pw' }] });
    expect(object.keyId).toBeUndefined();
    const r = await object.rewrap({ recipients: [a] });
    expect(await decrypt(rebuilt(sealed, r), { keys: [a] })).toEqual(plain);
  });
});

describe('sealed windows in reused buffers', () => {
  /** A source that only offers readInto for the payload, recording the buffers it is given. */
  function intoSource(bytes: Uint8Array, delay: number) {
    const buffers = new Set<ArrayBufferLike>();
    let inFlight = 0;
    let maxInFlight = 0;
    let reads = 0;
    const source: ByteSource = {
      size: bytes.length,
      async read(start, end) {
        return bytes.slice(start, end);
      },
      async readInto(start, end, into, signal) {
        reads++;
        buffers.add(into.buffer);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await new Promise((r) => setTimeout(r, delay));
          signal?.throwIfAborted();
          into.set(bytes.subarray(start, end));
        } finally {
          inFlight--;
        }
      },
    };
    return { source, buffers, stats: () => ({ reads, maxInFlight }) };
  }

  test('a stream of many windows reads them into at most `parallel` buffers, and the bytes are exact', async () => {
    const plain = pattern(20 * C + 123);
    const sealed = await encrypt(plain, { recipients: [key] });
    const s = intoSource(sealed, 2);
    const object = await openSealed(s.source, { keys: [key], windowSize: 2 * C, parallel: 3 });
    expect(await collect(object.stream())).toEqual(plain);
    expect(s.stats().reads).toBe(11);
    expect(s.stats().maxInFlight).toBe(3);
    expect(s.buffers.size).toBeLessThanOrEqual(3);
    // a range whose first window is short, then full ones: still bounded, still exact
    const s2 = intoSource(sealed, 1);
    const ranged = await openSealed(s2.source, { keys: [key], windowSize: 2 * C, parallel: 2 });
    expect(await collect(ranged.stream({ start: 3 * C + 5, end: 17 * C }))).toEqual(
      plain.subarray(3 * C + 5, 17 * C),
    );
    expect(s2.buffers.size).toBeLessThanOrEqual(3);
  });

  test('a tampered chunk read into a reused buffer fails the stream, and no byte of its window is released', async () => {
    const plain = pattern(8 * C);
    const sealed = await encrypt(plain, { recipients: [key] });
    const h = readHeaderLength(sealed)!;
    sealed[h + 5 * SEALED_CHUNK_SIZE + 7]! ^= 1;
    const s = intoSource(sealed, 1);
    const object = await openSealed(s.source, { keys: [key], windowSize: 2 * C, parallel: 2 });
    const got: Uint8Array[] = [];
    await expect(
      object.stream().pipeTo(new WritableStream({ write: (chunk) => void got.push(chunk.slice()) })),
    ).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
    expect(Buffer.concat(got).length).toBe(4 * C);
  });
});

/** Byte equality of large arrays (toEqual walks megabytes element by element). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

describe('long in-order reads from a source that streams (readSequential)', () => {
  /** 64 sealed chunks are gathered per batch: 1 MiB of plaintext handed on at a time. */
  const BATCH = 64 * C;

  /**
   * A source whose sequential reads deliver pieces of the sizes in `pieces` (cycled), recording
   * each read, whether it was ended early, and the signal it was given. `read` serves the header.
   */
  function streaming(bytes: Uint8Array, pieces: number[] = [16_384]) {
    const sequential: [number, number][] = [];
    const windows: [number, number][] = [];
    const ended: boolean[] = [];
    const signals: (AbortSignal | undefined)[] = [];
    const source: ByteSource = {
      size: bytes.length,
      async read(start, end) {
        windows.push([start, end]);
        return bytes.slice(start, end);
      },
      readSequential(start, end, signal) {
        sequential.push([start, end]);
        signals.push(signal);
        const index = ended.push(false) - 1;
        return (async function* () {
          let at = start;
          let i = 0;
          try {
            while (at < end) {
              await new Promise((r) => setImmediate(r));
              signal?.throwIfAborted();
              const next = Math.min(end, at + pieces[i++ % pieces.length]!);
              yield bytes.slice(at, next);
              at = next;
            }
          } finally {
            ended[index] = at < end;
          }
        })();
      },
    };
    return { source, sequential, windows, ended, signals };
  }

  test('the whole object: one sequential read of the payload, exact bytes, whatever the piece sizes', async () => {
    const n = 200 * C + 77;
    const plain = pattern(n, 11);
    const sealed = await encrypt(plain, { recipients: [key] });
    const h = readHeaderLength(sealed)!;
    for (const pieces of [[16_400], [7, 100_003, 16_399], [3_000_000], [sealed.length]]) {
      const s = streaming(sealed, pieces);
      const object = await openSealed(s.source, { keys: [key], windowSize: 4 * C });
      const parts: number[] = [];
      const got: Uint8Array[] = [];
      for await (const part of object.stream() as unknown as AsyncIterable<Uint8Array>) {
        parts.push(part.length);
        got.push(part.slice());
      }
      expect(same(Buffer.concat(got), plain), `pieces ${pieces}`).toBe(true);
      expect(s.sequential).toEqual([[h + 56, sealed.length]]);
      expect(s.windows).toEqual([[0, FIRST_READ]]); // the header only
      // handed on a batch at a time, not a piece at a time
      expect(parts).toEqual([BATCH, BATCH, BATCH, n - 3 * BATCH]);
    }
  }, 60_000);

  test('any range of a streamed object: exact bytes, through the final chunk when it reaches the end', async () => {
    const n = 150 * C + 5;
    const plain = pattern(n, 12);
    const sealed = await encrypt(plain, { recipients: [key] });
    const h = readHeaderLength(sealed)!;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: n - 1 }),
        fc.integer({ min: 1, max: n }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 2, maxLength: 4 }).map((p) => [
          ...p,
          65_536, // and a large one: a small piece is cheap to test, not many of them
        ]),
        async (start, length, pieces) => {
          const end = Math.min(n, start + length);
          const s = streaming(sealed, pieces);
          const object = await openSealed(s.source, { keys: [key], windowSize: C });
          expect(same(await collect(object.stream({ start, end })), plain.subarray(start, end))).toBe(true);
          if (end - start > C) {
            expect(s.sequential.length).toBe(1);
            const [from, to] = s.sequential[0]!;
            expect(from).toBe(h + 56 + Math.floor(start / C) * SEALED_CHUNK_SIZE);
            const reachesFinal = Math.floor((end - 1) / C) === Math.floor(n / C) || end === n;
            expect(to).toBe(reachesFinal ? sealed.length : h + 56 + Math.ceil(end / C) * SEALED_CHUNK_SIZE);
          } else expect(s.sequential.length).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);

  test('a tampered chunk: the batches before it are released, no byte of its batch', async () => {
    const n = 200 * C + 9;
    const plain = pattern(n, 13);
    for (const chunk of [70, Math.floor(n / C)]) {
      const sealed = await encrypt(plain, { recipients: [key] });
      const h = readHeaderLength(sealed)!;
      sealed[h + 56 + chunk * SEALED_CHUNK_SIZE + 3]! ^= 1;
      const s = streaming(sealed, [50_000]);
      const object = await openSealed(s.source, { keys: [key], windowSize: C });
      const got: Uint8Array[] = [];
      await expect(
        object.stream().pipeTo(new WritableStream({ write: (part) => void got.push(part.slice()) })),
      ).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
      const released = Buffer.concat(got);
      expect(released.length, `chunk ${chunk}`).toBe(Math.floor(chunk / 64) * BATCH);
      expect(same(released, plain.subarray(0, released.length))).toBe(true);
    }
  });

  test('a source that delivers fewer or more bytes than asked fails TRUNCATED, never a short success', async () => {
    const n = 100 * C + 1;
    const sealed = await encrypt(pattern(n), { recipients: [key] });
    const short: ByteSource = {
      size: sealed.length,
      read: async (a, b) => sealed.slice(a, b),
      readSequential: async function* (a, b) {
        yield sealed.slice(a, b - 20_000);
      },
    };
    const object = await openSealed(short, { keys: [key], windowSize: C });
    await expect(collect(object.stream())).rejects.toMatchObject({ code: 'TRUNCATED' });
    const long: ByteSource = {
      ...short,
      readSequential: async function* (a, b) {
        yield sealed.slice(a, b);
        yield new Uint8Array(5);
      },
    };
    const object2 = await openSealed(long, { keys: [key], windowSize: C });
    await expect(collect(object2.stream())).rejects.toMatchObject({ code: 'TRUNCATED' });
    // bytes appended to the stored object: the final chunk finds them
    const appended = new Uint8Array(Buffer.concat([sealed, new Uint8Array(20)]));
    const object3 = await openSealed(streaming(appended).source, { keys: [key], windowSize: C });
    await expect(collect(object3.stream())).rejects.toMatchObject({ code: 'TRAILING_DATA' });
  });

  test('cancelling the stream ends the sequential read; the caller signal aborts it', async () => {
    const sealed = await encrypt(pattern(300 * C), { recipients: [key] });
    const s = streaming(sealed, [20_000]);
    const object = await openSealed(s.source, { keys: [key], windowSize: C });
    const reader = object.stream().getReader();
    expect((await reader.read()).value!.length).toBe(BATCH);
    await reader.cancel();
    expect(s.ended).toEqual([true]);
    expect(s.signals[0]!.aborted).toBe(true);

    const caller = new AbortController();
    const s2 = streaming(sealed, [20_000]);
    const object2 = await openSealed(s2.source, { keys: [key], windowSize: C });
    const reader2 = object2.stream(undefined, { signal: caller.signal }).getReader();
    await reader2.read();
    caller.abort(new Error('stop'));
    await expect(reader2.read()).rejects.toThrow();
    expect(s2.ended).toEqual([true]);
  });
});

describe('long in-order reads from a source that fills buffers (readSequentialInto)', () => {
  /** A source whose in-order reads write into the reader's buffers; `extra` bytes past the range, `short` fewer. */
  function filling(bytes: Uint8Array, options: { extra?: number; short?: number } = {}) {
    const fills: number[] = [];
    const closed: boolean[] = [];
    const source: ByteSource = {
      size: bytes.length,
      read: async (start, end) => bytes.slice(start, end),
      readSequential() {
        throw new Error('readSequentialInto is preferred');
      },
      readSequentialInto(start, end) {
        let at = start;
        const stop = end - (options.short ?? 0) + (options.extra ?? 0);
        const index = closed.push(false) - 1;
        return {
          async fill(into) {
            await new Promise((r) => setImmediate(r));
            const n = Math.min(into.length, stop - at);
            const from = Math.min(at, bytes.length);
            into.set(bytes.subarray(from, Math.min(from + n, bytes.length)));
            at += n;
            if (into.length > 1) fills.push(into.length);
            return n;
          },
          close() {
            closed[index] = true;
          },
        };
      },
    };
    return { source, fills, closed };
  }

  test('the reader fills its reused batch from the source: every byte, a batch at a time, then closes', async () => {
    const n = 200 * C + 77;
    const plain = pattern(n, 14);
    const sealed = await encrypt(plain, { recipients: [key] });
    const f = filling(sealed);
    const object = await openSealed(f.source, { keys: [key], windowSize: 4 * C });
    expect(same(await collect(object.stream()), plain)).toBe(true);
    const last = sealed.length - readHeaderLength(sealed)! - 56 - 3 * 64 * SEALED_CHUNK_SIZE;
    expect(f.fills).toEqual([64 * SEALED_CHUNK_SIZE, 64 * SEALED_CHUNK_SIZE, 64 * SEALED_CHUNK_SIZE, last]);
    expect(f.closed).toEqual([true]);
    // a range too
    const g = filling(sealed);
    const ranged = await openSealed(g.source, { keys: [key], windowSize: C });
    expect(
      same(
        await collect(ranged.stream({ start: 5 * C + 3, end: 150 * C })),
        plain.subarray(5 * C + 3, 150 * C),
      ),
    ).toBe(true);
  });

  test('a source that answers fewer bytes, or more, fails TRUNCATED: never a short success', async () => {
    const sealed = await encrypt(pattern(100 * C + 1), { recipients: [key] });
    for (const options of [{ short: 20_000 }, { extra: 5 }]) {
      const f = filling(sealed, options);
      const object = await openSealed(f.source, { keys: [key], windowSize: C });
      await expect(collect(object.stream()), JSON.stringify(options)).rejects.toMatchObject({
        code: 'TRUNCATED',
      });
      expect(f.closed).toEqual([true]);
    }
  });
});
