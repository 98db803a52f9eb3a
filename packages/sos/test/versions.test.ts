import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { generateKey, keyId } from '@sealstream/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getObject, headObject, putObject, rekeyObject } from '../src/index.ts';
import { bytes, codeOf, collect, sameBytes, testClient } from './helpers.ts';

const MiB = 1024 * 1024;
let client: S3Client;
const bucket = `v-${process.pid}-${Date.now().toString(36)}`;

beforeAll(async () => {
  client = testClient();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
});
afterAll(async () => {
  const list = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  for (const v of [...(list.Versions ?? []), ...(list.DeleteMarkers ?? [])]) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
});

describe('versioned buckets: each version decrypts with its own key', () => {
  it('client-side: get and head by versionId', async () => {
    const [k1, k2] = [generateKey(), generateKey()];
    const [d1, d2] = [bytes(6 * MiB + 1), bytes(1000)];
    const v1 = await putObject({
      client,
      bucket,
      key: 'cs',
      body: d1,
      encryption: { clientSide: { keys: [k1] } },
      partSize: 5 * MiB,
    });
    const v2 = await putObject({
      client,
      bucket,
      key: 'cs',
      body: d2,
      encryption: { clientSide: { keys: [k2] } },
    });
    expect(v1.versionId).toBeTruthy();
    expect(v2.versionId).toBeTruthy();
    expect(v1.versionId).not.toBe(v2.versionId);
    const get = (versionId: string | undefined, k: Uint8Array) =>
      getObject({
        client,
        bucket,
        key: 'cs',
        encryption: { clientSide: { keys: [k] } },
        ...(versionId ? { versionId } : {}),
      }).then((g) => collect(g.body));
    expect(sameBytes(await get(v1.versionId, k1), d1)).toBe(true);
    expect(sameBytes(await get(v2.versionId, k2), d2)).toBe(true);
    expect(sameBytes(await get(undefined, k2), d2)).toBe(true);
    expect(await codeOf(get(v1.versionId, k2))).toBe('NO_MATCHING_KEY');
    expect(await codeOf(get(undefined, k1))).toBe('NO_MATCHING_KEY');
    const head = await headObject({
      client,
      bucket,
      key: 'cs',
      versionId: v1.versionId!,
      encryption: { clientSide: { keys: [k1] } },
    });
    expect(head.versionId).toBe(v1.versionId);
    expect(head.size).toBe(d1.byteLength);
    expect(head.header?.keyIds).toEqual([keyId(k1)]);
    const range = await getObject({
      client,
      bucket,
      key: 'cs',
      versionId: v1.versionId!,
      encryption: { clientSide: { keys: [k1] } },
      range: 'bytes=-10',
    });
    expect(sameBytes(await collect(range.body), d1.subarray(-10))).toBe(true);
  });

  it('SSE-C: get and head by versionId', async () => {
    const [k1, k2] = [generateKey(), generateKey()];
    const [d1, d2] = [bytes(5 * MiB + 7), bytes(77)];
    const v1 = await putObject({
      client,
      bucket,
      key: 'sse',
      body: d1,
      encryption: { sseC: { key: k1 } },
      partSize: 5 * MiB,
    });
    const v2 = await putObject({ client, bucket, key: 'sse', body: d2, encryption: { sseC: { key: k2 } } });
    expect(v2.versionId).not.toBe(v1.versionId);
    const got1 = await getObject({
      client,
      bucket,
      key: 'sse',
      versionId: v1.versionId!,
      encryption: { sseC: { key: k1 } },
    });
    expect(got1.versionId).toBe(v1.versionId);
    expect(sameBytes(await collect(got1.body), d1)).toBe(true);
    const got2 = await getObject({ client, bucket, key: 'sse', encryption: { sseC: { key: k2 } } });
    expect(sameBytes(await collect(got2.body), d2)).toBe(true);
    expect(
      await codeOf(
        getObject({
          client,
          bucket,
          key: 'sse',
          versionId: v1.versionId!,
          encryption: { sseC: { key: k2 } },
        }),
      ),
    ).toBe('SSE_C_KEY_MISMATCH');
    const head = await headObject({
      client,
      bucket,
      key: 'sse',
      versionId: v1.versionId!,
      encryption: { sseC: { key: k1 } },
    });
    expect(head.size).toBe(d1.byteLength);
    expect(head.versionId).toBe(v1.versionId);
  });

  it('rekey writes a new version; the old version keeps its old key', async () => {
    const [k1, k2] = [generateKey(), generateKey()];
    const data = bytes(20 * MiB);
    const v1 = await putObject({
      client,
      bucket,
      key: 'rk',
      body: data,
      encryption: { clientSide: { keys: [k1] } },
    });
    const result = await rekeyObject({
      client,
      bucket,
      key: 'rk',
      encryption: { clientSide: { keys: [k1] } },
      newEncryption: { clientSide: { keys: [k2] } },
      partSize: 5 * MiB,
    });
    expect(result.method).toBe('copy');
    expect(result.versionId).toBeTruthy();
    expect(result.versionId).not.toBe(v1.versionId);
    const read = (k: Uint8Array, versionId?: string) =>
      getObject({
        client,
        bucket,
        key: 'rk',
        encryption: { clientSide: { keys: [k] } },
        ...(versionId ? { versionId } : {}),
      }).then((g) => collect(g.body));
    expect(sameBytes(await read(k2), data)).toBe(true);
    expect(sameBytes(await read(k1, v1.versionId!), data)).toBe(true);
    expect(await codeOf(read(k1))).toBe('NO_MATCHING_KEY');
  });
});
