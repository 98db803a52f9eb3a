/**
 * The browser entry of @sealstream/sos (the `browser` condition: the AWS SDK over fetch) in
 * Chromium against the local RGW over TLS: its bundle has no Node built-in, a client-side upload
 * and download (whole and ranged) round-trip and open in Node, SSE-C round-trips, an aborted
 * upload leaves nothing, and a CORS rule that hides headers is named.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decrypt, encrypt } from '@sealstream/core';
import { sdkCorsRule, sseCParams } from '@sealstream/sos';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { openUploads, testClient } from '../../packages/sos/test/helpers.ts';
import { bundleForBrowser } from '../harness/bundle.ts';
import { launchChromium } from '../harness/chromium.ts';
import { pattern, toHex } from '../pages/pattern.ts';
import { bucketSite, sha256hex, storedBytes } from './helpers.ts';

const MiB = 1024 * 1024;
const key = pattern(32, 11);
const sseCKey = pattern(32, 12);
let client: S3Client;
let browser: Browser;
let script: string;
const cleanups: (() => Promise<unknown>)[] = [];

/** What the page generates for `size` bytes (pattern(1 MiB, 7) repeated). */
function generatedBytes(size: number): Uint8Array {
  const template = pattern(MiB, 7);
  const all = new Uint8Array(size);
  for (let i = 0; i < size; i += MiB) all.set(template.subarray(0, Math.min(MiB, size - i)), i);
  return all;
}

/** A bucket with a CORS rule for a page on a fresh test server, and a way to call the page. */
async function site(expose: 'all' | 'none' = 'all') {
  const { bucket, page, errors } = await bucketSite(client, browser, {
    script,
    cleanups,
    rule: (origin) => {
      const rule = sdkCorsRule([origin]);
      if (expose === 'none') delete rule.ExposeHeaders;
      return rule;
    },
  });
  const s3 = inject('s3');
  const store = {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  };
  const call = <T = any>(fn: string, args: Record<string, unknown>): Promise<T> =>
    page.evaluate(([fn, args]) => (globalThis as any).sosTest[fn as string](args), [
      fn,
      { store, bucket, ...args },
    ] as const);
  return { bucket, page, errors, call };
}

let main: Awaited<ReturnType<typeof site>>;

beforeAll(async () => {
  client = testClient();
  // the page imports '@sealstream/sos': the bundler's `browser` condition picks the browser entry
  script = (await bundleForBrowser(new URL('../pages/sos.ts', import.meta.url).pathname)).code;
  browser = await launchChromium({ trust: [inject('s3').caFile] });
  main = await site();
});

afterAll(async () => {
  await browser?.close();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const stored = (bucket: string, k: string, extra = {}) => storedBytes(client, bucket, k, extra);

test('the browser entry bundles for platform browser without a Node built-in; the page has no Buffer or process', async () => {
  const entry = new URL('../../packages/sos/src/index.browser.ts', import.meta.url).pathname;
  const bundle = await bundleForBrowser(entry, { minify: true });
  const gzip = (await import('node:zlib')).gzipSync(bundle.code).length;
  console.log(
    `@sealstream/sos browser entry (with the core and the AWS SDK's S3 client): ${(bundle.bytes / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`,
  );
  const ours = bundle.inputs.filter((i) => i.includes('packages/sos/src/'));
  expect(ours.some((i) => i.endsWith('client.browser.ts'))).toBe(true);
  expect(ours.filter((i) => /\/(client|body\.node|objects\.node)\.ts$/.test(i))).toEqual([]);
  // the page's bundle resolved '@sealstream/sos' to the same entry through the package's conditions
  expect(script).toContain('the browser hid the');
  expect(await main.page.evaluate(() => (globalThis as any).sosTest.nodeGlobals())).toEqual({
    Buffer: 'undefined',
    process: 'undefined',
  });
});

describe('with the CORS rule of sdkCorsRule', () => {
  test('a client-side upload of 24 MiB (multipart, parts in flight) opens in Node; the page downloads it whole and ranged', async () => {
    const size = 24 * MiB + 77;
    const k = 'sealed/big.bin';
    const t0 = performance.now();
    const up = await main.call('upload', {
      key: k,
      size,
      keyHex: toHex(key),
      identity: true,
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const uploadSeconds = (performance.now() - t0) / 1000;
    expect(up.error).toBeUndefined();
    expect(up.result).toMatchObject({ plaintextSize: size, partSize: 5 * MiB });
    const loaded = up.progress.map((p: { loaded: number }) => p.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(loaded.at(-1)).toBe(up.result.size);
    expect(await openUploads(client, main.bucket)).toBe(0);

    const plain = generatedBytes(size);
    const sealed = await stored(main.bucket, k);
    expect(sealed.length).toBe(up.result.size);
    expect(sha256hex(await decrypt(sealed, { keys: [key], identity: `${main.bucket}/${k}` }))).toBe(
      sha256hex(plain),
    );

    const t1 = performance.now();
    const whole = await main.call('download', { key: k, keyHex: toHex(key), identity: true });
    console.log(
      `Chromium -> RGW through the SDK entry, 24 MiB client-side: upload ${uploadSeconds.toFixed(1)} s, download and decrypt ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );
    expect(whole.error).toBeUndefined();
    expect(whole).toMatchObject({ size, objectSize: size, length: size, sha256: sha256hex(plain) });
    const ranged = await main.call('download', {
      key: k,
      keyHex: toHex(key),
      identity: true,
      range: `bytes=${9 * MiB + 3}-${17 * MiB}`,
    });
    expect(ranged.error).toBeUndefined();
    const want = plain.subarray(9 * MiB + 3, 17 * MiB + 1);
    expect(ranged).toMatchObject({ size: want.length, length: want.length, sha256: sha256hex(want) });
  }, 120_000);

  test('a File (Blob) of one part goes up as one PutObject; an object sealed in Node downloads in the page', async () => {
    const up = await main.call('upload', {
      key: 'small/file',
      size: 100_000,
      keyHex: toHex(key),
      asBlob: true,
    });
    expect(up.error).toBeUndefined();
    expect(up.result).toMatchObject({ partSize: 0, plaintextSize: 100_000 });
    expect(sha256hex(await decrypt(await stored(main.bucket, 'small/file'), { keys: [key] }))).toBe(
      sha256hex(generatedBytes(100_000)),
    );

    const plain = pattern(3 * MiB + 5, 3);
    await client.send(
      new PutObjectCommand({
        Bucket: main.bucket,
        Key: 'from-node',
        Body: await encrypt(plain, { recipients: [key] }),
      }),
    );
    const down = await main.call('download', { key: 'from-node', keyHex: toHex(key) });
    expect(down).toMatchObject({ ok: true, length: plain.length, sha256: sha256hex(plain) });
    const wrong = await main.call('download', { key: 'from-node', keyHex: toHex(pattern(32, 99)) });
    expect(wrong.error.code).toBe('NO_MATCHING_KEY');
  });

  test('SSE-C: a multipart upload from the page, read in Node with the key; the page reads it back whole and ranged', async () => {
    const size = 11 * MiB + 9;
    const k = 'sse-c/object.bin';
    const up = await main.call('upload', { key: k, size, sseCHex: toHex(sseCKey), partSize: 5 * MiB });
    expect(up.error).toBeUndefined();
    expect(up.result.size).toBe(size);
    const plain = generatedBytes(size);
    expect(sha256hex(await stored(main.bucket, k, sseCParams(sseCKey)))).toBe(sha256hex(plain));
    // without the key the store refuses: it really is SSE-C
    await expect(stored(main.bucket, k)).rejects.toThrow();

    const whole = await main.call('download', { key: k, sseCHex: toHex(sseCKey) });
    expect(whole).toMatchObject({ ok: true, length: size, sha256: sha256hex(plain) });
    const ranged = await main.call('download', { key: k, sseCHex: toHex(sseCKey), range: 'bytes=-1000' });
    expect(ranged).toMatchObject({ ok: true, length: 1000, sha256: sha256hex(plain.subarray(size - 1000)) });
    const wrong = await main.call('download', { key: k, sseCHex: toHex(pattern(32, 13)) });
    // RGW sends CORS headers with this 400, so the page can tell a wrong key as Node does
    expect(wrong.error).toMatchObject({ code: 'SSE_C_KEY_MISMATCH' });
  }, 120_000);

  test('an upload aborted midway: ABORTED, no multipart upload left, no object', async () => {
    const up = await main.call('upload', {
      key: 'aborted/object.bin',
      size: 48 * MiB,
      keyHex: toHex(key),
      partSize: 5 * MiB,
      queueSize: 2,
      abortAfterBytes: 10 * MiB,
    });
    expect(up.error).toMatchObject({ code: 'ABORTED' });
    expect(up.progress.at(-1).loaded).toBeLessThan(48 * MiB);
    expect(await openUploads(client, main.bucket)).toBe(0);
    const list = await client.send(new ListObjectsV2Command({ Bucket: main.bucket, Prefix: 'aborted/' }));
    expect(list.Contents ?? []).toEqual([]);
  }, 60_000);

  test('a picked file changed on disk after it was picked: SOURCE_CHANGED, no object, no upload left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sos-picked-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    for (const [name, size] of [
      ['single', MiB],
      ['multi', 12 * MiB],
    ] as const) {
      const path = join(dir, `${name}.bin`);
      writeFileSync(path, pattern(size, 3));
      await main.page.setInputFiles('#pick', path);
      // the page has the File as it was picked (its snapshot taken) before the file changes
      expect(
        await main.page.evaluate(() => document.querySelector<HTMLInputElement>('#pick')!.files![0]!.size),
      ).toBe(size);
      // other bytes of the same length, written later: the File picked no longer describes the file
      writeFileSync(path, pattern(size, 4));
      const later = new Date(Date.now() + 10_000);
      utimesSync(path, later, later);
      const k = `picked/changed-${name}.bin`;
      const up = await main.call('uploadPicked', { key: k, keyHex: toHex(key), partSize: 5 * MiB });
      expect(up.error).toMatchObject({
        code: 'SOURCE_CHANGED',
        message: expect.stringMatching(/nothing was stored/),
      });
      const list = await client.send(new ListObjectsV2Command({ Bucket: main.bucket, Prefix: k }));
      expect(list.Contents ?? []).toEqual([]);
    }
    expect(await openUploads(client, main.bucket)).toBe(0);
  }, 60_000);
});

describe('a CORS rule without ExposeHeaders', () => {
  test('an upload fails naming ETag and leaves nothing; a download names ETag', async () => {
    const hidden = await site('none');
    const up = await hidden.call('upload', {
      key: 'x',
      size: 6 * MiB,
      keyHex: toHex(key),
      partSize: 5 * MiB,
    });
    expect(up.error).toMatchObject({ code: 'SERVER_FAULT', header: 'ETag' });
    expect(up.error.message).toMatch(/ExposeHeaders/);
    expect(await openUploads(client, hidden.bucket)).toBe(0);

    await client.send(
      new PutObjectCommand({
        Bucket: hidden.bucket,
        Key: 'y',
        Body: await encrypt(pattern(1000), { recipients: [key] }),
      }),
    );
    const down = await hidden.call('download', { key: 'y', keyHex: toHex(key) });
    expect(down.error).toMatchObject({ code: 'SERVER_FAULT', header: 'ETag' });
  }, 60_000);
});
