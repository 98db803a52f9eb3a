/**
 * The WebCrypto backend's runs in Chromium (many chunks in flight, taken in order): the same bytes
 * as Node's backends at the edges of a run and of the in-flight window, and a tampered chunk in the
 * middle of a run failing that whole run, with a typed error, before any of its plaintext leaves.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// core's sources, not the package: `_random` (fixed randomness) is internal, absent from the published types
import { encrypt } from '../../packages/core/src/index.ts';
import { openTestPage, type TestPage } from '../harness/test-page.ts';
import { pattern } from '../pages/pattern.ts';
import { sha256hex } from './helpers.ts';

const CHUNK = 16384;
/** Chunks per run of the streams (BATCH_CHUNKS in encrypt.ts/decrypt.ts) and per in-flight window. */
const RUN = 64;
const KEY_HEX = '42'.repeat(32);

let site: TestPage;
let errors: string[];
const call = <T>(fn: string, ...args: unknown[]) => site.call<T>(fn, ...args);

beforeAll(async () => {
  site = await openTestPage(new URL('../pages/core.ts', import.meta.url), { api: 'coreTest' });
  ({ errors } = site);
});

afterAll(async () => {
  await site?.close();
});

/** The page's fixedRandom, in Node: the same randomness gives the same object. */
function fixedRandom(): (length: number) => Uint8Array {
  let n = 0;
  return (length) => pattern(length, 1000 + n++);
}

describe('the same bytes as Node, at the edges of runs and of the window', () => {
  // empty, one byte, around one chunk, one run exactly (the final chunk is then empty), one byte
  // past it, just short of the next chunk, and more than two windows in one call (encrypt() whole)
  const sizes = [
    0,
    1,
    CHUNK - 1,
    CHUNK,
    CHUNK + 1,
    RUN * CHUNK,
    RUN * CHUNK + 1,
    65 * CHUNK - 1,
    130 * CHUNK + 100,
  ];
  test.each(sizes)(
    '%i bytes: encryptStream (1 MiB and 1000-byte writes) and encrypt() in the page = encrypt() on node and native',
    async (size) => {
      const plain = pattern(size, 21);
      const key = Buffer.from(KEY_HEX, 'hex');
      const expected = await encrypt(plain, { recipients: [key], backend: 'node', _random: fixedRandom() });
      const native = await encrypt(plain, { recipients: [key], _random: fixedRandom() });
      expect(sha256hex(native)).toBe(sha256hex(expected));
      for (const writeSize of [1 << 20, 1000]) {
        const got = await call<{ length: number; whole: string; streamed: string }>(
          'sealFixed',
          size,
          writeSize,
          KEY_HEX,
          'webcrypto',
        );
        expect(got, `${size} bytes in ${writeSize}-byte writes`).toEqual({
          length: expected.length,
          whole: sha256hex(expected),
          streamed: sha256hex(expected),
        });
      }
      expect(errors).toEqual([]);
    },
  );
});

interface Tampered {
  streamCode: string;
  released: number;
  prefixOk: boolean;
  wholeCode: string;
  openerCode: string;
  openerBefore: boolean;
  openerFailedZeroed: boolean;
  openerAfterUntouched: boolean;
}

describe('a tampered chunk inside a run', () => {
  const size = 200 * CHUNK + 5; // runs of 64: chunks 0-63, 64-127, 128-191, 192-200
  // written in one piece, the stream cuts the payload into exactly those runs: what it may release
  // before failing is every run before the tampered chunk's run, and nothing of that run
  test.each([
    [5, 0],
    [64, RUN * CHUNK],
    [70, RUN * CHUNK],
    [127, RUN * CHUNK],
    [150, 2 * RUN * CHUNK],
  ])(
    'chunk %i: CHUNK_AUTH_FAILED, and the stream released at most the %i bytes of the runs before it',
    async (flip, expected) => {
      const sealedLength = 1 << 30; // larger than the object: one write
      const r = await call<Tampered>('openTampered', size, flip, sealedLength);
      // released: how much of what the stream enqueued before failing the reader took (an error
      // drops what is still queued), in whole chunks, never any of the tampered chunk's group
      expect(r.released).toBeLessThanOrEqual(expected);
      expect(r.released % CHUNK).toBe(0);
      expect({ ...r, released: undefined }).toEqual({
        streamCode: 'CHUNK_AUTH_FAILED',
        released: undefined,
        prefixOk: true,
        wholeCode: 'CHUNK_AUTH_FAILED',
        openerCode: 'CHUNK_AUTH_FAILED',
        // one opener call over all 201 chunks (four windows in flight one after the other): the chunks
        // before the failing one are written, it is zeroed, and nothing after it is touched
        openerBefore: true,
        openerFailedZeroed: true,
        openerAfterUntouched: true,
      });
    },
  );

  test('fed in 1 MiB writes (runs that straddle writes), nothing past the tampered chunk leaves', async () => {
    const flip = 70;
    const r = await call<Tampered>('openTampered', size, flip, 1 << 20);
    expect(r.streamCode).toBe('CHUNK_AUTH_FAILED');
    expect(r.prefixOk).toBe(true);
    expect(r.released % CHUNK).toBe(0);
    expect(r.released).toBeLessThanOrEqual(flip * CHUNK);
  });
});

test('the page logged no error', () => {
  expect(errors).toEqual([]);
});
