/**
 * encryptStream / decryptStream with `workers` in Chromium: the chunks sealed and opened in module
 * Workers give the same bytes as the page-thread path and as Node, tampering and truncation end in
 * the same typed errors, a stream ends its Workers however it ends (done, cancelled, aborted,
 * failed), and a page whose CSP forbids Workers, or that has no Worker global, falls back to the
 * page's thread with the same bytes.
 */
import { decrypt } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// core's sources, not the package: `_random` (fixed randomness) is internal, absent from the published types
import { encrypt } from '../../packages/core/src/index.ts';
import { openTestPage, type TestPage } from '../harness/test-page.ts';
import type { WorkersArg } from '../pages/core.ts';
import { pattern, toHex } from '../pages/pattern.ts';
import { fixedRandom, sha256hex } from './helpers.ts';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const KEY_HEX = '42'.repeat(32);
const key = Buffer.from(KEY_HEX, 'hex');
const PAGE = new URL('../pages/core.ts', import.meta.url);

let site: TestPage;

beforeAll(async () => {
  site = await openTestPage(PAGE, { api: 'coreTest' });
});

afterAll(async () => {
  await site?.close();
});

interface Sealed {
  length: number;
  whole: string;
  streamed: string;
}

describe('the same bytes as the page-thread path and as Node', () => {
  // empty, one byte, around one chunk, one run exactly and one byte past it, many runs
  const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 64 * CHUNK, 64 * CHUNK + 1, 300 * CHUNK + 5];
  test.each(sizes)(
    '%i bytes, in 1 MiB and in 1000-byte writes, with 2 Workers, auto and a shared pool',
    async (size) => {
      const expected = await encrypt(pattern(size, 21), {
        recipients: [key],
        backend: 'node',
        _random: fixedRandom(),
      });
      const want = { length: expected.length, whole: sha256hex(expected), streamed: sha256hex(expected) };
      const page = await site.call<Sealed>('sealFixed', size, 1 << 20, KEY_HEX, 'webcrypto');
      expect(page, 'page thread').toEqual(want);
      for (const [writeSize, workers] of [
        [1 << 20, 2],
        [1000, 2],
        [1 << 20, 'auto'],
        [1 << 20, 'pool'],
      ] as Array<[number, WorkersArg]>) {
        const got = await site.call<Sealed>('sealFixed', size, writeSize, KEY_HEX, 'webcrypto', workers);
        expect(got, `${writeSize}-byte writes, workers ${workers}`).toEqual(want);
      }
    },
  );

  test('64 MiB sealed in Workers opens in Node, and 64 MiB sealed in Node opens in Workers', async () => {
    const size = 64 * 1024 * 1024 + 7;
    const sealed = await site.call<{ sha256: string }>(
      'sealToServer',
      'w64',
      size,
      23,
      KEY_HEX,
      'webcrypto',
      2,
    );
    const plain = await decrypt(site.server.blobs.get('w64')!, { keys: [key], backend: 'node' });
    expect(plain.length).toBe(size);
    expect(sha256hex(plain)).toBe(sealed.sha256);
    expect(sealed.sha256).toBe(sha256hex(pattern(size, 23)));

    site.server.blobs.set('n64', await encrypt(plain, { recipients: [key], backend: 'node' }));
    for (const workers of [2, 'pool'] as WorkersArg[]) {
      const opened = await site.call('openFromServer', 'n64', [KEY_HEX], 'webcrypto', workers);
      expect(opened, `workers ${workers}`).toEqual({ code: 'success', length: size, sha256: sealed.sha256 });
    }
    site.server.blobs.delete('w64');
    site.server.blobs.delete('n64');
  }, 120_000);
});

interface Tampered {
  streamCode: string;
  released: number;
  prefixOk: boolean;
}

describe('tampering and truncation in the Worker path', () => {
  const size = 200 * CHUNK + 5;
  test.each([5, 64, 70, 127, 150, 199])(
    'a flipped bit in chunk %i: CHUNK_AUTH_FAILED, nothing of its run or after released',
    async (flip) => {
      const before = await site.call<number>('liveWorkers'); // a shared pool of an earlier test
      for (const writeSize of [1 << 30, 1 << 20]) {
        const r = await site.call<Tampered>('openTampered', size, flip, writeSize, 2);
        expect(r.streamCode, `${writeSize}-byte writes`).toBe('CHUNK_AUTH_FAILED');
        expect(r.prefixOk).toBe(true);
        // runs of 64 chunks: at most the runs before the tampered chunk's run
        expect(r.released).toBeLessThanOrEqual(Math.floor(flip / 64) * 64 * CHUNK);
        expect(r.released % CHUNK).toBe(0);
        expect(await site.call('liveWorkers'), 'Workers left behind').toBe(before);
      }
    },
  );

  test('cut, extended and misplaced objects end with the page-thread path’s codes', async () => {
    const plain = pattern(3 * 1024 * 1024 + 100, 31);
    const sealed = await encrypt(plain, { recipients: [key], backend: 'node' });
    const payloadEnd = sealed.length - (100 + 16); // where the final chunk starts
    const cases: Array<[string, Uint8Array, string]> = [
      ['cut inside the final chunk', sealed.subarray(0, sealed.length - 5), 'CHUNK_AUTH_FAILED'],
      ['cut inside the final chunk’s tag', sealed.subarray(0, payloadEnd + 10), 'TRUNCATED'],
      ['cut before the final chunk', sealed.subarray(0, payloadEnd), 'TRUNCATED'],
      ['cut at a run boundary', sealed.subarray(0, payloadEnd - 128 * SEALED), 'TRUNCATED'],
      ['cut inside the header', sealed.subarray(0, 40), 'TRUNCATED'],
      ['with bytes appended', Uint8Array.from([...sealed, 1, 2, 3]), 'TRAILING_DATA'],
      ['empty', new Uint8Array(0), 'TRUNCATED'],
    ];
    for (const [what, bytes, code] of cases) {
      site.server.blobs.set('cut', bytes);
      const page = await site.call<{ code: string; length: number }>(
        'openFromServer',
        'cut',
        [KEY_HEX],
        'webcrypto',
      );
      const workers = await site.call<{ code: string; length: number }>(
        'openFromServer',
        'cut',
        [KEY_HEX],
        'webcrypto',
        2,
      );
      expect(page.code, `${what}, page thread`).toBe(code);
      expect(workers.code, `${what}, in Workers`).toBe(code);
      expect(workers.length, what).toBeLessThan(plain.length);
    }
    // a wrong key: no Worker gets anything to open
    site.server.blobs.set('cut', sealed);
    const wrong = await site.call('openFromServer', 'cut', [toHex(pattern(32, 99))], 'webcrypto', 2);
    expect(wrong).toMatchObject({ code: 'NO_MATCHING_KEY', length: 0 });
  });
});

describe('a stream ends its Workers', () => {
  test.each(['complete', 'cancel', 'abort', 'tampered'] as const)('when it is %s', async (how) => {
    // the shared pool of an earlier test may be running: it is counted before and stays
    const before = await site.call<number>('liveWorkers');
    const r = await site.call<{ during: number; after: number; code: string }>(
      'stopMidStream',
      how,
      32 << 20,
    );
    if (how === 'tampered') expect(r.code).toBe('CHUNK_AUTH_FAILED');
    else expect(r.during).toBe(before + 2);
    expect(r.after).toBe(before);
  });

  test.each(['encrypt', 'decrypt'] as const)(
    "%s: a consumer that goes away: its writer sees the consumer's reason, not the Workers' end",
    async (direction) => {
      const r = await site.call<Record<string, string>>('goneConsumer', direction, 2);
      expect(r.cancelled).toBe('resolved');
      // the writer sees the consumer's reason (or its write had completed), not the Workers' end
      for (const side of [r.written, r.closed]) expect(['resolved', 'the consumer is gone']).toContain(side);
      expect(r.piped).toBe('the sink broke');
    },
  );

  test('a shared pool outlives its streams until closed', async () => {
    await site.call('sealFixed', 3 * CHUNK, 1 << 20, KEY_HEX, 'webcrypto', 'pool');
    expect(await site.call('closeSharedPool')).toEqual({ before: 2, after: 0 });
    expect(await site.call('liveWorkers')).toBe(0);
  });
});

describe('no Workers: the page thread, the same bytes', () => {
  const size = 100 * CHUNK + 3;
  let expected: { length: number; whole: string; streamed: string };
  beforeAll(async () => {
    const sealed = await encrypt(pattern(size, 21), {
      recipients: [key],
      backend: 'node',
      _random: fixedRandom(),
    });
    expected = { length: sealed.length, whole: sha256hex(sealed), streamed: sha256hex(sealed) };
  });

  test('a CSP that forbids Workers', async () => {
    const strict = await openTestPage(PAGE, {
      api: 'coreTest',
      browser: site.browser,
      server: { csp: "worker-src 'none'" },
    });
    try {
      expect(await strict.call('sealFixed', size, 1 << 20, KEY_HEX, 'webcrypto', 2)).toEqual(expected);
      strict.server.blobs.set('x', await encrypt(pattern(size, 4), { recipients: [key], backend: 'node' }));
      expect(await strict.call('openFromServer', 'x', [KEY_HEX], 'webcrypto', 2)).toEqual({
        code: 'success',
        length: size,
        sha256: sha256hex(pattern(size, 4)),
      });
      expect(await strict.call('liveWorkers')).toBe(0);
      // the CSP did refuse them: nothing but the refusals was logged
      expect(strict.errors.every((e) => /worker-src|Content Security Policy|seal-worker/i.test(e))).toBe(
        true,
      );
    } finally {
      await strict.close();
    }
  });

  test('no Worker global', async () => {
    expect(await site.call('sealFixedWithoutWorkerGlobal', size, KEY_HEX)).toEqual(expected);
  });
});

test('the page logged no error', () => {
  expect(site.errors).toEqual([]);
});
