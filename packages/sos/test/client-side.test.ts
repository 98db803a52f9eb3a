import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CHUNK_SIZE, FIRST_READ, formatKey, generateKey, keyId, SEALED_CHUNK_SIZE } from '@sealstream/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  abortIncompleteUpload,
  getObject,
  headObject,
  openObjectSource,
  putObject,
  rekeyObject,
} from '../src/index.ts';
import { bytes, codeOf, collect, openUploads, sameBytes, useTestBucket } from './helpers.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const key = generateKey();
const other = generateKey();
const cs = { clientSide: { keys: [key] } };

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

describe.each([0, 1, 16 * KiB - 1, 16 * KiB, 16 * KiB + 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 17 * MiB + 3])(
  'client-side round trip of %i bytes',
  (size) => {
    const data = bytes(size);
    const name = `cs/${size}`;
    beforeAll(async () => {
      const put = await putObject({
        client,
        bucket,
        key: name,
        body: Readable.from([data]),
        encryption: cs,
        partSize: 5 * MiB,
      });
      expect(put.plaintextSize).toBe(size);
      expect(put.size).toBeGreaterThan(size);
    });

    it('reads back whole, and stores only ciphertext', async () => {
      const got = await getObject({ client, bucket, key: name, encryption: cs });
      expect(got.size).toBe(size);
      expect(sameBytes(await collect(got.body), data)).toBe(true);
      const raw = await client.send(new GetObjectCommand({ Bucket: bucket, Key: name }));
      const stored = await raw.Body!.transformToByteArray();
      expect(Buffer.from(stored.subarray(0, 10)).toString()).toBe('sealstream');
      if (size >= 64) expect(Buffer.from(stored).includes(Buffer.from(data.subarray(0, 64)))).toBe(false);
    });

    it('head gives the plaintext size and key IDs', async () => {
      const head = await headObject({ client, bucket, key: name, encryption: cs });
      expect(head.size).toBe(size);
      expect(head.header?.keyIds).toEqual([keyId(key)]);
    });

    it.runIf(size > 0)('ranged reads at chunk and window boundaries are exact', async () => {
      const points = [
        0,
        1,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        8 * MiB - 1,
        8 * MiB,
        size - 2,
        size - 1,
      ].filter((p) => p >= 0 && p < size);
      for (const a of points) {
        // [a, b): ends just past each point, so the last byte and the end itself are covered
        for (const b of points.filter((p) => p >= a).map((p) => p + 1)) {
          const got = await getObject({
            client,
            bucket,
            key: name,
            encryption: cs,
            range: { start: a, end: b },
          });
          expect(got.range).toEqual({ start: a, end: b });
          expect(sameBytes(await collect(got.body), data.subarray(a, b)), `[${a}, ${b})`).toBe(true);
        }
      }
      const tail = await getObject({ client, bucket, key: name, encryption: cs, range: 'bytes=-3' });
      expect(sameBytes(await collect(tail.body), data.subarray(Math.max(0, size - 3)))).toBe(true);
    });

    it('a range past the end is RANGE_NOT_SATISFIABLE', async () => {
      expect(
        await codeOf(getObject({ client, bucket, key: name, encryption: cs, range: `bytes=${size}-` })),
      ).toBe('RANGE_NOT_SATISFIABLE');
    });

    it('a wrong key is NO_MATCHING_KEY', async () => {
      expect(
        await codeOf(getObject({ client, bucket, key: name, encryption: { clientSide: { keys: [other] } } })),
      ).toBe('NO_MATCHING_KEY');
    });
  },
);

describe('client-side, larger objects', () => {
  it('a 1-byte range of a 64 MiB object fetches only the header and one chunk', async () => {
    const size = 64 * MiB;
    const data = bytes(size);
    await putObject({ client, bucket, key: 'cs/large', body: data, encryption: cs });
    const got = await getObject({
      client,
      bucket,
      key: 'cs/large',
      encryption: cs,
      range: { start: 40 * MiB, end: 40 * MiB + 1 },
    });
    expect(sameBytes(await collect(got.body), data.subarray(40 * MiB, 40 * MiB + 1))).toBe(true);
    console.log(`1-byte ranged read of a 64 MiB object fetched ${got.stats.bytesFetched} bytes`);
    // the header's first read (4 KiB) and the one sealed chunk holding the byte
    expect(got.stats.bytesFetched).toBe(FIRST_READ + SEALED_CHUNK_SIZE);
    const whole = await getObject({ client, bucket, key: 'cs/large', encryption: cs, parallel: 4 });
    const plain = await collect(whole.body);
    expect(createHash('sha256').update(plain).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
  });
});

describe('client-side integrity and identity', () => {
  it('a chunk overwritten in the bucket fails with CHUNK_AUTH_FAILED', async () => {
    const data = bytes(200 * KiB);
    await putObject({ client, bucket, key: 'cs/tamper', body: data, encryption: cs });
    const raw = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'cs/tamper' }));
    const sealed = await raw.Body!.transformToByteArray();
    sealed[sealed.length - 5 * CHUNK_SIZE]! ^= 1;
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'cs/tamper', Body: sealed }));
    const got = await getObject({ client, bucket, key: 'cs/tamper', encryption: cs });
    expect(await codeOf(collect(got.body))).toBe('CHUNK_AUTH_FAILED');
  });

  it('identity binding: a copied object fails with IDENTITY_MISMATCH', async () => {
    const bound = { clientSide: { keys: [key], identity: true } };
    await putObject({ client, bucket, key: 'cs/bound', body: bytes(1000), encryption: bound });
    expect((await headObject({ client, bucket, key: 'cs/bound', encryption: bound })).header?.identity).toBe(
      `${bucket}/cs/bound`,
    );
    await client.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'cs/moved', CopySource: `${bucket}/cs/bound` }),
    );
    expect(await codeOf(getObject({ client, bucket, key: 'cs/moved', encryption: bound }))).toBe(
      'IDENTITY_MISMATCH',
    );
    await collect((await getObject({ client, bucket, key: 'cs/bound', encryption: bound })).body);
  });

  it('both layers: client-side inside SSE-C', async () => {
    const sseKey = generateKey();
    const both = { clientSide: { keys: [key] }, sseC: { key: sseKey } };
    const data = bytes(6 * MiB + 5);
    await putObject({ client, bucket, key: 'cs/both', body: data, encryption: both, partSize: 5 * MiB });
    const got = await getObject({
      client,
      bucket,
      key: 'cs/both',
      encryption: both,
      range: { start: 5 * MiB - 2, end: 5 * MiB + 3 },
    });
    expect(sameBytes(await collect(got.body), data.subarray(5 * MiB - 2, 5 * MiB + 3))).toBe(true);
    expect(
      sameBytes(
        await collect((await getObject({ client, bucket, key: 'cs/both', encryption: both })).body),
        data,
      ),
    ).toBe(true);
    expect(await codeOf(getObject({ client, bucket, key: 'cs/both', encryption: cs }))).toBe(
      'SSE_C_KEY_REQUIRED',
    );
    const head = await headObject({ client, bucket, key: 'cs/both', encryption: both });
    expect(head.size).toBe(data.byteLength);
    expect(head.sseC?.algorithm).toBe('AES256');
  });

  it('an aborted client-side upload leaves no multipart upload and no object', async () => {
    const controller = new AbortController();
    let n = 0;
    const body = new Readable({
      read() {
        this.push(bytes(MiB));
        if (++n === 12) controller.abort();
      },
    });
    expect(
      await codeOf(
        putObject({
          client,
          bucket,
          key: 'cs/aborted',
          body,
          encryption: cs,
          partSize: 5 * MiB,
          signal: controller.signal,
        }),
      ),
    ).toBe('ABORTED');
    expect(await openUploads(client, bucket)).toBe(0);
    expect(await codeOf(headObject({ client, bucket, key: 'cs/aborted', encryption: 'none' }))).toBe(
      'NOT_FOUND',
    );
  });
});

describe('encryption options: a misspelt name is refused, never silently dropped', () => {
  it('a key given as the option itself is refused without being repeated', async () => {
    const text = formatKey(key);
    for (const encryption of [text, Buffer.from(key).toString('hex'), key]) {
      const error = await putObject({
        client,
        bucket,
        key: 'cs/key-as-option',
        body: bytes(1),
        encryption,
      } as never).catch((e) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(error.message).not.toContain(text.slice(0, 12));
      expect(error.message).not.toContain(Buffer.from(key).toString('hex').slice(0, 12));
    }
  });

  const sse = generateKey();
  it.each([
    ['a misspelt SSE-C layer beside client-side', { clientSide: { keys: [key] }, ssec: { key: sse } }],
    ['a misspelt identity binding', { clientSide: { keys: [key], identty: true } }],
    ['an unknown client-side setting', { clientSide: { keys: [key], passphrase: 'x' } }],
    ['an SSE-C key map with a stray key', { sseC: { keyMap: 'sos/b=KEY', alias: 'sos', key: sse } }],
    ['an SSE-C key with a stray setting', { sseC: { key: sse, algorithm: 'AES256' } }],
    ['SSE-C given as null', { clientSide: { keys: [key] }, sseC: null }],
  ])('%s: INVALID_ARGUMENT before any request, and no object', async (_, encryption) => {
    const name = `cs/typo-${Math.random().toString(36).slice(2)}`;
    const options = { client, bucket, key: name, body: bytes(10), encryption } as never;
    const error = await putObject(options).catch((e) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(error.message).toMatch(/is not an option|expected/);
    expect(String(error.message)).not.toContain(Buffer.from(sse).toString('base64'));
    expect(await codeOf(headObject({ client, bucket, key: name, encryption: 'none' }))).toBe('NOT_FOUND');
    await expect(getObject({ client, bucket, key: 'cs/1', encryption } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('function options: a misspelt name is refused before any request, never silently ignored', () => {
  const location = () => ({ client, bucket, key: `cs/opt-${Math.random().toString(36).slice(2)}` });
  const clientSide = { clientSide: { keys: [key] } };

  it('putObject: abortSignal (for signal) would upload on past an abort; partsize and meta are typos too', async () => {
    for (const [name, value] of [
      ['abortSignal', new AbortController().signal],
      ['partsize', 5 * 1024 * 1024],
      ['meta', { a: 'b' }],
    ] as const) {
      const at = location();
      const error = await putObject({
        ...at,
        body: bytes(10),
        encryption: clientSide,
        [name]: value,
      } as never).catch((e) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(error.message).toContain(`"putObject.${name}" is not an option`);
      expect(error.message).toContain('signal');
      expect(await codeOf(headObject({ ...at, encryption: 'none' }))).toBe('NOT_FOUND');
    }
  });

  it('getObject, headObject, openObjectSource, rekeyObject and abortIncompleteUpload refuse theirs', async () => {
    const at = location();
    const body = bytes(100);
    await putObject({ ...at, body, encryption: clientSide });
    const cases: [string, Promise<unknown>][] = [
      ['getObject.Range', getObject({ ...at, encryption: clientSide, Range: 'bytes=0-1' } as never)],
      ['headObject.versionID', headObject({ ...at, encryption: clientSide, versionID: 'x' } as never)],
      [
        'openObjectSource.abortSignal',
        openObjectSource({ ...at, encryption: clientSide, abortSignal: 1 } as never),
      ],
      [
        'rekeyObject.newKeys',
        rekeyObject({ ...at, encryption: clientSide, newEncryption: clientSide, newKeys: [key] } as never),
      ],
      [
        'abortIncompleteUpload.uploadID',
        abortIncompleteUpload({ ...at, uploadId: 'u', uploadID: 'u' } as never),
      ],
    ];
    for (const [what, call] of cases) {
      const error = (await call.catch((e: unknown) => e)) as Error;
      expect(error, what).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(error.message, what).toContain(`"${what}" is not an option`);
    }
    // the object is as it was: rekeyObject changed nothing
    expect(await collect((await getObject({ ...at, encryption: clientSide })).body)).toEqual(body);
  });
});
