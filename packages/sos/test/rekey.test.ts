import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey, keyId } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { type Encryption, getObject, headObject, putObject, rekeyObject } from '../src/index.ts';
import { bytes, codeOf, collect, openUploads, sameBytes, testClient, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
const oldKey = generateKey();
const newKey = generateKey();

let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

async function read(key: string, encryption: Encryption, c: S3Client = client): Promise<Uint8Array> {
  return collect((await getObject({ client: c, bucket, key, encryption })).body);
}

/** A client whose `nth` request of `command` fails before it is sent. */
function failingClient(command: string, nth: number): S3Client {
  const c = testClient();
  let seen = 0;
  c.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && ++seen === nth) throw new Error(`injected ${command} failure`);
      return next(args);
    },
    { step: 'initialize', name: 'injectFailure' },
  );
  return c;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cs = (k: Uint8Array, identity?: boolean) => ({ clientSide: { keys: [k], identity } });
const sse = (k: Uint8Array) => ({ sseC: { key: k } });

describe('client-side rekey', () => {
  it('a small object is rewritten: the new key opens it, the old one no longer does', async () => {
    const data = bytes(3 * MiB + 17);
    await putObject({
      client,
      bucket,
      key: 'cs/small',
      body: data,
      encryption: cs(oldKey),
      contentType: 'application/x-test',
      metadata: { owner: 'tests' },
    });
    const result = await rekeyObject({
      client,
      bucket,
      key: 'cs/small',
      encryption: cs(oldKey),
      newEncryption: cs(newKey),
    });
    expect(result.method).toBe('rewrite');
    expect(result.size).toBe(result.previousSize); // one raw-key stanza replaced by another
    expect(sameBytes(await read('cs/small', cs(newKey)), data)).toBe(true);
    expect(await codeOf(read('cs/small', cs(oldKey)))).toBe('NO_MATCHING_KEY');
    const head = await headObject({ client, bucket, key: 'cs/small', encryption: cs(newKey) });
    expect(head.header?.keyIds).toEqual([keyId(newKey)]);
    expect(head.contentType).toBe('application/x-test');
    expect(head.metadata).toEqual({ owner: 'tests' });
  });

  it('keepExisting adds recipients: both keys open the object', async () => {
    const data = bytes(1000);
    await putObject({ client, bucket, key: 'cs/keep', body: data, encryption: cs(oldKey) });
    await rekeyObject({
      client,
      bucket,
      key: 'cs/keep',
      encryption: cs(oldKey),
      newEncryption: cs(newKey),
      keepExisting: true,
    });
    expect(sameBytes(await read('cs/keep', cs(oldKey)), data)).toBe(true);
    expect(sameBytes(await read('cs/keep', cs(newKey)), data)).toBe(true);
  });

  it('a large object is re-keyed by server-side copy: about one part goes through the client', async () => {
    const size = 48 * MiB + 5;
    const data = bytes(size);
    const key = 'cs/large object é.bin'; // the copy source must be URL-encoded
    await putObject({ client, bucket, key, body: data, encryption: cs(oldKey, true) });
    const result = await rekeyObject({
      client,
      bucket,
      key,
      encryption: cs(oldKey, true),
      newEncryption: cs(newKey),
      partSize: 5 * MiB,
    });
    console.log(
      `client-side rekey of ${result.previousSize} bytes: ${result.bytesDownloaded} down, ${result.bytesUploaded} up, ${result.bytesCopied} copied by the server`,
    );
    expect(result.method).toBe('copy');
    expect(result.parts).toBe(3); // 5 MiB sent, 40 MiB copied, the rest copied
    expect(result.bytesUploaded).toBeLessThan(5 * MiB + 4096);
    expect(result.bytesDownloaded).toBeLessThan(5 * MiB + 128 * 1024);
    expect(result.bytesUploaded - (result.size - result.previousSize) + result.bytesCopied).toBe(
      result.previousSize,
    );
    const reread = await read(key, cs(newKey, true));
    expect(sha(reread)).toBe(sha(data));
    expect(await codeOf(read(key, cs(oldKey)))).toBe('NO_MATCHING_KEY');
    // the identity stays bound, and ranged reads across the copied parts are exact
    const head = await headObject({ client, bucket, key, encryption: cs(newKey) });
    expect(head.header?.identity).toBe(`${bucket}/${key}`);
    expect(head.size).toBe(size);
    const got = await getObject({
      client,
      bucket,
      key,
      encryption: cs(newKey, true),
      range: { start: 5 * MiB - 3, end: 40 * MiB + 1 },
    });
    expect(sameBytes(await collect(got.body), data.subarray(5 * MiB - 3, 40 * MiB + 1))).toBe(true);
    expect(await openUploads(client, bucket)).toBe(0);
  });

  it('a failed copy part leaves the old object intact and no multipart upload', async () => {
    const data = bytes(50 * MiB); // parts: 5 MiB sent, then 40 MiB and the rest copied
    await putObject({ client, bucket, key: 'cs/fail', body: data, encryption: cs(oldKey) });
    const err = await rekeyObject({
      client: failingClient('UploadPartCopyCommand', 2),
      bucket,
      key: 'cs/fail',
      encryption: cs(oldKey),
      newEncryption: cs(newKey),
      partSize: 5 * MiB,
    }).then(
      () => new Error('rekey succeeded'),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/injected UploadPartCopyCommand failure/);
    expect(await openUploads(client, bucket)).toBe(0);
    expect(sameBytes(await read('cs/fail', cs(oldKey)), data)).toBe(true);
    expect(await codeOf(read('cs/fail', cs(newKey)))).toBe('NO_MATCHING_KEY');
  });

  it('an object bound elsewhere is refused with IDENTITY_MISMATCH, and left alone', async () => {
    await putObject({
      client,
      bucket,
      key: 'cs/bound',
      body: bytes(100),
      encryption: { clientSide: { keys: [oldKey], identity: 'elsewhere/x' } },
    });
    expect(
      await codeOf(
        rekeyObject({
          client,
          bucket,
          key: 'cs/bound',
          encryption: cs(oldKey, true),
          newEncryption: cs(newKey),
        }),
      ),
    ).toBe('IDENTITY_MISMATCH');
    await read('cs/bound', cs(oldKey));
  });

  it('the wrong old key is NO_MATCHING_KEY, and layers cannot change', async () => {
    await putObject({ client, bucket, key: 'cs/wrong', body: bytes(100), encryption: cs(oldKey) });
    expect(
      await codeOf(
        rekeyObject({
          client,
          bucket,
          key: 'cs/wrong',
          encryption: cs(newKey),
          newEncryption: cs(newKey),
        }),
      ),
    ).toBe('NO_MATCHING_KEY');
    expect(
      await codeOf(
        rekeyObject({ client, bucket, key: 'cs/wrong', encryption: cs(oldKey), newEncryption: sse(newKey) }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(
        rekeyObject({ client, bucket, key: 'cs/wrong', encryption: 'none', newEncryption: cs(newKey) }),
      ),
    ).toBe('INVALID_ARGUMENT');
  });
});

describe('SSE-C rekey (streamed down and up)', () => {
  it.each([
    ['small', 1000],
    ['multipart', 12 * MiB + 1],
  ])('%s: the new key opens it, the old one is SSE_C_KEY_MISMATCH', async (_label, size) => {
    const key = `sse/${size}`;
    const data = bytes(size);
    await putObject({ client, bucket, key, body: data, encryption: sse(oldKey), partSize: 5 * MiB });
    const result = await rekeyObject({
      client,
      bucket,
      key,
      encryption: sse(oldKey),
      newEncryption: sse(newKey),
      partSize: 5 * MiB,
    });
    expect(result).toMatchObject({ method: 'stream', size, bytesDownloaded: size, bytesUploaded: size });
    expect(sameBytes(await read(key, sse(newKey)), data)).toBe(true);
    expect(await codeOf(read(key, sse(oldKey)))).toBe('SSE_C_KEY_MISMATCH');
    const head = await headObject({ client, bucket, key, encryption: sse(newKey) });
    expect(head.sseC?.keyMD5).toBe(createHash('md5').update(newKey).digest('base64'));
  });

  it.each([
    ['a failed part', () => ({ client: failingClient('UploadPartCommand', 2) })],
    [
      'an abort',
      () => {
        const controller = new AbortController();
        return {
          signal: controller.signal,
          onProgress: (p: { loaded: number }) => p.loaded >= 5 * MiB && controller.abort(),
        };
      },
    ],
  ])('%s mid-way leaves the old object intact and no multipart upload', async (_label, extra) => {
    const key = `sse/fail-${_label}`;
    const data = bytes(20 * MiB);
    await putObject({ client, bucket, key, body: data, encryption: sse(oldKey), partSize: 5 * MiB });
    const err = await rekeyObject({
      client,
      bucket,
      key,
      encryption: sse(oldKey),
      newEncryption: sse(newKey),
      partSize: 5 * MiB,
      queueSize: 1,
      ...extra(),
    }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await openUploads(client, bucket)).toBe(0);
    expect(sameBytes(await read(key, sse(oldKey)), data)).toBe(true);
  });

  it('with a key map: each object moves from its old prefix key to its new one', async () => {
    const [dbOld, dbNew, restOld, restNew] = [generateKey(), generateKey(), generateKey(), generateKey()];
    const b64 = (k: Uint8Array) => Buffer.from(k).toString('base64');
    const oldMap = `sos/${bucket}/db/=${b64(dbOld)},sos/${bucket}=${b64(restOld)}`;
    const newMap = `sos/${bucket}/db/=${b64(dbNew)},sos/${bucket}=${b64(restNew)}`;
    const byMap = (keyMap: string) => ({ sseC: { keyMap, alias: 'sos' } });
    const data = { 'db/a': bytes(2000), other: bytes(3000) };
    for (const [key, body] of Object.entries(data)) {
      await putObject({ client, bucket, key, body, encryption: byMap(oldMap) });
      await rekeyObject({ client, bucket, key, encryption: byMap(oldMap), newEncryption: byMap(newMap) });
      expect(sameBytes(await read(key, byMap(newMap)), body)).toBe(true);
    }
    expect(sameBytes(await read('db/a', sse(dbNew)), data['db/a'])).toBe(true);
    expect(sameBytes(await read('other', sse(restNew)), data.other)).toBe(true);
    expect(await codeOf(read('db/a', sse(dbOld)))).toBe('SSE_C_KEY_MISMATCH');
  });

  it('both layers: the client-side header and the SSE-C key change together', async () => {
    const data = bytes(11 * MiB + 3);
    const [sseOld, sseNew] = [generateKey(), generateKey()];
    const before = { clientSide: { keys: [oldKey] }, sseC: { key: sseOld } };
    const after = { clientSide: { keys: [newKey] }, sseC: { key: sseNew } };
    await putObject({ client, bucket, key: 'both', body: data, encryption: before, partSize: 5 * MiB });
    const result = await rekeyObject({
      client,
      bucket,
      key: 'both',
      encryption: before,
      newEncryption: after,
      partSize: 5 * MiB,
    });
    expect(result.method).toBe('stream');
    expect(sameBytes(await read('both', after), data)).toBe(true);
    expect(await codeOf(read('both', { clientSide: { keys: [oldKey] }, sseC: { key: sseNew } }))).toBe(
      'NO_MATCHING_KEY',
    );
    expect(await codeOf(read('both', { clientSide: { keys: [newKey] }, sseC: { key: sseOld } }))).toBe(
      'SSE_C_KEY_MISMATCH',
    );
  });
});
