/** Node-side helpers of the browser tests. */
import { createHash } from 'node:crypto';
import {
  type CORSRule,
  GetObjectCommand,
  type GetObjectCommandInput,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import { inject } from 'vitest';
import { freshBucket } from '../../packages/sos/test/helpers.ts';
import { openReadyPage } from '../harness/page.ts';
import { startTestServer, type TestServer, type TestServerOptions } from '../harness/server.ts';
import { pattern } from '../pages/pattern.ts';

/**
 * The test page's fixedRandom (browser/pages/core.ts), in Node: the same randomness gives the same
 * object, so bytes sealed in the page can be compared with Node's.
 */
export function fixedRandom(): (length: number) => Uint8Array {
  let n = 0;
  return (length) => pattern(length, 1000 + n++);
}

/** SHA-256 of bytes, lowercase hex. */
export const sha256hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The bytes of an object as stored, read in Node (with SSE-C parameters when given). */
export async function storedBytes(
  client: S3Client,
  bucket: string,
  key: string,
  extra: Partial<GetObjectCommandInput> = {},
): Promise<Uint8Array> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
  return out.Body!.transformToByteArray();
}

/** Options of {@link bucketSite}. */
export interface BucketSiteOptions {
  /** The page's bundled script. */
  script: string;
  /** The bucket's CORS rule, for the test server's origin. */
  rule: (origin: string, bucket: string) => CORSRule;
  /** The test server's routes (e.g. a presigning API for the bucket). */
  route?: (bucket: string) => TestServerOptions['route'];
  /** Where the bucket's and server's cleanups go (run by the test's afterAll). */
  cleanups: (() => Promise<unknown>)[];
}

/**
 * What the transport's page tests start from: a fresh bucket in the local RGW, a test server whose
 * page may reach the store, the bucket's CORS rule for that page's origin, and the page open.
 */
export async function bucketSite(
  client: S3Client,
  browser: Browser,
  options: BucketSiteOptions,
): Promise<{ bucket: string; server: TestServer; page: Page; errors: string[] }> {
  const made = await freshBucket(client);
  options.cleanups.push(made.cleanup);
  const server = await startTestServer({
    script: options.script,
    route: options.route?.(made.bucket),
    connect: [inject('s3').endpoint],
  });
  options.cleanups.push(() => server.close());
  await client.send(
    new PutBucketCorsCommand({
      Bucket: made.bucket,
      CORSConfiguration: { CORSRules: [options.rule(server.origin, made.bucket)] },
    }),
  );
  const { page, errors } = await openReadyPage(browser, server.origin);
  return { bucket: made.bucket, server, page, errors };
}
