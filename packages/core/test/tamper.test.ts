/** Negative tests: every byte flipped, truncation, reordering, trailing data (SPEC §6.3, §9). */
import { describe, expect, test } from 'vitest';
import {
  decrypt,
  decryptStream,
  encrypt,
  generateKey,
  isSealstreamError,
  readHeaderLength,
} from '../src/index.ts';
import { CHUNK_SIZE, PAYLOAD_PREFIX_LENGTH, SEALED_CHUNK_SIZE } from '../src/sizes.ts';
import { pattern, runTransform, split } from './helpers.ts';

const key = generateKey();
const plain = pattern(2 * CHUNK_SIZE + 100);
const sealed = await encrypt(plain, { recipients: [key], identity: 'bucket/object' });
const H = readHeaderLength(sealed)!;
const P = H + PAYLOAD_PREFIX_LENGTH; // first chunk
const chunk = (file: Uint8Array, k: number) =>
  file.subarray(P + k * SEALED_CHUNK_SIZE, P + (k + 1) * SEALED_CHUNK_SIZE);

async function codeOf(file: Uint8Array): Promise<string> {
  try {
    await decrypt(file, { keys: [key] });
    return 'success';
  } catch (e) {
    return isSealstreamError(e) ? e.code : `unexpected ${e}`;
  }
}

/** What flipping a byte at `offset` must give, by the region it falls in (SPEC §4.1, §6). */
function expectedForFlip(offset: number): string[] {
  if (offset < 10) return ['HEADER_INVALID'];
  if (offset === 10) return ['UNSUPPORTED_VERSION'];
  // Lengths, content header and recipients: the header no longer parses, or parses to something
  // that no key opens, or opens but fails the commitment. Never success.
  if (offset < H) {
    return [
      'HEADER_INVALID',
      'HEADER_TOO_LARGE',
      'UNSUPPORTED_SUITE',
      'NO_MATCHING_KEY',
      'COMMITMENT_MISMATCH',
      'TRUNCATED',
    ];
  }
  if (offset < P) return ['COMMITMENT_MISMATCH'];
  return ['CHUNK_AUTH_FAILED'];
}

describe('every single-byte flip of a three-chunk object', () => {
  test('fails with the error of its region, and decrypt() returns nothing', async () => {
    const seen = new Map<string, number>();
    for (let offset = 0; offset < sealed.length; offset++) {
      const copy = sealed.slice();
      copy[offset]! ^= 0x80;
      const code = await codeOf(copy);
      seen.set(code, (seen.get(code) ?? 0) + 1);
      if (!expectedForFlip(offset).includes(code)) {
        expect.fail(
          `flip at offset ${offset} (header length ${H}) gave ${code}, expected one of ${expectedForFlip(offset)}`,
        );
      }
    }
    expect(seen.get('CHUNK_AUTH_FAILED')).toBe(sealed.length - P);
    expect(seen.has('success')).toBe(false);
  }, 120_000);
});

describe('truncation', () => {
  function expectedForCut(length: number): string {
    if (length < P) return 'TRUNCATED';
    const r = (length - P) % SEALED_CHUNK_SIZE;
    return r < 16 ? 'TRUNCATED' : 'CHUNK_AUTH_FAILED';
  }
  const cuts = new Set<number>();
  for (let n = 0; n <= P; n++) cuts.add(n); // every cut in the header, salt and commitment
  for (let k = 0; k <= 2; k++) {
    const boundary = P + k * SEALED_CHUNK_SIZE;
    for (const d of [0, 1, 15, 16, 17, 1000, 16_383, 16_399])
      if (boundary + d < sealed.length) cuts.add(boundary + d);
  }
  for (let n = P; n < sealed.length; n += 997) cuts.add(n);

  test(`${cuts.size} cut points, each an error of its kind`, async () => {
    for (const n of cuts) {
      expect(await codeOf(sealed.subarray(0, n)), `cut at ${n}`).toBe(expectedForCut(n));
    }
  }, 120_000);
});

describe('chunk order', () => {
  const five = pattern(4 * CHUNK_SIZE + 10);
  const file = encrypt(five, { recipients: [key] });
  const parts = async () => {
    const f = await file;
    const h = readHeaderLength(f)! + PAYLOAD_PREFIX_LENGTH;
    const chunks = [0, 1, 2, 3, 4].map((k) =>
      f.subarray(h + k * SEALED_CHUNK_SIZE, h + (k + 1) * SEALED_CHUNK_SIZE),
    );
    return { head: f.subarray(0, h), chunks };
  };
  const join = (head: Uint8Array, chunks: Uint8Array[]) => new Uint8Array(Buffer.concat([head, ...chunks]));

  test('swapping any two chunks fails authentication', async () => {
    const { head, chunks } = await parts();
    for (let i = 0; i < 5; i++) {
      for (let j = i + 1; j < 5; j++) {
        const order = [...chunks];
        [order[i], order[j]] = [order[j]!, order[i]!];
        expect(await codeOf(join(head, order)), `swap ${i} ${j}`).toBe('CHUNK_AUTH_FAILED');
      }
    }
  });

  test('duplicating any chunk fails', async () => {
    const { head, chunks } = await parts();
    for (let i = 0; i < 5; i++) {
      const order = [...chunks.slice(0, i + 1), chunks[i]!, ...chunks.slice(i + 1)];
      const code = await codeOf(join(head, order));
      // A duplicated final chunk is a valid object followed by trailing data.
      expect(code, `duplicate ${i}`).toBe(i === 4 ? 'TRAILING_DATA' : 'CHUNK_AUTH_FAILED');
    }
  });

  test('dropping a chunk fails: a full one breaks the order, the final one truncates', async () => {
    const { head, chunks } = await parts();
    for (let i = 0; i < 5; i++) {
      const code = await codeOf(
        join(
          head,
          chunks.filter((_, k) => k !== i),
        ),
      );
      expect(code, `drop ${i}`).toBe(i === 4 ? 'TRUNCATED' : 'CHUNK_AUTH_FAILED');
    }
  });

  test('a chunk from another object under the same key fails', async () => {
    const { head, chunks } = await parts();
    const other = await encrypt(five, { recipients: [key] });
    const h = readHeaderLength(other)! + PAYLOAD_PREFIX_LENGTH;
    const foreign = other.subarray(h + SEALED_CHUNK_SIZE, h + 2 * SEALED_CHUNK_SIZE);
    expect(await codeOf(join(head, [chunks[0]!, foreign, ...chunks.slice(2)]))).toBe('CHUNK_AUTH_FAILED');
  });
});

describe('trailing data', () => {
  test.each([1, 15, 16, 100, 16_000])('%i bytes appended are reported as TRAILING_DATA', async (n) => {
    expect(await codeOf(new Uint8Array(Buffer.concat([sealed, Buffer.alloc(n, 7)])))).toBe('TRAILING_DATA');
  });

  test('a whole sealed chunk appended fails authentication (the stream cannot tell it from tampering)', async () => {
    expect(await codeOf(new Uint8Array(Buffer.concat([sealed, chunk(sealed, 0)])))).toBe('CHUNK_AUTH_FAILED');
  });
});

describe('no unauthenticated plaintext is released', () => {
  const big = pattern(100 * CHUNK_SIZE + 5);
  test.each([0, 1, 63, 64, 65, 99, 100])(
    'a flip in chunk %i of 101: the stream errors and releases only earlier chunks',
    async (k) => {
      const file = await encrypt(big, { recipients: [key] });
      const start = readHeaderLength(file)! + PAYLOAD_PREFIX_LENGTH + k * SEALED_CHUNK_SIZE;
      file[start + 3]! ^= 1;
      for (const [w, backend] of [
        [1 << 20, 'node'],
        [SEALED_CHUNK_SIZE, 'node'],
        [4096, 'node'],
        [1 << 20, 'webcrypto'],
        [3 * SEALED_CHUNK_SIZE, 'noble'],
      ] as const) {
        const { output, error } = await runTransform(decryptStream({ keys: [key], backend }), split(file, w));
        expect(isSealstreamError(error, 'CHUNK_AUTH_FAILED')).toBe(true);
        expect(output.length).toBeLessThanOrEqual(k * CHUNK_SIZE);
        expect(Buffer.from(output).equals(Buffer.from(big.subarray(0, output.length)))).toBe(true);
      }
    },
  );

  test('a stream that fails errors out instead of ending cleanly', async () => {
    const file = sealed.slice(0, sealed.length - 1);
    const readable = new Blob([file]).stream().pipeThrough(decryptStream({ keys: [key] }));
    const reader = readable.getReader();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })(),
    ).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
  });
});
