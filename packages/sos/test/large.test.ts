import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { generateKey } from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { getObject, growingPartSize, LIMITS, putObject } from '../src/index.ts';
import { uploadObject } from '../src/upload.ts';
import { bytes, collect, openUploads, sameBytes, useTestBucket } from './helpers.ts';

const MiB = 1024 * 1024;
let client: S3Client;
let bucket: string;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
});

/** `size` random bytes in 1 MiB chunks, hashed as they are produced (nothing is kept). */
function hashedSource(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) return this.push(null);
      const chunk = randomBytes(Math.min(MiB, left));
      left -= chunk.byteLength;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function hashOf(stream: ReadableStream<Uint8Array>): Promise<{ hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { hex: hash.digest('hex'), size };
}

describe('part sizes', () => {
  it('growing parts reach 4 TiB within 10,000 parts from the 5 MiB minimum', () => {
    let total = 0;
    for (let n = 1; n <= LIMITS.maxParts; n++) {
      const size = growingPartSize(n, LIMITS.minPartSize);
      expect(size).toBeLessThanOrEqual(LIMITS.maxPartSize);
      total += size;
    }
    expect(total).toBeGreaterThanOrEqual(LIMITS.maxObjectSize);
    expect(growingPartSize(1000, 8 * MiB)).toBe(8 * MiB);
    expect(growingPartSize(1001, 8 * MiB)).toBe(16 * MiB);
    expect(growingPartSize(10_000, 64 * MiB)).toBe(LIMITS.maxPartSize);
  });

  it('the server accepts parts of growing sizes', async () => {
    const schedule = (n: number) => 5 * MiB + (n - 1) * MiB;
    const data = bytes(5 * MiB + 6 * MiB + 7 * MiB + 123);
    const sizes: number[] = [];
    const result = await uploadObject({
      client,
      params: {
        Bucket: bucket,
        Key: 'growing',
        Body: Readable.from([data.subarray(0, 3 * MiB), data.subarray(3 * MiB)]),
      },
      partSize: schedule,
      queueSize: 2,
      onProgress: (p) => sizes.push(p.loaded),
    });
    expect(result.parts).toBe(4);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'growing' }));
    expect(sameBytes(await got.Body!.transformToByteArray(), data)).toBe(true);
    expect(sizes.at(-1)).toBe(data.byteLength);
  });
});

describe('a few hundred MiB, client-side, through multipart', () => {
  const size = 300 * MiB + 12_345;
  const key = generateKey();
  const encryption = { clientSide: { keys: [key] } };

  it('round trip of a stream of unknown size, downloaded in parallel byte-exact', async () => {
    const source = hashedSource(size);
    const put = await putObject({
      client,
      bucket,
      key: 'big',
      body: source.stream,
      encryption,
      queueSize: 4,
    });
    expect(put.plaintextSize).toBe(size);
    expect(put.partSize).toBe(8 * MiB);
    expect(await openUploads(client, bucket)).toBe(0);
    const expected = source.digest();
    for (const parallel of [1, 6]) {
      const got = await getObject({ client, bucket, key: 'big', encryption, parallel });
      expect(got.size).toBe(size);
      expect(await hashOf(got.body)).toEqual({ hex: expected, size });
    }
    const tail = await getObject({ client, bucket, key: 'big', encryption, range: `bytes=${size - 5}-` });
    expect((await collect(tail.body)).byteLength).toBe(5);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big' }));
  });
});
