import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isSealstreamError } from '@sealstream/core';
import { afterAll, beforeAll, inject } from 'vitest';
import { createSosClient, type Encryption, putObject, type SosClientOptions } from '../src/index.ts';
import type { Journal } from '../src/resume/journal.ts';

/** A client for the test server, verifying its certificate against the test CA. */
export function testClient(extra: Partial<SosClientOptions> = {}): S3Client {
  const s3 = inject('s3');
  return createSosClient({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ca: s3.caFile,
    ...extra,
  });
}

/**
 * A client of a loopback test server (plain http, a fixed made-up key that no one checks, no
 * retries), for the behaviours the RGW does not have (a store that ignores or misanswers Range).
 */
export function loopbackClient(endpoint: string): S3Client {
  return createSosClient({
    endpoint,
    allowInsecureHttp: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    clientConfig: { maxAttempts: 1 },
  });
}

let counter = 0;
/** Creates a fresh bucket; returns its name and a cleanup that empties and deletes it. */
export async function freshBucket(
  client: S3Client,
): Promise<{ bucket: string; cleanup: () => Promise<void> }> {
  const bucket = `t-${process.pid}-${Date.now().toString(36)}-${counter++}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    cleanup: async () => {
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const o of list.Contents ?? [])
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
  };
}

/** Multipart uploads still open in a bucket. */
export async function openUploads(client: S3Client, bucket: string): Promise<number> {
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return out.Uploads?.length ?? 0;
}

/** True when `key` is stored in `bucket` (an SSE-C object answers HEAD without its key with 400). */
export async function objectExists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 400,
  );
}

/** Deterministic-looking test data (random, but sized exactly). */
export function bytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

/** Reads a web stream to the end. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

/** Equality of byte arrays without printing megabytes on failure. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/**
 * A fresh bucket for a test file: made before its tests with a {@link testClient}, emptied and
 * deleted after them. `use` receives the client and the bucket name.
 */
export function useTestBucket(use: (client: S3Client, bucket: string) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const client = testClient();
    const made = await freshBucket(client);
    cleanup = made.cleanup;
    use(client, made.bucket);
  });
  afterAll(() => cleanup?.());
}

/** The `code` of the error a promise rejects with, or undefined when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err === undefined) return undefined;
  return isSealstreamError(err) ? err.code : `not a SealstreamError: ${String(err)}`;
}

/** A directory of its own for a test file, removed with everything in it once the file's tests end. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sealstream-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A test client whose PutObject answers lose the SSE-C echo: what a store that ignores SSE-C, or
 * a proxy that strips those headers, sends.
 */
export function sseCEchoDroppingClient(): S3Client {
  const c = testClient();
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'PutObjectCommand') {
        const output = result.output as { SSECustomerAlgorithm?: string; SSECustomerKeyMD5?: string };
        delete output.SSECustomerAlgorithm;
        delete output.SSECustomerKeyMD5;
      }
      return result;
    },
    { step: 'initialize', name: 'dropSseCEcho' },
  );
  return c;
}

/**
 * A resumable upload of the file at `path` (parts of 5 MiB, one at a time), interrupted once part
 * 1 is stored.
 * @returns The path of its journal, in `dir`.
 */
export async function interruptedUpload(target: {
  client: S3Client;
  bucket: string;
  key: string;
  path: string;
  encryption: Encryption;
  dir: string;
}): Promise<string> {
  const { client, bucket, key, path, encryption, dir } = target;
  const part = 5 * 1024 * 1024;
  const journal = join(dir, `${key}.journal`);
  const controller = new AbortController();
  const err = await putObject({
    client,
    bucket,
    key,
    body: path,
    encryption,
    partSize: part,
    queueSize: 1,
    signal: controller.signal,
    onProgress: (p) => p.loaded >= part && controller.abort(),
    resume: { journal },
  }).catch((e: unknown) => e);
  if ((err as Error | undefined)?.name !== 'UploadResumableError') {
    throw new Error(`expected the upload to be interrupted and kept, got ${String(err)}`);
  }
  return journal;
}

/**
 * Edits the journal at `path` of a sealed upload into one that says `mode`, without a header and
 * with the plan of the file as it is: what a careless or hostile edit of a journal makes.
 */
export function editJournalUnsealed(path: string, mode: 'none' | 'sse-c'): void {
  const { header: _header, ...rest } = JSON.parse(readFileSync(path, 'utf8')) as Journal;
  const sealedSize = rest.source.size;
  const plan = { ...rest.plan, sealedSize, parts: Math.ceil(sealedSize / rest.plan.partSize) };
  writeFileSync(path, JSON.stringify({ ...rest, encryption: mode, plan }));
}
