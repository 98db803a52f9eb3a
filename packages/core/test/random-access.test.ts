/** Sizes and random access (SPEC §8): exact sizes from lengths, ranged decryption of just the chunks needed. */
import { describe, expect, test } from 'vitest';
import {
  CHUNK_SIZE,
  ciphertextSize,
  encrypt,
  generateKey,
  isSealstreamError,
  openHeader,
  openPrefixLength,
  plaintextSize,
  readHeaderLength,
} from '../src/index.ts';
import { pattern } from './helpers.ts';

const C = CHUNK_SIZE;
const key = generateKey();

describe('sizes', () => {
  test('ciphertextSize and plaintextSize invert each other, and match real objects', async () => {
    for (const n of [0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 17]) {
      const sealed = await encrypt(pattern(n), { recipients: [key] });
      const h = readHeaderLength(sealed)!;
      expect(ciphertextSize(n, h)).toBe(sealed.length);
      expect(plaintextSize(sealed.length, h)).toBe(n);
    }
  });

  test('plaintextSize is exact at large sizes and every valid length maps back', () => {
    for (const n of [2 ** 40, 2 ** 52 - 1, 5 * 2 ** 30 + 3])
      expect(plaintextSize(ciphertextSize(n, 100), 100)).toBe(n);
  });

  test('lengths that no plaintext has are TRUNCATED', () => {
    const h = 100;
    for (const bad of [0, h + 56, h + 56 + 15, h + 56 + 16400, h + 56 + 16400 + 15, h + 56 + 2 * 16400]) {
      expect(() => plaintextSize(bad, h), `length ${bad}`).toThrow(
        expect.objectContaining({ code: 'TRUNCATED' }),
      );
    }
  });

  test('negative or fractional sizes are INVALID_ARGUMENT', () => {
    expect(() => ciphertextSize(-1, 10)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => plaintextSize(1.5, 10)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('random access', () => {
  const n = 5 * C + 123;
  const plain = pattern(n);
  const sealedP = encrypt(plain, { recipients: [key], identity: 'b/k' });

  const read = async (start: number, end: number, mutate?: (file: Uint8Array) => void) => {
    const sealed = (await sealedP).slice();
    mutate?.(sealed);
    const prefix = sealed.subarray(0, openPrefixLength(readHeaderLength(sealed)!));
    const opened = await openHeader(prefix, { keys: [key], identity: 'b/k' });
    const plan = opened.planRange({ start, end }, sealed.length);
    const fetched = sealed.subarray(plan.ciphertextStart, plan.ciphertextEnd);
    return { plan, bytes: await opened.decryptRange(plan, fetched), fetched: fetched.length };
  };

  const edges = [0, 1, C - 1, C, C + 1, 2 * C, 4 * C + 5, 5 * C, n - 1];
  test('every range between chunk edges returns exactly the requested bytes', async () => {
    for (const start of edges) {
      for (const end of [...edges, n].filter((e) => e > start)) {
        const { bytes } = await read(start, end);
        expect(Buffer.from(bytes).equals(Buffer.from(plain.subarray(start, end))), `[${start}, ${end})`).toBe(
          true,
        );
      }
    }
  });

  test('fetches only the chunks that cover the range', async () => {
    const { plan, fetched } = await read(C + 10, C + 11);
    expect(plan.firstChunk).toBe(1);
    expect(plan.lastChunk).toBe(1);
    expect(fetched).toBe(C + 16);
    expect(plan.includesFinalChunk).toBe(false);
  });

  test('a range that touches the end also fetches and authenticates the final chunk', async () => {
    // An object of exactly 2 chunks ends with an empty final chunk, which proves the length.
    const exact = pattern(2 * C);
    const sealed = await encrypt(exact, { recipients: [key] });
    const opened = await openHeader(sealed, { keys: [key] });
    const plan = opened.planRange({ start: 2 * C - 1, end: 2 * C }, sealed.length);
    expect(plan.lastChunk).toBe(2);
    expect(plan.includesFinalChunk).toBe(true);
    expect(plan.ciphertextEnd).toBe(sealed.length);
    expect(
      await opened.decryptRange(plan, sealed.subarray(plan.ciphertextStart, plan.ciphertextEnd)),
    ).toEqual(exact.subarray(2 * C - 1));
  });

  test('ranges outside the plaintext are RANGE_NOT_SATISFIABLE', async () => {
    for (const [s, e] of [
      [0, n + 1],
      [n, n + 1],
      [5, 5],
      [-1, 3],
    ]) {
      await expect(read(s!, e!), `[${s}, ${e})`).rejects.toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });
    }
  });

  test('a tampered chunk in the range fails; a tampered chunk outside it is not read', async () => {
    const chunk2 = (f: Uint8Array) => {
      f[readHeaderLength(f)! + 56 + 2 * (C + 16) + 9]! ^= 1;
    };
    await expect(read(2 * C, 2 * C + 5, chunk2)).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
    expect((await read(0, 10, chunk2)).bytes).toEqual(plain.subarray(0, 10));
  });

  test('wrong length of fetched bytes is TRUNCATED', async () => {
    const sealed = await sealedP;
    const opened = await openHeader(sealed, { keys: [key] });
    const plan = opened.planRange({ start: 0, end: 10 }, sealed.length);
    const err = await opened
      .decryptRange(plan, sealed.subarray(plan.ciphertextStart, plan.ciphertextEnd - 1))
      .catch((e) => e);
    expect(isSealstreamError(err, 'TRUNCATED')).toBe(true);
  });

  test('openHeader checks the identity and the commitment', async () => {
    const sealed = await sealedP;
    await expect(openHeader(sealed, { keys: [key], identity: 'other/k' })).rejects.toMatchObject({
      code: 'IDENTITY_MISMATCH',
    });
    const bad = sealed.slice();
    bad[readHeaderLength(bad)! + 40]! ^= 1;
    await expect(openHeader(bad, { keys: [key] })).rejects.toMatchObject({ code: 'COMMITMENT_MISMATCH' });
  });
});
