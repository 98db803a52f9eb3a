/**
 * SSE-C rekey as a careless user and a failing network would run it, against the local RGW: the
 * object is never left readable only under a key the user no longer has, and no multipart
 * upload is left behind, whatever goes wrong and wherever.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type Encryption, getObject, putObject, rekeyObject, sseCParams } from '../src/index.ts';
import {
  bytes,
  codeOf,
  collect,
  openUploads,
  sameBytes,
  sseCEchoDroppingClient,
  testClient,
  useTestBucket,
} from './helpers.ts';

const MiB = 1024 * 1024;
const oldKey = generateKey();
const newKey = generateKey();
const sse = (key: Uint8Array | string): Encryption => ({ sseC: { key } });

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

async function read(key: string, encryption: Encryption): Promise<Uint8Array> {
  return collect((await getObject({ client, bucket, key, encryption })).body);
}

/**
 * A client whose network breaks during the streamed read of a rekey: the body of the second GET
 * (the stream after the first read) is cut after its first piece, and every GET after it fails
 * to connect, so the read cannot resume.
 */
function cutDownloadClient(): S3Client {
  const c = testClient({ clientConfig: { maxAttempts: 1 } });
  let gets = 0;
  c.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'GetObjectCommand') return next(args);
      gets++;
      if (gets > 2) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const result = await next(args);
      const body = (result.output as { Body?: NodeJS.ReadableStream & { destroy(e: Error): void } }).Body;
      if (gets === 2 && body) body.once('data', () => body.destroy(new Error('aborted')));
      return result;
    },
    { step: 'initialize', name: 'cutDownload' },
  );
  return c;
}

describe('SSE-C rekey when things go wrong', { timeout: 120_000 }, () => {
  it('an empty SSE-C object is rekeyed (was: TRUNCATED, "not a sealstream object"), its content type kept; a wrong old key is SSE_C_KEY_MISMATCH', async () => {
    await putObject({
      client,
      bucket,
      key: 'empty',
      body: new Uint8Array(0),
      encryption: sse(oldKey),
      contentType: 'text/plain',
    });
    const wrong = rekeyObject({
      client,
      bucket,
      key: 'empty',
      encryption: sse(newKey),
      newEncryption: sse(oldKey),
    });
    expect(await codeOf(wrong)).toBe('SSE_C_KEY_MISMATCH');
    const result = await rekeyObject({
      client,
      bucket,
      key: 'empty',
      encryption: sse(oldKey),
      newEncryption: sse(newKey),
    });
    expect(result).toMatchObject({ method: 'stream', size: 0, previousSize: 0 });
    const got = await getObject({ client, bucket, key: 'empty', encryption: sse(newKey) });
    expect((await collect(got.body)).byteLength).toBe(0);
    expect(got.contentType).toBe('text/plain');
    expect(await codeOf(read('empty', sse(oldKey)))).toBe('SSE_C_KEY_MISMATCH');
  });

  it('client-side keys only, for an object stored with SSE-C too: SSE_C_KEY_REQUIRED (was: a bare UnknownError)', async () => {
    const clientKey = generateKey();
    const data = bytes(3000);
    const both: Encryption = { clientSide: { keys: clientKey }, sseC: { key: oldKey } };
    await putObject({ client, bucket, key: 'both', body: data, encryption: both });
    const code = await codeOf(
      rekeyObject({
        client,
        bucket,
        key: 'both',
        encryption: { clientSide: { keys: clientKey } },
        newEncryption: { clientSide: { keys: generateKey() } },
      }),
    );
    expect(code).toBe('SSE_C_KEY_REQUIRED');
    expect(sameBytes(await read('both', both), data)).toBe(true);
  });

  it('a store that does not confirm the new key of a small object: SSE_C_NOT_APPLIED says the object was replaced (it was)', async () => {
    const data = bytes(2000);
    await putObject({ client, bucket, key: 'unconfirmed', body: data, encryption: sse(oldKey) });
    const err = await rekeyObject({
      client: sseCEchoDroppingClient(),
      bucket,
      key: 'unconfirmed',
      encryption: sse(oldKey),
      newEncryption: sse(newKey),
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('SSE_C_NOT_APPLIED');
    // the user must not throw the new key away believing the old object stayed
    expect((err as Error).message).toContain('the object was replaced');
    expect((err as Error).message).toContain('keep the new key');
    expect(sameBytes(await read('unconfirmed', sse(newKey)), data)).toBe(true);
  });

  it('the same key as old and new: the object is rewritten whole, and still opens with it (multipart)', async () => {
    const data = bytes(12 * MiB + 5);
    await putObject({ client, bucket, key: 'same', body: data, encryption: sse(oldKey), partSize: 5 * MiB });
    const result = await rekeyObject({
      client,
      bucket,
      key: 'same',
      encryption: sse(oldKey),
      newEncryption: sse(oldKey),
      partSize: 5 * MiB,
    });
    expect(result).toMatchObject({ method: 'stream', size: data.byteLength, parts: 3 });
    expect(sameBytes(await read('same', sse(oldKey)), data)).toBe(true);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('the network cut during the download: an error, the old object intact, no upload left', async () => {
    const data = bytes(20 * MiB);
    await putObject({ client, bucket, key: 'cut', body: data, encryption: sse(oldKey), partSize: 5 * MiB });
    const code = await codeOf(
      rekeyObject({
        client: cutDownloadClient(),
        bucket,
        key: 'cut',
        encryption: sse(oldKey),
        newEncryption: sse(newKey),
        partSize: 5 * MiB,
        queueSize: 1,
      }),
    );
    // the connection, not the store: what was lost is the download, and nothing was written
    expect(code).toBe('DOWNLOAD_INCOMPLETE');
    expect(await openUploads(client, bucket)).toBe(0);
    expect(sameBytes(await read('cut', sse(oldKey)), data)).toBe(true);
  });

  it.each([
    ['a new key of 31 bytes', sse(new Uint8Array(31)), 'INVALID_ARGUMENT'],
    ['a new key as text of the wrong length', sse('c2hvcnQ='), 'INVALID_KEY'],
    [
      'a new key map that does not cover the object',
      { sseC: { keyMap: `sos/${'x'}=${Buffer.from(newKey).toString('base64')}`, alias: 'sos' } },
      'SSE_C_NO_KEY_FOR_PATH',
    ],
    [
      'a new key map with a typo',
      { sseC: { keyMap: 'sos/bucket/=not-a-key', alias: 'sos' } },
      'INVALID_KEY_MAP',
    ],
  ] as [string, Encryption, string][])(
    '%s: refused with its code before anything is sent, the object as it was',
    async (_label, newEncryption, code) => {
      const data = bytes(3000);
      await putObject({ client, bucket, key: 'bad-new', body: data, encryption: sse(oldKey) });
      expect(
        await codeOf(rekeyObject({ client, bucket, key: 'bad-new', encryption: sse(oldKey), newEncryption })),
      ).toBe(code);
      expect(sameBytes(await read('bad-new', sse(oldKey)), data)).toBe(true);
      expect(await openUploads(client, bucket)).toBe(0);
    },
  );
});

describe('what a rekey keeps of the object besides its bytes', { timeout: 120_000 }, () => {
  const fields = {
    contentType: 'text/csv',
    metadata: { owner: 'accounts', 'x-note': 'q3' },
    cacheControl: 'max-age=600',
    contentDisposition: 'attachment; filename="q3.csv"',
    contentLanguage: 'de-CH',
    expires: new Date('2031-01-02T03:04:05Z'),
  };
  const clientKey = generateKey();
  const cases: [string, number, Encryption, Encryption, string][] = [
    ['SSE-C, streamed', 3000, sse(oldKey), sse(newKey), 'stream'],
    ['SSE-C, empty', 0, sse(oldKey), sse(newKey), 'stream'],
    [
      'client-side, rewritten',
      3000,
      { clientSide: { keys: clientKey } },
      { clientSide: { keys: newKey } },
      'rewrite',
    ],
    [
      'client-side, copied by the store',
      11 * MiB,
      { clientSide: { keys: clientKey } },
      { clientSide: { keys: newKey } },
      'copy',
    ],
  ];
  it.each(cases)(
    '%s: content type, metadata, Cache-Control, Content-Disposition, Content-Language and Expires (was: content type and metadata only)',
    async (label, size, before, after, method) => {
      const key = `fields/${label}`;
      await putObject({
        client,
        bucket,
        key,
        body: bytes(size),
        encryption: before,
        partSize: 5 * MiB,
        ...fields,
      });
      const result = await rekeyObject({
        client,
        bucket,
        key,
        encryption: before,
        newEncryption: after,
        partSize: 5 * MiB,
      });
      expect(result.method).toBe(method);
      const sseC =
        typeof after === 'object' && after.sseC && 'key' in after.sseC ? sseCParams(after.sseC.key) : {};
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...sseC }));
      expect({
        contentType: head.ContentType,
        metadata: head.Metadata,
        cacheControl: head.CacheControl,
        contentDisposition: head.ContentDisposition,
        contentLanguage: head.ContentLanguage,
        expires: head.Expires,
      }).toEqual(fields);
    },
  );
});
