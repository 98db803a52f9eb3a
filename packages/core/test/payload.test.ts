/** The payload engine's building blocks over caller buffers, and the ownership of stream output. */
import { describe, expect, test } from 'vitest';
import {
  CHUNK_SIZE,
  createOpener,
  createSealer,
  decrypt,
  decryptStream,
  encrypt,
  encryptStream,
  generateKey,
  isSealstreamError,
  openedLength,
  SEALED_CHUNK_SIZE,
  sealedLength,
} from '../src/index.ts';
import { BACKENDS, pattern, split } from './helpers.ts';

const key = generateKey();
const fixedRandom = () => {
  let seed = 1;
  return (n: number) => pattern(n, seed++);
};

/** Seals `plain` with a sealer, `piece` bytes (whole chunks) per call into one reused buffer. */
async function sealInPieces(plain: Uint8Array, piece: number, backend?: (typeof BACKENDS)[number]) {
  const { prefix, sealer } = await createSealer({ recipients: [key], backend, _random: fixedRandom() });
  const out = new Uint8Array(sealedLength(piece, true));
  const parts = [prefix];
  for (let off = 0; ; off += piece) {
    const final = off + piece >= plain.length;
    const n = await sealer.seal(plain.subarray(off, off + piece), out, final);
    parts.push(out.slice(0, n));
    if (final) return new Uint8Array(Buffer.concat(parts));
  }
}

async function openInPieces(sealed: Uint8Array, piece: number) {
  const { payloadStart, opener } = await createOpener(sealed.subarray(0, 4096), { keys: [key] });
  const out = new Uint8Array(openedLength(piece, false));
  const parts: Uint8Array[] = [];
  let off = payloadStart;
  for (; sealed.length - off > piece; off += piece) {
    parts.push(out.slice(0, await opener.open(sealed.subarray(off, off + piece), out, false)));
  }
  const last = new Uint8Array(openedLength(sealed.length - off, true));
  parts.push(last.subarray(0, await opener.open(sealed.subarray(off), last, true)));
  return new Uint8Array(Buffer.concat(parts));
}

/** Byte equality without vitest's element-by-element diff, which is slow on megabytes. */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

const codeOf = (e: unknown) => (isSealstreamError(e) ? e.code : `unexpected ${e}`);

describe.each(BACKENDS)('%s: sealer and opener over reused buffers', (backend) => {
  test.each([0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 5 * CHUNK_SIZE + 7])(
    'length %i: the same bytes as encrypt(), in pieces of one and of two chunks, and back',
    async (length) => {
      const plain = pattern(length, length + 1);
      const expected = await encrypt(plain, { recipients: [key], backend, _random: fixedRandom() });
      for (const chunks of [1, 2]) {
        const sealed = await sealInPieces(plain, chunks * CHUNK_SIZE, backend);
        expect(same(sealed, expected), `sealed in pieces of ${chunks} chunks`).toBe(true);
        expect(same(await openInPieces(sealed, chunks * SEALED_CHUNK_SIZE), plain)).toBe(true);
      }
    },
  );
});

describe('sealer and opener: misuse and bad input end in typed errors', () => {
  test('the sealer refuses a partial chunk before the end, a short output, and calls after the final one', async () => {
    const { sealer } = await createSealer({ recipients: [key] });
    const out = new Uint8Array(sealedLength(2 * CHUNK_SIZE, true));
    await expect(sealer.seal(new Uint8Array(100), out, false)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(
      sealer.seal(new Uint8Array(CHUNK_SIZE), new Uint8Array(CHUNK_SIZE), false),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await sealer.seal(new Uint8Array(CHUNK_SIZE), out, false)).toBe(SEALED_CHUNK_SIZE);
    expect(await sealer.seal(new Uint8Array(5), out, true)).toBe(21);
    expect(sealer.chunks).toBe(2);
    await expect(sealer.seal(new Uint8Array(0), out, true)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  const plain = pattern(3 * CHUNK_SIZE + 10);
  const sealedP = encrypt(plain, { recipients: [key] });

  test('a tampered chunk: CHUNK_AUTH_FAILED naming it, and nothing of it left in the output', async () => {
    const sealed = (await sealedP).slice();
    const { payloadStart, opener } = await createOpener(sealed, { keys: [key] });
    sealed[payloadStart + SEALED_CHUNK_SIZE + 100]! ^= 1;
    const out = new Uint8Array(openedLength(sealed.length - payloadStart, true)).fill(0xaa);
    const error = await opener.open(sealed.subarray(payloadStart), out, true).catch((e) => e);
    expect(codeOf(error)).toBe('CHUNK_AUTH_FAILED');
    expect(error.message).toContain('chunk 1 ');
    expect(out.subarray(0, CHUNK_SIZE)).toEqual(plain.subarray(0, CHUNK_SIZE)); // chunk 0 authenticated
    expect(out.subarray(CHUNK_SIZE, 2 * CHUNK_SIZE).every((b) => b === 0)).toBe(true);
    const after = await opener.open(new Uint8Array(0), out, true).catch((e) => e);
    expect(codeOf(after)).toBe('INVALID_ARGUMENT');
    expect(after.message).toContain('an earlier call failed'); // not only "already finished"
  });

  test('bytes after the final chunk: TRAILING_DATA; no final chunk: TRUNCATED; a cut tag: TRUNCATED', async () => {
    const sealed = await sealedP;
    const open = async (payload: Uint8Array, whole: boolean) => {
      const { payloadStart, opener } = await createOpener(sealed, { keys: [key] });
      const body = payload.subarray(payloadStart);
      const out = new Uint8Array(openedLength(body.length, true) + CHUNK_SIZE);
      return opener.open(body, out, !whole).then(
        () => 'success',
        (e) => codeOf(e),
      );
    };
    expect(await open(new Uint8Array(Buffer.concat([sealed, new Uint8Array(3)])), false)).toBe(
      'TRAILING_DATA',
    );
    const cut = sealed.length - ((sealed.length - 0) % 1); // whole object
    expect(await open(sealed.subarray(0, cut), false)).toBe('success');
    // Without its final chunk, the payload is whole chunks only: the final call finds no final chunk.
    const withoutFinal = sealed.subarray(0, sealed.length - (10 + 16));
    expect(await open(withoutFinal, false)).toBe('TRUNCATED');
    expect(await open(sealed.subarray(0, sealed.length - (10 + 16) + 7), false)).toBe('TRUNCATED');
  });
});

describe.each(BACKENDS)('%s: sealer and opener calls one at a time, on buffers apart', (backend) => {
  test('a seal while another runs is refused: never two chunks under one nonce', async () => {
    const { prefix, sealer } = await createSealer({ recipients: [key], backend });
    const a = pattern(CHUNK_SIZE, 1);
    const b = pattern(CHUNK_SIZE, 2);
    const outA = new Uint8Array(SEALED_CHUNK_SIZE);
    const outB = new Uint8Array(SEALED_CHUNK_SIZE);
    const [first, second] = await Promise.allSettled([
      sealer.seal(a, outA, false),
      sealer.seal(b, outB, false),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && codeOf(second.reason)).toBe('INVALID_ARGUMENT');
    expect(second.status === 'rejected' && second.reason.message).toContain('still running');
    // the refused call took no counter: the object goes on with b as chunk 1, and opens
    const outB2 = new Uint8Array(SEALED_CHUNK_SIZE);
    await sealer.seal(b, outB2, false);
    const last = new Uint8Array(sealedLength(0, true));
    await sealer.seal(new Uint8Array(0), last, true);
    const sealed = new Uint8Array(Buffer.concat([prefix, outA, outB2, last]));
    expect(same(await decrypt(sealed, { keys: [key] }), Buffer.concat([a, b]))).toBe(true);
  });

  test('an open while another runs is refused, and the first one completes', async () => {
    const plain = pattern(2 * CHUNK_SIZE + 5);
    const sealed = await encrypt(plain, { recipients: [key] });
    const { payloadStart, opener } = await createOpener(sealed, { keys: [key], backend });
    const body = sealed.subarray(payloadStart);
    const out1 = new Uint8Array(CHUNK_SIZE);
    const out2 = new Uint8Array(CHUNK_SIZE);
    const [first, second] = await Promise.allSettled([
      opener.open(body.subarray(0, SEALED_CHUNK_SIZE), out1, false),
      opener.open(body.subarray(SEALED_CHUNK_SIZE, 2 * SEALED_CHUNK_SIZE), out2, false),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status === 'rejected' && codeOf(second.reason)).toBe('INVALID_ARGUMENT');
    expect(same(out1, plain.subarray(0, CHUNK_SIZE))).toBe(true);
  });

  test('an output overlapping the input is refused before anything is written', async () => {
    const { sealer } = await createSealer({ recipients: [key], backend });
    const buffer = pattern(3 * CHUNK_SIZE + 100);
    const before = buffer.slice();
    const plain = buffer.subarray(0, 2 * CHUNK_SIZE);
    const out = buffer.subarray(10, 10 + 2 * SEALED_CHUNK_SIZE);
    const error = await sealer.seal(plain, out, false).catch((e) => e);
    expect(codeOf(error)).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('overlaps');
    expect(same(buffer, before)).toBe(true);
    // parts of one buffer that do not overlap are fine
    const apart = buffer.subarray(2 * CHUNK_SIZE, 2 * CHUNK_SIZE + SEALED_CHUNK_SIZE);
    expect(await sealer.seal(buffer.subarray(0, CHUNK_SIZE), apart, false)).toBe(SEALED_CHUNK_SIZE);

    const sealed = await encrypt(pattern(CHUNK_SIZE + 1), { recipients: [key] });
    const { payloadStart, opener } = await createOpener(sealed, { keys: [key], backend });
    const copy = sealed.slice(payloadStart);
    const into = copy.subarray(5, 5 + CHUNK_SIZE);
    expect(codeOf(await opener.open(copy.subarray(0, SEALED_CHUNK_SIZE), into, false).catch((e) => e))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  test('arguments of the wrong type: INVALID_ARGUMENT, not a TypeError from a backend', async () => {
    const { sealer } = await createSealer({ recipients: [key], backend });
    const out = new Uint8Array(100);
    const bad: [unknown, unknown, unknown][] = [
      ['hello', out, true],
      [undefined, out, true],
      [new Uint8Array(5), 'x'.repeat(100), true],
      [new Uint8Array(5).buffer, out, true],
      [new Uint8Array(5), out, 'yes'],
      [new Uint8Array(5), out, undefined],
    ];
    for (const [plain, into, final] of bad) {
      const error = await (sealer.seal as (...a: unknown[]) => Promise<number>)(plain, into, final).catch(
        (e) => e,
      );
      expect(codeOf(error)).toBe('INVALID_ARGUMENT');
    }
    // nothing was sealed by the refused calls: the sealer still seals chunk 0
    expect(sealer.chunks).toBe(0);
  });
});

describe('stream output ownership', () => {
  /** Collects what a transform enqueues, keeping the very buffers (no copies). */
  async function collect(ts: TransformStream<Uint8Array, Uint8Array>, writes: Uint8Array[]) {
    const kept: Uint8Array[] = [];
    const reading = ts.readable.pipeTo(new WritableStream({ write: (c) => void kept.push(c) }));
    const writer = ts.writable.getWriter();
    for (const w of writes) await writer.write(w);
    await writer.close();
    await reading;
    return kept;
  }

  test.each([1000, CHUNK_SIZE, SEALED_CHUNK_SIZE + 3, 1 << 20])(
    'writes of %i bytes: every buffer handed on is its own, exactly sized, and never written again',
    async (size) => {
      const plain = pattern(70 * CHUNK_SIZE + 123, size);
      const random = fixedRandom();
      const expected = await encrypt(plain, { recipients: [key], _random: random });
      const sealedParts = await collect(
        encryptStream({ recipients: [key], _random: fixedRandom() }),
        split(plain, size),
      );
      const plainParts = await collect(decryptStream({ keys: [key] }), split(expected, size));
      for (const [parts, whole] of [
        [sealedParts, expected],
        [plainParts, plain],
      ] as const) {
        // Checked only now, after the stream ended: a buffer reused for later output would differ.
        expect(same(Buffer.concat(parts), whole)).toBe(true);
        expect(new Set(parts.map((p) => p.buffer)).size).toBe(parts.length);
        // No bytes beyond a view: nothing unwritten (or stale) is reachable through `.buffer`.
        for (const p of parts) expect(p.byteLength).toBe(p.buffer.byteLength);
      }
    },
  );
});
