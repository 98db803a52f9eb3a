/**
 * What a small ranged read of a client-side object costs through the library, against the local
 * RGW, counted at clean seams: the SDK's middleware stack (GetObject requests and their body
 * lengths, as the bench counts them) and `fetch` for presigned URLs. A 1-byte read is the header's
 * first read (core's FIRST_READ) and the one sealed chunk holding the byte: two requests, under
 * 24 KiB, whatever the object's size. A read that reaches the end authenticates the final chunk.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CHUNK_SIZE,
  FIRST_READ,
  generateKey,
  inspectSealed,
  openSealed,
  SEALED_CHUNK_SIZE,
} from '@sealstream/core';
import { describe, expect, it } from 'vitest';
import { getObject, openObjectSource, putObject } from '../src/index.ts';
import { presignGet } from '../src/presign.ts';
import { openSealed as openSealedPresigned, PresignedSource } from '../src/presigned/index.ts';
import { bytes, codeOf, collect, testClient, useTestBucket } from './helpers.ts';
import { countingFetch } from './support/https-fetch.ts';

const MiB = 1024 * 1024;
/** issue 9's bound for a 1-byte read of a large object. */
const MOST_BYTES = 24 * 1024;

let client: S3Client;
let bucket: string;
let gets: ReturnType<typeof countGets>;
useTestBucket((c, b) => {
  client = c;
  bucket = b;
  gets = countGets(client);
});

/** Counts the GetObject requests a client sends and the body lengths of their answers. */
function countGets(c: S3Client): { requests: number; bytes: number; reset(): void } {
  const counter = {
    requests: 0,
    bytes: 0,
    reset() {
      counter.requests = 0;
      counter.bytes = 0;
    },
  };
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const get = context.commandName === 'GetObjectCommand';
      if (get) counter.requests++;
      const result = await next(args);
      if (get) counter.bytes += (result.output as { ContentLength?: number }).ContentLength ?? 0;
      return result;
    },
    { step: 'initialize', name: 'rangedReadCostCounter' },
  );
  return counter;
}

describe('a 1-byte read of a large client-side object', () => {
  // 64 MiB and a partial final chunk: the cost does not depend on the size (the bench reads 1 GiB)
  const size = 64 * MiB + 1000;
  const key = generateKey();
  const encryption = { clientSide: { keys: [key] } };
  let data: Uint8Array;
  const name = 'cost/large';

  it('getObject: two GETs, the header first read and one sealed chunk, at any offset', async () => {
    data = bytes(size);
    await putObject({ client, bucket, key: name, body: data, encryption });
    // the final chunk holds 1000 bytes: reading the last byte fetches it whole (1000 + 16 bytes)
    const finalSealed = (size % CHUNK_SIZE) + (SEALED_CHUNK_SIZE - CHUNK_SIZE);
    for (const [at, chunkBytes] of [
      [40 * MiB + 12_345, SEALED_CHUNK_SIZE],
      [size - 1, finalSealed],
    ] as const) {
      gets.reset();
      const got = await getObject({
        client,
        bucket,
        key: name,
        encryption,
        range: { start: at, end: at + 1 },
      });
      expect(got.size).toBe(1);
      expect(got.range).toEqual({ start: at, end: at + 1 });
      expect(Array.from(await collect(got.body)), `byte ${at}`).toEqual([data[at]]);
      expect(gets.requests, `byte ${at}`).toBe(2);
      expect(gets.bytes, `byte ${at}`).toBe(FIRST_READ + chunkBytes);
      expect(got.stats.bytesFetched, `byte ${at}`).toBe(FIRST_READ + chunkBytes);
      expect(gets.bytes).toBeLessThanOrEqual(MOST_BYTES);
    }
    // the first chunk starts inside the first read: the second GET is only the rest of it
    gets.reset();
    const first = await getObject({ client, bucket, key: name, encryption, range: { start: 0, end: 1 } });
    expect(Array.from(await collect(first.body))).toEqual([data[0]]);
    expect(gets.requests).toBe(2);
    expect(gets.bytes).toBeGreaterThan(SEALED_CHUNK_SIZE);
    expect(gets.bytes).toBeLessThan(FIRST_READ + SEALED_CHUNK_SIZE);
    // the same in HTTP text: the last byte inclusive
    gets.reset();
    const text = await getObject({ client, bucket, key: name, encryption, range: 'bytes=1000000-1000000' });
    expect(Array.from(await collect(text.body))).toEqual([data[1_000_000]]);
    expect(gets.requests).toBe(2);
  });

  it("core's reader over openObjectSource: the same two reads", async () => {
    gets.reset();
    const source = await openObjectSource({ client, bucket, key: name, encryption: 'none' });
    const object = await openSealed(source, { keys: [key] });
    const at = 33 * MiB + 7;
    expect(Array.from(await object.read({ start: at, end: at + 1 }))).toEqual([data[at]]);
    expect(gets.requests).toBe(2);
    expect(gets.bytes).toBe(FIRST_READ + SEALED_CHUNK_SIZE);
    expect(source.stats.bytesFetched).toBe(FIRST_READ + SEALED_CHUNK_SIZE);
  });

  it('a presigned GET URL: two fetches, under 24 KiB', async () => {
    const url = await presignGet(client, { bucket, key: name, expiresIn: 300 });
    const { fetch, counter } = countingFetch();
    const source = await PresignedSource.open(url, { fetch });
    const object = await openSealedPresigned(source, { keys: [key] });
    for (const at of [5 * MiB + 1, size - 1]) {
      counter.requests = 0;
      counter.bytes = 0;
      expect(Array.from(await object.read({ start: at, end: at + 1 })), `byte ${at}`).toEqual([data[at]]);
      expect(counter.requests, `byte ${at}`).toBe(1); // the first fetch was the open's
    }
    const fresh = countingFetch();
    const again = await openSealedPresigned(await PresignedSource.open(url, { fetch: fresh.fetch }), {
      keys: [key],
    });
    await again.read({ start: 20 * MiB, end: 20 * MiB + 1 });
    expect(fresh.counter.requests).toBe(2);
    expect(fresh.counter.bytes).toBe(FIRST_READ + SEALED_CHUNK_SIZE);
  });
});

describe('a read that reaches the end authenticates the final chunk', () => {
  const key = generateKey();
  const encryption = { clientSide: { keys: [key] } };
  const size = 3 * CHUNK_SIZE + 100;

  async function storeRaw(name: string, change: (sealed: Uint8Array) => Uint8Array): Promise<Uint8Array> {
    const data = bytes(size);
    await putObject({ client, bucket, key: name, body: data, encryption });
    const raw = await client.send(new GetObjectCommand({ Bucket: bucket, Key: name }));
    const sealed = change(await raw.Body!.transformToByteArray());
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: name, Body: sealed }));
    return data;
  }
  const read = async (name: string, start: number, end: number) =>
    collect((await getObject({ client, bucket, key: name, encryption, range: { start, end } })).body);

  it('a tampered final chunk: the last byte fails with CHUNK_AUTH_FAILED, so does a range ending inside that chunk; earlier bytes read', async () => {
    const data = await storeRaw('final/tampered', (sealed) => {
      sealed[sealed.length - 1]! ^= 1; // the final chunk's tag
      return sealed;
    });
    expect(await codeOf(read('final/tampered', size - 1, size))).toBe('CHUNK_AUTH_FAILED');
    expect(await codeOf(read('final/tampered', size - 50, size - 10))).toBe('CHUNK_AUTH_FAILED');
    expect(await read('final/tampered', 0, 1)).toEqual(data.subarray(0, 1));
    expect(await read('final/tampered', CHUNK_SIZE, 3 * CHUNK_SIZE)).toEqual(
      data.subarray(CHUNK_SIZE, 3 * CHUNK_SIZE),
    );
  });

  it('bytes appended after the final chunk: TRAILING_DATA on a read of the last byte', async () => {
    await storeRaw('final/appended', (sealed) => {
      const longer = new Uint8Array(sealed.length + 20);
      longer.set(sealed);
      return longer;
    });
    expect(await codeOf(read('final/appended', size - 1, size))).toBe('TRAILING_DATA');
  });

  it('the final chunk cut off: the object cannot be opened (TRUNCATED)', async () => {
    await storeRaw('final/cut', (sealed) => sealed.subarray(0, sealed.length - 100 - 16));
    expect(await codeOf(read('final/cut', 0, 1))).toBe('TRUNCATED');
  });
});

describe('small reads keep their connection', () => {
  // a body cut at its last byte used to close the connection: a listing of 500 small objects paid
  // a TLS handshake (and a trust store parse) per object
  it('sequential ranged reads and header reads of small objects reuse one connection', async () => {
    const reader = testClient();
    const key = generateKey();
    await putObject({ client, bucket, key: 'small/plain', body: bytes(3000), encryption: 'none' });
    for (let i = 0; i < 4; i++) {
      await putObject({
        client,
        bucket,
        key: `small/sealed-${i}`,
        body: bytes(500 + i),
        encryption: { clientSide: { keys: [key] } },
      });
    }
    let responses = 0;
    let fresh = 0;
    const onResponse = (message: unknown) => {
      responses++;
      if (!(message as { request: { reusedSocket: boolean } }).request.reusedSocket) fresh++;
    };
    subscribe('http.client.response.finish', onResponse);
    try {
      for (let i = 0; i < 6; i++) {
        const got = await getObject({
          client: reader,
          bucket,
          key: 'small/plain',
          encryption: 'none',
          range: { start: i, end: i + 1 },
        });
        expect((await collect(got.body)).length).toBe(1);
        const sealed = await getObject({
          client: reader,
          bucket,
          key: `small/sealed-${i % 4}`,
          encryption: { clientSide: { keys: [key] } },
          range: 'bytes=-1',
        });
        expect((await collect(sealed.body)).length).toBe(1);
        const source = await openObjectSource({
          client: reader,
          bucket,
          key: `small/sealed-${i % 4}`,
          encryption: 'none',
        });
        expect((await inspectSealed(source))?.size).toBe(500 + (i % 4));
      }
    } finally {
      unsubscribe('http.client.response.finish', onResponse);
      reader.destroy();
    }
    expect(responses).toBe(18);
    expect(fresh).toBe(1);
  });
});
