/**
 * The presigned (page-side) download of a client-side object longer than one window: core's reader
 * over `PresignedSource.readSequentialInto`, one GET streamed after the header's, against the real
 * S3 server over TLS, directly and through the fault proxy. Every byte exactly or a coded failure,
 * resumed from where the body broke off (pinned to the ETag), a stalled body ended by `timeoutMs`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { generateKey, isSealstreamError } from '@sealstream/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Encryption, putObject } from '../src/index.ts';
import { presignGet } from '../src/presign.ts';
import { openSealed, PresignedSource } from '../src/presigned/index.ts';
import { bytes, collect, sameBytes, useTestBucket } from './helpers.ts';
import type { FaultAction } from './support/fault-proxy.ts';
import { countingFetch } from './support/https-fetch.ts';
import { outageAt, SETTLE_BOUND_MS, throughProxy, timed } from './support/through-proxy.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const csKey = generateKey();
const encryption: Encryption = { clientSide: { keys: [csKey] } };
/** Two windows of 8 MiB and a bit. */
const size = 18 * MiB + 321;
const data = bytes(size);
const key = 'presigned-sequential';

let direct: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  direct = c;
  bucket = b;
});
beforeAll(async () => {
  await putObject({ client: direct, bucket, key, body: data, encryption });
});

/** Opens the object through a presigned URL of `client` and reads all of it, counting fetches. */
async function download(client: S3Client, http: { timeoutMs?: number } = {}) {
  const url = await presignGet(client, { bucket, key, expiresIn: 300 });
  const { fetch, counter } = countingFetch();
  const source = await PresignedSource.open(url, { fetch, ...http });
  const object = await openSealed(source, { keys: [csKey] });
  const parts: number[] = [];
  const chunks: Uint8Array[] = [];
  const result = await timed(async () => {
    for await (const part of object.stream() as unknown as AsyncIterable<Uint8Array>) {
      parts.push(part.length);
      chunks.push(part);
    }
  });
  return { ...result, parts, bytes: new Uint8Array(Buffer.concat(chunks)), requests: counter.requests };
}

describe('a presigned download longer than one window', () => {
  it('is two GETs: the header, then the payload streamed; every byte, in batches of 1 MiB', async () => {
    const got = await download(direct);
    expect(got.error).toBeUndefined();
    expect(sameBytes(got.bytes, data)).toBe(true);
    expect(got.requests).toBe(2);
    expect(got.parts.slice(0, -1).every((n) => n === MiB)).toBe(true);
  });

  it('a range of several windows is streamed too, exactly', async () => {
    const url = await presignGet(direct, { bucket, key, expiresIn: 300 });
    const { fetch, counter } = countingFetch();
    const object = await openSealed(await PresignedSource.open(url, { fetch }), { keys: [csKey] });
    const start = 2 * MiB + 5;
    const end = 17 * MiB + 9;
    expect(sameBytes(await collect(object.stream({ start, end })), data.subarray(start, end))).toBe(true);
    expect(counter.requests).toBe(2);
  });
});

describe('through faults', () => {
  const cuts: FaultAction[] = [{ kind: 'rst' }, { kind: 'fin' }, { kind: 'stall' }];
  it.concurrent.each(cuts)(
    'mid-object, $kind: every byte, resumed from where it broke off',
    async (action) => {
      await throughProxy(
        [{ direction: 'down', at: 9 * MiB, connection: 'total', action }],
        async (proxy, client) => {
          const got = await download(client, { timeoutMs: 2000 });
          expect(proxy.fired.length, 'the fault was reached').toBe(1);
          expect(got.error).toBeUndefined();
          expect(sameBytes(got.bytes, data)).toBe(true);
          expect(got.requests, 'resumed with a new GET').toBe(3);
          expect(got.ms).toBeLessThan(SETTLE_BOUND_MS);
        },
      );
    },
  );

  it('an outage mid-object: a coded failure after whole batches only, never a short success', async () => {
    await throughProxy([outageAt(9 * MiB, 'reset')], async (_proxy, client) => {
      const got = await download(client, { timeoutMs: 2000 });
      const code = isSealstreamError(got.error) ? got.error.code : String(got.error);
      expect(code).toBeOneOf(['NETWORK_ERROR', 'TIMEOUT']);
      expect(got.parts.every((n) => n === MiB)).toBe(true);
      expect(got.bytes.length).toBeLessThan(size);
      expect(got.ms).toBeLessThan(SETTLE_BOUND_MS);
    });
  });

  it('the object replaced while the body is cut: OBJECT_CHANGED, not a mix of two versions', async () => {
    const other = 'presigned-sequential-replaced';
    await putObject({ client: direct, bucket, key: other, body: data, encryption });
    await throughProxy(
      [{ direction: 'down', at: 9 * MiB, connection: 'total', action: { kind: 'stall' } }],
      async (_proxy, client) => {
        const url = await presignGet(client, { bucket, key: other, expiresIn: 300 });
        const { fetch } = countingFetch();
        const object = await openSealed(await PresignedSource.open(url, { fetch, timeoutMs: 2000 }), {
          keys: [csKey],
        });
        const reader = object.stream().getReader();
        await reader.read(); // the first batch: the streamed GET is under way, pinned to the ETag
        await putObject({ client: direct, bucket, key: other, body: bytes(size), encryption });
        const result = await timed(async () => {
          for (;;) if ((await reader.read()).done) return;
        });
        expect(isSealstreamError(result.error) ? result.error.code : String(result.error)).toBe(
          'OBJECT_CHANGED',
        );
      },
    );
  });
});
