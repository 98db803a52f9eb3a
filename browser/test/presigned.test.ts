/**
 * Presigned transfers from Chromium to the local RGW: a sealed 64 MiB multipart upload through
 * presigned part URLs (opened in Node), downloads and ranges through presigned GETs, an aborted
 * upload that leaves nothing, and the errors a page gets when the bucket's CORS rule hides headers.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import {
  GetBucketCorsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { decrypt, encrypt } from '@sealstream/core';
import { allowBrowserAccess, browserCorsRule, presignGet } from '@sealstream/sos/presign';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { presignApi } from '../../examples/web/api.ts';
import { openUploads, testClient } from '../../packages/sos/test/helpers.ts';
import { bundleForBrowser } from '../harness/bundle.ts';
import { launchChromium } from '../harness/chromium.ts';
import { pattern, toHex } from '../pages/pattern.ts';
import { bucketSite, sha256hex, storedBytes } from './helpers.ts';

const MiB = 1024 * 1024;
const key = pattern(32, 5);
let client: S3Client;
let browser: Browser;
const cleanups: (() => Promise<unknown>)[] = [];

/** A bucket with a CORS rule, its API server, and a page on that server. */
async function site(
  script: string,
  cors: (origin: string) => Parameters<typeof browserCorsRule>[0] | 'hidden' | 'etag-only',
) {
  const { bucket, server, page } = await bucketSite(client, browser, {
    script,
    cleanups,
    route: (bucket) => presignApi(client, bucket),
    rule: (origin) => {
      const mode = cors(origin);
      const rule = browserCorsRule([origin]);
      if (mode === 'hidden') delete rule.ExposeHeaders;
      if (mode === 'etag-only') rule.ExposeHeaders = ['ETag'];
      return rule;
    },
  });
  const call = <T = any>(fn: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(([fn, args]) => (globalThis as any).presignedTest[fn as string](...(args as unknown[])), [
      fn,
      args,
    ] as const);
  return { bucket, server, page, call };
}

let script: string;
let main: Awaited<ReturnType<typeof site>>;

beforeAll(async () => {
  client = testClient();
  script = (await bundleForBrowser(new URL('../pages/presigned.ts', import.meta.url).pathname)).code;
  browser = await launchChromium({ trust: [inject('s3').caFile] });
  main = await site(script, (origin) => [origin]);
});

afterAll(async () => {
  await browser?.close();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const stored = (bucket: string, k: string, extra = {}) => storedBytes(client, bucket, k, extra);

test('the page side of presigned transfers bundles for the browser without a Node built-in or the AWS SDK', async () => {
  const entry = new URL('../../packages/sos/src/presigned/index.ts', import.meta.url).pathname;
  const bundle = await bundleForBrowser(entry, { minify: true });
  console.log(
    `@sealstream/sos/presigned browser bundle (with the core): ${(bundle.bytes / 1024).toFixed(1)} KiB minified`,
  );
  expect(bundle.inputs.filter((i) => i.includes('@aws-sdk') || i.includes('@smithy'))).toEqual([]);
  expect(bundle.inputs.some((i) => i.endsWith('presigned/upload.ts'))).toBe(true);
});

describe('the bucket CORS rule on RGW', () => {
  test('PutBucketCors is stored as given', async () => {
    const got = await client.send(new GetBucketCorsCommand({ Bucket: main.bucket }));
    expect(got.CORSRules?.[0]).toMatchObject({
      AllowedOrigins: [main.server.origin],
      AllowedMethods: expect.arrayContaining(['GET', 'HEAD', 'PUT']),
      ExposeHeaders: expect.arrayContaining(['ETag', 'Content-Range']),
    });
  });

  test('RGW answers the preflight for the allowed origin, and not for another', async () => {
    const preflight = (origin: string) =>
      new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const url = new URL(`${inject('s3').endpoint}/${main.bucket}/some-key`);
        const req = request(
          url,
          {
            method: 'OPTIONS',
            ca: readFileSync(inject('s3').caFile),
            headers: {
              origin,
              'access-control-request-method': 'PUT',
              'access-control-request-headers': 'content-type',
            },
          },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode!, headers: res.headers });
          },
        );
        req.on('error', reject);
        req.end();
      });
    const ok = await preflight(main.server.origin);
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(main.server.origin);
    expect(String(ok.headers['access-control-allow-methods'])).toContain('PUT');
    const other = await preflight('http://127.0.0.1:1');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('a page with a correct CORS rule', () => {
  test('uploads 64 MiB sealed through presigned part URLs; Node opens it', async () => {
    const size = 64 * MiB + 321;
    const k = 'big/sixty-four.bin';
    const identity = `${main.bucket}/${k}`;
    const t0 = performance.now();
    const up = await main.call('upload', {
      key: k,
      size,
      keyHex: toHex(key),
      identity,
      partSize: 8 * MiB,
      partsInFlight: 4,
    });
    const uploadSeconds = (performance.now() - t0) / 1000;
    expect(up.error).toBeUndefined();
    expect(up.result.parts).toBe(9);
    expect(up.result.plaintextSize).toBe(size);
    const last = up.progress.at(-1);
    expect(last).toMatchObject({ plaintextBytes: size, uploadedBytes: up.result.size, partsUploaded: 9 });
    const uploaded = up.progress.map((p: { uploadedBytes: number }) => p.uploadedBytes);
    expect(uploaded).toEqual([...uploaded].sort((a, b) => a - b));

    const sealed = await stored(main.bucket, k);
    expect(sealed.length).toBe(up.result.size);
    const plain = await decrypt(sealed, { keys: [key], identity, backend: 'node' });
    expect(sha256hex(plain)).toBe(await main.call('expectedSha', size, false));
    expect(await openUploads(client, main.bucket)).toBe(0);

    // and back in the page: the whole object through ranged GETs, and one range
    const t1 = performance.now();
    const down = await main.call('download', k, toHex(key), [10 * MiB + 5, 10 * MiB + 70_000], identity);
    console.log(
      `Chromium -> RGW, 64 MiB sealed: upload ${uploadSeconds.toFixed(1)} s, download and decrypt ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );
    expect(down.error).toBeUndefined();
    expect(down).toMatchObject({ size, length: size, sha256: sha256hex(plain) });
    expect(down.slice).toBe(toHex(plain.subarray(10 * MiB + 5, 10 * MiB + 70_000)));
  }, 120_000);

  test('a File (Blob) smaller than one part is one part; an object sealed in Node downloads in the page', async () => {
    const up = await main.call('upload', {
      key: 'small/file.bin',
      size: 100_000,
      keyHex: toHex(key),
      asBlob: true,
    });
    expect(up.error).toBeUndefined();
    expect(up.result.parts).toBe(1);
    expect(up.progress.at(-1).sealedTotal).toBe(up.result.size);
    expect(sha256hex(await decrypt(await stored(main.bucket, 'small/file.bin'), { keys: [key] }))).toBe(
      sha256hex(pattern(100_000, 7)),
    );

    const empty = await main.call('upload', {
      key: 'small/empty',
      size: 0,
      keyHex: toHex(key),
      asBlob: true,
    });
    expect(empty.result).toMatchObject({ parts: 1, plaintextSize: 0 });
    expect(await main.call('download', 'small/empty', toHex(key))).toMatchObject({
      ok: true,
      size: 0,
      length: 0,
    });

    const plain = pattern(3 * MiB + 17, 77);
    await client.send(
      new PutObjectCommand({
        Bucket: main.bucket,
        Key: 'from-node',
        Body: await encrypt(plain, { recipients: [key] }),
      }),
    );
    const down = await main.call('download', 'from-node', toHex(key), [3 * MiB, 3 * MiB + 17]);
    expect(down).toMatchObject({ ok: true, length: plain.length, sha256: sha256hex(plain) });
    expect(down.slice).toBe(toHex(plain.subarray(3 * MiB)));
    const wrong = await main.call('download', 'from-node', toHex(pattern(32, 6)));
    expect(wrong.error.code).toBe('NO_MATCHING_KEY');
  });

  test('an upload aborted midway leaves no multipart upload and no object', async () => {
    const k = 'aborted/object.bin';
    const up = await main.call('upload', {
      key: k,
      size: 48 * MiB,
      keyHex: toHex(key),
      partSize: 5 * MiB,
      partsInFlight: 2,
      abortAfterParts: 2,
    });
    expect(up.error).toMatchObject({ code: 'ABORTED' });
    expect(up.progress.at(-1).partsUploaded).toBeLessThan(10);
    expect(await openUploads(client, main.bucket)).toBe(0);
    const list = await client.send(new ListObjectsV2Command({ Bucket: main.bucket, Prefix: 'aborted/' }));
    expect(list.Contents ?? []).toEqual([]);
  });

  test('an expired presigned GET fails, and the error says it may have expired', async () => {
    await client.send(
      new PutObjectCommand({ Bucket: main.bucket, Key: 'expiring', Body: new Uint8Array(10) }),
    );
    const url = await presignGet(client, { bucket: main.bucket, key: 'expiring', expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    // RGW sends its 403 without CORS headers, so the page cannot read it: not ACCESS_DENIED but
    // NETWORK_ERROR, whose message names that case (a store that decorates errors gives ACCESS_DENIED)
    const got = (await main.call('openSource', url)).error;
    expect(got.code).toBe('NETWORK_ERROR');
    expect(got.message).toMatch(/expired/);
  });
});

describe('a bucket whose CORS rule hides headers', () => {
  test('with no ExposeHeaders, an upload fails naming ETag and leaves nothing behind; a download names ETag', async () => {
    const hidden = await site(script, () => 'hidden');
    const up = await hidden.call('upload', {
      key: 'x.bin',
      size: 6 * MiB,
      keyHex: toHex(key),
      partSize: 5 * MiB,
    });
    expect(up.error).toMatchObject({ code: 'CORS_HEADER_HIDDEN', header: 'ETag' });
    expect(up.error.message).toMatch(/ExposeHeaders/);
    expect(await openUploads(client, hidden.bucket)).toBe(0);

    await client.send(
      new PutObjectCommand({
        Bucket: hidden.bucket,
        Key: 'y',
        Body: await encrypt(pattern(1000), { recipients: [key] }),
      }),
    );
    const url = await presignGet(client, { bucket: hidden.bucket, key: 'y' });
    expect((await hidden.call('openSource', url)).error).toMatchObject({
      code: 'CORS_HEADER_HIDDEN',
      header: 'ETag',
    });
  });

  test('with only ETag exposed, a ranged read names Content-Range', async () => {
    const etagOnly = await site(script, () => 'etag-only');
    await client.send(
      new PutObjectCommand({
        Bucket: etagOnly.bucket,
        Key: 'y',
        Body: await encrypt(pattern(1000), { recipients: [key] }),
      }),
    );
    const url = await presignGet(client, { bucket: etagOnly.bucket, key: 'y' });
    expect((await etagOnly.call('openSource', url)).error).toMatchObject({
      code: 'CORS_HEADER_HIDDEN',
      header: 'Content-Range',
    });
  });

  test('an origin the rule does not allow gets NETWORK_ERROR that says CORS may be why', async () => {
    const other = await site(script, () => ['http://127.0.0.1:1']);
    await allowBrowserAccess(client, other.bucket, ['http://127.0.0.1:1']);
    await client.send(new PutObjectCommand({ Bucket: other.bucket, Key: 'y', Body: new Uint8Array(10) }));
    const url = await presignGet(client, { bucket: other.bucket, key: 'y' });
    const got = (await other.call('openSource', url)).error;
    expect(got.code).toBe('NETWORK_ERROR');
    expect(got.message).toMatch(/CORS/);
  });
});
