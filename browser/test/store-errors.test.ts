/**
 * The store's refusals in the browser entry of @sealstream/sos (Chromium, the local RGW over TLS):
 * the mapping Node uses (store-errors.ts) is the page's too, for the answers the page may read.
 * RGW decorates a missing key's 404 with the bucket's CORS headers, but not a refusal of the
 * credentials or an answer for a bucket without a CORS rule (a missing one): those the browser
 * hides, and the page gets the SERVER_FAULT that says so.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { sdkCorsRule } from '@sealstream/sos';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { testClient } from '../../packages/sos/test/helpers.ts';
import { bundleForBrowser } from '../harness/bundle.ts';
import { launchChromium } from '../harness/chromium.ts';
import { toHex } from '../pages/pattern.ts';
import { bucketSite } from './helpers.ts';

interface Failure {
  code: string;
  name: string;
  message: string;
  causeName: string | undefined;
}

let browser: Browser;
let client: S3Client;
const cleanups: (() => Promise<unknown>)[] = [];
let bucket: string;
let download: (args: Record<string, unknown>) => Promise<{ ok: boolean; error?: Failure }>;
const keyHex = toHex(new Uint8Array(32).fill(7));

beforeAll(async () => {
  client = testClient();
  const script = (await bundleForBrowser(new URL('../pages/sos.ts', import.meta.url).pathname)).code;
  browser = await launchChromium({ trust: [inject('s3').caFile] });
  const site = await bucketSite(client, browser, {
    script,
    cleanups,
    rule: (origin) => sdkCorsRule([origin]),
  });
  bucket = site.bucket;
  // the page's store: the test server's, without its CA file (the browser trusts it already)
  const { caFile: _ca, ...store } = inject('s3');
  download = (args) =>
    site.page.evaluate(([args]) => (globalThis as any).sosTest.download(args), [
      { store, bucket, keyHex, ...args },
    ] as const);
});

afterAll(async () => {
  await browser?.close();
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('a missing key is NOT_FOUND in the page too, naming bucket and key, the SDK error as cause', async () => {
  const key = 'no/such/object.bin';
  const got = await download({ key });
  expect(got.ok).toBe(false);
  expect(got.error).toMatchObject({ code: 'NOT_FOUND', name: 'SosError', causeName: 'NoSuchKey' });
  expect(got.error!.message).toContain(`get ${bucket}/${key}`);
  expect(got.error!.message).toContain('404 NoSuchKey');
});

test('a wrong secret: RGW hides the refusal from the page (no CORS headers), SERVER_FAULT names that case, no secret', async () => {
  const s3 = inject('s3');
  const wrongSecret = 'wrong-secret-in-the-page-0123456789';
  const got = await download({
    key: 'any.bin',
    store: {
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: wrongSecret,
    },
  });
  expect(got.error).toMatchObject({ code: 'SERVER_FAULT' });
  expect(got.error!.message).toContain('bad credentials');
  expect(got.error!.message).not.toContain(wrongSecret);
  expect(got.error!.message).not.toContain(s3.secretAccessKey);
});
