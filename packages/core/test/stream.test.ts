/** encryptStream / decryptStream round trips over every chunk boundary and write size (SPEC §6.3). */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  CHUNK_SIZE,
  ciphertextSize,
  decrypt,
  decryptStream,
  encrypt,
  encryptStream,
  generateKey,
  inspectHeader,
  isSealstreamError,
  plaintextSize,
} from '../src/index.ts';
import { BACKENDS, pattern, runTransform, split, through } from './helpers.ts';

const C = CHUNK_SIZE;
const LENGTHS = [0, 1, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1, 5 * C + 7];
const WRITE_SIZES = [1, 7, 1000, C - 1, C, C + 1, 3 * C + 5, 1 << 20];
const key = generateKey();

/** Deterministic randomness so that backends can be compared byte for byte. */
const fixedRandom = () => {
  let n = 0;
  return (length: number) => Uint8Array.from({ length }, () => n++ & 0xff);
};

describe('round trips', () => {
  test.each(LENGTHS)('length %i, every write size, encrypt and decrypt streamed', async (length) => {
    const plain = pattern(length);
    for (const w of WRITE_SIZES) {
      if (w === 1 && length > 3 * C) continue; // byte-by-byte on the largest length adds time, not coverage
      const sealed = await through(encryptStream({ recipients: [key] }), split(plain, w));
      expect(sealed.length, `write size ${w}`).toBe(ciphertextSize(length, inspectHeader(sealed)));
      const opened = await through(decryptStream({ keys: [key] }), split(sealed, w));
      expect(Buffer.from(opened).equals(Buffer.from(plain)), `write size ${w}`).toBe(true);
    }
  });

  test('empty writes are harmless', async () => {
    const plain = pattern(3 * C);
    const writes = split(plain, 5000).flatMap((p) => [new Uint8Array(0), p]);
    const sealed = await through(encryptStream({ recipients: [key] }), writes);
    const opened = await through(
      decryptStream({ keys: [key] }),
      split(sealed, 777).flatMap((p) => [p, new Uint8Array(0)]),
    );
    expect(opened).toEqual(plain);
  });

  test.each(BACKENDS)(
    '%s: views of a SharedArrayBuffer, Node Buffers, 0- and 1-byte writes, in and out',
    async (backend) => {
      const plain = pattern(2 * C + 333, 8);
      const shared = (bytes: Uint8Array) => {
        const view = new Uint8Array(new SharedArrayBuffer(bytes.length + 10), 5, bytes.length);
        view.set(bytes);
        return view;
      };
      const sealed = await through(encryptStream({ recipients: [key], backend }), [
        new Uint8Array(0),
        shared(plain.subarray(0, C + 1)),
        Buffer.from(plain.subarray(C + 1)),
      ]);
      expect(await decrypt(shared(sealed), { keys: [key], backend })).toEqual(plain);
      const writes = [
        ...split(shared(sealed).subarray(0, 300), 1),
        new Uint8Array(0),
        shared(sealed).subarray(300),
      ];
      expect(await through(decryptStream({ keys: [key], backend }), writes)).toEqual(plain);
    },
  );

  test('property: any length and any split of input and ciphertext round-trips', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 * C + 10 }),
        fc.integer({ min: 1, max: 2 * C + 3 }),
        fc.integer({ min: 1, max: 2 * C + 3 }),
        async (length, w1, w2) => {
          const plain = pattern(length, length);
          const sealed = await through(encryptStream({ recipients: [key] }), split(plain, w1));
          const opened = await through(decryptStream({ keys: [key] }), split(sealed, w2));
          expect(opened).toEqual(plain);
          expect(plaintextSize(sealed.length, inspectHeader(sealed))).toBe(length);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('encrypt() and encryptStream() produce the same bytes from the same randomness', async () => {
    const plain = pattern(2 * C + 99);
    const a = await encrypt(plain, { recipients: [key], _random: fixedRandom() });
    const b = await through(encryptStream({ recipients: [key], _random: fixedRandom() }), split(plain, 1234));
    expect(b).toEqual(a);
  });
});

describe('backends', () => {
  test.each(LENGTHS)(
    'length %i: every backend writes identical bytes and reads every other',
    async (length) => {
      const plain = pattern(length);
      const outputs = await Promise.all(
        BACKENDS.map((backend) => encrypt(plain, { recipients: [key], backend, _random: fixedRandom() })),
      );
      for (const o of outputs) expect(Buffer.from(o).equals(Buffer.from(outputs[0]!))).toBe(true);
      for (const backend of BACKENDS) {
        expect(await decrypt(outputs[0]!, { keys: [key], backend })).toEqual(plain);
      }
    },
  );

  test('an unknown backend name is a clear error', async () => {
    const { error } = await runTransform(
      encryptStream({ recipients: [key], backend: 'openssl' as never }),
      [],
    );
    expect(isSealstreamError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe('options at the boundary', () => {
  test.each([
    ['no recipients', { recipients: [] }, 'INVALID_ARGUMENT'],
    ['a 16-byte key', { recipients: [new Uint8Array(16)] }, 'INVALID_KEY'],
    ['a key text that does not parse', { recipients: ['not a key'] }, 'INVALID_KEY'],
    ['an empty passphrase', { recipients: [{ passphrase: '' }] }, 'INVALID_ARGUMENT'],
    ['a work factor of 30', { recipients: [{ passphrase: 'x', workFactor: 30 }] }, 'INVALID_ARGUMENT'],
    ['an empty identity', { recipients: [key], identity: '' }, 'INVALID_ARGUMENT'],
    ['a 2000-byte identity', { recipients: [key], identity: 'x'.repeat(2000) }, 'INVALID_ARGUMENT'],
  ])('%s is refused with %s, by encrypt() and encryptStream()', async (_, options, code) => {
    await expect(encrypt(new Uint8Array(1), options as never)).rejects.toMatchObject({ code });
    const { error } = await runTransform(encryptStream(options as never), [new Uint8Array(1)]);
    expect(isSealstreamError(error) && error.code).toBe(code);
  });

  test('no options at all: INVALID_ARGUMENT through the stream, not a TypeError from the call', async () => {
    const bareEncrypt = encryptStream as unknown as () => TransformStream<Uint8Array, Uint8Array>;
    const bareDecrypt = decryptStream as unknown as () => TransformStream<Uint8Array, Uint8Array>;
    for (const stream of [bareEncrypt, bareDecrypt]) {
      const { error } = await runTransform(stream(), [new Uint8Array(1)]);
      expect(isSealstreamError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  test('non-Uint8Array chunks are refused', async () => {
    const { error } = await runTransform(encryptStream({ recipients: [key] }), ['text' as never]);
    expect(isSealstreamError(error, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe.each(BACKENDS.flatMap((backend) => [100_000, 3_000_000].map((size) => [backend, size] as const)))(
  '%s, %i bytes: a consumer that goes away mid-stream',
  (backend, size) => {
    const plain = pattern(size, 3);
    const sealedP = encrypt(plain, { recipients: [key] });
    const make = (direction: 'encrypt' | 'decrypt') =>
      direction === 'encrypt'
        ? encryptStream({ recipients: [key], backend })
        : decryptStream({ keys: [key], backend });
    const inputOf = async (direction: 'encrypt' | 'decrypt') =>
      direction === 'encrypt' ? plain : await sealedP;
    const invalidState = (e: unknown) => (e as { code?: string } | undefined)?.code === 'ERR_INVALID_STATE';

    test.each(['encrypt', 'decrypt'] as const)(
      '%s: reader.cancel() while the stream still works resolves, and nothing rejects with "Unable to enqueue"',
      async (direction) => {
        const stream = make(direction);
        const writer = stream.writable.getWriter();
        const reader = stream.readable.getReader();
        const written = writer.write(await inputOf(direction)).catch((e) => e);
        const closed = writer.close().catch((e) => e);
        await reader.read();
        const reason = new Error('the consumer is gone');
        await expect(reader.cancel(reason)).resolves.toBeUndefined();
        expect(invalidState(await written)).toBe(false);
        expect(invalidState(await closed)).toBe(false);
      },
    );

    test.each(['encrypt', 'decrypt'] as const)(
      "%s: a pipe into a sink that fails rejects with the sink's own error",
      async (direction) => {
        const input = await inputOf(direction);
        const broken = new Error('the sink broke');
        const pipe = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(input);
            controller.close();
          },
        })
          .pipeThrough(make(direction))
          .pipeTo(
            new WritableStream({
              write() {
                throw broken;
              },
            }),
          );
        await expect(pipe).rejects.toBe(broken);
      },
    );
  },
);

describe('Node streams', () => {
  test('a file piped through Duplex.fromWeb(encryptStream()) and back, with fs streams', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealstream-'));
    try {
      const plain = pattern(3 * 1024 * 1024 + 5);
      await writeFile(join(dir, 'in'), plain);
      await pipeline(
        createReadStream(join(dir, 'in'), { highWaterMark: 1 << 20 }),
        Duplex.fromWeb(encryptStream({ recipients: [key] })),
        createWriteStream(join(dir, 'sealed')),
      );
      await pipeline(
        createReadStream(join(dir, 'sealed')),
        Duplex.fromWeb(decryptStream({ keys: [key] })),
        createWriteStream(join(dir, 'out')),
      );
      expect((await readFile(join(dir, 'out'))).equals(Buffer.from(plain))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a failing decryption rejects the pipeline with the typed error', async () => {
    const sealed = await encrypt(pattern(100_000), { recipients: [key] });
    sealed[sealed.length - 5]! ^= 1;
    const sink: Buffer[] = [];
    await expect(
      pipeline(
        Duplex.from([Buffer.from(sealed)]),
        Duplex.fromWeb(decryptStream({ keys: [key] })),
        async (source: AsyncIterable<Buffer>) => {
          for await (const c of source) sink.push(c);
        },
      ),
    ).rejects.toMatchObject({ code: 'CHUNK_AUTH_FAILED' });
  });
});
