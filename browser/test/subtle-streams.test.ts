/**
 * encryptStream / decryptStream on the page's thread in Chromium, where WebCrypto is the automatic
 * backend and the streams take the pipelined path (core/src/subtle-streams.ts): the same bytes as
 * Node for every boundary size and write size, tampering, reordering, truncation, trailing data and
 * a wrong key ending in Node's typed errors with nothing unauthenticated released, and a stream
 * cancelled or aborted mid-way leaving nothing behind (no error logged by the page).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// core's sources, not the package: `_random` (fixed randomness) is internal, absent from the published types
import { encrypt, readHeaderLength } from '../../packages/core/src/index.ts';
import { PAYLOAD_PREFIX_LENGTH } from '../../packages/core/src/sizes.ts';
import { SUBTLE_GROUP, SUBTLE_WINDOW } from '../../packages/core/src/subtle-streams.ts';
import { openTestPage, type TestPage } from '../harness/test-page.ts';
import { pattern, toHex } from '../pages/pattern.ts';
import { fixedRandom, sha256hex } from './helpers.ts';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const KEY_HEX = '43'.repeat(32);
const key = Buffer.from(KEY_HEX, 'hex');
const PAGE = new URL('../pages/core.ts', import.meta.url);

let site: TestPage;

beforeAll(async () => {
  site = await openTestPage(PAGE, { api: 'coreTest' });
});

afterAll(async () => {
  await site?.close();
});

describe('the same bytes as Node', () => {
  // empty, around one chunk, around a group, around the window, many windows and a bit
  const sizes = [
    0,
    1,
    CHUNK - 1,
    CHUNK,
    CHUNK + 1,
    SUBTLE_GROUP * CHUNK,
    SUBTLE_WINDOW * CHUNK - 1,
    SUBTLE_WINDOW * CHUNK,
    SUBTLE_WINDOW * CHUNK + 1,
    (3 * SUBTLE_WINDOW + 7) * CHUNK + 5,
  ];
  test.each(sizes)('%i bytes, in 1 MiB, 16384, 1000 and 49207-byte writes', async (size) => {
    const expected = await encrypt(pattern(size, 21), {
      recipients: [key],
      backend: 'node',
      _random: fixedRandom(),
    });
    const want = { length: expected.length, whole: sha256hex(expected), streamed: sha256hex(expected) };
    for (const writeSize of [1 << 20, CHUNK, 1000, 3 * SEALED + 7]) {
      const got = await site.call('sealFixed', size, writeSize, KEY_HEX, 'webcrypto');
      expect(got, `${writeSize}-byte writes`).toEqual(want);
    }
    // and it opens in the page, streamed in 1000-byte writes (roundTrip's own check)
    site.server.blobs.set('fixed', expected);
    const opened = await site.call('openFromServer', 'fixed', [KEY_HEX], 'webcrypto');
    expect(opened).toEqual({ code: 'success', length: size, sha256: sha256hex(pattern(size, 21)) });
    site.server.blobs.delete('fixed');
  });
});

interface Tampered {
  streamCode: string;
  released: number;
  prefixOk: boolean;
}

describe('errors', () => {
  const size = 300 * CHUNK + 5;
  test.each([0, 5, 63, 64, 127, 128, 200, 299])(
    'a flipped bit in chunk %i: CHUNK_AUTH_FAILED, nothing of its group or after released',
    async (flip) => {
      for (const writeSize of [1 << 30, 1 << 20, 7777]) {
        const r = await site.call<Tampered>('openTampered', size, flip, writeSize);
        expect(r.streamCode, `${writeSize}-byte writes`).toBe('CHUNK_AUTH_FAILED');
        expect(r.prefixOk).toBe(true);
        expect(r.released).toBeLessThanOrEqual(Math.floor(flip / SUBTLE_GROUP) * SUBTLE_GROUP * CHUNK);
        expect(r.released % CHUNK).toBe(0);
      }
    },
  );

  test('reordered, cut, extended and empty objects, and a wrong key: Node’s codes', async () => {
    const plain = pattern(3 * 1024 * 1024 + 100, 31);
    const sealed = await encrypt(plain, { recipients: [key], backend: 'node' });
    const P = readHeaderLength(sealed)! + PAYLOAD_PREFIX_LENGTH;
    const payloadEnd = sealed.length - (100 + 16); // where the final chunk starts
    const swapped = sealed.slice();
    swapped.set(sealed.subarray(P + 70 * SEALED, P + 71 * SEALED), P + 69 * SEALED);
    swapped.set(sealed.subarray(P + 69 * SEALED, P + 70 * SEALED), P + 70 * SEALED);
    const cases: Array<[string, Uint8Array, string]> = [
      ['chunks 69 and 70 swapped', swapped, 'CHUNK_AUTH_FAILED'],
      ['cut inside the final chunk', sealed.subarray(0, sealed.length - 5), 'CHUNK_AUTH_FAILED'],
      ['cut inside the final chunk’s tag', sealed.subarray(0, payloadEnd + 10), 'TRUNCATED'],
      ['cut before the final chunk', sealed.subarray(0, payloadEnd), 'TRUNCATED'],
      ['cut at a window boundary', sealed.subarray(0, P + SUBTLE_WINDOW * SEALED), 'TRUNCATED'],
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
      expect(page.code, what).toBe(code);
      expect(page.length, what).toBeLessThan(plain.length);
    }
    site.server.blobs.set('cut', sealed);
    const wrong = await site.call('openFromServer', 'cut', [toHex(pattern(32, 99))], 'webcrypto');
    expect(wrong).toMatchObject({ code: 'NO_MATCHING_KEY', length: 0 });
    site.server.blobs.delete('cut');
  });
});

describe('stopping mid-stream', () => {
  test.each(['complete', 'cancel', 'abort', 'tampered'] as const)(
    '%s: settles, nothing logged',
    async (how) => {
      const r = await site.call<{ during: number; after: number; code: string }>(
        'stopMidStream',
        how,
        32 << 20,
        null,
      );
      expect(r.code).toBe(how === 'tampered' ? 'CHUNK_AUTH_FAILED' : 'success');
      expect(r.during, 'no Worker on this path').toBe(0);
      expect(site.errors).toEqual([]);
    },
  );
});

test('the page logged no error', () => {
  expect(site.errors).toEqual([]);
});
