/**
 * Sealing from the middle (resume.ts): any byte range of the sealed object, re-derived from the
 * plaintext, is byte-identical to an uninterrupted seal, whatever the size (the final chunk short,
 * empty, or at a batch edge) and wherever the range starts and ends.
 */
import { describe, expect, test } from 'vitest';
import {
  bytesSource,
  CHUNK_SIZE,
  createResumableSealing,
  createSealer,
  encrypt,
  generateKey,
  inspectSealed,
  isSealstreamError,
  openSealed,
  resumeSealing,
  SEALED_CHUNK_SIZE,
  sealedLength,
} from '../src/index.ts';
import { BACKENDS, pattern } from './helpers.ts';

const fixedRandom = () => {
  let n = 0;
  return (length: number) => Uint8Array.from({ length }, () => n++ & 0xff);
};

const SIZES = [
  0,
  1,
  CHUNK_SIZE - 1,
  CHUNK_SIZE,
  CHUNK_SIZE + 1,
  3 * CHUNK_SIZE,
  64 * CHUNK_SIZE, // one whole batch of sealRange, then the empty final chunk
  65 * CHUNK_SIZE + 7,
  3 * 1024 * 1024 + 5,
  4 * 1024 * 1024, // an exact multiple of MiB-sized parts
];

/** Reads plaintext from memory, recording which offsets were asked for. */
function reader(plain: Uint8Array, asked: [number, number][] = []) {
  return async (offset: number, into: Uint8Array) => {
    asked.push([offset, offset + into.length]);
    if (offset + into.length > plain.length) throw new Error('read past the end');
    into.set(plain.subarray(offset, offset + into.length));
  };
}

/** Cuts `[0, size)` into consecutive ranges of `step` bytes, returned in a scrambled order. */
function ranges(size: number, step: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < size; a += step) out.push([a, Math.min(size, a + step)]);
  return out.reverse().sort((x, y) => ((x[0] / step) % 3) - ((y[0] / step) % 3));
}

describe('sealing from the middle gives the bytes of an uninterrupted seal', () => {
  const key = generateKey();
  test.each(SIZES)('plaintext of %i bytes', async (size) => {
    const plain = pattern(size, size + 1);
    const expected = await encrypt(plain, { recipients: [key], identity: 'b/k', _random: fixedRandom() });
    const fresh = await createResumableSealing(
      { recipients: [key], identity: 'b/k', _random: fixedRandom() },
      size,
    );
    expect(fresh.sealedSize).toBe(expected.length);
    expect(Buffer.compare(fresh.prefix, expected.subarray(0, fresh.prefix.length))).toBe(0);
    // a second process: only the prefix (as a journal holds it) and the key
    const resumed = await resumeSealing(expected.subarray(0, fresh.prefix.length), {
      keys: key,
      identity: 'b/k',
      size,
    });
    for (const sealing of [fresh, resumed]) {
      // part-like ranges: a prefix-sized one, odd sizes straddling chunks, a single sealed chunk, MiB parts
      for (const step of [fresh.prefix.length, 100_003, SEALED_CHUNK_SIZE, 1024 * 1024]) {
        if (expected.length / step > 40) continue; // keep it quick: at most 40 ranges

        const out = new Uint8Array(expected.length);
        for (const [a, b] of ranges(expected.length, step)) {
          const part = new Uint8Array(b - a);
          await sealing.sealRange(a, b, part, reader(plain));
          out.set(part, a);
        }
        expect(Buffer.compare(out, expected), `step ${step}`).toBe(0);
      }
    }
  });

  test('the same with the chunk-level call, on every backend', async () => {
    const size = 5 * CHUNK_SIZE + 100;
    const plain = pattern(size, 9);
    for (const backend of BACKENDS) {
      const { prefix, sealer } = await createSealer({ recipients: [key], backend, _random: fixedRandom() });
      const out = new Uint8Array(sealedLength(size, true));
      await sealer.seal(plain, out, true);
      const sealing = await resumeSealing(prefix, { keys: key, size, backend });
      // chunk 3 alone, then chunks 4 and the final chunk 5 (100 bytes)
      const three = new Uint8Array(SEALED_CHUNK_SIZE);
      expect(await sealing.sealChunks(3, plain.subarray(3 * CHUNK_SIZE, 4 * CHUNK_SIZE), three)).toBe(
        SEALED_CHUNK_SIZE,
      );
      expect(Buffer.compare(three, out.subarray(3 * SEALED_CHUNK_SIZE, 4 * SEALED_CHUNK_SIZE))).toBe(0);
      const tail = new Uint8Array(SEALED_CHUNK_SIZE + 116);
      expect(await sealing.sealChunks(4, plain.subarray(4 * CHUNK_SIZE), tail)).toBe(tail.length);
      expect(Buffer.compare(tail, out.subarray(4 * SEALED_CHUNK_SIZE)), backend).toBe(0);
    }
  });

  test('an empty final chunk is sealed only by the call that reaches the end', async () => {
    const size = 2 * CHUNK_SIZE;
    const plain = pattern(size, 3);
    const expected = await encrypt(plain, { recipients: [key], _random: fixedRandom() });
    const sealing = await resumeSealing(expected, { keys: key, size });
    const out = new Uint8Array(2 * SEALED_CHUNK_SIZE + 16);
    // the two whole chunks are the whole plaintext: the call seals the empty final chunk too
    expect(await sealing.sealChunks(0, plain, out)).toBe(out.length);
    expect(Buffer.compare(out, expected.subarray(sealing.prefix.length))).toBe(0);
    // the final chunk alone: no plaintext at all
    const last = new Uint8Array(16);
    expect(await sealing.sealChunks(2, new Uint8Array(0), last)).toBe(16);
    expect(Buffer.compare(last, expected.subarray(expected.length - 16))).toBe(0);
  });

  test('a range reads only the plaintext of the chunks it overlaps', async () => {
    const size = 10 * CHUNK_SIZE + 5;
    const plain = pattern(size, 4);
    const sealing = await createResumableSealing({ recipients: [key] }, size);
    const p = sealing.prefix.length;
    const asked: [number, number][] = [];
    // from the middle of chunk 2 to the middle of chunk 4
    await sealing.sealRange(
      p + 2 * SEALED_CHUNK_SIZE + 10,
      p + 4 * SEALED_CHUNK_SIZE + 10,
      new Uint8Array(2 * SEALED_CHUNK_SIZE),
      reader(plain, asked),
    );
    expect(asked).toEqual([[2 * CHUNK_SIZE, 5 * CHUNK_SIZE]]);
    // the prefix alone reads nothing
    asked.length = 0;
    await sealing.sealRange(0, p, new Uint8Array(p), reader(plain, asked));
    expect(asked).toEqual([]);
  });

  test('the result opens, and the independent reader sees an ordinary object', async () => {
    const size = 200_000;
    const plain = pattern(size, 5);
    const sealing = await createResumableSealing({ recipients: [key], identity: 'x/y' }, size);
    const object = new Uint8Array(sealing.sealedSize);
    await sealing.sealRange(0, object.length, object, reader(plain));
    const facts = await inspectSealed(bytesSource(object));
    expect(facts?.size).toBe(size);
    expect(facts?.header.identity).toBe('x/y');
    const opened = await openSealed(bytesSource(object), { keys: key, identity: 'x/y' });
    expect(Buffer.compare(await opened.read(), plain)).toBe(0);
  });
});

describe('refusals', () => {
  test('keys that do not open the header: NO_MATCHING_KEY, before anything is sealed', async () => {
    const key = generateKey();
    const sealing = await createResumableSealing({ recipients: [key] }, 1000);
    const err = await resumeSealing(sealing.prefix, { keys: generateKey(), size: 1000 }).catch((e) => e);
    expect(isSealstreamError(err, 'NO_MATCHING_KEY')).toBe(true);
    const bad = await resumeSealing(sealing.prefix, { keys: { passphrase: 'not it' }, size: 1000 }).catch(
      (e) => e,
    );
    expect(isSealstreamError(bad, 'NO_MATCHING_KEY')).toBe(true);
  });

  test('another identity, a tampered salt, a cut prefix', async () => {
    const key = generateKey();
    const sealing = await createResumableSealing({ recipients: [key], identity: 'a/b' }, 10);
    const other = await resumeSealing(sealing.prefix, { keys: key, identity: 'a/c', size: 10 }).catch(
      (e) => e,
    );
    expect(isSealstreamError(other, 'IDENTITY_MISMATCH')).toBe(true);
    const tampered = new Uint8Array(sealing.prefix);
    tampered[tampered.length - 40]! ^= 1;
    const t = await resumeSealing(tampered, { keys: key, size: 10 }).catch((e) => e);
    expect(isSealstreamError(t, 'COMMITMENT_MISMATCH')).toBe(true);
    const cut = await resumeSealing(sealing.prefix.subarray(0, sealing.prefix.length - 1), {
      keys: key,
      size: 10,
    }).catch((e) => e);
    expect(isSealstreamError(cut, 'TRUNCATED')).toBe(true);
  });

  test('misuse: a range outside the object, a partial chunk in the middle, a chunk past the end', async () => {
    const sealing = await createResumableSealing({ recipients: [generateKey()] }, 3 * CHUNK_SIZE);
    const read = reader(new Uint8Array(3 * CHUNK_SIZE));
    const codes = await Promise.all([
      sealing
        .sealRange(0, sealing.sealedSize + 1, new Uint8Array(sealing.sealedSize + 1), read)
        .catch((e) => e.code),
      sealing.sealRange(0, 10, new Uint8Array(9), read).catch((e) => e.code),
      sealing.sealChunks(0, new Uint8Array(100), new Uint8Array(200)).catch((e) => e.code),
      sealing.sealChunks(4, new Uint8Array(0), new Uint8Array(16)).catch((e) => e.code),
      createResumableSealing({ recipients: [generateKey()] }, -1).catch((e) => e.code),
    ]);
    expect(codes).toEqual(Array(5).fill('INVALID_ARGUMENT'));
  });

  test('a plaintext reader that comes up short (a file that shrank) says so: TRUNCATED, nothing sealed from it', async () => {
    const size = 70 * CHUNK_SIZE + 3;
    const plain = pattern(size, 4);
    const sealing = await createResumableSealing({ recipients: [generateKey()] }, size);
    // a file cut at 66 chunks since its size was taken, read as a file is: what there is, and the count
    const shrunk = plain.subarray(0, 66 * CHUNK_SIZE);
    const fileRead = async (offset: number, into: Uint8Array) => {
      const there = shrunk.subarray(offset, offset + into.length);
      into.set(there);
      return there.length;
    };
    const out = new Uint8Array(sealing.sealedSize);
    const error = await sealing.sealRange(0, sealing.sealedSize, out, fileRead).catch((e) => e);
    expect(error).toMatchObject({
      code: 'TRUNCATED',
      message: expect.stringContaining(
        `wrote ${2 * CHUNK_SIZE} bytes at ${64 * CHUNK_SIZE} where ${6 * CHUNK_SIZE + 3}`,
      ),
    });
    // a reader that counts right, or says nothing, seals as before
    const whole = new Uint8Array(sealing.sealedSize);
    await sealing.sealRange(0, sealing.sealedSize, whole, async (offset, into) => {
      into.set(plain.subarray(offset, offset + into.length));
      return into.length;
    });
    const silent = new Uint8Array(sealing.sealedSize);
    await sealing.sealRange(0, sealing.sealedSize, silent, reader(plain));
    expect(Buffer.compare(whole, silent)).toBe(0);
  });
});

test('plaintextRange names the chunks a sealed range overlaps', async () => {
  const size = 3 * CHUNK_SIZE + 10;
  const sealing = await createResumableSealing({ recipients: [generateKey()] }, size);
  const p = sealing.prefix.length;
  expect(sealing.plaintextRange(0, p)).toEqual({ start: 0, end: 0 });
  expect(sealing.plaintextRange(0, p + 1)).toEqual({ start: 0, end: CHUNK_SIZE });
  expect(sealing.plaintextRange(p + SEALED_CHUNK_SIZE - 1, p + SEALED_CHUNK_SIZE + 1)).toEqual({
    start: 0,
    end: 2 * CHUNK_SIZE,
  });
  expect(sealing.plaintextRange(p + 3 * SEALED_CHUNK_SIZE, sealing.sealedSize)).toEqual({
    start: 3 * CHUNK_SIZE,
    end: size,
  });
});
