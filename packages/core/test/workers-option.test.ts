/**
 * The `workers` option where there are no Workers (Node.js): it is ignored, the streams are the
 * page-thread ones with the automatic backend, and the pool refuses to start with a typed error.
 * The Worker path itself is tested in Chromium (browser/test/workers.test.ts).
 */
import { describe, expect, test } from 'vitest';
import { createWorkerPool, decrypt, encrypt, encryptStream, isSealstreamError } from '../src/index.ts';
import { poolSize } from '../src/worker/pool.ts';
import { wantsWorkers } from '../src/worker/streams.ts';
import { pattern, sha256hex, through } from './helpers.ts';

const key = pattern(32, 3);

function fixedRandom(): (length: number) => Uint8Array {
  let n = 0;
  return (length) => pattern(length, 1000 + n++);
}

describe('on Node.js', () => {
  test('there is no Worker: workers is never taken, whatever the backend', () => {
    expect(typeof (globalThis as { Worker?: unknown }).Worker).toBe('undefined');
    for (const backend of [undefined, 'webcrypto', 'node'] as const) {
      expect(wantsWorkers({ workers: 2, backend })).toBe(false);
    }
    expect(wantsWorkers({})).toBe(false);
  });

  test('encryptStream with workers gives the bytes of encryptStream without', async () => {
    const plain = pattern(3 * 16384 + 9, 5);
    const expected = await encrypt(plain, { recipients: [key], _random: fixedRandom() });
    const streamed = await through(encryptStream({ recipients: [key], workers: 2, _random: fixedRandom() }), [
      plain,
    ]);
    expect(sha256hex(streamed)).toBe(sha256hex(expected));
    expect(sha256hex(await decrypt(streamed, { keys: [key] }))).toBe(sha256hex(plain));
  });

  test('createWorkerPool fails with BACKEND_UNAVAILABLE', () => {
    expect(() => createWorkerPool()).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
  });
});

test('a pool size is auto or a whole number from 1 to 16', () => {
  expect(poolSize(3)).toBe(3);
  expect(poolSize('auto')).toBeGreaterThanOrEqual(1);
  expect(poolSize('auto')).toBeLessThanOrEqual(4);
  for (const bad of [0, -1, 1.5, 17, Number.NaN]) {
    let error: unknown;
    try {
      poolSize(bad);
    } catch (err) {
      error = err;
    }
    expect(isSealstreamError(error, 'INVALID_ARGUMENT'), String(bad)).toBe(true);
  }
});
