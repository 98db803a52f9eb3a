/** The server side of presigned transfers against the local RGW, and the page side's HTTP decision table. */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, inject, test } from 'vitest';
import {
  abortPresignedUpload,
  browserCorsRule,
  completePresignedUpload,
  createPresignedUpload,
  presignHead,
  presignUploadPart,
} from '../src/presign.ts';
import { failedAnswer, requireHeader, send } from '../src/presigned/http.ts';
import { uploadSealed } from '../src/presigned/upload.ts';
import { bytes, codeOf, openUploads, testClient, useTestBucket } from './helpers.ts';
import { countingFetch } from './support/https-fetch.ts';

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

/** An HTTPS request to a presigned URL, trusting the test CA; returns status and headers. */
function put(url: string, method: string, body?: Uint8Array) {
  return new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(url, { method, ca: readFileSync(inject('s3').caFile) }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('presign helpers on RGW', () => {
  test('create, presign two parts, PUT them without credentials, complete: the object is there', async () => {
    const key = 'presigned/two-parts';
    const { uploadId } = await createPresignedUpload(client, { bucket, key });
    const data = [bytes(5 * 1024 * 1024), bytes(1000)];
    const parts = [];
    for (const [i, body] of data.entries()) {
      const url = await presignUploadPart(client, {
        bucket,
        key,
        uploadId,
        partNumber: i + 1,
        expiresIn: 60,
      });
      expect(url).not.toContain(inject('s3').secretAccessKey);
      const res = await put(url, 'PUT', body);
      expect(res.status).toBe(200);
      parts.push({ partNumber: i + 1, etag: String(res.headers.etag) });
    }
    const done = await completePresignedUpload(client, { bucket, key, uploadId, parts });
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ETag).toMatch(/-2"$/);
    if (done.etag) expect(done.etag).toBe(head.ETag);
    expect(head.ContentLength).toBe(5 * 1024 * 1024 + 1000);
    expect((await put(await presignHead(client, { bucket, key }), 'HEAD')).status).toBe(200);
  });

  test('a parts list out of order or without ETags is refused before the store sees it; abort leaves nothing', async () => {
    const key = 'presigned/refused';
    const { uploadId } = await createPresignedUpload(client, { bucket, key });
    const complete = (parts: unknown) =>
      completePresignedUpload(client, { bucket, key, uploadId, parts: parts as never });
    expect(await codeOf(complete([]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(complete([{ partNumber: 2, etag: '"a"' }]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(complete([{ partNumber: 1, etag: '' }]))).toBe('INVALID_ARGUMENT');
    expect(await openUploads(client, bucket)).toBe(1);
    await abortPresignedUpload(client, { bucket, key, uploadId });
    expect(await openUploads(client, bucket)).toBe(0);
    // aborting again is not an error: nothing is left
    await abortPresignedUpload(client, { bucket, key, uploadId });
  });

  test('an abort the store refuses is UPLOAD_NOT_ABORTED, naming the upload', async () => {
    const key = 'presigned/stranded';
    const { uploadId } = await createPresignedUpload(client, { bucket, key });
    const intruder = testClient({
      credentials: { accessKeyId: inject('s3').accessKeyId, secretAccessKey: 'wrong' },
    });
    const err = await abortPresignedUpload(intruder, { bucket, key, uploadId }).catch((e) => e);
    expect(err).toMatchObject({ code: 'UPLOAD_NOT_ABORTED', uploadId, bucket, key });
    expect(err.message).toContain(uploadId);
    await abortPresignedUpload(client, { bucket, key, uploadId });
    expect(await openUploads(client, bucket)).toBe(0);
  });

  test('bad arguments are INVALID_ARGUMENT', async () => {
    const at = { bucket, key: 'k', uploadId: 'u' };
    expect(await codeOf(presignUploadPart(client, { ...at, partNumber: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(presignUploadPart(client, { ...at, partNumber: 10_001 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(presignUploadPart(client, { ...at, partNumber: 1, expiresIn: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(() => browserCorsRule([])).toThrow(/origins/);
    expect(browserCorsRule(['https://app.example']).ExposeHeaders).toEqual(
      expect.arrayContaining(['ETag', 'Content-Range']),
    );
  });
});

describe('the page side HTTP decision table (fetch faked at its seam)', () => {
  const answer = (
    status: number,
    headers: Record<string, string> = {},
    type: 'default' | 'basic' | 'cors' = 'default',
  ) =>
    ({
      status,
      ok: status < 300,
      type,
      headers: new Headers(headers),
      text: async () => '',
      body: null,
    }) as unknown as Response;

  test('statuses map to stable codes', async () => {
    const codes = [];
    for (const status of [403, 404, 412, 416, 400])
      codes.push((await failedAnswer(answer(status), 'x')).code);
    expect(codes).toEqual([
      'ACCESS_DENIED',
      'NOT_FOUND',
      'OBJECT_CHANGED',
      'RANGE_NOT_SATISFIABLE',
      'SERVER_FAULT',
    ]);
  });

  test('a missing header is CORS_HEADER_HIDDEN in a cross-origin answer, SERVER_FAULT otherwise', () => {
    expect(() => requireHeader(answer(200, {}, 'cors'), 'ETag', 'part 1')).toThrow(
      expect.objectContaining({ code: 'CORS_HEADER_HIDDEN', header: 'ETag' }),
    );
    expect(() => requireHeader(answer(200, {}, 'basic'), 'ETag', 'part 1')).toThrow(
      expect.objectContaining({ code: 'SERVER_FAULT' }),
    );
    expect(requireHeader(answer(200, { etag: '"e"' }, 'cors'), 'ETag', 'part 1')).toBe('"e"');
  });

  test('5xx and network failures are retried with a fresh URL; then SERVER_FAULT or NETWORK_ERROR', async () => {
    const urls: string[] = [];
    let n = 0;
    const flaky = async () => (++n < 3 ? answer(503) : answer(200));
    const res = await send(
      { url: () => `u${urls.push('x')}`, method: 'GET', what: 'x' },
      { fetch: flaky as typeof fetch, attempts: 3 },
    );
    expect(res.status).toBe(200);
    expect(urls).toHaveLength(3);
    const down = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(
      await codeOf(send({ url: () => 'u', method: 'GET', what: 'x' }, { fetch: down, attempts: 2 })),
    ).toBe('NETWORK_ERROR');
    const always503 = async () => answer(503);
    expect(
      await codeOf(
        send({ url: () => 'u', method: 'GET', what: 'x' }, { fetch: always503 as typeof fetch, attempts: 2 }),
      ),
    ).toBe('SERVER_FAULT');
  });

  test('a request with no answer times out as TIMEOUT; an abort is ABORTED at once', async () => {
    const hang = (_: unknown, init?: RequestInit) =>
      new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    expect(
      await codeOf(
        send({ url: () => 'u', method: 'GET', what: 'x' }, { fetch: hang, attempts: 2, timeoutMs: 50 }),
      ),
    ).toBe('TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(
      await codeOf(send({ url: () => 'u', method: 'GET', what: 'x' }, { fetch: hang }, controller.signal)),
    ).toBe('ABORTED');
  });
});

describe("the page side: the caller's own URL and presigner functions", () => {
  test('an error the URL function throws is thrown as it is: not retried, not a NETWORK_ERROR', async () => {
    let asked = 0;
    let fetched = 0;
    const serverDown = new Error('the page server answered 500');
    const error = await send(
      {
        url: () => {
          asked++;
          throw serverDown;
        },
        method: 'GET',
        what: 'x',
      },
      {
        fetch: (async () => {
          fetched++;
          return new Response('');
        }) as typeof fetch,
        attempts: 3,
      },
    ).catch((e) => e);
    expect(error).toBe(serverDown);
    expect([asked, fetched]).toEqual([1, 0]);
  });

  test('on RGW: a partUrl that throws fails the upload with its error, and the upload is aborted', async () => {
    const key = 'presigned/part-url-fails';
    const refused = new Error('the page server refused to presign');
    const presigner = {
      create: () => createPresignedUpload(client, { bucket, key }),
      partUrl: async () => {
        throw refused;
      },
      complete: () => {
        throw new Error('never reached');
      },
      abort: (uploadId: string) => abortPresignedUpload(client, { bucket, key, uploadId }),
    };
    const { fetch } = countingFetch();
    const error = await uploadSealed(new Blob([bytes(1000)]), {
      encryption: { recipients: [generateKey()] },
      presigner,
      fetch,
    }).catch((e) => e);
    expect(error).toBe(refused);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  test('no presigner, or one missing a function: INVALID_ARGUMENT before any call', async () => {
    const encryption = { recipients: [generateKey()] };
    for (const presigner of [undefined, {}, { create: async () => ({ uploadId: 'u' }) }]) {
      expect(await codeOf(uploadSealed(new Blob([bytes(10)]), { encryption, presigner } as never))).toBe(
        'INVALID_ARGUMENT',
      );
    }
  });
});

test('the page side is runtime-neutral: no Node built-in, no Buffer, no process', () => {
  const dir = new URL('../src/presigned/', import.meta.url);
  const files = readdirSync(dir);
  expect(files).toContain('upload.ts');
  for (const file of files) {
    const code = readFileSync(new URL(file, dir), 'utf8').replace(/^\s*(\/\*\*|\*).*$/gm, '');
    expect(code, file).not.toMatch(/from ['"]node:|\bBuffer\b|\bprocess\b|from ['"]@aws-sdk/);
  }
});
