/**
 * @sealstream/core in Debian's Chromium: the vectors on WebCrypto and noble, round trips between
 * the page and Node, random access over HTTP Range and the insecure-context rule (throughput: throughput.test.ts).
 */
import { readFileSync } from 'node:fs';
import { decrypt, encrypt } from '@sealstream/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Vector } from '../../packages/core/scripts/generate-vectors.ts';
import { bundleForBrowser } from '../harness/bundle.ts';
import { openReadyPage } from '../harness/page.ts';
import type { TestServer } from '../harness/server.ts';
import { openTestPage, type TestPage } from '../harness/test-page.ts';
import type { Outcome } from '../pages/core.ts';
import { pattern, toHex } from '../pages/pattern.ts';
import { sha256hex } from './helpers.ts';

const vectorsFile = new URL('../../packages/core/test/vectors/sealstream-v1.json', import.meta.url);
const vectors: Vector[] = JSON.parse(readFileSync(vectorsFile, 'utf8'));

let site: TestPage;
let server: TestServer;
let errors: string[];
const call = <T>(fn: string, ...args: unknown[]) => site.call<T>(fn, ...args);

beforeAll(async () => {
  site = await openTestPage(new URL('../pages/core.ts', import.meta.url), {
    api: 'coreTest',
    server: {
      route: (req, res) => {
        if (req.url !== '/vectors.json') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(vectorsFile));
        return true;
      },
    },
    // insecure.test resolves to the loopback server, but as a non-loopback http origin it is not a secure context
    launch: { hostRules: ['MAP insecure.test 127.0.0.1'] },
  });
  ({ server, errors } = site);
});

afterAll(async () => {
  await site?.close();
});

test('the core bundles for the browser without a Node built-in', async () => {
  const bundle = await bundleForBrowser(
    new URL('../../packages/core/src/index.ts', import.meta.url).pathname,
    {
      minify: true,
    },
  );
  console.log(`core browser bundle: ${(bundle.bytes / 1024).toFixed(1)} KiB minified`);
  expect(bundle.inputs.some((i) => i.includes('packages/core/src/encrypt.ts'))).toBe(true);
});

describe.each(['webcrypto', 'noble'] as const)('vectors on %s in Chromium', (backend) => {
  test('every vector ends as the file says, whole and streamed', async () => {
    const outcomes = await call<Outcome[]>('vectors', backend);
    expect(outcomes).toHaveLength(2 * vectors.length);
    expect(vectors.length).toBeGreaterThanOrEqual(38);
    for (const o of outcomes) {
      const v = vectors.find((x) => x.name === o.name)!;
      const label = `${o.name} (${o.mode})`;
      expect(o.code, label).toBe(v.expect);
      if (v.expect === 'success') {
        expect({ length: o.length, sha256: o.sha256 }, label).toEqual(v.plaintext);
      } else if (o.mode === 'whole') {
        expect(o.length, `${label}: decrypt() returns nothing on failure`).toBe(0);
      } else {
        expect(o.length, label).toBeLessThanOrEqual(v.released!.length);
        if (o.length === v.released!.length) expect(o.sha256, label).toBe(v.released!.sha256);
      }
    }
    expect(errors).toEqual([]);
  }, 120_000);
});

describe('cross-runtime round trips', () => {
  const key = pattern(32, 11);

  test.each(['webcrypto', 'noble'] as const)('sealed in the page (%s) opens in Node', async (backend) => {
    const size = backend === 'noble' ? 3 * 16384 + 5 : 16 * 1024 * 1024 + 123;
    const sealed = await call<{ sha256: string }>(
      'sealToServer',
      `page-${backend}`,
      size,
      21,
      toHex(key),
      backend,
    );
    const plain = await decrypt(server.blobs.get(`page-${backend}`)!, { keys: [key], backend: 'node' });
    expect(plain.length).toBe(size);
    expect(sha256hex(plain)).toBe(sealed.sha256);
    expect(sha256hex(plain)).toBe(sha256hex(pattern(size, 21)));
  });

  test('sealed in Node opens in the page, and a wrong key or a flipped bit fails there with the right code', async () => {
    const plain = pattern(5 * 1024 * 1024 + 7, 31);
    server.blobs.set('node', await encrypt(plain, { recipients: [key], backend: 'node' }));
    const ok = await call<{ code: string; length: number; sha256: string }>(
      'openFromServer',
      'node',
      [toHex(key)],
      'webcrypto',
    );
    expect(ok).toEqual({ code: 'success', length: plain.length, sha256: sha256hex(plain) });

    const wrong = await call<{ code: string; length: number }>(
      'openFromServer',
      'node',
      [toHex(pattern(32, 99))],
      'webcrypto',
    );
    expect(wrong).toMatchObject({ code: 'NO_MATCHING_KEY', length: 0 });

    const tampered = server.blobs.get('node')!.slice();
    tampered[tampered.length - 100]! ^= 1;
    server.blobs.set('tampered', tampered);
    const bad = await call<{ code: string; length: number }>(
      'openFromServer',
      'tampered',
      [toHex(key)],
      'noble',
    );
    expect(bad.code).toBe('CHUNK_AUTH_FAILED');
    expect(bad.length).toBeLessThan(plain.length);
  });

  test('random access over HTTP Range fetches only the chunks it needs', async () => {
    const plain = pattern(3 * 1024 * 1024 + 1000, 41);
    server.blobs.set('ranged', await encrypt(plain, { recipients: [key], backend: 'node' }));
    server.log.length = 0;
    const start = 1_000_000;
    const end = 1_050_000;
    const got = await call<{ hex: string; fetched: number; size: number }>(
      'readRange',
      'ranged',
      toHex(key),
      start,
      end,
    );
    expect(got.size).toBe(plain.length);
    expect(got.hex).toBe(toHex(plain.subarray(start, end)));
    expect(got.fetched).toBeLessThan(5 * 16400);
    expect(server.log.filter((l) => l.startsWith('GET /blob/ranged'))).toHaveLength(2);
    // the end of the object: the final chunk authenticates the length
    const tail = await call<{ hex: string }>(
      'readRange',
      'ranged',
      toHex(key),
      plain.length - 10,
      plain.length,
    );
    expect(tail.hex).toBe(toHex(plain.subarray(plain.length - 10)));
  });
});

describe('an insecure context', () => {
  let insecure: Page;
  beforeAll(async () => {
    ({ page: insecure } = await openReadyPage(
      site.browser,
      server.origin.replace('127.0.0.1', 'insecure.test'),
    ));
  });
  const callThere = <T>(fn: string, ...args: unknown[]): Promise<T> =>
    insecure.evaluate(([fn, args]) => (globalThis as any).coreTest[fn as string](...(args as unknown[])), [
      fn,
      args,
    ] as const);

  test('is one: no crypto.subtle', async () => {
    expect(await insecure.evaluate(() => [globalThis.isSecureContext, typeof crypto.subtle])).toEqual([
      false,
      'undefined',
    ]);
  });

  test('the automatic backend choice fails with a clear error instead of silently going 10x slower', async () => {
    const auto = await callThere<{ code: string; message: string }>('automaticBackend');
    expect(auto.code).toBe('BACKEND_UNAVAILABLE');
    expect(auto.message).toMatch(/secure context/);
    expect(auto.message).toMatch(/noble/);
    expect(await callThere('roundTrip')).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(await callThere('roundTrip', 'webcrypto')).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  test('noble chosen explicitly works there', async () => {
    expect(await callThere('roundTrip', 'noble')).toEqual({ ok: true });
  });

  test('a secure context still chooses WebCrypto automatically', async () => {
    expect(await call('automaticBackend')).toEqual({ name: 'webcrypto', secure: true });
  });
});
