/**
 * The random-access reader against byte sources that misbehave: short or long answers (a file that
 * shrank, a size that lies, a broken readInto), sources that ignore their abort signal, reads that
 * race on one reader. Each ends in a typed error that says what happened, never "tampered" for a
 * short source, never a hang, and nothing unauthenticated is released.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  type ByteSource,
  bytesSource,
  CHUNK_SIZE,
  encrypt,
  generateKey,
  inspectSealed,
  openSealed,
  readHeaderLength,
  SEALED_CHUNK_SIZE,
  SealstreamError,
} from '../src/index.ts';
import { ABORT_GRACE_MS } from '../src/source.ts';
import { pattern } from './helpers.ts';

const C = CHUNK_SIZE;
const key = generateKey();
const plain = pattern(6 * C + 99, 21);
const sealedP = encrypt(plain, { recipients: [key] });

/** Everything a stream delivers before it ends or fails, and how it ended. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ got: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { got: new Uint8Array(Buffer.concat(parts)), error: undefined };
      parts.push(value.slice());
    }
  } catch (error) {
    return { got: new Uint8Array(Buffer.concat(parts)), error };
  }
}

/** Rejects with "HUNG" when `work` has not settled after `ms`: a hang fails the test, not the run. */
function within<T>(work: Promise<T>, ms = 3000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('HUNG')), ms);
  });
  return Promise.race([work, hung]).finally(() => clearTimeout(timer));
}

/**
 * A source over `bytes` whose stored object is `bytes.subarray(0, shrunkTo)` once `shrinkAfter`
 * reads have been made (a file truncated while being read), with readInto as a file source would
 * write it: what there is, then nothing more, reporting the count only when `reportsCount`.
 */
function shrinkingFile(bytes: Uint8Array, shrunkTo: number, shrinkAfter: number, reportsCount: boolean) {
  let reads = 0;
  const now = () => (reads++ < shrinkAfter ? bytes : bytes.subarray(0, shrunkTo));
  const source: ByteSource = {
    size: bytes.length,
    async read(start, end) {
      return now().slice(start, end);
    },
    async readInto(start, end, into) {
      const there = now().subarray(start, end);
      into.set(there);
      return reportsCount ? there.length : undefined;
    },
  };
  return source;
}

describe('a source that answers short is TRUNCATED, naming both lengths, never CHUNK_AUTH_FAILED', () => {
  test.each([
    ['says nothing', false],
    ['reports its count', true],
  ])('a file that shrinks while a stream reads it, with readInto that %s', async (_, reportsCount) => {
    const sealed = await sealedP;
    const h = readHeaderLength(sealed)!;
    // shrinks after the header read and the first window, to the middle of chunk 3
    const cut = h + 56 + 3 * SEALED_CHUNK_SIZE + 100;
    const source = shrinkingFile(sealed, cut, 2, reportsCount);
    const object = await openSealed(source, { keys: [key], windowSize: 2 * C, parallel: 1 });
    const { got, error } = await drain(object.stream());
    expect(error).toBeInstanceOf(SealstreamError);
    expect(error).toMatchObject({ code: 'TRUNCATED' });
    const message = (error as Error).message;
    // the window [chunk 2, chunk 4): 100 + 16400 bytes of the 32800 asked for
    const from = h + 56 + 2 * SEALED_CHUNK_SIZE;
    expect(message).toContain(
      `returned ${SEALED_CHUNK_SIZE + 100} bytes for [${from}, ${from + 2 * SEALED_CHUNK_SIZE})`,
    );
    expect(message).toContain(`where ${2 * SEALED_CHUNK_SIZE} were expected`);
    expect(message).toContain('shorter');
    expect(message).not.toMatch(/tamper/);
    // the first window only: nothing of the window that came up short
    expect(got).toEqual(plain.subarray(0, 2 * C));
  });

  test('a size that says more than the object holds: the last window is TRUNCATED, through readInto too', async () => {
    const sealed = await sealedP;
    const lying: ByteSource = {
      size: sealed.length + SEALED_CHUNK_SIZE,
      read: async (start, end) => sealed.slice(start, end),
      async readInto(start, end, into) {
        into.set(sealed.subarray(start, end));
      },
    };
    const object = await openSealed(lying, { keys: [key], windowSize: C, parallel: 2 });
    const { got, error } = await drain(object.stream());
    expect(error).toMatchObject({ code: 'TRUNCATED', message: expect.stringContaining('shorter') });
    expect(got).toEqual(plain.subarray(0, 6 * C));
    await expect(object.read({ start: 6 * C, end: 6 * C + 1 })).rejects.toMatchObject({ code: 'TRUNCATED' });
  });

  test('a size that says less than the object holds: what a cut object gives (SPEC §10)', async () => {
    const sealed = await sealedP;
    const lastPiece = 99 + 16; // the final chunk's sealed length
    const smaller = (size: number): ByteSource => ({ size, read: async (a, b) => sealed.slice(a, b) });
    // at a chunk boundary: a length no object has, refused at open
    await expect(openSealed(smaller(sealed.length - lastPiece), { keys: [key] })).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
    // a chunk less: the object opens; ranges before the cut read; a read reaching the end fails
    const object = await openSealed(smaller(sealed.length - SEALED_CHUNK_SIZE), { keys: [key] });
    expect(object.size).toBe(plain.length - C);
    expect(await object.read({ start: 0, end: 5 * C })).toEqual(plain.subarray(0, 5 * C));
    await expect(object.read({ start: 5 * C, end: object.size })).rejects.toMatchObject({
      code: 'CHUNK_AUTH_FAILED',
      message: expect.stringContaining('final chunk'),
    });
  });

  test('a readInto that fills nothing while read() answers the bytes: INVALID_ARGUMENT naming readInto', async () => {
    const sealed = await sealedP;
    const broken: ByteSource = {
      size: sealed.length,
      read: async (start, end) => sealed.slice(start, end),
      async readInto() {},
    };
    const object = await openSealed(broken, { keys: [key], windowSize: 2 * C });
    const { got, error } = await drain(object.stream());
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('readInto') });
    expect(got.length).toBe(0);
  });

  test('a readInto that reports a count other than asked fails at once, before anything is opened', async () => {
    const sealed = await sealedP;
    let reads = 0;
    const claimsMore: ByteSource = {
      size: sealed.length,
      read: async (start, end) => {
        reads++;
        return sealed.slice(start, end);
      },
      async readInto(start, end, into) {
        into.set(sealed.subarray(start, end));
        return end - start + 1;
      },
    };
    const object = await openSealed(claimsMore, { keys: [key], windowSize: 2 * C });
    const before = reads;
    const { error } = await drain(object.stream());
    expect(error).toMatchObject({ code: 'TRUNCATED', message: expect.stringContaining('more than asked') });
    expect(reads).toBe(before); // no second read: the count said it all
  });

  test('tampered bytes read through readInto are still CHUNK_AUTH_FAILED (the second read agrees)', async () => {
    const sealed = (await sealedP).slice();
    const h = readHeaderLength(sealed)!;
    sealed[h + 56 + 3 * SEALED_CHUNK_SIZE + 9]! ^= 1;
    const source: ByteSource = {
      size: sealed.length,
      read: async (start, end) => sealed.slice(start, end),
      async readInto(start, end, into) {
        into.set(sealed.subarray(start, end));
        return end - start;
      },
    };
    const object = await openSealed(source, { keys: [key], windowSize: 2 * C, parallel: 1 });
    const { got, error } = await drain(object.stream());
    expect(error).toMatchObject({ code: 'CHUNK_AUTH_FAILED', message: expect.stringContaining('chunk 3') });
    expect(got).toEqual(plain.subarray(0, 2 * C));
  });

  test('readSequentialInto that claims bytes it did not write: checked with read(), never reported as tampering', async () => {
    const big = pattern(70 * C + 5, 3);
    const sealed = await encrypt(big, { recipients: [key] });
    const h = readHeaderLength(sealed)!;
    /** fill() writes only the first half of its second batch, but claims all of it. */
    const lying = (object: Uint8Array): ByteSource => ({
      size: sealed.length,
      read: async (start, end) => object.slice(start, end),
      readSequentialInto(start, end) {
        let position = start;
        let fills = 0;
        return {
          async fill(into) {
            const n = Math.min(into.length, end - position);
            const written = ++fills === 2 ? Math.floor(n / 2) : n;
            into.set(sealed.subarray(position, position + written));
            position += n;
            return n;
          },
          close() {},
        };
      },
    });
    // read() answers the whole object: the fill was wrong, and the error names it
    const broken = await openSealed(lying(sealed), { keys: [key], windowSize: C });
    const a = await drain(broken.stream());
    expect(a.error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('readSequentialInto'),
    });
    expect(a.got).toEqual(big.subarray(0, 64 * C)); // the first batch only
    // read() answers short too (the object shrank): TRUNCATED, naming the lengths
    const shrunk = sealed.subarray(0, h + 56 + 66 * SEALED_CHUNK_SIZE);
    const cut = await openSealed(lying(shrunk), { keys: [key], windowSize: C });
    const b = await drain(cut.stream());
    expect(b.error).toMatchObject({ code: 'TRUNCATED', message: expect.stringContaining('shorter') });
  });

  test('a source that answers more bytes than asked is TRUNCATED, and the message says more, not shorter', async () => {
    const sealed = await sealedP;
    const longer: ByteSource = {
      size: sealed.length,
      read: async (start, end) => sealed.slice(start, end + (start === 0 ? 0 : 1)),
    };
    const object = await openSealed(longer, { keys: [key], windowSize: C });
    const error = await object.read({ start: C, end: C + 1 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TRUNCATED', message: expect.stringContaining('more than asked') });
    expect(error.message).not.toContain('shorter');
  });
});

describe('aborts end reads, whatever the source does with its signal', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  /** A source that never answers payload reads and ignores its signal; `settle` lets them fail late. */
  function deaf(bytes: Uint8Array) {
    const pending: ((err: Error) => void)[] = [];
    const source: ByteSource = {
      size: bytes.length,
      read(start, end) {
        if (start === 0) return Promise.resolve(bytes.slice(start, end));
        return new Promise((_, reject) => pending.push(reject));
      },
      readInto() {
        return new Promise((_, reject) => pending.push(reject));
      },
    };
    const settle = () => {
      for (const reject of pending.splice(0)) reject(new Error('late'));
    };
    return { source, settle };
  }

  test('read() with a signal: rejects with its reason soon after the abort, not never', async () => {
    const d = deaf(await sealedP);
    const object = await openSealed(d.source, { keys: [key], windowSize: C });
    const controller = new AbortController();
    const reading = object.read({ start: 2 * C, end: 3 * C }, { signal: controller.signal });
    const reason = new Error('user stopped');
    setTimeout(() => controller.abort(reason), 10);
    await expect(within(reading)).rejects.toBe(reason);
    d.settle(); // the abandoned read fails later: handled, not an unhandled rejection
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  test('stream() with a signal, and stream cancel: both end, with readInto windows in flight', async () => {
    const d = deaf(await sealedP);
    const object = await openSealed(d.source, { keys: [key], windowSize: C, parallel: 3 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 10);
    const { error } = await within(drain(object.stream(undefined, { signal: controller.signal })));
    expect(error).toMatchObject({ message: 'stop' });
    const reader = object.stream().getReader();
    const pending = reader.read();
    await new Promise((r) => setTimeout(r, 10));
    await within(reader.cancel(new Error('enough')));
    expect(await within(pending)).toMatchObject({ done: true });
    d.settle();
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);
  });

  test('a source that honors its signal: its own error is the one reported (the grace period)', async () => {
    const sealed = await sealedP;
    class SourceAborted extends Error {}
    const honoring: ByteSource = {
      size: sealed.length,
      read(start, end, signal) {
        if (start === 0) return Promise.resolve(sealed.slice(start, end));
        return new Promise((_, reject) => {
          // like a transport: the abort reaches it a little later, through its own machinery
          signal?.addEventListener('abort', () => setTimeout(() => reject(new SourceAborted('aborted')), 5));
        });
      },
    };
    expect(ABORT_GRACE_MS).toBeGreaterThan(5);
    const object = await openSealed(honoring, { keys: [key], windowSize: C });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    await expect(
      within(object.read({ start: C, end: 2 * C }, { signal: controller.signal })),
    ).rejects.toBeInstanceOf(SourceAborted);
  });

  test('openSealed and inspectSealed: a header read the source never answers ends with the abort', async () => {
    const never: ByteSource = { size: 1000, read: () => new Promise<Uint8Array>(() => {}) };
    for (const open of [
      (signal: AbortSignal) => openSealed(never, { keys: [key], signal }),
      (signal: AbortSignal) => inspectSealed(never, { signal }),
    ]) {
      const controller = new AbortController();
      const reason = new Error('gave up');
      setTimeout(() => controller.abort(reason), 10);
      await expect(within(open(controller.signal))).rejects.toBe(reason);
    }
  });

  test('an aborted signal ends a read the header read already holds (no source call to notice it)', async () => {
    const small = await encrypt(pattern(300), { recipients: [key] });
    const object = await openSealed(bytesSource(small), { keys: [key] });
    const reason = new Error('aborted before');
    await expect(object.read(undefined, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const { got, error } = await drain(object.stream(undefined, { signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    expect(got.length).toBe(0);
  });
});

describe('sources written loosely in JavaScript', () => {
  test('read, readInto and fill may answer without a promise, with or without a signal', async () => {
    const sealed = await sealedP;
    const plainSource = {
      size: sealed.length,
      read: (start: number, end: number) => sealed.slice(start, end),
      readInto: (start: number, end: number, into: Uint8Array) => {
        into.set(sealed.subarray(start, end));
        return end - start;
      },
    } as unknown as ByteSource;
    const signal = new AbortController().signal;
    const object = await openSealed(plainSource, { keys: [key], windowSize: C, signal });
    expect(await object.read({ start: 5, end: 3 * C }, { signal })).toEqual(plain.subarray(5, 3 * C));
    expect((await drain(object.stream(undefined, { signal }))).got).toEqual(plain);
    const sequential = {
      size: sealed.length,
      read: (start: number, end: number) => sealed.slice(start, end),
      readSequentialInto: (start: number) => {
        let position = start;
        return {
          fill: (into: Uint8Array) => {
            const piece = sealed.subarray(position, position + into.length);
            into.set(piece);
            position += piece.length;
            return piece.length;
          },
          close: () => {},
        };
      },
    } as unknown as ByteSource;
    const streamed = await openSealed(sequential, { keys: [key], windowSize: C });
    expect((await drain(streamed.stream(undefined, { signal }))).got).toEqual(plain);
  });
});

describe('reads racing on one reader', () => {
  test('read() and streams at once, through one readInto source, each get exactly their bytes', async () => {
    const sealed = await sealedP;
    const source: ByteSource = {
      size: sealed.length,
      read: async (start, end) => sealed.slice(start, end),
      async readInto(start, end, into) {
        await new Promise((r) => setTimeout(r, (start * 7) % 5));
        into.set(sealed.subarray(start, end));
        return end - start;
      },
    };
    const object = await openSealed(source, { keys: [key], windowSize: C, parallel: 3 });
    const ranges = [
      { start: 0, end: plain.length },
      { start: C - 3, end: 4 * C + 5 },
      { start: 5 * C + 1, end: plain.length },
      { start: 17, end: 18 },
    ];
    const results = await Promise.all(
      ranges.flatMap((r) => [object.read(r), drain(object.stream(r)).then((d) => d.got)]),
    );
    results.forEach((got, i) => {
      const r = ranges[Math.floor(i / 2)]!;
      expect(Buffer.compare(got, plain.subarray(r.start, r.end)), `${i}`).toBe(0);
    });
  });
});
