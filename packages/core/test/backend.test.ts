/** The backend contract: runs of chunks on every backend, and how the backend is chosen. */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { resolveBackend } from '../src/aead/backend.ts';
import { backendReport, decrypt, decryptStream, encrypt, generateKey } from '../src/index.ts';
import { chunkNonce, chunkNonces } from '../src/nonce.ts';
import { BACKENDS, pattern } from './helpers.ts';

const key = pattern(32, 7);
const base = pattern(12, 9);
const CHUNK = 1000; // runs take any chunk size; a small one keeps the cases many and fast

/** Seals each chunk of a run alone with `seal`: the reference a run must match byte for byte. */
async function sealAlone(name: (typeof BACKENDS)[number], plain: Uint8Array, count: number) {
  const cipher = await resolveBackend(name).gcm(key);
  const out = new Uint8Array(plain.length + 16 * count);
  for (let i = 0; i < count; i++) {
    const p = plain.subarray(i * CHUNK, Math.min((i + 1) * CHUNK, plain.length));
    await cipher.seal(
      chunkNonce(base, i),
      p,
      out.subarray(i * (CHUNK + 16), i * (CHUNK + 16) + p.length + 16),
    );
  }
  return out;
}

describe.each(BACKENDS)('%s: runs of chunks', (name) => {
  // Lengths of the last chunk: empty, one byte, one short of whole, whole.
  test.each([
    [1, 0],
    [1, 1],
    [3, CHUNK - 1],
    [3, CHUNK],
    [5, 17],
  ])(
    '%i chunks, the last of %i bytes: sealRun equals chunk-by-chunk seal, and openRun reverses it',
    async (count, last) => {
      const cipher = await resolveBackend(name).gcm(key);
      const plain = pattern((count - 1) * CHUNK + last, count);
      const out = new Uint8Array(plain.length + 16 * count + 5).fill(0xee);
      const written = await cipher.sealRun(chunkNonces(base, 0, count), plain, out, CHUNK);
      expect(written).toBe(plain.length + 16 * count);
      expect(out.subarray(0, written)).toEqual(await sealAlone(name, plain, count));
      expect([...out.subarray(written)]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee]); // nothing past the run
      const back = new Uint8Array(plain.length);
      expect(await cipher.openRun(chunkNonces(base, 0, count), out.subarray(0, written), back, CHUNK)).toBe(
        count,
      );
      expect(back).toEqual(plain);
    },
  );

  test('openRun stops at the first chunk that fails, zeroes its output and leaves later chunks untouched', async () => {
    const cipher = await resolveBackend(name).gcm(key);
    const count = 4;
    const plain = pattern(count * CHUNK, 3);
    const sealed = new Uint8Array(count * (CHUNK + 16));
    await cipher.sealRun(chunkNonces(base, 0, count), plain, sealed, CHUNK);
    for (const [bad, where] of [
      [0, 5],
      [2, CHUNK + 3], // in the tag
      [3, 0],
    ] as const) {
      const tampered = sealed.slice();
      tampered[bad * (CHUNK + 16) + where]! ^= 1;
      const out = new Uint8Array(count * CHUNK).fill(0xaa);
      const ok = await cipher.openRun(chunkNonces(base, 0, count), tampered, out, CHUNK);
      expect(ok, `chunk ${bad} tampered`).toBe(bad);
      expect(out.subarray(0, bad * CHUNK)).toEqual(plain.subarray(0, bad * CHUNK));
      expect(out.subarray(bad * CHUNK, (bad + 1) * CHUNK).every((b) => b === 0)).toBe(true);
      expect(out.subarray((bad + 1) * CHUNK).every((b) => b === 0xaa)).toBe(true);
    }
  });

  test('a nonce off by one counter fails the chunk: nonces are used in order', async () => {
    const cipher = await resolveBackend(name).gcm(key);
    const plain = pattern(2 * CHUNK, 4);
    const sealed = new Uint8Array(2 * (CHUNK + 16));
    await cipher.sealRun(chunkNonces(base, 0, 2), plain, sealed, CHUNK);
    expect(await cipher.openRun(chunkNonces(base, 1, 2), sealed, new Uint8Array(2 * CHUNK), CHUNK)).toBe(0);
  });

  test('malformed runs are refused before any work', async () => {
    const cipher = await resolveBackend(name).gcm(key);
    const nonces = chunkNonces(base, 0, 2);
    // More plaintext than the chunks hold; fewer bytes than whole chunks; a short output; no nonces.
    await expect(async () =>
      cipher.sealRun(nonces, new Uint8Array(2 * CHUNK + 1), new Uint8Array(3000), CHUNK),
    ).rejects.toThrow(RangeError);
    await expect(async () =>
      cipher.sealRun(nonces, new Uint8Array(CHUNK - 1), new Uint8Array(3000), CHUNK),
    ).rejects.toThrow(RangeError);
    await expect(async () =>
      cipher.sealRun(nonces, new Uint8Array(2 * CHUNK), new Uint8Array(2 * CHUNK), CHUNK),
    ).rejects.toThrow(RangeError);
    await expect(async () =>
      cipher.sealRun(new Uint8Array(0), new Uint8Array(0), new Uint8Array(16), CHUNK),
    ).rejects.toThrow(RangeError);
    // A last sealed chunk shorter than a tag.
    await expect(async () =>
      cipher.openRun(nonces, new Uint8Array(CHUNK + 16 + 15), new Uint8Array(3000), CHUNK),
    ).rejects.toThrow(RangeError);
  });
});

describe.each(BACKENDS)('%s: bytes in a SharedArrayBuffer', (name) => {
  const shared = (bytes: Uint8Array) => {
    const view = new Uint8Array(new SharedArrayBuffer(bytes.length + 8), 8, bytes.length);
    view.set(bytes);
    return view;
  };
  const recipients = [generateKey()];
  const random = () => {
    let n = 0;
    return (length: number) => Uint8Array.from({ length }, () => n++ & 0xff);
  };
  const plain = pattern(3 * 16384 + 5, 4);

  test('seal and open as any bytes, the same bytes as from an ordinary buffer (WebCrypto refuses the views)', async () => {
    const expected = await encrypt(plain, { recipients, backend: name, _random: random() });
    const sealed = await encrypt(shared(plain), { recipients, backend: name, _random: random() });
    expect(Buffer.from(sealed).equals(expected)).toBe(true);
    expect(
      Buffer.from(await decrypt(shared(sealed), { keys: recipients, backend: name })).equals(plain),
    ).toBe(true);
    const streamed: Uint8Array[] = [];
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(shared(expected));
        controller.close();
      },
    });
    for await (const part of source.pipeThrough(
      decryptStream({ keys: recipients, backend: name }),
    ) as unknown as AsyncIterable<Uint8Array>)
      streamed.push(part);
    expect(Buffer.concat(streamed).equals(plain)).toBe(true);
  });
});

describe('choosing the backend', () => {
  afterEach(() => vi.unstubAllEnvs());

  // Left out only in the CI run with the addon disabled (see BACKENDS); everywhere else it must load.
  test.runIf(BACKENDS.includes('native'))(
    'the automatic choice is the native addon here, and the report says where it loaded from',
    () => {
      vi.stubEnv('SEALSTREAM_BACKEND', '');
      expect(resolveBackend().name).toBe('native');
      const report = backendReport();
      expect(report).toMatchObject({ default: 'native', native: { available: true } });
      expect(report.native.available && report.native.path).toMatch(/sealstream_native\.node$/);
    },
  );

  test('SEALSTREAM_BACKEND sets the automatic choice; an explicit option still wins', async () => {
    vi.stubEnv('SEALSTREAM_BACKEND', 'node');
    expect(resolveBackend().name).toBe('node');
    expect(backendReport()).toMatchObject({ default: 'node', env: 'node' });
    expect(resolveBackend('noble').name).toBe('noble');
    vi.stubEnv('SEALSTREAM_BACKEND', 'auto');
    expect(resolveBackend().name).toBe(backendReport().native.available ? 'native' : 'node');
  });

  test('an unknown SEALSTREAM_BACKEND is a clear error that names the variable', async () => {
    vi.stubEnv('SEALSTREAM_BACKEND', 'openssl');
    await expect(encrypt(new Uint8Array(1), { recipients: [generateKey()] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('SEALSTREAM_BACKEND'),
    });
  });
});

/** Re-imports the core in a process whose node:module `createRequire` is `createRequire`. */
async function coreWithModule(createRequire: () => (id: string) => unknown) {
  vi.stubEnv('SEALSTREAM_BACKEND', '');
  const real = process.getBuiltinModule;
  vi.stubGlobal('process', {
    ...process,
    env: process.env,
    getBuiltinModule: (id: string) => (id === 'node:module' ? { createRequire } : real.call(process, id)),
  });
  vi.resetModules();
  return import('../src/index.ts');
}

describe('without the addon', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  test('a native addon that does not load leaves node:crypto as the default, and asking for native says why', async () => {
    // The addon package resolves, but its loader reports failure (as on a platform without a build).
    const core = await coreWithModule(() => (id: string) => {
      if (id !== '@sealstream/native') throw new Error(`unexpected require ${id}`);
      return { load: () => ({ addon: undefined, reason: 'no build for this test platform' }) };
    });
    expect(core.resolveBackend().name).toBe('node');
    expect(core.backendReport().native).toEqual({
      available: false,
      reason: 'no build for this test platform',
    });
    const k = core.generateKey();
    await expect(
      core.encrypt(new Uint8Array(1), { recipients: [k], backend: 'native' }),
    ).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('no build for this test platform'),
    });
    const sealed = await core.encrypt(pattern(40_000), { recipients: [k] });
    expect(await core.decrypt(sealed, { keys: [k] })).toEqual(pattern(40_000));
  });

  test('when the package is not installed at all, the reason says so', async () => {
    const core = await coreWithModule(() => () => {
      throw Object.assign(new Error("Cannot find module '@sealstream/native'"), { code: 'MODULE_NOT_FOUND' });
    });
    expect(core.resolveBackend().name).toBe('node');
    const report = core.backendReport();
    expect(report.native.available).toBe(false);
    expect(!report.native.available && report.native.reason).toMatch(/not installed.*Cannot find module/);
  });
});
