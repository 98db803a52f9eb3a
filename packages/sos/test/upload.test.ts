import { Readable } from 'node:stream';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { putObject, SosError } from '../src/index.ts';
import { bytes, openUploads, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

async function exists(key: string): Promise<boolean> {
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (e) => e.$metadata?.httpStatusCode === 400, // 400: exists, but needs its SSE-C key
  );
}

/** A stream of `parts` 5 MiB pieces that calls `after(i)` once piece i has been read. */
function pieces(parts: number, after: (i: number) => void, failAt?: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i === failAt) return this.destroy(new Error('source failed'));
      if (i === parts) return this.push(null);
      this.push(bytes(5 * MiB));
      after(i++);
    },
  });
}

describe.each([
  ['plain', 'none' as const],
  ['SSE-C', { sseC: { key: generateKey() } }],
])('failed uploads leave nothing behind (%s)', (_label, encryption) => {
  it('abort mid-way: ABORTED, no multipart upload, no object', async () => {
    const controller = new AbortController();
    const key = `aborted-${_label}`;
    const err = await putObject({
      client,
      bucket,
      key,
      body: pieces(20, (i) => i === 6 && controller.abort()),
      encryption,
      partSize: 5 * MiB,
      queueSize: 2,
      signal: controller.signal,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SosError);
    expect(err.code).toBe('ABORTED');
    expect(await openUploads(client, bucket)).toBe(0);
    expect(await exists(key)).toBe(false);
  });

  it('source stream error: the error, no multipart upload, no object', async () => {
    const key = `source-error-${_label}`;
    const err = await putObject({
      client,
      bucket,
      key,
      body: pieces(20, () => {}, 5),
      encryption,
      partSize: 5 * MiB,
      queueSize: 2,
    }).catch((e) => e);
    expect(err.message).toMatch(/source failed/);
    expect(await openUploads(client, bucket)).toBe(0);
    expect(await exists(key)).toBe(false);
  });

  it('an already aborted signal uploads nothing', async () => {
    const err = await putObject({
      client,
      bucket,
      key: 'never',
      body: new Uint8Array(10),
      encryption,
      signal: AbortSignal.abort(),
    }).catch((e) => e);
    expect(err.code).toBe('ABORTED');
    expect(await exists('never')).toBe(false);
  });
});

it('reports progress up to the full size', async () => {
  const seen: number[] = [];
  const data = bytes(12 * MiB);
  const put = await putObject({
    client,
    bucket,
    key: 'progress',
    body: data,
    encryption: 'none',
    partSize: 5 * MiB,
    onProgress: (p) => seen.push(p.loaded),
  });
  expect(put.size).toBe(12 * MiB);
  expect(seen.at(-1)).toBe(12 * MiB);
});

describe("a body stream that fails is the body's failure, not the store's", () => {
  it('a Readable destroyed midway (no error of its own): INVALID_ARGUMENT, not SERVER_FAULT; nothing stored', async () => {
    let n = 0;
    const body = new Readable({
      read() {
        if (++n === 8) this.destroy();
        else this.push(bytes(MiB));
      },
    });
    const err = await putObject({
      client,
      bucket,
      key: 'body/destroyed',
      body,
      encryption: 'none',
      partSize: 5 * MiB,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SosError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('closed before its end');
    expect(await openUploads(client, bucket)).toBe(0);
    const head = await client
      .send(new HeadObjectCommand({ Bucket: bucket, Key: 'body/destroyed' }))
      .catch((e) => e);
    expect(head.$metadata?.httpStatusCode).toBe(404);
  });

  it('a Readable already read to its end is refused, not stored as an empty object', async () => {
    const body = Readable.from([bytes(100)]);
    for await (const _ of body);
    const err = await putObject({ client, bucket, key: 'body/consumed', body, encryption: 'none' }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const head = await client
      .send(new HeadObjectCommand({ Bucket: bucket, Key: 'body/consumed' }))
      .catch((e) => e);
    expect(head.$metadata?.httpStatusCode).toBe(404);
  });
});
