/**
 * A plain (unencrypted) ranged read whose connection is cut mid-body, against the real RGW over
 * TLS through the fault proxy: resumed from the first byte not received, pinned to the version
 * first read; the object replaced meanwhile is OBJECT_CHANGED, never a mix of two versions.
 */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isSealstreamError } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { getObject, putObject } from '../src/index.ts';
import { bytes, collect, sameBytes, useTestBucket } from './helpers.ts';
import { throughProxy, timed } from './support/through-proxy.ts';

const MiB = 1024 * 1024;
let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});

describe('a plain read cut mid-body', () => {
  it.each([
    ['the whole object', undefined],
    ['a range', { start: 3 * MiB + 7, end: 30 * MiB - 5 }],
  ] as const)('%s: resumed where it stopped, every byte exact', async (_label, range) => {
    const key = `plain-cut-${range === undefined ? 'whole' : 'range'}`;
    const data = bytes(32 * MiB);
    await putObject({ client: direct, bucket, key, body: data, encryption: 'none' });
    try {
      await throughProxy([], async (proxy, client) => {
        const got = await getObject({ client, bucket, key, encryption: 'none', ...(range ? { range } : {}) });
        const at = proxy.forwarded.down + 5 * MiB;
        proxy.inject({ direction: 'down', at, connection: 'total', action: { kind: 'rst' } });
        const read = await collect(got.body);
        expect(proxy.fired).toHaveLength(1);
        expect(proxy.connections).toBeGreaterThan(1);
        const start = range?.start ?? 0;
        expect(sameBytes(read, data.subarray(start, range?.end ?? data.byteLength))).toBe(true);
      });
    } finally {
      await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  });

  it('the object replaced before the cut: OBJECT_CHANGED, not the rest of another object', async () => {
    const key = 'plain-replaced';
    await putObject({ client: direct, bucket, key, body: bytes(40 * MiB), encryption: 'none' });
    try {
      await throughProxy([], async (proxy, client) => {
        const got = await getObject({ client, bucket, key, encryption: 'none' });
        const reader = got.body.getReader();
        expect((await reader.read()).done).toBe(false);
        await putObject({ client: direct, bucket, key, body: bytes(40 * MiB), encryption: 'none' });
        proxy.inject({
          direction: 'down',
          at: proxy.forwarded.down + 64 * 1024,
          connection: 'total',
          action: { kind: 'rst' },
        });
        const result = await timed(async () => {
          for (let r = await reader.read(); !r.done; r = await reader.read());
        });
        expect(proxy.fired).toHaveLength(1);
        expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBe(
          'OBJECT_CHANGED',
        );
      });
    } finally {
      await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  });
});
