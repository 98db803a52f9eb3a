/**
 * SSE-C as a careless logger, a hostile object name and a store that refuses for other reasons
 * see it, against the local RGW: no error holds the key anywhere (not only in its message), and
 * a 400 that is not about SSE-C is not reported as a missing or wrong key.
 */
import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, inject, it } from 'vitest';
import {
  type Encryption,
  getObject,
  headObject,
  putObject,
  rekeyObject,
  SosError,
  sseCParams,
} from '../src/index.ts';
import { bytes, codeOf, collect, testClient, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const stored = generateKey();
const given = generateKey();

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

/** Every text form of a key a request or a log could hold it in. */
function formsOf(key: Uint8Array): string[] {
  const b64 = Buffer.from(key).toString('base64');
  return [
    b64,
    b64.replace(/=+$/, ''),
    Buffer.from(key).toString('base64url'),
    Buffer.from(key).toString('hex'),
    sseCParams(key).SSECustomerKeyMD5,
    createHash('md5').update(key).digest('hex'),
  ];
}

/**
 * Paths under `value` (own properties, enumerable or not, symbols too; byte arrays read as
 * latin1) at which one of `needles` occurs.
 */
function findIn(value: unknown, needles: string[]): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (needles.some((n) => v.includes(n))) found.push(path);
      return;
    }
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Uint8Array) {
      visit(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'), `${path}<bytes>`);
      return;
    }
    for (const name of Reflect.ownKeys(v)) {
      let child: unknown;
      try {
        child = (v as Record<PropertyKey, unknown>)[name];
      } catch {
        continue;
      }
      visit(child, `${path}.${String(name)}`);
    }
  };
  visit(value, 'error');
  return found;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('no SSE-C key in any field of an error', () => {
  const sse = (key: Uint8Array): Encryption => ({ sseC: { key } });

  it.each([
    [
      'get with the wrong key',
      'SSE_C_KEY_MISMATCH',
      () => getObject({ client, bucket, key: 'obj', encryption: sse(given) }),
    ],
    [
      'ranged get with the wrong key',
      'SSE_C_KEY_MISMATCH',
      () => getObject({ client, bucket, key: 'obj', encryption: sse(given), range: { start: 1, end: 9 } }),
    ],
    [
      'head with the wrong key',
      'SSE_C_KEY_MISMATCH',
      () => headObject({ client, bucket, key: 'obj', encryption: sse(given) }),
    ],
    [
      'client-side inside SSE-C, the wrong SSE-C key',
      'SSE_C_KEY_MISMATCH',
      () =>
        getObject({
          client,
          bucket,
          key: 'obj',
          encryption: { sseC: { key: given }, clientSide: { keys: [given] } },
        }),
    ],
    [
      'get of a missing object',
      'NOT_FOUND',
      () => getObject({ client, bucket, key: 'missing', encryption: sse(given) }),
    ],
    [
      'put into a missing bucket',
      'BUCKET_NOT_FOUND',
      () =>
        putObject({ client, bucket: `${bucket}-missing`, key: 'x', body: bytes(10), encryption: sse(given) }),
    ],
    [
      'multipart put into a missing bucket',
      'BUCKET_NOT_FOUND',
      () =>
        putObject({
          client,
          bucket: `${bucket}-missing`,
          key: 'x',
          body: bytes(11 * MiB),
          encryption: sse(given),
          partSize: 5 * MiB,
        }),
    ],
    [
      'rekey with the wrong current key',
      'SSE_C_KEY_MISMATCH',
      () => rekeyObject({ client, bucket, key: 'obj', encryption: sse(given), newEncryption: sse(stored) }),
    ],
  ])('%s: %s, and the key is nowhere in the error or its causes', async (_label, code, act) => {
    await putObject({ client, bucket, key: 'obj', body: bytes(1000), encryption: sse(stored) });
    const err = await failure(act());
    expect(err).toBeInstanceOf(SosError);
    expect((err as SosError).code).toBe(code);
    expect(findIn(err, formsOf(given))).toEqual([]);
  });

  it('also with a client the caller made with the SDK itself', async () => {
    const s3 = inject('s3');
    const own = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    // the test CA: the SDK's own client reads NODE_EXTRA_CA_CERTS only at start-up, so reuse ours
    own.config.requestHandler = testClient().config.requestHandler;
    await putObject({ client, bucket, key: 'obj', body: bytes(1000), encryption: sse(stored) });
    const err = await failure(headObject({ client: own, bucket, key: 'obj', encryption: sse(given) }));
    expect((err as SosError).code).toBe('SSE_C_KEY_MISMATCH');
    expect(findIn(err, formsOf(given))).toEqual([]);
  });

  it('the search finds a key where one is (a check that can fail)', () => {
    const err = new SosError('SERVER_FAULT', 'x', {
      cause: { deep: { bytes: Buffer.from(sseCParams(given).SSECustomerKey) } },
    });
    expect(findIn(err, formsOf(given))).not.toEqual([]);
  });

  it('a successful read still works after a failed one on the same client', async () => {
    await putObject({ client, bucket, key: 'obj', body: bytes(1000), encryption: sse(stored) });
    await failure(getObject({ client, bucket, key: 'obj', encryption: sse(given) }));
    const got = await getObject({ client, bucket, key: 'obj', encryption: sse(stored) });
    expect((await collect(got.body)).byteLength).toBe(1000);
    expect(await codeOf(headObject({ client, bucket, key: 'obj', encryption: 'none' }))).toBe(
      'SSE_C_KEY_REQUIRED',
    );
  });
});

describe('a 400 about something else is not an SSE-C error', () => {
  // RGW refuses a name over 1024 bytes with 400 InvalidObjectName (a HEAD's 400 has no body at all)
  const tooLong = 'n'.repeat(1100);
  const reads: [string, (encryption: Encryption) => Promise<unknown>][] = [
    ['head', (encryption) => headObject({ client, bucket, key: tooLong, encryption })],
    ['get', (encryption) => getObject({ client, bucket, key: tooLong, encryption })],
    [
      'ranged get',
      (encryption) => getObject({ client, bucket, key: tooLong, encryption, range: { start: 0, end: 4 } }),
    ],
  ];

  it.each(reads)(
    '%s of a name the store refuses, without a key: not SSE_C_KEY_REQUIRED',
    async (_label, read) => {
      const err = await failure(read('none'));
      expect(String((err as { code?: string }).code)).not.toMatch(/^SSE_C_/);
      expect(String((err as Error).message)).not.toMatch(/SSE-C/);
    },
  );

  it.each(reads)(
    '%s of a name the store refuses, with a key: not an SSE-C error either',
    async (_label, read) => {
      const err = await failure(read({ sseC: { key: given } }));
      expect(String((err as { code?: string }).code)).not.toMatch(/^SSE_C_/);
    },
  );

  it('client-side get of such a name, without SSE-C: not SSE_C_KEY_REQUIRED', async () => {
    const err = await failure(
      getObject({ client, bucket, key: tooLong, encryption: { clientSide: { keys: [given] } } }),
    );
    expect(String((err as { code?: string }).code)).not.toMatch(/^SSE_C_/);
  });

  it('the SSE-C answers stay: no key, wrong key, a key for a plain object (head, get, ranged get)', async () => {
    await putObject({ client, bucket, key: 'obj', body: bytes(1000), encryption: { sseC: { key: stored } } });
    await putObject({ client, bucket, key: 'plain', body: bytes(1000), encryption: 'none' });
    await putObject({ client, bucket, key: 'empty-plain', body: bytes(0), encryption: 'none' });
    const cases: [string, Encryption, string][] = [
      ['obj', 'none', 'SSE_C_KEY_REQUIRED'],
      ['obj', { sseC: { key: given } }, 'SSE_C_KEY_MISMATCH'],
      ['plain', { sseC: { key: given } }, 'SSE_C_NOT_APPLIED'],
      ['empty-plain', { sseC: { key: given } }, 'SSE_C_NOT_APPLIED'],
    ];
    for (const [key, encryption, code] of cases) {
      expect(await codeOf(headObject({ client, bucket, key, encryption })), `head ${key}`).toBe(code);
      expect(await codeOf(getObject({ client, bucket, key, encryption })), `get ${key}`).toBe(code);
      if (key !== 'empty-plain') {
        const ranged = getObject({ client, bucket, key, encryption, range: { start: 2, end: 5 } });
        expect(await codeOf(ranged), `ranged get ${key}`).toBe(code);
      }
    }
  });
});
