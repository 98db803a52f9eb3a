/**
 * The pipelined WebCrypto streams (src/subtle-streams.ts), on Node's WebCrypto: which streams take
 * them, the same bytes as the run-at-a-time path of every other backend for every boundary size and
 * write size, and the same typed errors for tampering, reordering, truncation, trailing data and a
 * wrong key, with nothing unauthenticated released. Chromium runs the same path in
 * browser/test/subtle-streams.test.ts.
 */
import { describe, expect, test, vi } from 'vitest';
import { webcryptoBackend } from '../src/aead/webcrypto.ts';
import {
  decryptStream,
  encrypt,
  encryptStream,
  generateKey,
  isSealstreamError,
  readHeaderLength,
} from '../src/index.ts';
import { CHUNK_SIZE, PAYLOAD_PREFIX_LENGTH, SEALED_CHUNK_SIZE } from '../src/sizes.ts';
import { SUBTLE_GROUP, SUBTLE_WINDOW, wantsSubtleStream } from '../src/subtle-streams.ts';
import { pattern, runTransform, split, through } from './helpers.ts';

const key = generateKey();

/** Deterministic randomness, so that two encryptions of the same plaintext are the same bytes. */
function fixedRandom(): (length: number) => Uint8Array {
  let n = 0;
  return (length) => pattern(length, 500 + n++);
}

describe('which streams take the pipelined path', () => {
  test('WebCrypto by name; not Node’s automatic choice, not another backend object', () => {
    expect(wantsSubtleStream({ backend: 'webcrypto' })).toBe(true);
    expect(wantsSubtleStream({ backend: webcryptoBackend() })).toBe(true);
    expect(wantsSubtleStream({})).toBe(false);
    expect(wantsSubtleStream({ backend: 'node' })).toBe(false);
    expect(wantsSubtleStream({ backend: 'noble' })).toBe(false);
    // a backend object of the caller's, even one built on WebCrypto, keeps the generic path
    expect(wantsSubtleStream({ backend: { ...webcryptoBackend() } })).toBe(false);
    expect(wantsSubtleStream({ backend: 'openssl' as never })).toBe(false);
  });
});

describe('the same bytes as the other backends', () => {
  const W = SUBTLE_WINDOW;
  // empty, around one chunk, around a group, around the window, many windows and a bit
  const sizes = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    SUBTLE_GROUP * CHUNK_SIZE - 1,
    SUBTLE_GROUP * CHUNK_SIZE,
    W * CHUNK_SIZE,
    W * CHUNK_SIZE + 1,
    (3 * W + 7) * CHUNK_SIZE + 5,
  ];
  const writeSizes = [1 << 20, CHUNK_SIZE, 1000, 3 * SEALED_CHUNK_SIZE + 7, 1 << 30];

  test.each(sizes)('%i bytes, in writes of 1 MiB, 16384, 1000, 49207 bytes and one write', async (size) => {
    const plain = pattern(size, 9);
    const options = () => ({ recipients: [key], _random: fixedRandom() });
    const expected = await encrypt(plain, { ...options(), backend: 'node' });
    const byNode = await through(encryptStream({ ...options(), backend: 'node' }), split(plain, 1 << 20));
    expect(Buffer.from(byNode).equals(Buffer.from(expected))).toBe(true);
    for (const w of writeSizes) {
      const sealed = await through(encryptStream({ ...options(), backend: 'webcrypto' }), split(plain, w));
      expect(Buffer.from(sealed).equals(Buffer.from(expected)), `sealed in ${w}-byte writes`).toBe(true);
      const opened = await through(decryptStream({ keys: [key], backend: 'webcrypto' }), split(expected, w));
      expect(Buffer.from(opened).equals(Buffer.from(plain)), `opened in ${w}-byte writes`).toBe(true);
    }
  });

  test('workers asked for where there are none (Node): the pipelined path, the same bytes', async () => {
    const plain = pattern(70 * CHUNK_SIZE + 9, 5);
    const options = () => ({ recipients: [key], _random: fixedRandom() });
    const expected = await encrypt(plain, { ...options(), backend: 'node' });
    const sealed = await through(
      encryptStream({ ...options(), backend: 'webcrypto', workers: 2 }),
      split(plain, 1 << 20),
    );
    expect(Buffer.from(sealed).equals(Buffer.from(expected))).toBe(true);
    const opened = await through(
      decryptStream({ keys: [key], backend: 'webcrypto', workers: 2 }),
      split(expected, 1 << 20),
    );
    expect(Buffer.from(opened).equals(Buffer.from(plain))).toBe(true);
  });

  test('one very large write: never more than the window of chunks in flight at once', async () => {
    const subtle = globalThis.crypto.subtle;
    let inFlight = 0;
    let most = 0;
    const count = <T>(call: Promise<T>) => {
      most = Math.max(most, ++inFlight);
      return call.finally(() => inFlight--);
    };
    const encryptCall = subtle.encrypt.bind(subtle);
    const decryptCall = subtle.decrypt.bind(subtle);
    const spies = [
      vi.spyOn(subtle, 'encrypt').mockImplementation((...a) => count(encryptCall(...a))),
      vi.spyOn(subtle, 'decrypt').mockImplementation((...a) => count(decryptCall(...a))),
    ];
    try {
      const plain = pattern(6 * SUBTLE_WINDOW * CHUNK_SIZE + 11, 8);
      const sealed = await through(encryptStream({ recipients: [key], backend: 'webcrypto' }), [plain]);
      expect(most).toBeGreaterThan(SUBTLE_GROUP); // pipelined: more than one group at a time
      expect(most).toBeLessThanOrEqual(SUBTLE_WINDOW);
      most = 0;
      const opened = await through(decryptStream({ keys: [key], backend: 'webcrypto' }), [sealed]);
      expect(Buffer.from(opened).equals(Buffer.from(plain))).toBe(true);
      expect(most).toBeGreaterThan(SUBTLE_GROUP);
      expect(most).toBeLessThanOrEqual(SUBTLE_WINDOW);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  test('each enqueued buffer is its own (never written again)', async () => {
    const plain = pattern(5 * SUBTLE_WINDOW * CHUNK_SIZE + 3, 4);
    const ts = encryptStream({ recipients: [key], backend: 'webcrypto' });
    const got: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    const reading = (async () => {
      const reader = ts.readable.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        got.push(value);
        copies.push(value.slice());
      }
    })();
    const writer = ts.writable.getWriter();
    for (const w of split(plain, 1 << 20)) await writer.write(w.slice());
    await writer.close();
    await reading;
    for (let i = 0; i < got.length; i++)
      expect(Buffer.from(got[i]!).equals(Buffer.from(copies[i]!))).toBe(true);
  });
});

describe('errors, as the other backends give them', () => {
  const size = (2 * SUBTLE_WINDOW + 10) * CHUNK_SIZE + 5;
  const plain = pattern(size, 12);
  const sealedP = encrypt(plain, { recipients: [key], backend: 'node' });
  const payloadAt = async () => {
    const sealed = await sealedP;
    return readHeaderLength(sealed)! + PAYLOAD_PREFIX_LENGTH;
  };
  const codeOf = (error: unknown) => (isSealstreamError(error) ? error.code : `unexpected ${error}`);

  async function both(file: Uint8Array, write: number) {
    const subtle = await runTransform(
      decryptStream({ keys: [key], backend: 'webcrypto' }),
      split(file, write),
    );
    const node = await runTransform(decryptStream({ keys: [key], backend: 'node' }), split(file, write));
    return { subtle, node };
  }

  test.each([0, 5, 63, 64, 127, 128, 200, 265])(
    'a flipped bit in chunk %i: CHUNK_AUTH_FAILED, nothing of its group or after released',
    async (k) => {
      const file = (await sealedP).slice();
      file[(await payloadAt()) + k * SEALED_CHUNK_SIZE + 7]! ^= 1;
      for (const w of [1 << 20, 1000, 1 << 30]) {
        const { subtle, node } = await both(file, w);
        expect(codeOf(subtle.error), `${w}-byte writes`).toBe('CHUNK_AUTH_FAILED');
        expect(String((subtle.error as Error).message)).toBe(String((node.error as Error).message));
        expect(subtle.output.length).toBeLessThanOrEqual(
          Math.floor(k / SUBTLE_GROUP) * SUBTLE_GROUP * CHUNK_SIZE,
        );
        expect(Buffer.from(subtle.output).equals(Buffer.from(plain.subarray(0, subtle.output.length)))).toBe(
          true,
        );
      }
    },
  );

  test('reordered chunks, cut, extended and empty objects, a wrong key: the node backend’s codes and messages', async () => {
    const sealed = await sealedP;
    const P = await payloadAt();
    const finalAt = sealed.length - (5 + 16);
    const swapped = sealed.slice();
    swapped.set(
      sealed.subarray(P + 3 * SEALED_CHUNK_SIZE, P + 4 * SEALED_CHUNK_SIZE),
      P + 2 * SEALED_CHUNK_SIZE,
    );
    swapped.set(
      sealed.subarray(P + 2 * SEALED_CHUNK_SIZE, P + 3 * SEALED_CHUNK_SIZE),
      P + 3 * SEALED_CHUNK_SIZE,
    );
    const cases: Array<[string, Uint8Array, string]> = [
      ['two chunks swapped', swapped, 'CHUNK_AUTH_FAILED'],
      ['cut inside the final chunk', sealed.subarray(0, sealed.length - 3), 'CHUNK_AUTH_FAILED'],
      ['cut inside the final chunk’s tag', sealed.subarray(0, finalAt + 9), 'TRUNCATED'],
      ['cut before the final chunk', sealed.subarray(0, finalAt), 'TRUNCATED'],
      ['cut at a group boundary', sealed.subarray(0, P + SUBTLE_GROUP * SEALED_CHUNK_SIZE), 'TRUNCATED'],
      ['cut right after the header', sealed.subarray(0, P), 'TRUNCATED'],
      ['cut inside the header', sealed.subarray(0, 30), 'TRUNCATED'],
      ['with bytes appended', Uint8Array.from([...sealed, 1, 2, 3]), 'TRAILING_DATA'],
      [
        'with a whole chunk appended',
        Uint8Array.from([...sealed, ...sealed.subarray(P, P + SEALED_CHUNK_SIZE)]),
        'CHUNK_AUTH_FAILED',
      ],
      ['empty', new Uint8Array(0), 'TRUNCATED'],
    ];
    for (const [what, file, code] of cases) {
      for (const w of [1 << 20, 7777]) {
        const { subtle, node } = await both(file, w);
        expect(codeOf(subtle.error), `${what}, ${w}-byte writes`).toBe(code);
        expect((subtle.error as Error).message, what).toBe((node.error as Error).message);
        expect(subtle.output.length, what).toBeLessThan(plain.length);
        expect(Buffer.from(subtle.output).equals(Buffer.from(plain.subarray(0, subtle.output.length)))).toBe(
          true,
        );
      }
    }
    const wrong = await runTransform(
      decryptStream({ keys: [generateKey()], backend: 'webcrypto' }),
      split(sealed, 1 << 20),
    );
    expect(codeOf(wrong.error)).toBe('NO_MATCHING_KEY');
    expect(wrong.output.length).toBe(0);
  });

  test('caller errors before any input, and non-bytes writes', async () => {
    const badKeys = await runTransform(decryptStream({ keys: ['not a key'], backend: 'webcrypto' }), []);
    expect(codeOf(badKeys.error)).toBe('INVALID_KEY');
    const text = await runTransform(encryptStream({ recipients: [key], backend: 'webcrypto' }), [
      'x' as never,
    ]);
    expect(codeOf(text.error)).toBe('INVALID_ARGUMENT');
    const badKey = await runTransform(
      encryptStream({ recipients: [new Uint8Array(5)], backend: 'webcrypto' }),
      [],
    );
    expect(codeOf(badKey.error)).toBe('INVALID_KEY');
  });
});

describe('stopping mid-stream', () => {
  test.each(['encrypt', 'decrypt'] as const)(
    '%s: a cancelled reader and an aborted writer leave nothing unsettled',
    async (what) => {
      const plain = pattern(3 * SUBTLE_WINDOW * CHUNK_SIZE, 2);
      const sealed = await encrypt(plain, { recipients: [key], backend: 'node' });
      const make = () =>
        what === 'encrypt'
          ? encryptStream({ recipients: [key], backend: 'webcrypto' })
          : decryptStream({ keys: [key], backend: 'webcrypto' });
      const input = what === 'encrypt' ? plain : sealed;
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        // the reader cancels after the first output
        const ts = make();
        const writer = ts.writable.getWriter();
        const reader = ts.readable.getReader();
        const writing = (async () => {
          for (const w of split(input, 1 << 20)) await writer.write(w);
          await writer.close();
        })().catch((e: unknown) => e);
        await reader.read();
        await reader.cancel(new Error('stop'));
        expect(await writing).toBeInstanceOf(Error);

        // the pipe is aborted by a signal
        const controller = new AbortController();
        let seen = 0;
        const piped = await new Blob([input as Uint8Array<ArrayBuffer>])
          .stream()
          .pipeThrough(make())
          .pipeTo(
            new WritableStream({
              write(c) {
                seen += c.length;
                if (seen > 1 << 20) controller.abort(new Error('stop'));
              },
            }),
            { signal: controller.signal },
          )
          .catch((e: unknown) => e);
        expect(piped).toBeInstanceOf(Error);
        await new Promise((r) => setTimeout(r, 50));
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    },
  );
});
