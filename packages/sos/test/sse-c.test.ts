import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatKey, generateKey } from '@sealstream/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { getObject, headObject, putObject, SosError, sseCParams } from '../src/index.ts';
import {
  bytes,
  collect,
  openUploads,
  sameBytes,
  sseCEchoDroppingClient,
  testClient,
  useTestBucket,
} from './helpers.ts';

const MiB = 1024 * 1024;
const key = generateKey();
const wrongKey = generateKey();
const hexKey = Buffer.from(key).toString('hex');
const md5 = createHash('md5').update(key).digest('base64');

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(SosError);
  expect((err as SosError).code).toBe(code);
}

describe('SSE-C params', () => {
  it('sends base64 key and its MD5, from any key form', () => {
    for (const form of [key, formatKey(key), formatKey(key).replace(/=$/, ''), hexKey]) {
      expect(sseCParams(form)).toEqual({
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: Buffer.from(key).toString('base64'),
        SSECustomerKeyMD5: md5,
      });
    }
  });
  it('rejects a key of the wrong length', () => {
    expect(() => sseCParams(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => sseCParams('c2hvcnQ=')).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });
});

describe.each([
  ['small (one PutObject)', 1000],
  ['empty', 0],
  ['multipart (5 MiB + 1, parts of 5 MiB)', 5 * MiB + 1],
  ['multipart (3 parts + 7 bytes)', 3 * 5 * MiB + 7],
])('SSE-C object, %s', (_label, size) => {
  const data = bytes(size);
  const name = `sse-c/${size}`;
  const enc = { sseC: { key: formatKey(key) } } as const;

  beforeAll(async () => {
    const put = await putObject({
      client,
      bucket,
      key: name,
      body: Readable.from([data]),
      encryption: enc,
      partSize: 5 * MiB,
    });
    expect(put.size).toBe(size);
    expect(put.partSize).toBe(size > 5 * MiB ? 5 * MiB : 0);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('reads back with the right key (in another text form)', async () => {
    const got = await getObject({ client, bucket, key: name, encryption: { sseC: { key: hexKey } } });
    expect(got.size).toBe(size);
    expect(sameBytes(await collect(got.body), data)).toBe(true);
  });

  it('head reports size and the key fingerprint', async () => {
    const head = await headObject({ client, bucket, key: name, encryption: { sseC: { key } } });
    expect(head.size).toBe(size);
    expect(head.sseC).toEqual({ algorithm: 'AES256', keyMD5: md5 });
  });

  it('is stored encrypted: the raw SDK without a key is refused', async () => {
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: name }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('no key: SSE_C_KEY_REQUIRED on get, ranged get and head', async () => {
    await expectCode(getObject({ client, bucket, key: name, encryption: 'none' }), 'SSE_C_KEY_REQUIRED');
    await expectCode(headObject({ client, bucket, key: name, encryption: 'none' }), 'SSE_C_KEY_REQUIRED');
    if (size > 0) {
      await expectCode(
        getObject({ client, bucket, key: name, encryption: 'none', range: 'bytes=0-0' }),
        'SSE_C_KEY_REQUIRED',
      );
    }
  });

  it('wrong key: SSE_C_KEY_MISMATCH on get, ranged get and head', async () => {
    const wrong = { sseC: { key: wrongKey } };
    await expectCode(getObject({ client, bucket, key: name, encryption: wrong }), 'SSE_C_KEY_MISMATCH');
    await expectCode(headObject({ client, bucket, key: name, encryption: wrong }), 'SSE_C_KEY_MISMATCH');
    if (size > 0) {
      await expectCode(
        getObject({ client, bucket, key: name, encryption: wrong, range: 'bytes=-1' }),
        'SSE_C_KEY_MISMATCH',
      );
    }
  });

  it.runIf(size > 0)('ranged reads are byte-exact, also across part boundaries', async () => {
    // HTTP text names the last byte; what comes back is [start, end)
    const ranges: [string, number, number][] = [
      ['bytes=0-0', 0, 1],
      [`bytes=${size - 1}-`, size - 1, size],
      ['bytes=-1', size - 1, size],
      [`bytes=0-${size + 100}`, 0, size],
    ];
    if (size > 5 * MiB) {
      ranges.push([`bytes=${5 * MiB - 3}-${5 * MiB + 2}`, 5 * MiB - 3, Math.min(size, 5 * MiB + 3)]);
      ranges.push([`bytes=${5 * MiB}-${5 * MiB}`, 5 * MiB, 5 * MiB + 1]);
    }
    for (const [range, start, end] of ranges) {
      const got = await getObject({ client, bucket, key: name, encryption: enc, range });
      expect(got.range, range).toEqual({ start, end });
      expect(got.size, range).toBe(end - start);
      expect(got.objectSize).toBe(size);
      expect(sameBytes(await collect(got.body), data.subarray(start, end)), range).toBe(true);
    }
  });

  it('a range past the end is RANGE_NOT_SATISFIABLE', async () => {
    await expectCode(
      getObject({ client, bucket, key: name, encryption: enc, range: `bytes=${size}-` }),
      'RANGE_NOT_SATISFIABLE',
    );
  });
});

describe('SSE-C on every request of a multipart upload', () => {
  it('sends the key with CreateMultipartUpload, every UploadPart and Complete', async () => {
    const seen: { command: string; md5: string | undefined }[] = [];
    const spy = testClient();
    spy.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { SSECustomerKeyMD5?: string };
        seen.push({ command: String(context.commandName), md5: input.SSECustomerKeyMD5 });
        return next(args);
      },
      { step: 'initialize', name: 'recordSseC' },
    );
    const data = bytes(11 * MiB);
    await putObject({
      client: spy,
      bucket,
      key: 'sse-c/spied',
      body: data,
      encryption: { sseC: { key } },
      partSize: 5 * MiB,
    });
    const commands = seen.map((s) => s.command);
    expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(seen.every((s) => s.md5 === md5)).toBe(true);
  });
});

describe('objects not stored with SSE-C', () => {
  it('reading a plain object with a key is SSE_C_NOT_APPLIED (not a silent plaintext read)', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'hello' }));
    await expectCode(
      getObject({ client, bucket, key: 'plain', encryption: { sseC: { key } } }),
      'SSE_C_NOT_APPLIED',
    );
    await expectCode(
      headObject({ client, bucket, key: 'plain', encryption: { sseC: { key } } }),
      'SSE_C_NOT_APPLIED',
    );
  });

  it('a missing object is NOT_FOUND (the SDK error, 404, as its cause), not an SSE-C error', async () => {
    const err = await getObject({ client, bucket, key: 'missing', encryption: { sseC: { key } } }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SosError);
    expect(err.code).toBe('NOT_FOUND');
    expect(err.cause.$metadata.httpStatusCode).toBe(404);
  });

  it('the raw SDK agrees that the server needs the key (sanity check of the server)', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw', Body: 'x', ...sseCParams(key) }));
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw', ...sseCParams(key) }));
    expect(await out.Body!.transformToString()).toBe('x');
  });
});

describe('a small upload that fails after the store has the object leaves no object', () => {
  it('SSE-C not confirmed by the answer: SSE_C_NOT_APPLIED, and the object written is deleted', async () => {
    const name = 'sse-c/unconfirmed';
    const err = await putObject({
      client: sseCEchoDroppingClient(),
      bucket,
      key: name,
      body: bytes(1000),
      encryption: { sseC: { key } },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SosError);
    expect((err as SosError).code).toBe('SSE_C_NOT_APPLIED');
    expect((err as SosError).message).toContain('was deleted');
    const gone = await client
      .send(new HeadObjectCommand({ Bucket: bucket, Key: name, ...sseCParams(key) }))
      .catch((e) => e);
    expect(gone.$metadata?.httpStatusCode).toBe(404);
  });

  it('an onProgress that throws fails the upload with its error and leaves no object; one not a function is refused first', async () => {
    const broken = new Error('the progress bar broke');
    for (const [name, onProgress, expected] of [
      [
        'progress/throws',
        () => {
          throw broken;
        },
        broken,
      ],
      ['progress/not-a-function', 5, 'INVALID_ARGUMENT'],
    ] as const) {
      const err = await putObject({
        client,
        bucket,
        key: name,
        body: bytes(1000),
        encryption: 'none',
        onProgress: onProgress as never,
      }).catch((e) => e);
      if (typeof expected === 'string') expect(err).toMatchObject({ code: expected });
      else expect(err).toBe(expected);
      const gone = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: name })).catch((e) => e);
      expect(gone.$metadata?.httpStatusCode).toBe(404);
    }
  });
});
